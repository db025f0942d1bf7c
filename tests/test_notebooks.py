"""The notebooks read like short articles and work as a test suite.

nbval itself re-executes every notebook (``--nbval`` in pyproject.toml); these tests check
what nbval cannot: that the stored outputs exist and are clean, that every figure is shown,
that regeneration is deterministic, and that a wrong figure makes nbval fail.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

import huaiyin
from conftest import ROOT
from huaiyin import fonts

sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks as tool  # the regeneration and mutation command

PATHS = tool.notebook_paths()
NAMES = [str(p.relative_to(tool.NOTEBOOKS)) for p in PATHS]
# What opens and closes a notebook in each language: the question, and what it means.
ARTICLE_MARKS = {"en": ("**Question:**", "## What this means"), "zh": ("**问题**：", "## 小结")}


def language(path: Path) -> str:
    return "zh" if path.parent == tool.CHINESE else "en"


def cells(path: Path) -> list[nbformat.NotebookNode]:
    return list(nbformat.read(path, as_version=4).cells)


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in cells(path) if c.cell_type == "code"]


def test_the_six_themed_notebooks_exist_in_reading_order_in_both_languages() -> None:
    themes = [
        "00-overview.ipynb",
        "01-economy.ipynb",
        "02-projects.ipynb",
        "03-tourism.ipynb",
        "04-talent.ipynb",
        "05-governance.ipynb",
    ]
    together = [*themes, "explore.ipynb"]  # and a notebook on asking your own question
    assert [*together, *(f"zh/{name}" for name in together)] == NAMES
    assert all(p.is_file() for p in PATHS)


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
    question, meaning = ARTICLE_MARKS[language(path)]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert question in first.source
    assert any(c.cell_type == "markdown" and c.source.startswith(meaning) for c in all_cells[-2:])
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
        svg = "".join(o["data"]["image/svg+xml"] for o in cell.outputs if _images(o))
        assert "<text" not in svg, (
            f"{cell.id}: chart text is stored as text, which a browser without a Chinese font "
            f"cannot show; was the notebook saved from a kernel with {fonts.CHART_TEXT_ENV}=text?"
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
    edition = {"huaiyin": {"language": "zh"}} if language(path) == "zh" else {}
    assert nb.metadata == {**tool.METADATA, **edition}
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


@pytest.mark.parametrize(
    "path",
    [tool.NOTEBOOKS / "05-governance.ipynb", tool.CHINESE / "05-governance.ipynb"],
    ids=["en", "zh"],
)
def test_regenerating_outputs_is_byte_identical(
    tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh regeneration gives the committed file byte for byte: the outputs do not vary
    from run to run (the committed run is an earlier one), and the committed file is current.
    Settings in the caller's shell that would change the outputs are not passed on."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # would drop every chart
    monkeypatch.setenv(fonts.CHART_TEXT_ENV, "text")  # would store chart text as text
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    tool.execute(copy)
    assert copy.read_bytes() == path.read_bytes(), f"{path.name}: python3 tasks.py notebooks"


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
    # One core: the test suite already runs a worker per core.
    mutants = tool.run_mutants(tool.sample(tool.figure_rows(), 3), workers=1)
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
        text = re.sub(r"\]\([^)]*\)", "]", text)  # a link's target, such as zh/01-economy.ipynb
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


# Chinese number forms in the Chinese prose: ranks (第三), tenths (三成), multiples (两倍),
# fractions (三分之一) and amounts in Chinese numerals with 万 or 亿 (千万). Small counts of the
# text's own things (五项指标, 三类村) are words, as "five indicators" is in English.
DIGITS = {"\u3007": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
DIGITS |= {"七": 7, "八": 8, "九": 9}
POWERS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "[\u3007零一二两三四五六七八九十百千]+"
CHINESE_NUMBER = re.compile(
    rf"(?P<bound>不到|不足|低于|少于|超过|高于|多于|逾|近)?"
    rf"(?:第(?P<rank>{NUMERAL})|(?P<den>{NUMERAL})分之(?P<num>{NUMERAL})"
    rf"|(?P<tenths>{NUMERAL})成|(?P<times>{NUMERAL})倍|(?P<scaled>{NUMERAL})(?P<scale>[万亿]))"
)
BELOW, ABOVE = {"不到", "不足", "低于", "少于", "近"}, {"超过", "高于", "多于", "逾"}


def chinese_numeral(text: str) -> int:
    """一 → 1, 十二 → 12, 三十 → 30, 千 → 1000, 一百零八 → 108."""
    total, digit = 0, None
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        else:
            total += (1 if digit is None else digit) * POWERS[char]
            digit = None
    return total + (digit or 0)


def chinese_prose_numbers(path: Path) -> list[tuple[float, str, str, str]]:
    """(value, precision, bound word, context) for each Chinese number form in the prose.

    Ranks and amounts must be backed exactly; a tenth (成) or a fraction is a share in per
    cent, as exact as its words: 三分之一 under a bound word is a bound, else about a third.
    """
    found = []
    for cell in cells(path):
        if cell.cell_type != "markdown":
            continue
        for match in CHINESE_NUMBER.finditer(cell.source):
            context = cell.source[max(0, match.start() - 20) : match.end() + 10].replace("\n", " ")
            bound, groups = match.group("bound") or "", match.groupdict()
            if groups["rank"]:
                found.append((chinese_numeral(groups["rank"]), "exact", bound, context))
            elif groups["den"]:
                share = 100 * chinese_numeral(groups["num"]) / chinese_numeral(groups["den"])
                found.append((share, "share", bound, context))
            elif groups["tenths"]:
                found.append((10 * chinese_numeral(groups["tenths"]), "share", bound, context))
            elif groups["times"]:
                found.append((100 * chinese_numeral(groups["times"]), "share", bound, context))
            else:
                scale = 1e4 if groups["scale"] == "万" else 1e8
                found.append((chinese_numeral(groups["scaled"]) * scale, "exact", bound, context))
    return found


def chinese_backed(value: float, precision: str, bound: str, candidates: set[float]) -> bool:
    """True if some candidate is what the Chinese words say of it: an amount or rank exactly
    (rescaled from 万 or 亿), a share (in per cent, as displayed) within a factor of two on the
    side its bound word names, or within a tenth of it without one (about a third)."""
    if precision == "exact":
        scaled = {c * k for c in candidates for k in SCALES}
        return any(math.isclose(value, c, rel_tol=1e-9) for c in scaled)
    if bound in BELOW:
        return any(value / 2 <= c < value for c in candidates)
    if bound in ABOVE:
        return any(value < c <= 2 * value for c in candidates)
    return any(abs(c - value) <= 0.1 * value for c in candidates)


def test_chinese_numbers_are_read_and_checked() -> None:
    assert [chinese_numeral(t) for t in ("三", "十二", "三十", "千", "一百零八")] == [
        3,
        12,
        30,
        1000,
        108,
    ]
    assert chinese_backed(33.3, "share", "不到", {30.1}) and not chinese_backed(
        33.3, "share", "不到", {40.0}
    )
    assert chinese_backed(3, "exact", "", {3.0}) and not chinese_backed(4, "exact", "", {3.0})
    assert chinese_backed(1e7, "exact", "", {1000.0}) and not chinese_backed(
        2e7, "exact", "", {1000.0}
    )


@pytest.mark.parametrize("path", [p for p in PATHS if language(p) == "zh"], ids=lambda p: p.name)
def test_chinese_number_forms_in_the_prose_are_computed_or_in_the_data(path: Path) -> None:
    """The Chinese prose's own number forms, tied to what the notebook shows and the data."""
    shown = re.sub(r"<Figure size [^>]*>", " ", tool.displayed_text(path))
    candidates = {float(m.group(0).replace(",", "")) for m in PROSE_NUMBER.finditer(shown)}
    candidates |= set(huaiyin.load_figures()["value"])
    found = chinese_prose_numbers(path)
    unbacked = [
        (v, ctx) for v, kind, bound, ctx in found if not chinese_backed(v, kind, bound, candidates)
    ]
    assert not unbacked, f"Chinese number forms in the prose that nothing computes: {unbacked}"
