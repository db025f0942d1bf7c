"""How a briefing build meets faults: failing or bad notebooks, outputs it cannot write,
display-time errors, killed builds. Each test builds tiny notebooks of its own, so these run
apart from the real build that tests/test_briefing.py checks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, pdf_text
from huaiyin import briefing


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
    good = out / "99-broken.en.pdf"
    good.write_bytes(b"%PDF- a good briefing from an earlier build")
    with pytest.raises(briefing.BriefingError) as info:
        briefing.build(out, [failing_notebook(tmp_path)], progress=lambda _: None)
    message = str(info.value)
    assert "99-broken.ipynb: cell 2 (id " in message
    assert "starting \"raise ValueError('boom')\") failed: ValueError: boom" in message
    assert good.read_bytes() == b"%PDF- a good briefing from an earlier build"
    assert sorted(p.name for p in out.iterdir()) == ["99-broken.en.pdf"]


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


# Hardening: bad notebooks, clashing or unwritable outputs, display-time errors, killed builds.


def notebook_file(folder: Path, name: str, *code: str, title: str = "# Tiny（小）") -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(title)]
    notebook.cells += [nbformat.v4.new_code_cell(c) for c in code]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def build_error(out: Path, notebooks: list[Path], **options: object) -> tuple[str, list[str]]:
    messages: list[str] = []
    with pytest.raises(briefing.BriefingError) as info:
        briefing.build(out, notebooks, progress=messages.append, **options)  # type: ignore[arg-type]
    return str(info.value), messages


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.set_title(r'$\\示范$')",
            "shows an error: ValueError: ",
        ),
        (
            "class Broken:\n    def _repr_html_(self):\n        raise RuntimeError('no display')\n"
            "Broken()",
            "shows an error: RuntimeError: no display",
        ),
        ("import sys\nprint('careful', file=sys.stderr)", "wrote to stderr: careful"),
    ],
    ids=["chart-mathtext", "repr-raises", "stderr"],
)
def test_display_time_errors_fail_the_build(tmp_path: Path, code: str, problem: str) -> None:
    notebook = notebook_file(tmp_path, "98-display.ipynb", "x = 1", code)
    message, _ = build_error(tmp_path / "out", [notebook])
    first_line = code.splitlines()[0]
    assert message.startswith(f"{notebook}: cell 2 (id "), message
    assert f", starting {first_line!r}) {problem}" in message, message
    assert not list((tmp_path / "out").glob("*.pdf"))


@pytest.mark.bad_input
def test_command_fails_on_a_display_time_error(tmp_path: Path) -> None:
    notebook = notebook_file(
        tmp_path,
        "98-display.ipynb",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.set_title(r'$\\示范$')",
    )
    result = subprocess.run(
        [sys.executable, "-m", "huaiyin", "brief", "--out", str(tmp_path / "out"), str(notebook)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {notebook}: cell 1 (id ")
    assert "shows an error: ValueError" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def make_out_file(tmp: Path) -> Path:
    (tmp / "out").write_text("not a folder")
    return tmp / "out"


def make_read_only(tmp: Path) -> Path:
    (tmp / "out").mkdir()
    (tmp / "out").chmod(0o555)
    return tmp / "out"


def make_pdf_dir(tmp: Path) -> Path:
    (tmp / "out" / "97-tiny.en.pdf").mkdir(parents=True)
    return tmp / "out"


def make_manifest_dir(tmp: Path) -> Path:
    (tmp / "out" / briefing.MANIFEST).mkdir(parents=True)
    return tmp / "out"


OUTPUT_CASES = [
    (
        "manifest-is-a-folder",
        make_manifest_dir,
        ["a/97-tiny.ipynb"],
        "{out}/.huaiyin-briefings.json exists and is not a file; move it away so the PDF can "
        "be written",
    ),
    (
        "out-is-a-file",
        make_out_file,
        ["a/97-tiny.ipynb"],
        "--out {out} is a file, not a folder; name a folder for the PDFs",
    ),
    (
        "out-read-only",
        make_read_only,
        ["a/97-tiny.ipynb"],
        "cannot write to --out {out}: {out} is read-only (mode 555)",
    ),
    (
        "pdf-is-a-folder",
        make_pdf_dir,
        ["a/97-tiny.ipynb"],
        "{out}/97-tiny.en.pdf exists and is not a file; move it away so the PDF can be written",
    ),
    (
        "same-name",
        lambda t: t / "out",
        ["a/97-tiny.ipynb", "b/97-tiny.ipynb"],
        "{tmp}/a/97-tiny.ipynb and {tmp}/b/97-tiny.ipynb would both be written to "
        "{out}/97-tiny.en.pdf; rename one of them",
    ),
    (
        "listed-twice",
        lambda t: t / "out",
        ["a/97-tiny.ipynb", "a/97-tiny.ipynb"],
        "{tmp}/a/97-tiny.ipynb is listed twice",
    ),
    (
        "combined-name",
        lambda t: t / "out",
        ["a/huaiyin-briefing.ipynb"],
        "{tmp}/a/huaiyin-briefing.ipynb would be written to {out}/huaiyin-briefing.en.pdf, the "
        "combined briefing's name; rename the notebook or pass --no-combined",
    ),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("make_out", "names", "message"),
    [c[1:] for c in OUTPUT_CASES],
    ids=[c[0] for c in OUTPUT_CASES],
)
def test_unusable_output_is_refused_before_anything_runs(
    tmp_path: Path, make_out: Callable[[Path], Path], names: list[str], message: str
) -> None:
    # The notebook would fail if it ran: refusing first means it never does.
    for name in names:
        notebook_file(tmp_path / Path(name).parent, Path(name).name, "raise SystemExit('ran')")
    out = make_out(tmp_path)
    before = sorted(out.rglob("*")) if out.is_dir() else None
    text, progress = build_error(out, [tmp_path / n for n in names])
    assert text == message.format(out=out, tmp=tmp_path)
    assert progress == []
    assert (sorted(out.rglob("*")) if out.is_dir() else None) == before


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json {", "{path} is not a valid Jupyter notebook: "),
        (b'{"cells": "none"}', "{path} is not a valid Jupyter notebook: "),
        (
            None,
            "{path}: the first cell must be a Markdown cell whose first line is the title, as "
            "in '# Economy（经济）'",
        ),
    ],
    ids=["not-json", "not-a-notebook", "empty-first-cell"],
)
def test_bad_notebook_is_one_clear_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    good = notebook_file(tmp_path, "96-good.ipynb", "raise SystemExit('ran')")
    if content is None:
        path = notebook_file(tmp_path, "95-bad.ipynb", "x = 1", title="")
    else:
        path = tmp_path / "95-bad.ipynb"
        path.write_bytes(content)
    text, progress = build_error(tmp_path / "out", [good, path])
    assert text.startswith(message.format(path=path)), text
    assert "\n" not in text and progress == []


def test_pdfs_are_replaced_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = notebook_file(tmp_path, "93-first.ipynb", "print('第一')")
    second = notebook_file(tmp_path, "94-second.ipynb", "print('第二')")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("93-first.en.pdf", "94-second.en.pdf", briefing.combined_name("en")):
        (out / name).write_bytes(b"%PDF- old")
    render = briefing._render_pdf

    def fail_on_the_combined(
        document: str, target: Path, title: str, owner: int | None = None
    ) -> tuple[Path, int]:
        if target.name == briefing.combined_name("en"):
            raise OSError(28, "No space left on device")
        return render(document, target, title, owner)

    monkeypatch.setattr(briefing, "_render_pdf", fail_on_the_combined)
    text, _ = build_error(out, [first, second])
    assert text == f"cannot write the briefings to {out}: [Errno 28] No space left on device"
    assert sorted(p.name for p in out.iterdir()) == [
        "93-first.en.pdf",
        "94-second.en.pdf",
        briefing.combined_name("en"),
    ]
    assert {(out / n).read_bytes() for n in os.listdir(out)} == {b"%PDF- old"}


KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
import weasyprint
from huaiyin import briefing

def die(self, target, *args, **kwargs):
    Path(target).write_bytes(b"")  # what a kill -9 mid-write leaves
    os.killpg(0, signal.SIGKILL)  # the whole build: its rendering processes too

weasyprint.Document.write_pdf = die
briefing.build(Path(sys.argv[1]), [Path(sys.argv[2])], combined=False, progress=lambda _: None)
"""


def test_temporaries_of_a_killed_build_are_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = notebook_file(tmp_path, "92-killed.ipynb", "print('ok')")
    out = tmp_path / "out"
    # A temporary folder of this test's own: builds running beside it make and remove theirs.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD, str(out), str(notebook)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        check=False,
        start_new_session=True,  # a process group of its own, which the kill takes down
    )
    assert killed.returncode == -signal.SIGKILL
    (stale_pdf,) = out.glob(".92-killed.en.pdf.*.tmp")
    (stale_fonts,) = temp.glob("huaiyin-fonts-*")
    # A temporary of a build still running (this process) is left alone.
    running = out / f".92-killed.en.pdf.{os.getpid()}-live.tmp"
    running.write_bytes(b"")
    briefing.build(out, [notebook], combined=False, progress=lambda _: None)
    assert not stale_pdf.exists() and not stale_fonts.exists()
    assert running.exists()
    assert sorted(p.name for p in out.iterdir()) == [
        running.name,
        briefing.MANIFEST,
        "92-killed.en.pdf",
    ]


def test_a_failure_while_moving_pdfs_into_place_restores_the_old_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = notebook_file(tmp_path, "93-first.ipynb")
    second = notebook_file(tmp_path, "94-second.ipynb")
    out = tmp_path / "out"
    briefing.build(out, [first, second], progress=lambda _: None)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    replace = os.replace
    calls: list[str] = []

    def fail_on_the_second_pdf(source: object, target: object) -> None:
        calls.append(str(target))
        if str(target).endswith("94-second.en.pdf") and "-old.tmp" not in str(source):
            raise OSError(5, "Input/output error")
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(briefing.os, "replace", fail_on_the_second_pdf)
    text, _ = build_error(out, [first, second])
    assert text == f"cannot write the briefings to {out}: [Errno 5] Input/output error"
    assert any(c.endswith("93-first.en.pdf") for c in calls), "the first PDF was moved before"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_later_build_retires_the_pdfs_of_the_last_one(tmp_path: Path) -> None:
    """The folder holds one build's PDFs: never a new one beside stale ones."""
    first = notebook_file(tmp_path, "93-first.ipynb")
    second = notebook_file(tmp_path, "94-second.ipynb")
    out = tmp_path / "out"
    briefing.build(out, [first, second], progress=lambda _: None)
    (out / "notes.pdf").write_bytes(b"%PDF- the user's own file")
    briefing.build(out, [first], combined=False, progress=lambda _: None)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "93-first.en.pdf",
        "notes.pdf",
    ]
    assert (out / "notes.pdf").read_bytes() == b"%PDF- the user's own file"


def test_stored_outputs_never_reach_the_pdf(tmp_path: Path) -> None:
    """A cell the kernel skips keeps no output from an earlier run."""
    path = notebook_file(tmp_path, "91-stale.ipynb", "print('fresh 新')", "print('skipped')")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[2].metadata["tags"] = ["skip-execution"]
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", text="STALE 999亿元\n")]
    nbformat.write(notebook, path)
    briefing.build(tmp_path / "out", [path], combined=False, progress=lambda _: None)
    text = pdf_text(tmp_path / "out" / "91-stale.en.pdf")
    assert "fresh 新" in text and "STALE" not in text


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "from IPython.display import Image, display\n"
            "display(Image(data=b'not a png at all', format='png'))",
            "shows a broken image/png image",
        ),
        (
            "from IPython.display import display\n"
            "display({'image/svg+xml': '<svg><broken'}, raw=True)",
            "shows a broken image/svg+xml image",
        ),
        (
            "from IPython.display import Math, display\ndisplay(Math(r'\\frac{a}{b}'))",
            "shows LaTeX, which the PDF cannot typeset; show text, HTML or an image",
        ),
        (
            "from IPython.display import Markdown, display\n"
            "display(Markdown('area $$\\\\frac{a}{b}$$'))",
            "shows Markdown with LaTeX math '$$\\\\frac{a}{b}$$', which the PDF cannot "
            "typeset; write it in words, or write a dollar sign as \\$",
        ),
    ],
    ids=["broken-png", "broken-svg", "latex", "markdown-math"],
)
def test_outputs_a_pdf_cannot_show_fail_the_build(tmp_path: Path, code: str, problem: str) -> None:
    notebook = notebook_file(tmp_path, "90-output.ipynb", code)
    message, _ = build_error(tmp_path / "out", [notebook])
    assert message.endswith(f", starting {code.splitlines()[0]!r}) {problem}"), message


def notebook_with_duplicate_ids(folder: Path) -> Path:
    path = notebook_file(folder, "89-ids.ipynb", "x = 1", "y = 2")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["cells"][2]["id"] = document["cells"][1]["id"]
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda t: (t / "88-folder.ipynb").mkdir() or t / "88-folder.ipynb",
            "{path}: a folder, not a notebook",
        ),
        (notebook_with_duplicate_ids, "{path} is not a valid Jupyter notebook: "),
        (
            lambda t: notebook_file(t, "87-invisible.ipynb", title="# \u200b\u00a0"),
            "{path}: the first cell must be a Markdown cell whose first line is the title",
        ),
        (
            lambda t: os.mkfifo(t / "83-pipe.ipynb") or t / "83-pipe.ipynb",
            "{path}: not a regular file, so not a notebook",
        ),
    ],
    ids=["folder", "duplicate-cell-ids", "invisible-title", "pipe"],
)
def test_more_bad_notebooks(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    path = make(tmp_path)
    text, progress = build_error(tmp_path / "out", [path])
    assert text.startswith(message.format(path=path)), text
    assert progress == []


def test_only_temporaries_named_by_a_build_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of the same shape without a process id are someone else's, however old."""
    out, temp = tmp_path / "out", tmp_path / "temp"
    out.mkdir()
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    dead = 2**22 + 1  # above the default pid_max: no process has this id
    ours = [
        out / f".93-first.pdf.{dead}-abcdefgh.tmp",
        out / f".{briefing.MANIFEST}.{dead}-new.tmp",
        temp / f"{briefing.FONT_DIR_PREFIX}{dead}-abcdefgh",
    ]
    theirs = [
        out / ".thesis.pdf.draft.tmp",
        out / ".notes.txt.123-x.tmp",
        temp / f"{briefing.FONT_DIR_PREFIX}mycache",
    ]
    day_ago = time.time() - 25 * 3600
    for path in ours + theirs:
        if path.parent == temp:
            path.mkdir()
        else:
            path.write_bytes(b"")
        os.utime(path, (day_ago, day_ago))
    assert sorted(briefing._remove_stale_temporaries(out)) == sorted(ours)
    assert [p.exists() for p in theirs] == [True, True, True]


def test_a_failed_manifest_write_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = notebook_file(tmp_path, "93-first.ipynb")
    out = tmp_path / "out"
    replace = os.replace

    def fail_on_the_manifest(source: object, target: object) -> None:
        if str(target).endswith(briefing.MANIFEST):
            raise OSError(5, "Input/output error")
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(briefing.os, "replace", fail_on_the_manifest)
    text, _ = build_error(out, [notebook], combined=False)
    assert text == f"cannot write the briefings to {out}: [Errno 5] Input/output error"
    assert list(out.iterdir()) == []


def test_day_old_temporaries_are_stale_even_if_their_process_id_is_in_use(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    reused = out / ".93-first.pdf.1-abcdefgh.tmp"  # process 1 is always running
    overflow = out / ".93-first.pdf.99999999999999999999-x.tmp"
    for path in (reused, overflow):
        path.write_bytes(b"")
    day_ago = time.time() - 25 * 3600
    os.utime(reused, (day_ago, day_ago))
    assert set(briefing._remove_stale_temporaries(out)) >= {reused, overflow}
    assert not reused.exists() and not overflow.exists()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "math", ["$$\\frac{a}{b}$$", "$x^2$", "\\(x\\)", "\\begin{align} x \\end{align}"]
)
def test_latex_math_in_markdown_is_refused_naming_the_cell(tmp_path: Path, math: str) -> None:
    path = notebook_file(tmp_path, "85-math.ipynb", "raise SystemExit('ran')")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(f"Growth is {math} here."))
    nbformat.write(notebook, path)
    text, progress = build_error(tmp_path / "out", [path])
    shown = math if not math.startswith("\\begin") else "\\begin{align}"
    assert text == (
        f"{path}: cell 2 (id {notebook.cells[2].id}) holds LaTeX math {shown!r}, which the PDF "
        "cannot typeset; write it in words, or write a dollar sign as \\$"
    )
    assert progress == []


def test_an_escaped_dollar_sign_is_text(tmp_path: Path) -> None:
    path = notebook_file(tmp_path, "84-dollar.ipynb", "x = 1")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("From \\$5 to \\$6 a visit."))
    nbformat.write(notebook, path)
    briefing.build(tmp_path / "out", [path], combined=False, progress=lambda _: None)
    assert "From $5 to $6 a visit." in pdf_text(tmp_path / "out" / "84-dollar.en.pdf")


@pytest.mark.bad_input
def test_a_remote_image_in_markdown_is_refused_naming_the_cell(tmp_path: Path) -> None:
    path = notebook_file(tmp_path, "86-remote.ipynb", "x = 1")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("![chart](https://example.com/c.png)"))
    nbformat.write(notebook, path)
    text, progress = build_error(tmp_path / "out", [path])
    assert text == (
        f"{path}: cell 2 (id {notebook.cells[2].id}) refers to https://example.com/c.png; "
        "briefings are built offline: show images as notebook outputs, attachments or data URIs"
    )
    assert progress == []


def test_numbers_and_short_chinese_terms_are_kept_whole_on_a_line() -> None:
    page = briefing._unbroken(
        "<p>GDP 365.5亿元, up 6.4%, 超220万人次, 18.8万 (188,000); Huaiyin&#x27;s 记者王贝艺 "
        "为加快建设黄河流域中心城市一流城区</p><style>p{margin:0 0 5pt}</style>"
    )
    assert page == (
        '<p>GDP <span class="nb">365.5亿元</span>, up <span class="nb">6.4%</span>, '
        '<span class="nb">超220万人次</span>, <span class="nb">18.8万</span> '
        '(<span class="nb">188,000</span>); Huaiyin&#x27;s <span class="nb">记者王贝艺</span> '
        "为加快建设黄河流域中心城市一流城区</p><style>p{margin:0 0 5pt}</style>"
    )


def test_chinese_text_keeps_numbers_whole_and_breaks_anywhere_else() -> None:
    page = briefing._unbroken("<p>全区生产总值365.5亿元，参展人数超220万人次。</p>", "zh")
    assert page == (
        '<p>全区生产总值<span class="nb">365.5亿元</span>，参展人数'
        '<span class="nb">超220万人次</span>。</p>'
    )


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="PDFs render in one process on one core")
def test_a_rendering_process_that_dies_fails_the_build_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = notebook_file(tmp_path, "93-first.ipynb", "print('第一')")
    out = tmp_path / "out"
    render = briefing._render_pdf

    def killed_on_the_combined(
        document: str, target: Path, title: str, owner: int | None = None
    ) -> tuple[Path, int]:
        if target.name == briefing.combined_name("en") and os.getpid() != owner:
            os.kill(os.getpid(), signal.SIGKILL)  # the rendering process only, as the OOM killer
        return render(document, target, title, owner)

    monkeypatch.setattr(briefing, "_render_pdf", killed_on_the_combined)
    text, _ = build_error(out, [first])
    assert text == (
        "a process rendering the PDFs died (killed, or out of memory); no PDF was published"
    )
    assert list(out.iterdir()) == []


def test_a_folder_named_like_a_temporary_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = out / f".dir.pdf.{2**22 + 1}-abc.tmp"  # a dead process id, but a folder
    folder.mkdir(parents=True)
    (folder / "user-data.txt").write_text("keep me", encoding="utf-8")
    assert briefing._remove_stale_temporaries(out) == []
    assert (folder / "user-data.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.bad_input
def test_a_kernel_that_dies_is_one_clear_line(tmp_path: Path) -> None:
    path = notebook_file(tmp_path, "82-dies.ipynb", "import os\nos._exit(1)")
    text, _ = build_error(tmp_path / "out", [path])
    assert text.startswith(f"{path}: cell 1 (id ")
    assert text.endswith(
        "starting 'import os'): the kernel died (the cell exited Python, or ran out of memory)"
    )


def markdown_notebook(folder: Path, text: str) -> Path:
    path = notebook_file(folder, "81-images.ipynb", "x = 1")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(notebook, path)
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("![pic](pic.png)", "is a file outside the briefing; briefings are built offline"),
        ('<img src="file:///etc/hostname">', "is a file outside the briefing"),
        ("![](data:image/png;base64,AAAAAAAA)", "an image cannot be drawn"),
        ("![](data:image/svg+xml;base64,PHN2Zz48YnJva2Vu)", "an image cannot be drawn"),
    ],
    ids=["relative-file", "absolute-file", "broken-data-uri", "broken-svg-data-uri"],
)
def test_images_a_briefing_cannot_show_fail_the_build(
    tmp_path: Path, markdown: str, message: str
) -> None:
    (tmp_path / "pic.png").write_bytes(b"not used")
    path = markdown_notebook(tmp_path, markdown)
    text, _ = build_error(tmp_path / "out", [path], combined=False)
    assert text.startswith("81-images.en.pdf: ") and message in text, text


def test_attachments_and_dollar_signs_in_code_spans_are_fine(tmp_path: Path) -> None:
    import base64
    import io

    import PIL.Image

    image = io.BytesIO()
    PIL.Image.new("RGB", (4, 4), "red").save(image, format="PNG")
    path = markdown_notebook(tmp_path, "A `$x$` variable. ![dot](attachment:dot.png)")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[-1]["attachments"] = {
        "dot.png": {"image/png": base64.b64encode(image.getvalue()).decode()}
    }
    nbformat.write(notebook, path)
    briefing.build(tmp_path / "out", [path], progress=lambda _: None)
    assert "A $x$ variable." in pdf_text(tmp_path / "out" / "81-images.en.pdf")


def test_a_build_leaves_nothing_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    first = notebook_file(tmp_path, "93-first.ipynb", "print('第一')")
    briefing.build(tmp_path / "out", [first], progress=lambda _: None)  # two rendering processes
    assert list(temp.iterdir()) == []


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "import sys, threading\n"
            "threading.Timer(0.5, lambda: print('late', file=sys.stderr)).start()",
            "wrote to stderr: late",
        ),
        (
            "import threading\n"
            "def fail():\n    raise RuntimeError('late failure')\n"
            "threading.Timer(0.5, fail).start()",
            "wrote to stderr: Exception in thread Thread-",
        ),
    ],
    ids=["stderr", "exception"],
)
def test_what_a_thread_writes_after_the_last_cell_fails_the_build(
    tmp_path: Path, code: str, problem: str
) -> None:
    path = notebook_file(tmp_path, "80-late.ipynb", code)
    text, _ = build_error(tmp_path / "out", [path])
    assert text.startswith(f"{path}: after its last cell, a thread {problem}"), text


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("options", "metadata", "message"),
    [
        ({"languages": ["fr"]}, None, "no edition in 'fr'; the editions are zh, en"),
        (
            {},
            {"language": "fr"},
            "{path}: metadata huaiyin.language is 'fr'; it must be one of zh, en",
        ),
        ({}, "zh", "{path}: metadata huaiyin.language is None; it must be one of zh, en"),
    ],
    ids=["unknown-edition", "unknown-language", "metadata-not-a-mapping"],
)
def test_an_unknown_edition_is_refused_before_anything_runs(
    tmp_path: Path, options: dict[str, object], metadata: object, message: str
) -> None:
    path = notebook_file(tmp_path, "96-edition.ipynb", "raise SystemExit('ran')")
    if metadata is not None:
        notebook = nbformat.read(path, as_version=4)
        notebook.metadata["huaiyin"] = metadata
        nbformat.write(notebook, path)
    text, progress = build_error(tmp_path / "out", [path], **options)
    assert text == message.format(path=path)
    assert progress == []
    assert not (tmp_path / "out").exists()


def test_a_notebook_is_built_into_the_edition_its_metadata_names(tmp_path: Path) -> None:
    path = notebook_file(tmp_path, "95-twin.ipynb", "print(1)", title="# 小")
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["huaiyin"] = {"language": "zh"}
    nbformat.write(notebook, path)
    written = briefing.build(tmp_path / "out", [path], progress=lambda _: None)
    assert [p.name for p in written] == ["95-twin.zh.pdf", "huaiyin-briefing.zh.pdf"]
    # --lang names the edition of the notebooks given, whatever their metadata says.
    written = briefing.build(tmp_path / "en", [path], languages=["en"], progress=lambda _: None)
    assert [p.name for p in written] == ["95-twin.en.pdf", "huaiyin-briefing.en.pdf"]
