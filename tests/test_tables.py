"""The loader: typed tables from datapackage.json, and a clear error for every kind of bad input."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import huaiyin
from huaiyin.datapackage import DATA_ENV, data_dir


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


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
def test_unknown_table_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match=r"no table named 'economics'; valid names: sources, units"):
        huaiyin.load_table("economics")


@pytest.mark.bad_input
def test_table_name_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="takes a table name as a string, not int"):
        huaiyin.load_table(3)  # type: ignore[arg-type]


def test_data_folder_does_not_depend_on_the_working_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert huaiyin.figure("hy2023h1.gdp").value == 365.5


@pytest.mark.bad_input
def test_data_env_var_must_point_at_a_data_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not point at a data folder"):
        huaiyin.list_tables()


@pytest.fixture
def data_copy(monkeypatch, tmp_path) -> Path:
    """A copy of the data folder that the package loads instead of the real one."""
    for path in data_dir().iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    return tmp_path


def edit_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell; ``row`` counts the header as row 1, as the errors do."""
    path = folder / f"{table}.csv"
    rows = csv_rows(path)
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def edit_rows(folder: Path, table: str, change: Callable[[list[list[str]]], None]) -> None:
    path = folder / f"{table}.csv"
    rows = csv_rows(path)
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises(huaiyin.DataError) as info:
        call()
    return str(info.value)


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
@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    CELL_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[3] or 'blank'}" for c in CELL_CASES],
)
def test_bad_cell(
    data_copy: Path, table: str, row: int, column: str, value: str, message: str
) -> None:
    edit_cell(data_copy, table, row, column, value)
    assert error_of(lambda: huaiyin.load_table(table)) == (
        f"{data_copy / f'{table}.csv'}, row {row}, column {column!r}: {message}"
    )


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
def test_gbk_file_is_refused_with_the_encoding_named(data_copy: Path) -> None:
    path = data_copy / "economy.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    message = error_of(lambda: huaiyin.load_table("economy"))
    assert message.startswith(f"{path}: is not UTF-8 (byte ")
    assert (
        "it may be GBK/GB18030 as saved by Excel on a Chinese system. Re-save it as "
        "'CSV UTF-8', or convert it with iconv -f GB18030 -t UTF-8." in message
    )
