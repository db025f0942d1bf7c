"""The loader: typed tables from datapackage.json, and a clear error for every kind of bad input."""

# ruff: noqa: RUF001  (look-alike digits and signs are the bad input under test)
from __future__ import annotations

import csv
import gc
import os
import re
import sys
import weakref
from pathlib import Path

import pandas as pd
import pytest
from datafiles import csv_rows, edit_cell, edit_rows, error_of

import huaiyin
from huaiyin import tables
from huaiyin.datapackage import DATA_ENV, data_dir


@pytest.mark.parametrize("name", huaiyin.list_tables())
def test_every_table_loads_every_row(name: str) -> None:
    table = huaiyin.load_table(name)
    rows = csv_rows(data_dir() / f"{name}.csv")
    assert list(table.columns) == rows[0]
    assert len(table) == len(rows) - 1


def test_figure_columns_are_typed() -> None:
    figures = huaiyin.load_figures()
    assert figures["value"].dtype == "float64"
    for column in ("kind", "qualifier", "unit", "theme", "source_id"):
        assert isinstance(figures[column].dtype, pd.CategoricalDtype), column
    for column in ("id", "subject_zh", "citation", "printed"):
        assert figures[column].dtype == "string", column
    assert figures["kind"].cat.categories.tolist() == ["level", "growth", "rank", "count", "target"]


def test_figure_returns_value_unit_qualifier_and_citation() -> None:
    visitors = huaiyin.figure("hy2023h1.exhibition_visitors")
    assert (visitors.value, visitors.unit, visitors.qualifier) == (220.0, "万人次", "more_than")
    assert visitors.citation == "参展人数超220万人次"
    assert visitors.theme == "tourism"


@pytest.mark.bad_input
def test_unknown_figure_suggests_close_ids() -> None:
    with pytest.raises(KeyError, match=r"no figure with id 'gdp'; did you mean hy2023h1.gdp"):
        huaiyin.figure("gdp")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("hy2023h1.GDP", "no figure with id 'hy2023h1.GDP'; did you mean hy2023h1.gdp?"),
        (
            "HY2023H1.Talent_Pool",
            "no figure with id 'HY2023H1.Talent_Pool'; did you mean hy2023h1.talent_pool?",
        ),
        ("hy2023h1.gpd", "no figure with id 'hy2023h1.gpd'; did you mean hy2023h1.gdp?"),
        ("xyz", "no figure with id 'xyz'; find them with find()"),
    ],
    ids=["case", "all-case", "typo", "nothing-close"],
)
def test_unknown_figure_suggests_close_ids_whatever_the_case(wanted: str, message: str) -> None:
    with pytest.raises(KeyError) as info:
        huaiyin.figure(wanted)
    assert info.value.args == (message,)


def test_an_unknown_figure_error_in_ipython_shows_no_library_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell.instance()
    result = shell.run_cell("import huaiyin\nhuaiyin.figure('hy2023h1.GDP')")
    shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # no colours
    assert isinstance(result.error_in_exec, KeyError)
    assert shown.strip() == (
        "UnknownFigureError: no figure with id 'hy2023h1.GDP'; did you mean hy2023h1.gdp?"
    )


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("GDP", ["hy2023h1.gdp", "hy2023h1.gdp_growth"]),
        ("gross DOMESTIC", ["hy2023h1.gdp", "hy2023h1.gdp_growth"]),
        ("全区生产总值", ["hy2023h1.gdp", "hy2023h1.gdp_growth"]),
        ("西站 城市", ["hy2023h1.west_station_cities"]),
        ("jinan west trains", ["hy2023h1.west_station_trains"]),
        ("数字金融", ["hy2023h1.finance_park_firms", "hy2023h1.finance_park_funds"]),
        ("no such thing", []),
    ],
)
def test_find_searches_both_languages_ignoring_case(query: str, ids: list[str]) -> None:
    found = huaiyin.find(query)
    assert found["id"].tolist() == ids
    assert list(found.columns) == ["id", "subject_zh", "subject_en", "printed", "period"]


def test_find_matches_the_citation_too() -> None:
    # 位列全市第三 is in the citation of the investment rank only.
    assert huaiyin.find("位列全市第三")["id"].tolist() == ["hy2023h1.fixed_asset_investment_rank"]


@pytest.mark.bad_input
@pytest.mark.parametrize("query", ["", "   ", None])
def test_find_needs_words(query: object) -> None:
    with pytest.raises(ValueError, match="find\\(\\) takes words to look for"):
        huaiyin.find(query)  # type: ignore[arg-type]


def test_a_figure_reads_well_as_text_and_in_jupyterlab() -> None:
    visitors = huaiyin.figure("hy2023h1.exhibition_visitors")
    assert str(visitors) == "参展人数 Exhibition visitors: 超220万人次, H1 2023"
    assert repr(visitors) == "<Figure hy2023h1.exhibition_visitors: 参展人数 超220万人次, 2023H1>"
    card = visitors._repr_html_()
    assert "“参展人数<mark>超220万人次</mark>”" in card  # the figure marked in its sentence
    for words in (
        "2023年上半年 · H1 2023",
        "more than: at least the number",
        "Exhibition visitors",
    ):
        assert words in card


def test_a_derived_figure_reads_well_as_text_and_in_jupyterlab() -> None:
    per_visit = huaiyin.derive.per_unit(
        "hy2023h1.exhibition_consumption", "hy2023h1.exhibition_visitors", "yuan", "visit"
    )
    assert repr(per_visit) == (
        "<Derived <1,364 yuan/visit, 2023H1, "
        "from hy2023h1.exhibition_consumption, hy2023h1.exhibition_visitors>"
    )
    card = per_visit._repr_html_()
    assert "&lt;1,363.64 yuan/visit" in card and "&lt; 不足 under" in card


@pytest.mark.bad_input
def test_unknown_table_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match=r"no table named 'economics'; valid names: sources, units"):
        huaiyin.load_table("economics")


@pytest.mark.bad_input
def test_table_name_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="takes a table name as a string, not int"):
        huaiyin.load_table(3)  # type: ignore[arg-type]


@pytest.mark.bad_input
def test_data_env_var_in_a_link_loop(monkeypatch, tmp_path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "loop"))
    with pytest.raises(FileNotFoundError, match="does not point at a data folder: Symlink loop"):
        huaiyin.list_tables()


@pytest.mark.bad_input
def test_table_file_name_too_long(data_copy: Path) -> None:
    descriptor = data_copy / "datapackage.json"
    long_name = "e" * 300 + ".csv"
    descriptor.write_text(
        descriptor.read_text(encoding="utf-8").replace('"economy.csv"', f'"{long_name}"'),
        encoding="utf-8",
    )
    assert error_of(lambda: huaiyin.load_table("economy")) == (
        f"{data_copy / long_name}: cannot be read (File name too long); "
        "datapackage.json lists it as table 'economy'"
    )


def test_data_folder_does_not_depend_on_the_working_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert huaiyin.figure("hy2023h1.gdp").value == 365.5


@pytest.mark.bad_input
def test_data_env_var_must_point_at_a_data_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not point at a data folder"):
        huaiyin.list_tables()


# One cell changed, and the error it must raise: (table, row, column, new value, message after
# "<file>, row <row>, column '<column>': "). Rows count the header as row 1.
CELL_CASES = [
    (
        "economy",
        3,
        "value",
        "六点四",
        "'六点四' is not a number; write digits with an optional decimal point, e.g. 365.5",
    ),
    (
        "projects",
        5,
        "value",
        "3,140",
        "'3,140' has thousands separators; write it without them, e.g. 3140",
    ),
    (
        "governance",
        4,
        "id",
        "hy2023h1.model_villages",
        "duplicate value 'hy2023h1.model_villages', first used in row 2; values in this column "
        "must be unique",
    ),
    (
        "economy",
        2,
        "unit",
        "亿圆",
        "'亿圆' is not in units (column 'unit' of units.csv); "
        "valid: 亿元, %, 位, 个, 家, 万家, 人, 名, 万人, 万人次, 户, 场, 趟",
    ),
    (
        "economy",
        2,
        "kind",
        "Level",
        "'Level' is not an allowed value; valid: level, growth, rank, count, target",
    ),
    (
        "tourism",
        6,
        "qualifier",
        "近",
        "'近' is not an allowed value; valid: exact, nearly, more_than",
    ),
    ("economy", 7, "citation", "", "is blank, but this column is required"),
]


@pytest.mark.bad_input
def test_missing_column(data_copy: Path) -> None:
    def drop_unit(rows: list[list[str]]) -> None:
        position = rows[0].index("unit")
        for row in rows:
            del row[position]

    edit_rows(data_copy, "talent", drop_unit)
    message = error_of(lambda: huaiyin.load_table("talent"))
    assert message.startswith(f"{data_copy / 'talent.csv'}: missing column(s) 'unit'; ")
    assert "the schema expects id, source_id, indicator," in message


@pytest.mark.bad_input
def test_extra_column_not_described(data_copy: Path) -> None:
    def add_column(rows: list[list[str]]) -> None:
        for i, row in enumerate(rows):
            row.append("comment" if i == 0 else "")

    edit_rows(data_copy, "talent", add_column)
    assert error_of(lambda: huaiyin.load_table("talent")).startswith(
        f"{data_copy / 'talent.csv'}: column(s) 'comment' not described in datapackage.json; "
        "describe them there or remove them"
    )


@pytest.mark.bad_input
def test_duplicate_id_across_tables(data_copy: Path) -> None:
    edit_cell(data_copy, "talent", 2, "id", "hy2023h1.gdp")
    assert error_of(huaiyin.load_figures) == (
        f"{data_copy}: figure id 'hy2023h1.gdp' is used in economy.csv row 2 and talent.csv "
        "row 2; ids must be unique across tables"
    )


@pytest.mark.bad_input
def test_empty_file(data_copy: Path) -> None:
    (data_copy / "talent.csv").write_bytes(b"")
    assert error_of(lambda: huaiyin.load_table("talent")).startswith(
        f"{data_copy / 'talent.csv'}: is empty; expected a header row with columns id, source_id,"
    )


@pytest.mark.bad_input
def test_row_with_missing_cells(data_copy: Path) -> None:
    edit_rows(data_copy, "talent", lambda rows: rows[3].pop())
    assert "row 4: has 14 cells but the header has 15" in error_of(
        lambda: huaiyin.load_table("talent")
    )


@pytest.mark.bad_input
def test_utf8_bom_from_excel_is_accepted(data_copy: Path) -> None:
    path = data_copy / "economy.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert huaiyin.load_table("economy").columns[0] == "id"
    assert huaiyin.figure("hy2023h1.gdp").value == 365.5


@pytest.mark.bad_input
def test_a_bad_byte_after_excels_mark_is_named_where_it_is(data_copy: Path) -> None:
    path = data_copy / "economy.csv"
    text = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace(b"365.5", b"365\xff5", 1))
    offset = 3 + text.index(b"365.5") + 3
    assert error_of(lambda: huaiyin.load_table("economy")).startswith(
        f"{path}: is not UTF-8 (byte 0xff at offset {offset}); "
    )


@pytest.mark.bad_input
def test_gbk_file_is_refused_with_the_encoding_named(data_copy: Path) -> None:
    path = data_copy / "economy.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    message = error_of(lambda: huaiyin.load_table("economy"))
    assert message.startswith(f"{path}: is not UTF-8 (byte ")
    assert (
        "it may be GBK/GB18030 as saved by Excel on a Chinese system. Re-save it as "
        "'CSV UTF-8', or convert it with iconv -f GB18030 -t UTF-8." in message
    )


# Values: numbers are ASCII digits that a float holds exactly; text is visible, on one line.
LONG = "1" + "0" * 400
TINY = "0." + "0" * 400 + "1"
VALUE_CASES = [
    (
        "economy",
        2,
        "value",
        "３６５.５",
        "'３６５.５' is not a number: it holds the character U+FF13 (FULLWIDTH DIGIT THREE); "
        "write numbers with the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
    ),
    (
        "economy",
        2,
        "value",
        "365．5",
        "'365．5' is not a number: it holds the character U+FF0E (FULLWIDTH FULL STOP); "
        "write numbers with the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
    ),
    (
        "economy",
        2,
        "value",
        "٣٦٥.٥",
        "'٣٦٥.٥' is not a number: it holds the character U+0663 (ARABIC-INDIC DIGIT THREE); "
        "write numbers with the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
    ),
    (
        "economy",
        2,
        "value",
        "३६५",
        "'३६५' is not a number: it holds the character U+0969 (DEVANAGARI DIGIT THREE); "
        "write numbers with the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
    ),
    (
        "economy",
        2,
        "value",
        "\u2212365.5",
        "'−365.5' is not a number: it holds the character U+2212 (MINUS SIGN); "
        "write numbers with the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
    ),
    (
        "economy",
        2,
        "value",
        LONG,
        f"{repr(LONG)[:40]}… (403 characters) is too large or too small for a number",
    ),
    (
        "economy",
        2,
        "value",
        TINY,
        f"{repr(TINY)[:40]}… (405 characters) is too large or too small for a number",
    ),
    (
        "economy",
        2,
        "value",
        "365.50000000000000001",
        "'365.50000000000000001' has more than 15 significant digits, more than a number here "
        "can hold without rounding",
    ),
    (
        "units",
        2,
        "factor",
        LONG,
        f"{repr(LONG)[:40]}… (403 characters) is too large or too small for a number",
    ),
    (
        "talent",
        4,
        "subject_zh",
        "引进\x00留学人才",
        "'引进\\x00留学人才' holds the control character U+0000 at character 3; remove it "
        "(cells hold visible text on one line)",
    ),
    (
        "talent",
        4,
        "note",
        "a\x1b[31mred",
        "'a\\x1b[31mred' holds the control character U+001B at character 2; remove it "
        "(cells hold visible text on one line)",
    ),
    (
        "talent",
        4,
        "id",
        "hy2023h1.returnee\u200b_talent",
        "'hy2023h1.returnee\\u200b_talent' holds the character U+200B (ZERO WIDTH SPACE) at "
        "character 18; remove it (cells hold visible text on one line)",
    ),
    (
        "talent",
        4,
        "citation",
        "引进留学人才\u20287人",
        "'引进留学人才\\u20287人' holds the character U+2028 (LINE SEPARATOR) at character 7; "
        "remove it (cells hold visible text on one line)",
    ),
    (
        "sources",
        2,
        "title_en",
        "Anchoring\ttargets",
        "'Anchoring\\ttargets' holds the control character U+0009 at character 10; remove it "
        "(cells hold visible text on one line)",
    ),
    # Rules that tie a figure's columns together.
    (
        "talent",
        4,
        "value",
        "-7",
        "-7 is negative; a count cannot be",
    ),
    (
        "talent",
        5,
        "value",
        "2.5",
        "2.5 人 is 2.5 items, not a whole number; a count is whole",
    ),
    (
        "economy",
        5,
        "value",
        "0",
        "0 is not a rank; ranks are whole numbers from 1 (first)",
    ),
    (
        "economy",
        5,
        "value",
        "3.5",
        "3.5 is not a rank; ranks are whole numbers from 1 (first)",
    ),
    (
        "economy",
        2,
        "kind",
        "growth",
        "a growth is measured in percentage, but its unit '亿元' measures money; "
        "check kind and unit",
    ),
    (
        "tourism",
        6,
        "qualifier",
        "exact",
        "'exact' disagrees with the printed form '超220万人次', which reads as 'more_than'",
    ),
    (
        "economy",
        2,
        "value",
        "365.6",
        "365.6 disagrees with the printed form '365.5亿元', which reads as 365.5",
    ),
    (
        "economy",
        2,
        "printed",
        "约365.5亿元",
        "'约365.5亿元' cannot be read as a figure; write it as the report prints it: an "
        "optional hedge (近, 超, 突破 or 余), the number and the unit, e.g. 近40个 or 第三",
    ),
    (
        "economy",
        2,
        "id",
        "hy2022h1.gdp",
        "'hy2022h1.gdp' does not start with its source_id 'hy2023h1' and a dot; "
        "write hy2023h1.<slug>",
    ),
    # Malformed Chinese numerals: a digit twice, a place twice, a skipped place without 零.
    *[
        (
            "economy",
            5,
            "printed",
            printed,
            f"{printed!r} cannot be read as a figure; write it as the report prints it: an "
            "optional hedge (近, 超, 突破 or 余), the number and the unit, e.g. 近40个 or 第三",
        )
        for printed in ("第三三", "第十十", "第十三三")
    ],
    (
        "programmes",
        2,
        "id",
        "hy2022h1.development_approach_125510",
        "'hy2022h1.development_approach_125510' does not start with its source_id 'hy2023h1' "
        "and a dot; write hy2023h1.<slug>",
    ),
    ("sources", 2, "published", "20230608", "'20230608' is not a date; write YYYY-MM-DD"),
    (
        "sources",
        2,
        "published",
        "2023-02-29",
        "'2023-02-29' is not a day of the calendar (day is out of range for month)",
    ),
    ("sources", 2, "published", "2023-W23-4", "'2023-W23-4' is not a date; write YYYY-MM-DD"),
    (
        "sources",
        2,
        "published",
        "２０２３-06-08",
        "'２０２３-06-08' is not a date; write YYYY-MM-DD",
    ),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    CELL_CASES + VALUE_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[3][:12] or 'blank'}" for c in CELL_CASES + VALUE_CASES],
)
def test_bad_cell(
    data_copy: Path, table: str, row: int, column: str, value: str, message: str
) -> None:
    edit_cell(data_copy, table, row, column, value)
    # sources and units are checked as the figures that refer to them are loaded.
    referred_to = table in {"sources", "units"}
    call = huaiyin.load_figures if referred_to else lambda: huaiyin.load_table(table)
    path = data_copy / f"{table}.csv"
    assert error_of(call) == f"{path}, row {row}, column {column!r}: {message}"


def test_the_58_figures_load_unchanged() -> None:
    """The stricter checks accept the report's data exactly as before: same rows, same values."""
    figures = huaiyin.load_figures()
    assert len(figures) == 58
    raw = pd.concat(
        [
            pd.read_csv(data_dir() / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in ("economy", "projects", "tourism", "talent", "governance")
        ],
        ignore_index=True,
    )
    assert figures["id"].tolist() == raw["id"].tolist()
    assert figures["value"].tolist() == raw["value"].astype(float).tolist()
    for column in ("printed", "citation", "qualifier", "unit", "period"):
        assert figures[column].astype(str).tolist() == raw[column].tolist(), column


@pytest.mark.bad_input
@pytest.mark.parametrize("csv_limit", [131_072, sys.maxsize], ids=["csv-default", "csv-raised"])
def test_cell_over_the_csv_size_limit(data_copy: Path, csv_limit: int) -> None:
    """The same error whatever limit another library has set for the csv module."""
    edit_cell(data_copy, "talent", 3, "note", "x" * 200_000)
    before = csv.field_size_limit(csv_limit)
    try:
        message = error_of(lambda: huaiyin.load_table("talent"))
    finally:
        csv.field_size_limit(before)
    assert message == (
        f"{data_copy / 'talent.csv'}, row 3: a cell holds more than 131,072 characters, too "
        "long for a table's text: look for a missing closing quote"
    )


# The cache: an edit is always seen, and only the current version is kept.


def same_size_edit(folder: Path) -> None:
    """365.5 -> 365.6 in GDP's row (value, printed, citation), keeping size and times."""
    path = folder / "economy.csv"
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("365.5", "365.6"), encoding="utf-8")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_cache_sees_an_edit_that_keeps_size_and_mtime(data_copy: Path) -> None:
    assert huaiyin.figure("hy2023h1.gdp").value == 365.5
    same_size_edit(data_copy)
    assert huaiyin.figure("hy2023h1.gdp").value == 365.6
    assert huaiyin.load_table("economy").set_index("id").loc["hy2023h1.gdp", "value"] == 365.6


def test_cache_sees_a_retargeted_link(data_copy: Path) -> None:
    original = data_copy / "economy.csv"
    (data_copy / "economy-a.csv").write_bytes(original.read_bytes())
    (data_copy / "economy-b.csv").write_bytes(original.read_bytes().replace(b"365.5", b"365.6"))
    stamp = original.stat().st_mtime_ns
    for name in ("economy-a.csv", "economy-b.csv"):
        os.utime(data_copy / name, ns=(stamp, stamp))
    original.unlink()
    original.symlink_to("economy-a.csv")
    assert huaiyin.figure("hy2023h1.gdp").value == 365.5
    original.unlink()
    original.symlink_to("economy-b.csv")
    assert huaiyin.figure("hy2023h1.gdp").value == 365.6


def test_cache_keeps_only_the_current_version(data_copy: Path) -> None:
    huaiyin.load_table("economy")
    old = weakref.ref(tables._CACHE[data_copy].tables["economy"])
    same_size_edit(data_copy)
    huaiyin.load_table("economy")
    gc.collect()
    assert old() is None, "the table loaded before the edit is still held"
    assert list(tables._CACHE).count(data_copy) == 1


# Two readers: pandas' C parser for large well-formed files, the csv module for small files
# and for the rest. They must agree wherever both read a file, and every malformed file must
# reach the careful one. The report's files are small: ``c_parser`` sends them to pandas.


@pytest.fixture
def c_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_C_PARSER_FROM", 0)


def load_everything() -> dict[str, pd.DataFrame]:
    tables._CACHE.clear()
    return {name: huaiyin.load_table(name) for name in huaiyin.list_tables()}


def test_the_reader_is_chosen_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[int] = []
    c_reader = tables._parsed_by_pandas
    monkeypatch.setattr(tables, "_parsed_by_pandas", lambda d: parsed.append(len(d)) or c_reader(d))
    load_everything()
    assert parsed == []
    monkeypatch.setattr(tables, "_C_PARSER_FROM", 5_000)
    load_everything()
    sizes = {p.name: p.stat().st_size for p in huaiyin.datapackage.data_dir().glob("*.csv")}
    assert sorted(parsed) == sorted(n for n in sizes.values() if n >= 5_000) != []


def test_both_readers_load_the_same_tables(c_parser: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load_everything()
    monkeypatch.setattr(tables, "_parsed_by_pandas", lambda data: None)
    careful = load_everything()
    for name, frame in fast.items():
        pd.testing.assert_frame_equal(frame, careful[name], check_exact=True)


def test_quoting_reads_alike(
    data_copy: Path, c_parser: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_cell(data_copy, "talent", 3, "note", 'said "近40个", and, commas')
    edit_cell(data_copy, "talent", 4, "note", "")
    fast = load_everything()["talent"]
    assert fast.loc[1, "note"] == 'said "近40个", and, commas' and pd.isna(fast.loc[2, "note"])
    monkeypatch.setattr(tables, "_parsed_by_pandas", lambda data: None)
    pd.testing.assert_frame_equal(fast, load_everything()["talent"], check_exact=True)


@pytest.mark.parametrize("ending", ["\r\n", "\r"], ids=["windows", "old-mac"])
def test_other_line_endings_load_alike(data_copy: Path, c_parser: None, ending: str) -> None:
    unix = load_everything()["talent"]
    path = data_copy / "talent.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", ending.encode()))
    pd.testing.assert_frame_equal(load_everything()["talent"], unix, check_exact=True)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("\n", "\n\n", 1), "row 2: has 0 cells but the header has 15: []"),
        (lambda t: t.replace(",unstated,", ",unstated,extra,", 1), "has 16 cells but the header"),
        (lambda t: t.replace(",exact,unstated", ",exact", 1), "has 14 cells but the header has 15"),
    ],
    ids=["blank-line", "long-row", "short-row"],
)
def test_malformed_rows_are_named(data_copy: Path, c_parser: None, change, message: str) -> None:
    path = data_copy / "talent.csv"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8", newline="")
    assert message in error_of(lambda: huaiyin.load_table("talent"))


@pytest.mark.bad_input
def test_a_referenced_column_must_be_unique(data_copy: Path) -> None:
    import json

    descriptor = data_copy / "datapackage.json"
    document = json.loads(descriptor.read_text(encoding="utf-8"))
    units = document["resources"][1]["schema"]
    units.pop("primaryKey")
    units["fields"][0]["constraints"].pop("unique")
    descriptor.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    edit_rows(data_copy, "units", lambda rows: rows.append(list(rows[1])))
    assert error_of(huaiyin.load_figures) == (
        f"{data_copy / 'units.csv'}: '亿元' appears in rows 2 and 15 of column 'unit'; values "
        "that other tables refer to must be unique"
    )


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (
            ["yuan", "money", "yuan", "2", "yuan", "1yuan"],
            "factor",
            "'yuan' is a base unit, so its row must read base_unit 'yuan' and factor 1",
        ),
        (
            ["万元", "count", "yuan", "10000", "ten thousand yuan", "1万元"],
            "quantity",
            "'count' differs from 'money', the quantity of the other units in 'yuan'; units of "
            "one base unit measure one quantity",
        ),
    ],
    ids=["base-unit-factor", "quantity-of-base"],
)
def test_units_that_would_convert_wrongly(
    data_copy: Path, row: list[str], column: str, message: str
) -> None:
    edit_rows(data_copy, "units", lambda rows: rows.append(row))
    rows = len(csv_rows(data_copy / "units.csv"))
    assert error_of(lambda: huaiyin.load_table("units")) == (
        f"{data_copy / 'units.csv'}, row {rows}, column {column!r}: {message}"
    )


@pytest.mark.bad_input
def test_a_header_cell_with_a_hidden_character_is_shown(data_copy: Path) -> None:
    edit_rows(data_copy, "economy", lambda rows: rows[0].__setitem__(0, "id\u200b"))
    message = error_of(lambda: huaiyin.load_table("economy"))
    assert message.startswith(
        f"{data_copy / 'economy.csv'}: missing column(s) 'id' (the header has 'id\\u200b'); "
        "the schema expects id, "
    )


def test_a_callers_changes_never_reach_the_cache() -> None:
    """Tables are handed out as copies: changing one, in place or through its arrays, leaves
    what the next caller gets as it was."""
    economy, figures = huaiyin.load_table("economy"), huaiyin.load_figures()
    economy.loc[0, "value"] = -1.0
    economy["unit"] = economy["unit"].cat.rename_categories(lambda u: f"x{u}")
    economy.loc[:, "id"] = economy["id"].str.upper()
    figures.iloc[0, 0] = "changed"
    del figures["theme"]
    with pytest.raises(ValueError, match="read-only"):
        huaiyin.load_table("economy")["value"].to_numpy()[0] = -1.0
    huaiyin.load_table("economy")["value"].array[0] = -1.0
    huaiyin.load_table("sources")["id"].array[0] = "zzz"
    again = huaiyin.load_table("economy")
    assert again.loc[0, "value"] > 0 and not str(again.loc[0, "unit"]).startswith("x")
    assert again.loc[0, "id"] == "hy2023h1.gdp"
    assert huaiyin.load_figures().iloc[0, 0] == "hy2023h1.gdp"
    assert "theme" in huaiyin.load_figures()


def test_a_theme_table_is_the_same_before_and_after_the_figures_are_combined() -> None:
    """A theme's table is the same whether loaded before or after the combined figures, and
    the combined figures hold its rows as they are."""
    tables._CACHE.clear()
    alone = {name: huaiyin.load_table(name) for name in tables._package().figure_tables()}
    figures = huaiyin.load_figures()
    for name, table in alone.items():
        after = huaiyin.load_table(name)
        pd.testing.assert_frame_equal(after, table, check_exact=True)
        rows = figures[figures["theme"] == name].drop(columns="theme").reset_index(drop=True)
        pd.testing.assert_frame_equal(after, rows, check_exact=True)


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf\xef\xbb\xbfid,x\n1,2\n", b"word\nyes\n\nno\n"],
    ids=["two-byte-order-marks", "blank-line-in-one-column"],
)
def test_files_pandas_would_read_otherwise_go_to_the_csv_module(data: bytes) -> None:
    """The csv module names these files' faults; pandas would quietly read them."""
    assert tables._parsed_by_pandas(data) is None


def test_a_quote_inside_an_unquoted_cell_reads_alike(
    data_copy: Path, c_parser: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quote that does not open a cell is text to both readers, and its row is whole."""
    path = data_copy / "talent.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("the report gives no", 'a 5" mark; no', 1), encoding="utf-8")
    fast = load_everything()["talent"]
    assert fast.loc[0, "note"].endswith('上半年; a 5" mark; no period of its own.')
    monkeypatch.setattr(tables, "_parsed_by_pandas", lambda data: None)
    pd.testing.assert_frame_equal(fast, load_everything()["talent"], check_exact=True)
