"""PDF briefings: execute each notebook afresh, hide its code, print it to A4 with WeasyPrint.

Offline and pip-only: nbconvert's "basic" HTML, the package's stylesheet, the Simplified
Chinese face cut from the Noto Sans CJK collection (see :mod:`huaiyin.fonts`), and a URL
fetcher that refuses anything but local files and data URIs.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import functools
import html
import io
import itertools
import json
import logging
import multiprocessing
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname
from xml.etree import ElementTree

import nbformat
import pandas as pd
import PIL.Image
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from huaiyin import fonts
from huaiyin.glossary import LANGUAGES, Language
from huaiyin.present import period_words, report_title
from huaiyin.tables import load_table
from huaiyin.text import shorten

__all__ = ["BriefingError", "build", "combined_name", "default_notebooks", "pdf_name"]

# The combined briefing of each edition: huaiyin-briefing.zh.pdf and huaiyin-briefing.en.pdf.
COMBINED_STEM = "huaiyin-briefing"
# Where a notebook says which edition it belongs to (the Chinese twins say "zh").
METADATA_KEY = "huaiyin"
REMOVE_TAG = "remove-cell"
KEEP_TAG = "keep-with-next"
CHART_TAG = "chart"


class BriefingError(RuntimeError):
    """A briefing could not be built; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Section:
    """One executed notebook, ready to print."""

    notebook: Path
    title: str
    body: str


def combined_name(lang: Language) -> str:
    """The file name of an edition's combined briefing."""
    return f"{COMBINED_STEM}.{lang}.pdf"


def pdf_name(notebook: Path, lang: Language) -> str:
    """The file name of a notebook's own briefing: ``01-economy.zh.pdf``."""
    return f"{notebook.stem}.{lang}.pdf"


def default_notebooks(lang: Language = "en") -> list[Path]:
    """The themed notebooks of the source checkout in one language, in reading order."""
    folder = Path(__file__).resolve().parents[1] / "notebooks"
    if lang == "zh":
        folder = folder / "zh"
    found = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise BriefingError(f"no notebooks found in {folder}; name the notebooks to build")
    return found


def build(
    out: Path,
    notebooks: Sequence[Path] | None = None,
    combined: bool = True,
    progress: Callable[[str], None] = print,
    languages: Sequence[str] | None = None,
) -> list[Path]:
    """Build one PDF per notebook into ``out``, and the combined briefings; return their paths.

    ``languages`` are the editions to build (default: Chinese and English) from the default
    notebooks. Notebooks that are named belong to the edition their metadata names (English
    if none), or to the one language given.

    Nothing runs until the inputs and the output folder are known to be usable. Every
    notebook is executed before any PDF is written, so a failing notebook leaves the folder
    as it was; a cell that raises, or writes an error or to stderr even while its output is
    displayed, fails the build. The PDFs are written to temporary files and moved into place
    together only when all are complete, so a folder never holds a mix of old and new PDFs.
    Temporary files left by a build that was killed are removed by the next one.
    """
    editions = _editions(languages)
    paths = (
        [Path(p) for p in notebooks]
        if notebooks
        else [p for lang in editions for p in default_notebooks(lang)]
    )
    folders = [str(p) for p in paths if p.is_dir()]
    if folders:
        raise BriefingError(f"{', '.join(folders)}: a folder, not a notebook")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise BriefingError(f"no such notebook: {', '.join(missing)}")
    special = [str(p) for p in paths if not p.is_file()]
    if special:  # a pipe or a device could block the build, or never end
        raise BriefingError(f"{', '.join(special)}: not a regular file, so not a notebook")
    read = [_read_notebook(path) for path in paths]
    langs = [
        editions[0] if notebooks and languages and len(editions) == 1 else _language_of(path, nb)
        for path, nb in zip(paths, read, strict=True)
    ]
    targets = _targets(out, paths, langs, combined)
    _prepare_folder(out)
    _remove_stale_temporaries(out)
    executed = asyncio.run(_execute_all(paths, read, progress))
    sections = [
        _section(path, notebook, lang)
        for path, notebook, lang in zip(paths, executed, langs, strict=True)
    ]
    documents = {
        target: (s.title, _body([s], lang=lang))
        for target, s, lang in zip(targets, sections, langs, strict=False)
    }
    if combined:
        period_zh, period_en = _periods(load_table("sources"))
        for lang in dict.fromkeys(langs):
            title = (
                f"槐荫区{period_zh}经济简报"
                if lang == "zh"
                else f"Huaiyin District briefing, {period_en}"
            )
            shown = [s for s, edition in zip(sections, langs, strict=True) if edition == lang]
            documents[out / combined_name(lang)] = (title, _body(shown, True, lang))
    written: list[_Rendered] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"{FONT_DIR_PREFIX}{os.getpid()}-") as font_dir:
            text = "".join(body for _, body in documents.values())
            stylesheet = _stylesheet(Path(font_dir), text + _chart_text(text))
            _render_all(documents, stylesheet, written)
        _publish(out, [(r.target, r.temporary) for r in written])
    except OSError as err:
        raise BriefingError(f"cannot write the briefings to {out}: {err}") from None
    finally:
        for rendered in written:
            rendered.temporary.unlink(missing_ok=True)
    for r in written:
        progress(f"wrote {r.target} ({r.pages} pages, {r.seconds:.1f} s)")
    return list(documents)


@dataclass(frozen=True)
class _Rendered:
    target: Path
    temporary: Path
    pages: int
    seconds: float


def _render_all(
    documents: dict[Path, tuple[str, str]], stylesheet: str, written: list[_Rendered]
) -> None:
    """Render every document into ``written`` (in ``documents`` order), one process per core.

    WeasyPrint runs in Python, so processes, not threads, render side by side; the longest
    document starts first. Every temporary that was written is in ``written`` even when
    another document fails, so that the caller removes them all.
    """
    jobs = sorted(documents, key=lambda target: -len(documents[target][1]))
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for target in documents:
            title, body = documents[target]
            written.append(_timed_render(_html(body, stylesheet), target, title, os.getpid()))
        return
    # Forked after the kernels have shut down: the workers only lay out and write PDFs.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            target: pool.submit(
                _timed_render,
                _html(documents[target][1], stylesheet),
                target,
                documents[target][0],
                os.getpid(),
            )
            for target in jobs
        }
    failure: BaseException | None = None
    for target in documents:
        try:
            written.append(futures[target].result())
        except BrokenProcessPool:
            # A dead worker breaks the whole pool: which document it held is not known.
            failure = failure or BriefingError(
                "a process rendering the PDFs died (killed, or out of memory); no PDF was published"
            )
        except BaseException as err:
            failure = failure or err
    if failure is not None:
        raise failure


def _timed_render(document: str, target: Path, title: str, owner: int) -> _Rendered:
    started = time.perf_counter()
    temporary, pages = _render_pdf(document, target, title, owner)
    return _Rendered(target, temporary, pages, time.perf_counter() - started)


# The names of the PDFs the last build wrote into a folder: the next build retires those it
# does not rewrite, so that a folder never holds PDFs of two builds side by side. Files that
# huaiyin did not write are never touched.
MANIFEST = ".huaiyin-briefings.json"


def _publish(out: Path, pdfs: list[tuple[Path, Path]]) -> None:
    """Move the new PDFs into place as one set, retiring the last build's other PDFs.

    Every replaced or retired PDF is first moved aside, and put back if any step fails, so
    the folder ends up holding either the old set or the new one.
    """
    for target, _ in pdfs:
        if target.exists() and not target.is_file():
            raise BriefingError(
                f"{target} exists and is not a file; move it away so the PDF can be written"
            )
    names = {target.name for target, _ in pdfs}
    retired = [out / name for name in _manifest(out) if name not in names]
    moved: list[tuple[Path, Path | None]] = []  # (place, where its old file was put aside)
    record = out / f".{MANIFEST}.{os.getpid()}-new.tmp"

    def aside(path: Path) -> Path | None:
        if not path.is_file():
            return None
        backup = path.with_name(f".{path.name}.{os.getpid()}-old.tmp")
        os.replace(path, backup)
        return backup

    try:
        for target, temporary in pdfs:
            moved.append((target, aside(target)))
            os.replace(temporary, target)
        for path in retired:
            moved.append((path, aside(path)))
        record.write_text(json.dumps(sorted(names)), encoding="utf-8")
        os.replace(record, out / MANIFEST)
    except BaseException:
        with contextlib.suppress(OSError):
            record.unlink(missing_ok=True)
        for place, backup in reversed(moved):
            with contextlib.suppress(OSError):  # put back all that can be put back
                if place.name in names:
                    place.unlink(missing_ok=True)
                if backup is not None:
                    os.replace(backup, place)
        raise
    for _, backup in moved:
        if backup is not None:
            backup.unlink(missing_ok=True)


def _manifest(out: Path) -> list[str]:
    """The PDFs the last build wrote into ``out`` (none if it left no readable record)."""
    try:
        names = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    valid = isinstance(names, list) and all(isinstance(n, str) for n in names)
    # Only plain PDF names inside the folder: the record must not steer a removal elsewhere.
    return (
        [n for n in names if n.endswith(".pdf") and "/" not in n and n[:1] != "."] if valid else []
    )


def _editions(languages: Sequence[str] | None) -> tuple[Language, ...]:
    if not languages:
        return LANGUAGES
    wrong = [lang for lang in languages if lang not in LANGUAGES]
    if wrong:
        raise BriefingError(f"no edition in {wrong[0]!r}; the editions are {', '.join(LANGUAGES)}")
    return tuple(lang for lang in LANGUAGES if lang in languages)


def _language_of(path: Path, notebook: Any) -> Language:
    """The edition a notebook belongs to, from its metadata: English unless it says "zh"."""
    settings = notebook.metadata.get(METADATA_KEY, {})
    lang = settings.get("language", "en") if isinstance(settings, dict) else None
    if lang not in LANGUAGES:
        raise BriefingError(
            f"{path}: metadata {METADATA_KEY}.language is {lang!r}; it must be one of "
            f"{', '.join(LANGUAGES)}"
        )
    return lang  # type: ignore[no-any-return]


def _targets(out: Path, notebooks: list[Path], langs: list[Language], combined: bool) -> list[Path]:
    """The PDF each notebook becomes (and each edition's combined one, last), refusing any
    clash."""
    if out.exists() and not out.is_dir():
        raise BriefingError(f"--out {out} is a file, not a folder; name a folder for the PDFs")
    by_name: dict[str, Path] = {}
    combined_names = {combined_name(lang) for lang in langs} if combined else set()
    for path, lang in zip(notebooks, langs, strict=True):
        name = pdf_name(path, lang)
        if name in by_name:
            same = by_name[name].resolve() == path.resolve()
            raise BriefingError(
                f"{path} is listed twice"
                if same
                else f"{by_name[name]} and {path} would both be written to {out / name}; "
                "rename one of them"
            )
        if name in combined_names:
            raise BriefingError(
                f"{path} would be written to {out / name}, the combined briefing's name; "
                "rename the notebook or pass --no-combined"
            )
        by_name[name] = path
    targets = [out / name for name in by_name] + [
        out / combined_name(lang) for lang in dict.fromkeys(langs) if combined
    ]
    for target in [*targets, out / MANIFEST]:
        if target.exists() and not target.is_file():
            raise BriefingError(
                f"{target} exists and is not a file; move it away so the PDF can be written"
            )
    return targets


def _read_notebook(path: Path) -> Any:
    """Read and check a notebook before anything runs: valid, with a title in its first cell."""
    try:
        with warnings.catch_warnings():
            # nbformat warns and repairs (duplicate or missing cell ids): refuse instead.
            warnings.simplefilter("error")
            notebook = nbformat.read(path, as_version=4)
            nbformat.validate(notebook)
    except Exception as err:  # nbformat raises JSON, encoding, schema and version errors
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BriefingError(f"{path} is not a valid Jupyter notebook: {reason[:200]}") from None
    first = notebook.cells[0] if notebook.cells else None
    lines = first.source.strip().splitlines() if first is not None else []
    title = lines[0].removeprefix("# ") if lines and lines[0].startswith("# ") else ""
    if first is None or first.cell_type != "markdown" or not _visible(title):
        raise BriefingError(
            f"{path}: the first cell must be a Markdown cell whose first line is the title, "
            "as in '# Economy（经济）'"
        )
    for index, cell in enumerate(notebook.cells):
        # Executed afresh: no stored output (of a cell the kernel skips, say) reaches the PDF.
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        elif (remote := _remote_reference(cell.source)) is not None:
            raise BriefingError(
                f"{path}: cell {index} (id {cell.get('id', '?')}) refers to {remote}; {_OFFLINE}"
            )
        elif (math := _math(cell.source)) is not None:
            raise BriefingError(
                f"{path}: cell {index} (id {cell.get('id', '?')}) holds LaTeX math {math!r}, "
                f"{_NO_MATH}"
            )
    return notebook


# What Jupyter's Markdown reads as LaTeX math: $$…$$, \[…\], \(…\), \begin{…}, and $…$
# with no space inside either dollar sign. An escaped dollar sign (\$) is text.
_MATH = re.compile(
    r"(?<!\\)\$\$.+?(?<!\\)\$\$|\\\[.+?\\\]|\\\(.+?\\\)|\\begin\{[A-Za-z*]+\}"
    r"|(?<![\\$])\$(?=[^\s$])[^$\n]*?(?<=[^\s\\])\$(?!\$)",
    re.DOTALL,
)
_NO_MATH = "which the PDF cannot typeset; write it in words, or write a dollar sign as \\$"


def _math(text: str) -> str | None:
    """The first LaTeX math in Markdown text, shortened, or None."""
    match = _MATH.search(re.sub(r"`[^`\n]*`", " ", text))  # code spans are not math
    return None if match is None else shorten(match.group(0), 40)


_OFFLINE = "briefings are built offline: show images as notebook outputs, attachments or data URIs"


# An image or link target in Markdown or HTML that would be fetched from somewhere else.
_REFERENCE = re.compile(
    r"""(?:\bsrc\s*=\s*["']?|\bhref\s*=\s*["']?|!\[[^\]]*\]\(\s*<?)\s*"""
    r"""(?P<url>(?!data:|file:|attachment:)[a-zA-Z][a-zA-Z0-9+.-]*:[^\s"'<>)]*|//[^\s"'<>)]*)"""
)


def _remote_reference(text: str) -> str | None:
    """The first remote image or stylesheet a cell's Markdown or HTML would load, if any."""
    for match in _REFERENCE.finditer(text):
        url = match["url"]
        if match.group(0).lstrip().lower().startswith("href") and not url.endswith(".css"):
            continue  # a link is printed, not fetched
        return url
    return None


def _visible(text: str) -> bool:
    """Whether text shows anything: not only spaces and invisible characters."""
    return any(unicodedata.category(c)[0] not in "CZ" for c in text)


def _prepare_folder(out: Path) -> None:
    """Create ``out`` if needed and make sure a file can be written there."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not out.stat().st_mode & 0o222:
            raise PermissionError(f"{out} is read-only (mode {out.stat().st_mode & 0o777:o})")
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise BriefingError(f"cannot write to --out {out}: {err}") from None


FONT_DIR_PREFIX = "huaiyin-fonts-"
# Temporaries are named after the process that writes them, so that a later build can tell
# those of a killed build (stale) from those of one still running.
# A file of the same shape without a process id is someone else's, and is left alone.
_TEMPORARY = re.compile(rf"\.(?P<name>.+\.pdf|{re.escape(MANIFEST)})\.(?P<pid>[0-9]+)-[^./]+\.tmp")
_FONT_DIR = re.compile(rf"{FONT_DIR_PREFIX}(?P<pid>[0-9]+)-[^/]*")


def _remove_stale_temporaries(out: Path) -> list[Path]:
    """Remove PDF temporaries in ``out`` and font folders in the temp folder of dead builds."""
    removed = []
    # In the output folder only regular files: a build never makes a folder there.
    candidates = [
        (p, _TEMPORARY.fullmatch(p.name))
        for p in out.glob(".*.tmp")
        if p.is_file() and not p.is_symlink()
    ]
    candidates += [
        (p, _FONT_DIR.fullmatch(p.name))
        for p in Path(tempfile.gettempdir()).glob(f"{FONT_DIR_PREFIX}*")
    ]
    for path, match in candidates:
        if match is None or _running(match["pid"], path):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


# No build runs for a day: an older temporary is stale even if its process id was reused.
STALE_AFTER = 24 * 3600


def _running(pid: str, path: Path) -> bool:
    """Whether the build that named a temporary may still be running."""
    try:
        if time.time() - path.lstat().st_mtime > STALE_AFTER:
            return False
        if int(pid) == os.getpid():
            return True
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError, ValueError, FileNotFoundError):
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


async def _execute_all(
    paths: list[Path], notebooks: list[Any], progress: Callable[[str], None]
) -> list[Any]:
    """Execute the notebooks, one kernel per core at a time; the first failure stops all."""
    slots = asyncio.Semaphore(max(1, min(len(paths), os.cpu_count() or 1)))

    async def run(number: int, path: Path, notebook: Any) -> Any:
        async with slots:
            started = time.perf_counter()
            done = await _execute(path, notebook)
            took = time.perf_counter() - started
            progress(f"[{number}/{len(paths)}] executed {path.name} ({took:.1f} s)")
            return done

    tasks = [
        asyncio.create_task(run(number, path, notebook))
        for number, (path, notebook) in enumerate(zip(paths, notebooks, strict=True), start=1)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        # On a failure, stop the other kernels before reporting it.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# The label of a notebook's question: a Chinese briefing opens a section with the question
# itself, as its lead, without the label.
_QUESTION_ZH = "**问题**："


@functools.cache
def _exporter() -> HTMLExporter:
    """The notebook-to-HTML converter: outputs only, without cells tagged ``REMOVE_TAG``.

    One for all notebooks and builds: making one compiles nbconvert's templates (about
    40 ms), and no conversion depends on the one before."""
    exporter = HTMLExporter(
        template_name="basic",
        # nbconvert's basic template, but a chart gets a text alternative (see the file).
        template_file=str(files("huaiyin").joinpath("briefing.html.j2")),
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True), enabled=True
    )
    return exporter


def _section(path: Path, notebook: Any, lang: Language = "en") -> Section:
    title = notebook.cells[0].source.strip().splitlines()[0].removeprefix("# ").strip()
    if lang == "zh":
        notebook.cells[0].source = notebook.cells[0].source.replace(_QUESTION_ZH, "", 1)
    body, _ = _exporter().from_notebook_node(_for_print(notebook))
    return Section(notebook=path, title=title, body=body)


# A number with its hedge and unit (超220万人次, 7.05亿元, 6.4%): never broken across lines.
_NUMBER = (
    r"(?:[近超余约<>≈]|突破)?[0-9][0-9,]*(?:\.[0-9]+)?"
    r"(?:[万亿千百十]+[元人次家个场位户名趟倍%]*|[元人次家个场位户名趟倍%]+)?"
)
# In English text, a run of Chinese of up to twelve characters (a name or a term:
# 社会消费品零售总额) is a word, kept whole too. Chinese text breaks between any two
# characters, as Chinese typesetting does, so the Chinese edition keeps numbers whole only.
_UNBROKEN = {
    "en": re.compile(
        rf"{_NUMBER}|(?<![\u4e00-\u9fff])[\u4e00-\u9fff\u3400-\u4dbf]{{2,12}}(?![\u4e00-\u9fff])"
    ),
    "zh": re.compile(_NUMBER),
}


def _unbroken(document: str, lang: Language = "en") -> str:
    """The HTML with numbers (and, in English, short Chinese terms) kept whole on a line."""
    parts = re.split(r"(<[^>]*>|&[#A-Za-z0-9]+;)", document)  # tags and entities stay as they are
    inside_style = False
    for index, part in enumerate(parts):
        if part.startswith("&"):
            continue
        if part.startswith("<"):
            inside_style = part.startswith(("<style", "<script")) or (
                inside_style and not part.startswith(("</style", "</script"))
            )
            continue
        if not inside_style and part.strip():
            parts[index] = _UNBROKEN[lang].sub(
                lambda m: (
                    f'<span class="nb">{m.group(0)}</span>' if len(m.group(0)) > 1 else m.group(0)
                ),
                part,
            )
    return "".join(parts)


def _for_print(notebook: Any) -> Any:
    """Lay the notebook out for pages: the title breaks before its Chinese part, and text
    stays on the page of what follows it.

    The text introducing a chart moves into the chart's cell, as its first output, and the
    cell is kept whole (tag ``chart``); WeasyPrint does not move a heading to the next page
    for a chart that starts in a separate block. A cell that ends with a heading is kept with
    the next one (tag ``keep-with-next``). Tags become classes the stylesheet acts on.
    """
    title = notebook.cells[0]
    title.source = re.sub(
        r"^(# .*?)(（[^（）\n]*）)\s*$",
        r'\1<span class="title-zh">\2</span>',
        title.source,
        count=1,
        flags=re.MULTILINE,
    )
    shown = [c for c in notebook.cells if REMOVE_TAG not in c.metadata.get("tags", [])]
    for cell, after in itertools.pairwise(shown):
        if cell.cell_type != "markdown":
            continue
        introduces_chart = any(
            mime.startswith("image/")
            for output in after.get("outputs", [])
            for mime in output.get("data", {})
        )
        if introduces_chart:
            text = nbformat.v4.new_output("display_data", data={"text/markdown": cell.source})
            after.outputs.insert(0, text)
            after.metadata.setdefault("tags", []).append(CHART_TAG)
            after.metadata["alt"] = _chart_name(cell.source)
            cell.metadata.setdefault("tags", []).append(REMOVE_TAG)
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        if lines and lines[-1].lstrip().startswith("#"):
            cell.metadata.setdefault("tags", []).append(KEEP_TAG)
    return notebook


def _chart_name(markdown: str) -> str:
    """What the text introducing a chart calls it: its heading (图：…), else its first line."""
    lines = [line.strip() for line in markdown.splitlines() if line.strip()]
    headings = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
    return (headings or lines or [""])[0]


async def _execute(path: Path, notebook: Any) -> Any:
    """Run every cell in a fresh kernel; a cell that fails or writes an error raises."""
    # Kernels talk over Unix sockets, not TCP ports: builds and test runs side by side could
    # otherwise pick the same free port and kill a kernel with "Address already in use".
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc")
    # An absolute socket path: the kernel runs in the notebook's folder, not this one.
    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(parents=True, exist_ok=True)
    manager.ip = str(runtime / f"huaiyin-{uuid.uuid4().hex}-ipc")
    client = NotebookClient(
        notebook,
        km=manager,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own log (a warning about its local TCP transport) is not the reader's
        # business; cell output, stderr included, still comes through and is checked.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        # Stopped at once, as nbval stops its kernels: every output is in by then (see
        # _late_output). A graceful stop (interrupt, then a shutdown request) took 3.5 s
        # instead of 0.1 s for about one kernel in eight here, until SIGTERM ended it.
        shutdown_kernel="immediate",
    )
    try:
        return await _run_cells(client, path, notebook)
    finally:
        # A build stopped by another notebook's failure cancels this one, perhaps before
        # nbclient's own clean-up was set up: shut the kernel down here, not at exit.
        atexit.unregister(client._cleanup_kernel)
        if client.km is not None and client.km.has_kernel:
            await client._async_cleanup_kernel()


async def _run_cells(client: NotebookClient, path: Path, notebook: Any) -> Any:
    # Charts with their text as text: the PDF embeds the face it is drawn from (see fonts).
    # Without MPLBACKEND: a global Agg backend would keep every chart out of the outputs.
    environment = {**os.environ, fonts.CHART_TEXT_ENV: "text"}
    environment.pop("MPLBACKEND", None)
    async with client.async_setup_kernel(env=environment):
        for index, cell in enumerate(notebook.cells):
            first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            where = f"{path}: cell {index} (id {cell.get('id', '?')}, starting {first_line!r})"
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                raise BriefingError(
                    f"{where}: the kernel died (the cell exited Python, or ran out of memory)"
                ) from None
            except CellExecutionError as err:
                # nbclient also raises, without a name, for an error shown while displaying.
                if err.ename in {None, "NoneType"} and _output_problem(cell):
                    raise BriefingError(f"{where} {_output_problem(cell)}") from None
                raise BriefingError(f"{where} failed: {err.ename}: {err.evalue}") from None
            problem = _output_problem(cell)
            if problem:
                raise BriefingError(f"{where} {problem}")
        late = await _late_output(client)
        if late:
            raise BriefingError(f"{path}: after its last cell, a thread {late}")
    return notebook


# Run after the last cell: wait for the notebook's own threads (ipykernel's are daemons), so
# that what a timer or worker thread writes late is seen too.
_SETTLE = """\
import threading as _threading, time as _time
_deadline = _time.monotonic() + 30
for _thread in _threading.enumerate():
    if _thread is not _threading.main_thread() and not _thread.daemon:
        _thread.join(max(0.0, _deadline - _time.monotonic()))
"""


async def _late_output(client: NotebookClient) -> str | None:
    """What the notebook's threads wrote to stderr, or raised, after its last cell."""
    outputs: list[Any] = []

    def hook(message: dict[str, Any]) -> None:
        if message.get("msg_type") in {"stream", "error"}:
            outputs.append(nbformat.v4.output_from_msg(message))

    assert client.kc is not None  # set up by async_setup_kernel
    await client.kc.execute_interactive(  # type: ignore[attr-defined]
        _SETTLE, silent=True, store_history=False, output_hook=hook, timeout=60
    )
    return _output_problem({"outputs": outputs})


def _output_problem(cell: Any) -> str | None:
    """An error or stderr text among a cell's outputs: what a display-time failure leaves."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"shows an error: {output.get('ename')}: {_first_line(output.get('evalue'))}"
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return f"wrote to stderr: {_first_line(output.get('text'))}"
        data = output.get("data", {})
        remote = _remote_reference("".join(data.get("text/html", "")))
        if remote is not None:
            return f"shows {remote}, which a briefing built offline cannot fetch"
        if "text/latex" in data and "text/html" not in data:
            return "shows LaTeX, which the PDF cannot typeset; show text, HTML or an image"
        if "text/html" not in data and (math := _math("".join(data.get("text/markdown", "")))):
            return f"shows Markdown with LaTeX math {math!r}, {_NO_MATH}"
        for mime, content in data.items():
            problem = _image_problem(mime, content)
            if problem:
                return f"shows {problem}"
    return None


def _image_problem(mime: str, content: Any) -> str | None:
    """What is wrong with an image output, or None: a broken image prints as a blank box."""
    try:
        if mime in {"image/png", "image/jpeg"}:
            raw = base64.b64decode("".join(content), validate=True)
            with PIL.Image.open(io.BytesIO(raw)) as image:
                image.verify()
        elif mime == "image/svg+xml":
            ElementTree.fromstring("".join(content))
    except Exception:  # base64, PIL and XML each raise their own errors for broken data
        return f"a broken {mime} image"
    return None


# An SVG image given as a data URI, base64 or percent-encoded, in either kind of quotes.
_SVG_IMAGE = re.compile(r"""src=(["'])data:image/svg\+xml([^,"']*),(.*?)\1""", re.DOTALL)


def _chart_text(body: str) -> str:
    """The words and numbers of the body's SVG images, each read once however often it
    appears: a chart's text is drawn from the subset face too (see ``fonts.CHART_TEXT_ENV``)."""
    texts = []
    # A combined briefing repeats every chart of the notebooks' own PDFs.
    for _, parameters, data in dict.fromkeys(_SVG_IMAGE.findall(body)):
        try:
            encoded = html.unescape(data)
            svg = (
                base64.b64decode(encoded)
                if parameters.endswith(";base64")
                else unquote_to_bytes(encoded)
            )
            texts.append("".join(ElementTree.fromstring(svg).itertext()))
        except (ValueError, ElementTree.ParseError):  # binascii.Error is a ValueError
            continue  # WeasyPrint cannot draw it either, and the build then says so
    return "".join(texts)


def _first_line(text: object) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0][:200] if lines else ""


_LIST_MARKERS = "•◦▪"  # disc, circle, square


def _stylesheet(font_dir: Path, text: str) -> str:
    face = fonts.find_sc_face()
    # Everything the PDFs print: the documents, the stylesheet's own generated text, and the
    # markers of lists, which WeasyPrint's default stylesheet adds.
    css = files("huaiyin").joinpath("briefing.css").read_text(encoding="utf-8")
    font_file = fonts.extract(face, font_dir, text=html.unescape(text) + css + _LIST_MARKERS)
    # The face's own family name, so that the PDF's font list names the SC face.
    return (
        f'@font-face {{ font-family: "{face.family}"; src: url("{font_file.as_uri()}"); }}\n'
        f'html {{ font-family: "{face.family}"; }}\n{css}'
    )


def _body(sections: list[Section], front_matter: bool = False, lang: Language = "en") -> str:
    sources = load_table("sources")
    if lang == "zh":
        cited = "；".join(
            f"记者{r.reporter}报道，{period_words(str(r.period), 'zh')}"
            for r in sources.itertuples()
        )
        source_line, about, contents_title = f"来源：{cited}", "数据说明", "目录"
    else:
        cited = "; ".join(
            f"记者{r.reporter}报道 report by {r.reporter}, {period_words(str(r.period), 'en')}"
            for r in sources.itertuples()
        )
        source_line = f"来源 Source: {cited}"
        about, contents_title = "数据说明 About the data", "目录 Contents"
    parts = [f'<div class="source-line">{html.escape(source_line)}</div>']
    if front_matter:
        items = "".join(
            f'<li><a href="#section-{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(sections)
        )
        items += f'<li><a href="#about">{about}</a></li>'
        # The contents share the title page, so that the key numbers open page 2.
        contents = f'<nav class="contents"><h2>{contents_title}</h2><ol>{items}</ol></nav>'
        parts.append(_title_page(sources, contents, lang))
    parts += [
        f'<section class="notebook" id="section-{i}">{s.body}</section>'
        for i, s in enumerate(sections)
    ]
    if front_matter:
        parts.append(_about_the_data_zh(sources) if lang == "zh" else _about_the_data(sources))
    return _unbroken("".join(parts), lang)


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


def _period_end_zh(sources: pd.DataFrame) -> str:
    """The end of the reports' periods as Chinese briefings write it: 2023年6月末."""
    ends = {"H1": "6月末", "H2": "12月末", "": "年末"}
    return "、".join(
        dict.fromkeys(f"{p[:4]}年{ends.get(p[4:], '末')}" for p in sources["period"].astype(str))
    )


def _title_page(sources: pd.DataFrame, contents: str, lang: Language = "en") -> str:
    period_zh, period_en = _periods(sources)
    if lang == "zh":
        rows = {
            "时期": period_zh,
            "数据截至": f"{_period_end_zh(sources)}；“今年以来”数据截至报道之时（报道未注明日期）",
            "来源": "；".join(
                f"《{report_title(str(r.title_zh))}》（记者{r.reporter}）"
                for r in sources.itertuples()
            ),
            "编制日期": "{0.year}年{0.month}月{0.day}日".format(_build_date()),
        }
        items = "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows.items()
        )
        return (
            f'<section class="title-page"><h1>槐荫区{html.escape(period_zh)}经济简报</h1>'
            f'<div class="subtitle">济南市槐荫区</div><dl>{items}</dl>{contents}</section>'
        )
    rows = {
        "时期 Period": f"{period_zh} {period_en[:1].upper()}{period_en[1:]}",
        "数据截至 Data as of": (
            f"{period_zh}末；“今年以来”数据截至报道之时（报道未注明日期） The end of "
            f"{period_en}; year-to-date figures run to the report, which is undated"
        ),
        "来源 Source": "; ".join(
            f"{r.title_zh}（记者 {r.reporter}）" for r in sources.itertuples()
        ),
        "编制日期 Prepared": _build_date().isoformat(),
    }
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows.items())
    return (
        f'<section class="title-page"><h1>槐荫区{html.escape(period_zh)}经济简报</h1>'
        f'<div class="subtitle">Huaiyin District, Jinan: briefing on {html.escape(period_en)}</div>'
        f"<dl>{items}</dl>{contents}</section>"
    )


def _about_the_data(sources: pd.DataFrame) -> str:
    """The closing page: what the hedges, periods and growth rates mean, and the source."""
    reports = "".join(
        f"<li>{html.escape(str(r.title_zh))}（记者{html.escape(str(r.reporter))}）: "
        f"{html.escape(str(r.title_en))}, {html.escape(period_words(str(r.period)))}.</li>"
        for r in sources.itertuples()
    )
    return f"""<section class="about" id="about"><h1>数据说明 About the data</h1>
<h2>Where every number comes from</h2>
<p>Every number is taken from one newspaper report, or computed from its numbers. Every figure
can be traced to the sentence of the report that prints it. The report gives neither its
publication date nor the newspaper's name; the district's own statistical releases are the
place to confirm a figure before citing it.</p><ul>{reports}</ul>
<h2>Hedges: 近, 超, 突破, 余</h2>
<p>The report hedges some numbers, and the briefing keeps each hedge. <b>近</b> (nearly) means a
little under: 近30亿元 is a little under 3 billion yuan. <b>超</b>, <b>突破</b> and <b>余</b>
(more than, over) mean at least: 超220万人次 is more than 2.2 million visits. A number worked
out from hedged numbers keeps the direction they imply: &lt; under, &gt; over; ≈ where the
hedges pull opposite ways.</p>
<h2>Periods</h2>
<p><b>H1 2023</b> (2023年上半年) is January to June 2023. <b>Year to date</b> (今年以来,
"since the start of the year") runs from January 2023 to the time of the report, which does not
say when that was. <b>Not stated</b> (未注明) marks numbers the report gives no period for,
such as counts of villages, grids or talent.</p>
<h2>Growth rates</h2>
<p>Growth rates are year on year, against the same period of 2022. By Chinese statistical
practice the growth of GDP and of industrial value added is measured at comparable prices (real
growth, without price changes); the report does not say so. Growth of money amounts such as
budget revenue, retail sales or venue revenue is in current prices (nominal, with price
changes). A level "a year earlier" worked out from a growth rate is what the rate implies, not
a published figure.</p>
<h2>Ranks</h2>
<p>A rank such as 第三 (third) is a position in Jinan. The report does not say how many units
are ranked, and for budget revenue not whether the level or the growth rate is ranked.</p>
</section>"""


def _about_the_data_zh(sources: pd.DataFrame) -> str:
    """The closing page of the Chinese edition: hedges, periods, growth rates, the source."""
    reports = "".join(
        f"<li>《{html.escape(report_title(str(r.title_zh)))}》（记者{html.escape(str(r.reporter))}），"
        f"{html.escape(period_words(str(r.period), 'zh'))}。</li>"
        for r in sources.itertuples()
    )
    text = f"""<section class="about" id="about"><h1>数据说明</h1>
<h2>数据来源</h2>
<p>本简报的数据均取自一篇新闻报道，或由报道中的数据推算得出，每个数据都可追溯到报道中的原句。
报道未注明发布日期和刊发报纸名称，引用前请以槐荫区官方统计数据为准。</p><ul>{reports}</ul>
<h2>约数：近、超、突破、余</h2>
<p>报道中的约数，本简报一律保留。“近”表示略低于该数，如“近30亿元”即略少于30亿元；
“超”“突破”“余”表示多于该数，如“超220万人次”即多于220万人次。由约数推算的数据保留其方向：
“不足”表示实际值低于该数，“超过”表示实际值高于该数；方向相反的约数同时参与推算时记为“约”。</p>
<h2>时期</h2>
<p>“2023年上半年”指2023年1—6月。“今年以来”指2023年1月至报道发布之时，报道未说明截止日期。
“未注明”指报道未给出时期的数据，如村、网格和人才的数量。</p>
<h2>增速</h2>
<p>增速均为同比增速，即与2022年同期相比。按照我国统计惯例，全区生产总值和规模以上工业增加值增速按可比价格计算
（扣除价格变动因素），报道对此未作说明。一般公共预算收入、社会消费品零售总额、营业收入等金额的增速按现价计算（含价格变动）。
由增速推算的“上年同期”数据是增速所隐含的水平，并非公布数。</p>
<h2>排名</h2>
<p>“第三”等位次指在济南全市的排名。报道未说明参与排名的单位数量，也未说明一般公共预算收入的排名针对总量还是增速。</p>
</section>"""
    # A line break in Chinese text prints as a space: join the lines.
    return text.replace("\n", "")


def _build_date() -> date:
    # SOURCE_DATE_EPOCH, where set, makes rebuilds reproducible.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


def _render_pdf(
    document: str, target: Path, title: str, owner: int | None = None
) -> tuple[Path, int]:
    """Render ``document`` to a temporary file beside ``target``; return it and its pages.

    The temporary is named after ``owner``, the build's process (default: this one), so that
    a later build can tell whether the build that wrote it is still running.
    """
    # Offline by construction: data URIs and the build's own font files only, and a refused
    # URL is an error rather than a silently missing image.
    fetcher = _OwnFilesOnly(allowed_protocols={"file", "data"}, fail_on_errors=True)
    failed_images = _ImageFailures()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(failed_images)
    font_config = FontConfiguration()
    try:
        rendered = HTML(string=document, base_url=str(target.parent), url_fetcher=fetcher).render(
            font_config=font_config
        )
    except FatalURLFetchingError as err:
        raise BriefingError(f"{target.name}: {err}; {_OFFLINE}") from None
    finally:
        logger.removeHandler(failed_images)
    if failed_images.messages:
        raise BriefingError(
            f"{target.name}: an image cannot be drawn ({failed_images.messages[0]}); it would "
            "print as an empty space"
        )
    rendered.metadata.title = title
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{owner or os.getpid()}-", suffix=".tmp"
    )
    os.close(handle)
    temporary = Path(name)
    try:
        # Tagged: headings, paragraphs, tables and figures are marked as such, so that a
        # chart's words can be told from the running text (the tests do).
        rendered.write_pdf(temporary, pdf_tags=True)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; publish as a normal file
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        # WeasyPrint copies the font into a folder of its own and removes it only when the
        # configuration is garbage-collected, which a rendering process that exits never does.
        folder = getattr(font_config, "_folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return temporary, len(rendered.pages)


class _OwnFilesOnly(URLFetcher):  # type: ignore[misc]
    """Fetches data URIs, and files only from the build's own font folder."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.lower().startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path))
            folder = path.parent
            own = folder.name.startswith(FONT_DIR_PREFIX) and folder.parent == Path(
                tempfile.gettempdir()
            )
            if not own:
                raise FatalURLFetchingError(f"{url} is a file outside the briefing")
        return super().fetch(url, headers)


class _ImageFailures(logging.Handler):
    """Collects WeasyPrint's warnings about images it cannot draw."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "image" in message.lower():
            self.messages.append(_first_line(message))


def _write_pdf(document: str, target: Path, title: str) -> int:
    """Render ``document`` to ``target`` atomically; return the number of pages."""
    temporary, pages = _render_pdf(document, target, title)
    try:
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return pages
