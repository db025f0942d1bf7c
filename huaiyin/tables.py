"""Load the data package's tables as typed DataFrames, checked against ``datapackage.json``.

One generic loader applies each table's Table Schema: numbers become floats, columns with
allowed values (an ``enum`` or a foreign key) become categoricals, text becomes pandas
strings. Anything that does not fit raises :class:`DataError` naming the file, row, column
and value; nothing is coerced to NaN or dropped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from huaiyin.datapackage import DESCRIPTOR, DataPackage, Resource, read_datapackage

__all__ = ["DataError", "Figure", "figure", "list_tables", "load_figures", "load_table"]

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GROUPED_NUMBER = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


class DataError(ValueError):
    """A data file does not match its schema in ``datapackage.json``."""

    def __init__(
        self, path: Path, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")
        self.path, self.row, self.column = path, row, column


def list_tables() -> list[str]:
    """Names of the tables in the data package, in the order ``datapackage.json`` lists them.

    Examples
    --------
    >>> list_tables()[:3]
    ['sources', 'units', 'programmes']
    """
    return list(read_datapackage().resources)


def load_table(name: str) -> pd.DataFrame:
    """Load one table, typed and validated by its schema.

    Row numbers in errors count the header as row 1, as a spreadsheet does.

    Parameters
    ----------
    name : str
        A name from :func:`list_tables`.

    Returns
    -------
    pandas.DataFrame
        One column per schema field, in schema order.

    Raises
    ------
    KeyError
        If there is no such table; the message lists the valid names.
    DataError
        If the file does not match its schema.

    Examples
    --------
    >>> economy = load_table("economy")
    >>> gdp = economy.set_index("id").loc["hy2023h1.gdp"]
    >>> float(gdp["value"]), gdp["unit"]
    (365.5, '亿元')
    """
    package = read_datapackage()
    if not isinstance(name, str):
        raise TypeError(f"load_table() takes a table name as a string, not {type(name).__name__}")
    if name not in package.resources:
        raise KeyError(f"no table named {name!r}; valid names: {', '.join(package.resources)}")
    return _table(package, name).copy()


def load_figures() -> pd.DataFrame:
    """Load every figure of every theme into one DataFrame, with a ``theme`` column.

    Examples
    --------
    >>> figures = load_figures()
    >>> figures["theme"].cat.categories.tolist()
    ['economy', 'projects', 'tourism', 'talent', 'governance']
    """
    package = read_datapackage()
    return _all_figures(package.folder, _signature(package)).copy()


@dataclass(frozen=True)
class Figure:
    """One figure of the report, with where it comes from."""

    id: str
    subject_zh: str
    subject_en: str
    kind: str
    value: float
    unit: str
    qualifier: str
    period: str
    scope_zh: str
    scope_en: str
    printed: str
    citation: str
    note: str
    theme: str
    source_id: str
    indicator: str


def figure(figure_id: str) -> Figure:
    """Return one figure by its id.

    Examples
    --------
    >>> gdp = figure("hy2023h1.gdp")
    >>> gdp.value, gdp.unit, gdp.qualifier
    (365.5, '亿元', 'exact')
    >>> gdp.citation
    '全区生产总值实现365.5亿元'
    """
    package = read_datapackage()
    figures = _figures_by_id(package.folder, _signature(package))
    if figure_id not in figures.index:
        close = [i for i in figures.index if figure_id.split(".")[-1] in i][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else "; see load_figures()['id']"
        raise KeyError(f"no figure with id {figure_id!r}{hint}")
    record = figures.loc[figure_id].to_dict()
    text = {
        name: "" if pd.isna(record[name]) else str(record[name])
        for name in Figure.__dataclass_fields__
        if name not in {"id", "value"}
    }
    return Figure(id=figure_id, value=float(record["value"]), **text)


# Loaded tables are cached per data folder, keyed on every file's size and modification time,
# so repeated figure() calls cost a lookup while an edited file is always read afresh.
Signature = tuple[tuple[str, int, int], ...]


def _signature(package: DataPackage) -> Signature:
    paths = [package.folder / DESCRIPTOR]
    paths += sorted(
        {package.folder / r.schema_ref for r in package.resources.values() if r.schema_ref}
    )
    paths += [r.path for r in package.resources.values()]
    signature = []
    for path in paths:
        try:
            stat = path.stat()
            signature.append((str(path), stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            signature.append((str(path), -1, -1))
    return tuple(signature)


def _table(package: DataPackage, name: str) -> pd.DataFrame:
    """A validated table, shared from the cache: copy it before handing it to a caller."""
    return _cached_table(package.folder, name, _signature(package))


@lru_cache(maxsize=64)
def _cached_table(folder: Path, name: str, signature: Signature) -> pd.DataFrame:
    package = read_datapackage(folder)
    return _load(package.resources[name], package)


@lru_cache(maxsize=8)
def _all_figures(folder: Path, signature: Signature) -> pd.DataFrame:
    package = read_datapackage(folder)
    themes = package.figure_tables()
    # The row each figure has in its file (the header is row 1), for error messages.
    frames = [_table(package, t).assign(theme=t, _row=lambda f: f.index + 2) for t in themes]
    figures = pd.concat(frames, ignore_index=True)
    figures["theme"] = pd.Categorical(figures["theme"], categories=themes)
    duplicated = figures["id"][figures["id"].duplicated()]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        places = figures.loc[figures["id"] == first, ["theme", "_row"]]
        where = " and ".join(
            f"{package.resources[str(t)].path.name} row {r}"
            for t, r in places.itertuples(index=False)
        )
        raise DataError(
            package.folder,
            f"figure id {first!r} is used in {where}; ids must be unique across tables",
        )
    return figures.drop(columns="_row")


@lru_cache(maxsize=8)
def _figures_by_id(folder: Path, signature: Signature) -> pd.DataFrame:
    return _all_figures(folder, signature).set_index("id")


def _load(resource: Resource, package: DataPackage) -> pd.DataFrame:
    header, rows = _read_rows(resource)
    fields = resource.schema["fields"]
    _check_header(resource, header)
    position = {name: header.index(name) for name in resource.field_names}
    columns: dict[str, Any] = {}
    for field in fields:
        raw = [row[position[field["name"]]] for row in rows]
        columns[field["name"]] = _typed_column(resource, field, raw, package)
    frame = pd.DataFrame(columns)
    _check_primary_key(resource, frame)
    return frame


def _read_rows(resource: Resource) -> tuple[list[str], list[list[str]]]:
    path = resource.path
    if not path.is_file():
        raise DataError(
            path, f"file not found; datapackage.json lists it as table {resource.name!r}"
        )
    data = path.read_bytes()
    try:
        # utf-8-sig accepts the byte-order mark that Excel writes before UTF-8 text.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # Decoding a guessed legacy encoding could turn a wrong guess into wrong text,
        # so the loader refuses and says how to fix the file instead.
        raise DataError(
            path,
            f"is not UTF-8 (byte {data[err.start]:#04x} at offset "
            f"{err.start}); it may be GBK/GB18030 as saved by Excel on a Chinese "
            "system. Re-save it as 'CSV UTF-8', or convert it with "
            "iconv -f GB18030 -t UTF-8.",
        ) from None
    if not text.strip():
        raise DataError(
            path, f"is empty; expected a header row with columns {', '.join(resource.field_names)}"
        )
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = records[0], records[1:]
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            raise DataError(
                path, f"has {len(row)} cells but the header has {width}: {row!r}", row=number
            )
    return header, rows


def _check_header(resource: Resource, header: list[str]) -> None:
    expected = resource.field_names
    missing = [name for name in expected if name not in header]
    extra = [name for name in header if name not in expected]
    if missing:
        raise DataError(
            resource.path,
            f"missing column(s) {', '.join(map(repr, missing))}; "
            f"the schema expects {', '.join(expected)}",
        )
    if extra:
        raise DataError(
            resource.path,
            f"column(s) {', '.join(map(repr, extra))} not described "
            "in datapackage.json; describe them there or remove them "
            f"(described: {', '.join(expected)})",
        )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(
            resource.path,
            f"column(s) {', '.join(map(repr, duplicates))} appear more than once in the header",
        )


def _typed_column(
    resource: Resource, field: dict[str, Any], raw: list[str], package: DataPackage
) -> Any:
    name, kind = field["name"], field.get("type", "string")
    constraints = field.get("constraints", {})
    path = resource.path
    values: list[Any] = []
    for number, cell in enumerate(raw, start=2):
        if cell.strip() == "":
            if constraints.get("required"):
                raise DataError(path, "is blank, but this column is required", number, name)
            values.append(None)
            continue
        value = _parse_cell(path, number, name, kind, cell)
        if "enum" in constraints and value not in constraints["enum"]:
            raise DataError(
                path,
                f"{cell!r} is not an allowed value; valid: "
                f"{', '.join(map(str, constraints['enum']))}",
                number,
                name,
            )
        if "pattern" in constraints and not re.fullmatch(constraints["pattern"], cell):
            raise DataError(
                path,
                f"{cell!r} does not match the pattern {constraints['pattern']!r}",
                number,
                name,
            )
        if "minimum" in constraints and value < constraints["minimum"]:
            raise DataError(
                path, f"{cell!r} is below the minimum {constraints['minimum']}", number, name
            )
        values.append(value)
    foreign = _foreign_key(resource, name, package)
    if foreign is not None:
        for number, value in enumerate(values, start=2):
            if value is not None and value not in foreign.members:
                raise DataError(
                    path,
                    f"{value!r} is not in {foreign.target.name} (column {foreign.column!r} "
                    f"of {foreign.target.path.name}); valid: {', '.join(foreign.values)}",
                    number,
                    name,
                )
    if constraints.get("unique"):
        seen: dict[Any, int] = {}
        for number, value in enumerate(values, start=2):
            if value in seen:
                raise DataError(
                    path,
                    f"duplicate value {value!r}, first used in row "
                    f"{seen[value]}; values in this column must be unique",
                    number,
                    name,
                )
            seen[value] = number
    if kind == "number":
        # Plain floats when complete; the nullable Float64 keeps blanks of an optional
        # column visible as <NA> rather than as NaN.
        complete = all(v is not None for v in values)
        return pd.array(values, dtype="float64" if complete else "Float64")
    if kind == "date":
        return pd.to_datetime(pd.Series(values, dtype="object"))
    categories = constraints.get("enum") or (foreign.values if foreign is not None else None)
    if categories is not None:
        return pd.Categorical(values, categories=categories)
    return pd.array(values, dtype="string")


def _parse_cell(path: Path, row: int, column: str, kind: str, cell: str) -> Any:
    if kind == "string":
        return cell
    if kind == "number":
        if _NUMBER.fullmatch(cell):
            return float(cell)
        if _GROUPED_NUMBER.fullmatch(cell):
            raise DataError(
                path,
                f"{cell!r} has thousands separators; write it without them, "
                f"e.g. {cell.replace(',', '')}",
                row,
                column,
            )
        raise DataError(
            path,
            f"{cell!r} is not a number; write digits with an optional decimal point, e.g. 365.5",
            row,
            column,
        )
    if kind == "date":
        try:
            return date.fromisoformat(cell)
        except ValueError:
            raise DataError(
                path, f"{cell!r} is not a date; write YYYY-MM-DD", row, column
            ) from None
    raise DataError(
        path,
        f"datapackage.json gives type {kind!r}, which huaiyin cannot load; "
        "use string, number or date",
        row,
        column,
    )


@dataclass(frozen=True)
class _ForeignKey:
    """The values a column may take, from the table and column a foreign key points at."""

    target: Resource
    column: str
    values: list[str]
    members: frozenset[str]


def _foreign_key(resource: Resource, column: str, package: DataPackage) -> _ForeignKey | None:
    for key in resource.schema.get("foreignKeys", []):
        if key["fields"] == [column]:
            target = package.resources[key["reference"]["resource"]]
            target_column = key["reference"]["fields"][0]
            values = [str(v) for v in _table(package, target.name)[target_column]]
            return _ForeignKey(target, target_column, values, frozenset(values))
    return None


def _check_primary_key(resource: Resource, frame: pd.DataFrame) -> None:
    key = resource.schema.get("primaryKey", [])
    if not key:
        return
    duplicated = frame.duplicated(subset=key, keep="first")
    if duplicated.any():
        position = int(duplicated.to_numpy().argmax())
        value = tuple(frame.iloc[position][key])
        first = int((frame[key] == frame.iloc[position][key]).all(axis=1).to_numpy().argmax())
        raise DataError(
            resource.path,
            f"duplicate {'/'.join(key)} {value!r}, first used in row "
            f"{first + 2}; it must be unique",
            position + 2,
            key[0],
        )
