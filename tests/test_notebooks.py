"""The notebooks read like short articles and work as a test suite.

nbval itself re-executes every notebook (``--nbval`` in pyproject.toml); these tests check
what nbval cannot: that the stored outputs exist and are clean, that every figure is shown,
that regeneration is deterministic, and that a wrong figure makes nbval fail.
"""

from __future__ import annotations

import itertools
import re
import shutil
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

import huaiyin
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks as tool  # the regeneration and mutation command

PATHS = tool.notebook_paths()
NAMES = [p.name for p in PATHS]


def cells(path: Path) -> list[nbformat.NotebookNode]:
    return list(nbformat.read(path, as_version=4).cells)


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in cells(path) if c.cell_type == "code"]


def test_the_six_themed_notebooks_exist_in_reading_order() -> None:
    assert NAMES == [
        "00-overview.ipynb",
        "01-economy.ipynb",
        "02-projects.ipynb",
        "03-tourism.ipynb",
        "04-talent.ipynb",
        "05-governance.ipynb",
    ]


def test_nbval_runs_in_strict_mode_on_the_notebooks() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "notebooks" in options["testpaths"]
    assert "--nbval " in options["addopts"] + " " and "--nbval-lax" not in options["addopts"]


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_every_code_cell_has_a_stored_execution(path: Path) -> None:
    unrun = [c.id for c in code_cells(path) if c.execution_count is None]
    assert not unrun, f"cells never executed, so nbval would compare nothing: {unrun}"


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_no_stored_output_is_an_error_or_stderr(path: Path) -> None:
    for cell in code_cells(path):
        for output in cell.outputs:
            assert output.output_type != "error", (cell.id, output.get("ename"))
            assert output.get("name") != "stderr", (cell.id, output.get("text"))


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_notebook_reads_like_an_article(path: Path) -> None:
    all_cells = cells(path)
    first = all_cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "**Question:**" in first.source
    assert any(
        c.cell_type == "markdown" and c.source.startswith("## What this means")
        for c in all_cells[-2:]
    )
    for before, cell in itertools.pairwise(all_cells):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", f"{cell.id}: no narrative before this code"


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_at_least_two_charts_each_an_svg_that_nbval_compares(path: Path) -> None:
    """nbval ignores PNG but compares SVG as text: a chart is tested like a table, so no table
    of its values needs to stand beside it."""
    charts = [c for c in code_cells(path) if any(_images(o) for o in c.outputs)]
    assert len(charts) >= 2
    for cell in charts:
        assert [m for o in cell.outputs for m in _images(o)] == ["image/svg+xml"], (
            f"{cell.id}: a chart must be one SVG, not a PNG that nbval would ignore"
        )
        assert not any("text/html" in o.get("data", {}) for o in cell.outputs), (
            f"{cell.id}: a chart cell shows no table of what the chart already shows"
        )
        assert re.search(r"charts\.(bar|figures|rank)_chart\(", cell.source), (
            "charts go through the house style helpers"
        )


def _images(output: nbformat.NotebookNode) -> list[str]:
    return [m for m in output.get("data", {}) if m.startswith("image/")]


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_data_comes_only_through_huaiyin(path: Path) -> None:
    source = "\n".join(c.source for c in code_cells(path))
    for forbidden in ("read_csv", "open(", "data/", "sys.path", ".csv"):
        assert forbidden not in source, forbidden
    assert "import huaiyin" in source


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_notebook_metadata_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata == tool.METADATA
    for cell in nb.cells:
        assert set(cell.metadata) <= {"tags"}, (cell.id, dict(cell.metadata))


def test_contents_page_is_generated_and_current() -> None:
    assert (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8") == tool.contents(), (
        "notebooks/README.md is stale; run python tools/run_notebooks.py contents"
    )


def test_every_figure_is_displayed_by_some_notebook() -> None:
    shown = "\n".join(tool.displayed_text(p) for p in PATHS)
    missing = [
        i
        for i in huaiyin.load_figures()["id"]
        if not re.search(rf"(?<![\w.]){re.escape(i)}(?!\w)", shown)
    ]
    assert not missing, f"figures no notebook displays: {missing}"


def test_regenerating_outputs_is_byte_identical(tmp_path: Path) -> None:
    path = ROOT / "notebooks" / "05-governance.ipynb"
    runs = []
    for name in ("first", "second"):
        copy = tmp_path / name / path.name
        copy.parent.mkdir()
        shutil.copy(path, copy)
        tool.execute(copy)
        runs.append(copy.read_bytes())
    assert runs[0] == runs[1]


def test_bump_changes_the_last_printed_digit() -> None:
    assert [tool.bump_last_digit(v) for v in ("365.5", "3140", "166.72", "2.2")] == [
        "365.6",
        "3141",
        "166.73",
        "2.3",
    ]


def test_a_changed_figure_makes_nbval_fail() -> None:
    """A fixed sample of figures: each change must fail every notebook that shows it.

    ``python3 tasks.py mutation`` does the same for every figure and reports the kill rate.
    """
    mutants = tool.run_mutants(tool.sample(tool.figure_rows(), 3))
    report = tool.report(mutants)
    assert all(m.notebooks for m in mutants), report
    assert all(m.killed for m in mutants), report


# Numbers in prose: a digit run, thousands grouped or not, with decimals; not part of a word or
# code (H1, 2023H1, SHA-256, ids).
PROSE_NUMBER = re.compile(r"(?<![0-9A-Za-z_.\-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![0-9A-Za-z_])")
# A prose number may round a computed one, possibly rescaled: % to times, 万 or 亿 to units.
SCALES = (1, 1e-2, 1e2, 1e-4, 1e4, 1e-8, 1e8)


def prose_numbers(path: Path) -> list[tuple[str, str]]:
    """(number, context) for each number in the notebook's markdown, code spans left out."""
    found = []
    for cell in cells(path):
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"`[^`]*`", " ", cell.source)
        text = re.sub(r"10<sup>\d+</sup>", " ", text)  # the unit 10⁸, not a figure
        for match in PROSE_NUMBER.finditer(text):
            context = text[max(0, match.start() - 30) : match.end() + 10].replace("\n", " ")
            found.append((match.group(0), context))
    return found


def backed(number: str, candidates: set[float]) -> bool:
    """True if some candidate, rescaled, rounds to ``number`` at its printed precision."""
    value = float(number.replace(",", ""))
    decimals = len(number.split(".")[1]) if "." in number else 0
    return any(round(c * k, decimals) == value for c in candidates for k in SCALES)


def test_backed_accepts_roundings_and_rejects_other_numbers() -> None:
    assert backed("14.5", {14.537037}) and backed("1,364", {1363.636})
    assert backed("7.8", {7.770178}) and backed("19.6", {1964.2})
    assert not backed("14.6", {14.537037}) and not backed("343.6", {343.515038})


@pytest.mark.parametrize("path", PATHS, ids=NAMES)
def test_numbers_in_the_prose_are_computed_or_in_the_data(path: Path) -> None:
    """nbval checks outputs only; this ties the narrative's numbers to them and to the data.

    A prose number passes if it rounds (at its own precision, possibly rescaled) a number the
    notebook displays or a figure's value, or if it is a year of a report's period or the
    year before. It catches a mistyped or stale number, not a misleading sentence.
    """
    # A chart's text form ("<Figure size 800x592 with 1 Axes>") displays no figure.
    shown = re.sub(r"<Figure size [^>]*>", " ", tool.displayed_text(path))
    candidates = {float(m.group(0).replace(",", "")) for m in PROSE_NUMBER.finditer(shown)}
    candidates |= set(huaiyin.load_figures()["value"])
    years = {int(p[:4]) - k for p in huaiyin.load_table("sources")["period"] for k in (0, 1)}
    unbacked = [
        (n, context)
        for n, context in prose_numbers(path)
        if not (n.isdigit() and int(n) in years) and not backed(n, candidates)
    ]
    assert not unbacked, f"numbers in the prose that nothing computes: {unbacked}"
