"""PDF briefings: execute each notebook afresh, hide its code, print it to A4 with WeasyPrint.

Offline and pip-only: nbconvert's "basic" HTML, the package's stylesheet, the Simplified
Chinese face cut from the Noto Sans CJK collection (see :mod:`huaiyin.fonts`), and a URL
fetcher that refuses anything but local files and data URIs.
"""

from __future__ import annotations

import html
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from huaiyin import fonts
from huaiyin.tables import load_table

__all__ = ["BriefingError", "build", "default_notebooks"]

COMBINED = "huaiyin-briefing.pdf"
REMOVE_TAG = "remove-cell"


class BriefingError(RuntimeError):
    """A briefing could not be built; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Section:
    """One executed notebook, ready to print."""

    notebook: Path
    title: str
    body: str


def default_notebooks() -> list[Path]:
    """The themed notebooks of the source checkout, in reading order."""
    folder = Path(__file__).resolve().parents[1] / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise BriefingError(f"no notebooks found in {folder}; name the notebooks to build")
    return found


def build(
    out: Path,
    notebooks: Sequence[Path] | None = None,
    combined: bool = True,
    progress: Callable[[str], None] = print,
) -> list[Path]:
    """Build one PDF per notebook into ``out``, and the combined briefing; return their paths.

    Every notebook is executed before any PDF is written, so a failing notebook leaves the
    folder as it was; and each PDF is written to a temporary file and moved into place only
    when complete, so a failed build never replaces a good PDF with a broken one.
    """
    paths = [Path(p) for p in (notebooks or default_notebooks())]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BriefingError(f"no such notebook: {', '.join(missing)}")
    sections = []
    for number, path in enumerate(paths, start=1):
        started = time.perf_counter()
        sections.append(_section(path))
        progress(
            f"[{number}/{len(paths)}] executed {path.name} ({time.perf_counter() - started:.1f} s)"
        )
    documents = {out / f"{s.notebook.stem}.pdf": (s.title, _body([s])) for s in sections}
    if combined:
        title = f"Huaiyin District briefing, {_periods(load_table('sources'))[1]}"
        documents[out / COMBINED] = (title, _body(sections, True))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="huaiyin-fonts-") as font_dir:
        text = "".join(body for _, body in documents.values())
        stylesheet = _stylesheet(Path(font_dir), text)
        for target, (title, body) in documents.items():
            started = time.perf_counter()
            pages = _write_pdf(_html(body, stylesheet), target, title)
            progress(f"wrote {target} ({pages} pages, {time.perf_counter() - started:.1f} s)")
    return list(documents)


def _section(path: Path) -> Section:
    notebook = _execute(path)
    first = notebook.cells[0].source if notebook.cells else path.stem
    title = first.splitlines()[0].removeprefix("# ").strip()
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    return Section(notebook=path, title=title, body=body)


def _execute(path: Path) -> Any:
    """Run every cell in a fresh kernel; a failing cell raises, naming notebook and cell."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                raise BriefingError(
                    f"{path}: cell {index} (id {cell.get('id', '?')}, starting "
                    f"{first_line!r}) failed: {err.ename}: {err.evalue}"
                ) from None
    return notebook


def _stylesheet(font_dir: Path, text: str) -> str:
    face = fonts.find_sc_face()
    # Everything the PDFs print: the documents, and the stylesheet's own generated text.
    css = files("huaiyin").joinpath("briefing.css").read_text(encoding="utf-8")
    font_file = fonts.extract(face, font_dir, text=html.unescape(text) + css)
    # The face's own family name, so that the PDF's font list names the SC face.
    return (
        f'@font-face {{ font-family: "{face.family}"; src: url("{font_file.as_uri()}"); }}\n'
        f'html {{ font-family: "{face.family}"; }}\n{css}'
    )


def _body(sections: list[Section], front_matter: bool = False) -> str:
    sources = load_table("sources")
    cited = "; ".join(f"记者{r.reporter}报道 ({r.period})" for r in sources.itertuples())
    parts = [f'<div class="source-line">{html.escape(f"来源 Source: {cited} · huaiyin")}</div>']
    if front_matter:
        parts.append(_title_page(sources))
        items = "".join(
            f'<li><a href="#section-{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(sections)
        )
        parts.append(f'<nav class="contents"><h2>目录 Contents</h2><ol>{items}</ol></nav>')
    parts += [
        f'<section class="notebook" id="section-{i}">{s.body}</section>'
        for i, s in enumerate(sections)
    ]
    return "".join(parts)


def _html(body: str, stylesheet: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<style>{stylesheet}</style></head><body>{body}</body></html>"
    )


HALVES = {"H1": ("上半年", "the first half of "), "H2": ("下半年", "the second half of ")}


def _periods(sources: pd.DataFrame) -> tuple[str, str]:
    """The periods the reports cover, in Chinese and English: 2023H1 → 2023年上半年."""
    zh, en = [], []
    for period in dict.fromkeys(sources["period"].astype(str)):
        year, half = period[:4], period[4:]
        half_zh, half_en = HALVES.get(half, ("", ""))
        zh.append(f"{year}年{half_zh}")
        en.append(f"{half_en}{year}")
    return "、".join(zh), ", ".join(en)


def _title_page(sources: pd.DataFrame) -> str:
    period_zh, period_en = _periods(sources)
    rows = {
        "时期 Period": f"{period_zh} {period_en[:1].upper()}{period_en[1:]}",
        "来源 Source": "; ".join(
            f"{r.title_zh}（记者 {r.reporter}）" for r in sources.itertuples()
        ),
        "数据 Data": "huaiyin data package: every figure with a verbatim citation of the report",
        "生成日期 Built": _build_date().isoformat(),
    }
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows.items())
    return (
        f'<section class="title-page"><h1>槐荫区{html.escape(period_zh)}经济简报</h1>'
        f'<div class="subtitle">Huaiyin District, Jinan: briefing on {html.escape(period_en)}</div>'
        f"<dl>{items}</dl></section>"
    )


def _build_date() -> date:
    # SOURCE_DATE_EPOCH, where set, makes rebuilds reproducible.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


def _write_pdf(document: str, target: Path, title: str) -> int:
    """Render ``document`` to ``target`` atomically; return the number of pages."""
    # Offline by construction: only local files and data URIs, and a refused URL is an error
    # rather than a silently missing image.
    fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
    try:
        rendered = HTML(string=document, base_url=str(target.parent), url_fetcher=fetcher).render()
    except FatalURLFetchingError as err:
        raise BriefingError(
            f"{target.name}: {err}; briefings are built offline from local files and data URIs"
        ) from None
    rendered.metadata.title = title
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        rendered.write_pdf(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; publish as a normal file
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return len(rendered.pages)
