"""Shared fixtures: the project root and the report's text, read from outside the project."""

from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

import huaiyin
from huaiyin.datapackage import DATA_ENV, data_dir

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ENV = "HUAIYIN_SOURCE"


class ReportText(str):
    """A report's text, with a short repr so that failing assertions stay readable."""

    def __repr__(self) -> str:
        return f"<report text, {len(self)} characters>"


@pytest.fixture
def data_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A copy of the data folder that the package loads instead of the real one."""
    for path in data_dir().iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    return tmp_path


BAD_INPUT = "bad_input"
_BAD_INPUT_CASES = pytest.StashKey[tuple[int, frozenset[Path]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Count the bad-input cases as collected, before -k, -m or --deselect leave any out, so
    that the README's count is checked without collecting the suite a second time."""
    tests = ROOT / "tests"
    marked = [item for item in items if item.get_closest_marker(BAD_INPUT)]
    cases = sum(1 for item in marked if item.path.is_relative_to(tests))
    config.stash[_BAD_INPUT_CASES] = (cases, frozenset(item.path for item in items))


def collected_bad_input_cases(config: pytest.Config) -> int | None:
    """How many bad-input cases this session collected; None unless it collected every test
    file whole (not when a test is named, or --lf or --ignore left files out)."""
    cases, files = config.stash.get(_BAD_INPUT_CASES, (0, frozenset()))
    every_file = set((ROOT / "tests").rglob("test_*.py")) <= files
    named = any("::" in str(arg) for arg in config.args)
    return cases if every_file and not named and not config.getoption("lf", False) else None


def source_dir() -> Path:
    """The folder with the reports: $HUAIYIN_SOURCE, else ../shared/source/ beside the project."""
    return Path(os.environ.get(SOURCE_ENV, ROOT.parent / "shared" / "source"))


@pytest.fixture(scope="session")
def sources() -> pd.DataFrame:
    return huaiyin.load_table("sources")


@pytest.fixture(scope="session")
def figures() -> pd.DataFrame:
    return huaiyin.load_figures()


@pytest.fixture(scope="session")
def programmes() -> pd.DataFrame:
    return huaiyin.load_table("programmes")


@pytest.fixture(scope="session")
def source_texts(sources: pd.DataFrame) -> dict[str, str]:
    """Text of every report, by source id. A missing report fails under CI=true."""
    texts = {}
    for source in sources.itertuples():
        path = source_dir() / source.file
        if not path.is_file():
            message = (
                f"report {source.id} not found at {path}; put the shared source folder at "
                f"../shared/source/ or set {SOURCE_ENV}"
            )
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert digest == source.sha256, (
            f"{path} has SHA-256 {digest}, but sources.csv records {source.sha256}: "
            "the citations were checked against another text"
        )
        texts[source.id] = ReportText(data.decode("utf-8"))
    return texts


def pdf_text(path: Path) -> str:
    """The text of every page of a PDF, as a reader's copy-and-paste would give it."""
    document = pdfium.PdfDocument(path)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def running_text(path: Path) -> str:
    """The text of every page of a PDF without its charts' text: what the pages say in
    sentences and tables (see :func:`running_pages`)."""
    return "\n".join(running_pages(path))


@functools.cache  # the suite's PDFs are built once; reading the tags of one takes 0.3 s
def running_pages(path: Path) -> tuple[str, ...]:
    """Each page's text without its charts' text. It reads the tags of a tagged PDF."""
    pages = []
    for page in pdfium.PdfDocument(path):
        textpage = page.get_textpage()
        running = in_running_text(page, textpage)
        pages.append("".join(textpage.get_text_range(i, 1) for i in running))
    return tuple(pages)


def in_running_text(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> list[int]:
    """The indices of a page's characters that are running text, not a chart's.

    In a tagged PDF, the text of HTML is marked ``Span``, and a chart is marked ``Figure``
    (its text may sit in forms of its own, which are not marked again). Any other text fails:
    it cannot be told apart. A line break or space that pdfium adds between runs of text goes
    with the run before it.
    """
    in_charts = {
        _address(inner)
        for outer in page.get_objects(max_depth=0)
        if "Figure" in _marks(outer.raw)
        for inner in _inside(outer.raw)
    }
    kept, running = [], True
    for index in range(textpage.count_chars()):
        text_object = pdfium_raw.FPDFText_GetTextObject(textpage.raw, index)
        if text_object:
            marks = _marks(text_object)
            running = "Span" in marks
            chart = "Figure" in marks or _address(text_object) in in_charts
            assert running != chart, (
                f"text {textpage.get_text_range(index, 1)!r} marked {marks}: neither running "
                "text (Span) nor a chart's (Figure); is the PDF tagged?"
            )
        if running:
            kept.append(index)
    return kept


def _inside(page_object: Any) -> list[Any]:
    """The objects a form holds, at any depth."""
    found = []
    if pdfium_raw.FPDFPageObj_GetType(page_object) == pdfium_raw.FPDF_PAGEOBJ_FORM:
        for number in range(pdfium_raw.FPDFFormObj_CountObjects(page_object)):
            inner = pdfium_raw.FPDFFormObj_GetObject(page_object, number)
            found += [inner, *_inside(inner)]
    return found


def _address(page_object: Any) -> int:
    return ctypes.cast(page_object, ctypes.c_void_p).value or 0


def _marks(page_object: Any) -> list[str]:
    """The names of the marked-content sequences (``Span``, ``Figure``) an object is in."""
    names = []
    for number in range(pdfium_raw.FPDFPageObj_CountMarks(page_object)):
        mark = pdfium_raw.FPDFPageObj_GetMark(page_object, number)
        size = ctypes.c_ulong()
        assert pdfium_raw.FPDFPageObjMark_GetName(mark, None, 0, ctypes.byref(size))
        name = (ctypes.c_ushort * (size.value // 2 + 1))()  # UTF-16, with its terminator
        assert pdfium_raw.FPDFPageObjMark_GetName(mark, name, size.value, ctypes.byref(size))
        names.append(bytes(name)[: size.value].decode("utf-16-le").rstrip("\x00"))
    return names


GUARD = ROOT / "tests" / "netguard"


def guarded(
    args: list[str], log: Path, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with the network guard in every Python process it starts, and the
    environment ``settings`` besides."""
    env = {
        **os.environ,
        **(settings or {}),
        "PYTHONPATH": str(GUARD),
        "HUAIYIN_NETGUARD_LOG": str(log),
    }
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)


@dataclass(frozen=True)
class Build:
    """The suite's one real build of every briefing, run under the network guard."""

    out: Path
    result: subprocess.CompletedProcess[str]
    network_log: str

    @property
    def messages(self) -> list[str]:
        return self.result.stdout.splitlines()


@pytest.fixture(scope="session")
def briefing_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """``python -m huaiyin brief`` on every notebook, once: shared by the briefing tests and
    the offline test, so the notebooks are not executed for each. Under pytest-xdist the
    first worker to ask builds, under a lock, and the others reuse its result."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "briefing-build"
    record = folder / "result.json"
    with (shared / "briefing-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir(exist_ok=True)
            log = folder / "net.log"
            args = [sys.executable, "-m", "huaiyin", "brief", "--out", str(folder / "pdf")]
            # No fontconfig set-up of the user's, such as the font `huaiyin browser-font`
            # offers browsers: the font the build embeds must draw every character itself, and
            # a character it lacks shows as another font in the PDF.
            (folder / "no-user-fonts").mkdir()
            result = guarded(args, log, {"XDG_CONFIG_HOME": str(folder / "no-user-fonts")})
            network = log.read_text(encoding="utf-8") if log.exists() else ""
            done = [result.args, result.returncode, result.stdout, result.stderr, network]
            record.write_text(json.dumps(done), encoding="utf-8")
    args, code, stdout, stderr, network = json.loads(record.read_text(encoding="utf-8"))
    result = subprocess.CompletedProcess(args, code, stdout, stderr)
    return Build(folder / "pdf", result, network)
