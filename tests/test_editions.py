"""Two editions from one analysis: Chinese twins of the notebooks, and one glossary.

Each English notebook has a Chinese twin that runs the same code; every passage of text
exists in both languages; an indicator goes by one name per language in tables, charts and
prose.
"""

from __future__ import annotations

import html as html_module
import re
import sys
from pathlib import Path

import nbformat
import pytest

import huaiyin
from conftest import ROOT
from huaiyin import glossary

sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks as tool

ENGLISH = tool.english_paths()
PAIRS = [(path, tool.CHINESE / path.name) for path in ENGLISH]
IDS = [path.stem for path in ENGLISH]
ALL = tool.notebook_paths()
ALL_IDS = [str(path.relative_to(tool.NOTEBOOKS)) for path in ALL]


def cells(path: Path) -> list[nbformat.NotebookNode]:
    return list(nbformat.read(path, as_version=4).cells)


def headings(text: str) -> list[str]:
    return [line.split(" ", 1)[0] for line in text.splitlines() if line.startswith("#")]


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_twins_run_the_same_code(english: Path, chinese: Path) -> None:
    ours, theirs = cells(english), cells(chinese)
    assert [(c.id, c.cell_type) for c in ours] == [(c.id, c.cell_type) for c in theirs]
    for mine, twin in zip(ours, theirs, strict=True):
        assert mine.metadata.get("tags", []) == twin.metadata.get("tags", []), mine.id
        if mine.cell_type == "code":
            assert twin.source == tool.twin_code(mine.source), (
                f"{chinese.name}: cell {twin.id} differs from its English twin; "
                "run python3 tasks.py notebooks"
            )
    setting = [c.id for c in theirs if tool.LANGUAGE_LINE in c.source + "\n"]
    assert len(setting) == 1, "exactly one cell of a twin sets the language"


@pytest.mark.parametrize(("english", "chinese"), PAIRS, ids=IDS)
def test_every_passage_exists_in_both_languages(english: Path, chinese: Path) -> None:
    texts = {c.id: c.source for c in cells(chinese) if c.cell_type == "markdown"}
    for cell in cells(english):
        if cell.cell_type != "markdown":
            continue
        text = texts[cell.id]
        assert headings(text) == headings(cell.source), f"{cell.id}: headings differ"
        chinese_chars = len(re.findall(r"[\u4e00-\u9fff]", text))
        # GDP, code spans and a link's target (the English twin's file) are not prose.
        latin = len(re.findall(r"[A-Za-z]", re.sub(r"GDP|`[^`]*`|\]\([^)]*\)", "", text)))
        assert chinese_chars >= 4 and latin <= chinese_chars / 20, (
            f"{cell.id}: not Chinese: {text!r}"
        )
        assert text != cell.source


# Table rows that show one figure carry its id: the row's name must start with the figure's
# indicator name in the notebook's language (its Chinese name in both editions).
ROW = re.compile(r'<tr data-figures="(?P<ids>[^" ]+)"><td[^>]*>(?P<name>.*?)</td>')


@pytest.mark.parametrize(
    "path", tool.notebook_paths(), ids=lambda p: str(p.relative_to(tool.NOTEBOOKS))
)
def test_tables_call_each_indicator_by_its_glossary_name(path: Path) -> None:
    names = glossary.indicator_names(huaiyin.load_figures())
    figures = huaiyin.load_figures().set_index("id")
    html = tool.displayed_text(path)
    rows = [
        (m.group("ids"), html_module.unescape(re.sub(r"<[^>]+>", "", m.group("name"))))
        for m in ROW.finditer(html)
    ]
    assert rows, "no table rows with a figure"
    wrong = []
    for figure_id, name in rows:
        if figure_id not in figures.index:
            continue  # a derived figure's inputs, named by the notebook
        indicator = figures.loc[figure_id, "indicator"]
        zh, en = names.loc[indicator, "zh"], names.loc[indicator, "en"]
        short = glossary.SHORT_NAMES.get(indicator, (zh, en))
        expected = (zh, short[0])
        if not name.startswith(expected) or (path.parent == tool.NOTEBOOKS and en not in name):
            wrong.append((figure_id, name))
    assert not wrong, f"rows not named as the glossary names them: {wrong}"


def prose_and_code(path: Path) -> list[tuple[str, str]]:
    """(cell id, text) for each Markdown cell, and each string literal of the code cells."""
    found = []
    for cell in cells(path):
        if cell.cell_type == "markdown":
            found.append((cell.id, cell.source))
        else:
            found += [(cell.id, m.group(0)) for m in re.finditer(r'"[^"\n]*"', cell.source)]
    return found


@pytest.mark.parametrize(
    "path", tool.notebook_paths(), ids=lambda p: str(p.relative_to(tool.NOTEBOOKS))
)
def test_prose_and_chart_labels_use_no_other_name_for_an_indicator(path: Path) -> None:
    lang = 0 if path.parent == tool.CHINESE else 1
    others = [
        (key, pattern) for key, names in glossary.NOT_NAMES.items() for pattern in names[lang]
    ]
    found = [
        (cell, key, match.group(0))
        for cell, text in prose_and_code(path)
        for key, pattern in others
        for match in re.finditer(pattern, text, flags=re.IGNORECASE)
    ]
    assert not found, f"indicators called by another name than the glossary's: {found}"


def test_the_other_name_check_can_fail() -> None:
    text = "一般公共预算收入和汽车销售额均按现价计算，规上工业增加值增长13.7%。"
    found = {
        key
        for key, (chinese, _) in glossary.NOT_NAMES.items()
        for pattern in chinese
        if re.search(pattern, text)
    }
    assert found == {"car_sales", "industrial_value_added"}
    assert not re.search(glossary.NOT_NAMES["car_sales"][0][0], "限上汽车销售企业销售额")


def test_each_indicator_has_one_name_per_language_in_the_data() -> None:
    names = glossary.indicator_names(huaiyin.load_figures())
    assert names.index.is_unique and len(names) == huaiyin.load_figures()["indicator"].nunique()
    assert not names["zh"].duplicated().any() and not names["en"].duplicated().any()
