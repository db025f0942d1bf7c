"""PDF briefings: one per notebook plus a combined one, code-free, in an embedded SC face."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from conftest import ROOT
from huaiyin import briefing

NOTEBOOKS = briefing.default_notebooks()
PDF_NAMES = [f"{p.stem}.pdf" for p in NOTEBOOKS] + [briefing.COMBINED]
# Text that only code cells contain: none of it may reach a PDF.
CODE_MARKERS = [
    "import huaiyin",
    "charts.bar_chart(",
    "plt.show()",
    "%config",
    "pd.set_option",
    'load_table("',
    "derive.table(",
]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("briefings")
    messages: list[str] = []
    briefing.build(out, progress=messages.append)
    return out, messages


def pdf_text(path: Path) -> str:
    document = pdfium.PdfDocument(path)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def chinese_title(notebook: Path) -> str:
    first_line = nbformat.read(notebook, as_version=4).cells[0].source.splitlines()[0]
    return first_line.split("（", 1)[1].rstrip("）")


def test_progress_is_shown_per_notebook(built: tuple[Path, list[str]]) -> None:
    _, messages = built
    for number, notebook in enumerate(NOTEBOOKS, start=1):
        assert any(
            m.startswith(f"[{number}/{len(NOTEBOOKS)}] executed {notebook.name}") for m in messages
        ), messages
    assert sum(m.startswith("wrote ") for m in messages) == len(PDF_NAMES)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_pdf_has_pages_text_and_no_code(built: tuple[Path, list[str]], name: str) -> None:
    out, _ = built
    path = out / name
    assert len(PdfReader(path).pages) >= 1
    text = pdf_text(path)
    for marker in CODE_MARKERS:
        assert marker not in text, f"{name} shows code: {marker!r}"
    notebooks = (
        NOTEBOOKS
        if name == briefing.COMBINED
        else [p for p in NOTEBOOKS if p.stem == Path(name).stem]
    )
    for notebook in notebooks:
        assert chinese_title(notebook) in text.replace("\r", "").replace("\n", "")
    if name in {"00-overview.pdf", "01-economy.pdf", briefing.COMBINED}:
        assert "365.5" in text


@pytest.mark.parametrize("name", PDF_NAMES)
def test_fonts_are_embedded_and_simplified_chinese(
    built: tuple[Path, list[str]], name: str
) -> None:
    fonts = {}
    for page in PdfReader(built[0] / name).pages:
        for font in ((page.get("/Resources") or {}).get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), f"fonts not embedded: {fonts}"
    assert any("CJK-SC" in font for font in fonts), f"no Simplified Chinese face: {list(fonts)}"
    assert not any("JP" in font for font in fonts), list(fonts)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_first_page_is_not_blank(built: tuple[Path, list[str]], name: str) -> None:
    image = pdfium.PdfDocument(built[0] / name)[0].render(scale=60 / 72).to_pil().convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 500, f"page 1 of {name} looks blank ({dark} dark pixels)"


def test_combined_briefing_has_title_page_and_contents(built: tuple[Path, list[str]]) -> None:
    text = pdf_text(built[0] / briefing.COMBINED)
    for expected in (
        "槐荫区2023年上半年经济简报",
        "时期 Period",
        "来源 Source",
        "王贝艺",
        "生成日期 Built",
        "目录 Contents",
    ):
        assert expected in text, expected


def failing_notebook(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Broken（坏）"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('boom')"),
    ]
    path = folder / "99-broken.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.bad_input
def test_failed_build_names_the_cell_and_keeps_the_good_pdf(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    good = out / "99-broken.pdf"
    good.write_bytes(b"%PDF- a good briefing from an earlier build")
    with pytest.raises(briefing.BriefingError) as info:
        briefing.build(out, [failing_notebook(tmp_path)], progress=lambda _: None)
    message = str(info.value)
    assert "99-broken.ipynb: cell 2 (id " in message
    assert "starting \"raise ValueError('boom')\") failed: ValueError: boom" in message
    assert good.read_bytes() == b"%PDF- a good briefing from an earlier build"
    assert sorted(p.name for p in out.iterdir()) == ["99-broken.pdf"]


@pytest.mark.bad_input
def test_command_reports_a_failing_notebook(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "huaiyin",
            "brief",
            "--out",
            str(tmp_path / "out"),
            str(failing_notebook(tmp_path)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "error: " in result.stderr and "failed: ValueError: boom" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.bad_input
def test_missing_notebook_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(briefing.BriefingError, match=r"no such notebook: .*nope\.ipynb"):
        briefing.build(tmp_path, [tmp_path / "nope.ipynb"])


@pytest.mark.bad_input
def test_pdf_export_fetches_nothing_from_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    document = (
        "<html><body><p>外部图片 external image:</p>"
        '<img src="http://example.com/chart.png"></body></html>'
    )
    with pytest.raises(
        briefing.BriefingError,
        match=r'Error fetching "http://example\.com/'
        r'chart\.png"; briefings are built offline',
    ):
        briefing._write_pdf(document, tmp_path / "offline.pdf", "offline")
    assert attempts == []
    assert not (tmp_path / "offline.pdf").exists()
