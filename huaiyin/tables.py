"""Load the data package's tables as typed DataFrames, checked against ``datapackage.json``.

One generic loader applies each table's Table Schema: numbers become floats, columns with
allowed values (an ``enum`` or a foreign key) become categoricals, text becomes pandas
strings. Figure tables also pass the row rules of :mod:`huaiyin.figure_rules`. Anything that
does not fit raises :class:`DataError` naming the file, row, column and value; nothing is
coerced to NaN or dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from huaiyin.datapackage import DataPackage, Resource, read_datapackage
from huaiyin.errors import DataError
from huaiyin.figure_rules import row_problems

__all__ = ["DataError", "Figure", "figure", "list_tables", "load_figures", "load_table"]

# Numbers are ASCII digits with an optional sign and decimal point: never another script's
# digits, which Python's float() would quietly accept.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A float holds 15 significant decimal digits exactly; more would be rounded without a word.
_MAX_DIGITS = 15
# Characters that no text cell may hold: control characters (NUL, tab, line breaks, …) and
# invisible format characters (zero-width spaces, direction marks, a stray byte-order mark).
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb]"
)


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
    if not isinstance(name, str):
        raise TypeError(f"load_table() takes a table name as a string, not {type(name).__name__}")
    package = read_datapackage()
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
    return _all_figures(read_datapackage()).copy()


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
    if not isinstance(figure_id, str):
        raise TypeError(
            f"figure() takes a figure id as a string, such as 'hy2023h1.gdp', "
            f"not {type(figure_id).__name__}"
        )
    package = read_datapackage()
    snapshot = _snapshot(package)
    if snapshot.by_id is None:
        snapshot.by_id = _all_figures(package).set_index("id")
    figures = snapshot.by_id
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


# Validated tables are cached per data folder and keyed on the content of every file the
# package reads, so an edit is always seen, whatever it does to sizes and times, and only
# the current version is kept. Hashing is skipped while no file has changed on disk since
# the last check: a file's ctime moves with every write, rename or retargeted link, and the
# operating system alone sets it. Files changed within the last seconds (when coarse clocks
# could hide a second change) are hashed on every call.
_SETTLED_NS = 2_000_000_000
_FOLDERS_KEPT = 8


@dataclass
class _Snapshot:
    stats: tuple[tuple[int, ...], ...]
    digest: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: pd.DataFrame | None = None
    by_id: pd.DataFrame | None = None


_CACHE: dict[Path, _Snapshot] = {}


def _stat(path: Path) -> tuple[int, ...]:
    try:
        s = path.stat()
    except OSError:
        return (-1,)
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            data = b"\x00missing"
        digest.update(f"{path}\x00{len(data)}\x00".encode())
        digest.update(data)
    return digest.hexdigest()


def _snapshot(package: DataPackage) -> _Snapshot:
    """The cache entry for the package's current content, emptied if the content changed."""
    now = time.time_ns()
    paths = package.files()
    stats = tuple(_stat(p) for p in paths)
    cached = _CACHE.get(package.folder)
    settled = all(s[-1] < now - _SETTLED_NS for s in stats if len(s) > 1)
    if cached is not None and cached.stats == stats and settled:
        return cached
    digest = _digest(paths)
    if cached is not None and cached.digest == digest:
        cached.stats = stats
        return cached
    fresh = _Snapshot(stats, digest)
    _CACHE.pop(package.folder, None)
    while len(_CACHE) >= _FOLDERS_KEPT:
        del _CACHE[next(iter(_CACHE))]
    _CACHE[package.folder] = fresh
    return fresh


def _table(package: DataPackage, name: str) -> pd.DataFrame:
    """A validated table, shared from the cache: copy it before handing it to a caller."""
    snapshot = _snapshot(package)
    if name not in snapshot.tables:
        snapshot.tables[name] = _load(package.resources[name], package)
    return snapshot.tables[name]


def _all_figures(package: DataPackage) -> pd.DataFrame:
    snapshot = _snapshot(package)
    if snapshot.figures is None:
        snapshot.figures = _combine_figures(package)
    return snapshot.figures


def _combine_figures(package: DataPackage) -> pd.DataFrame:
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


def _load(resource: Resource, package: DataPackage) -> pd.DataFrame:
    header, rows = _read_rows(resource)
    fields = resource.schema["fields"]
    _check_header(resource, header)
    position = {name: header.index(name) for name in resource.field_names}
    columns: dict[str, Any] = {}
    for spec in fields:
        raw = [row[position[spec["name"]]] for row in rows]
        columns[spec["name"]] = _typed_column(resource, spec, raw, package)
    frame = pd.DataFrame(columns)
    _check_primary_key(resource, frame)
    if resource.name in package.figure_tables():
        units = _unit_table(resource, package)
        for position_, column, message in row_problems(frame, units):
            raise DataError(resource.path, message, position_ + 2, column)
    return frame


def _unit_table(resource: Resource, package: DataPackage) -> pd.DataFrame:
    """The table the figure schema's ``unit`` column refers to, which the row rules need."""
    for key in resource.schema.get("foreignKeys", []):
        if key["fields"] == ["unit"]:
            return _table(package, key["reference"]["resource"])
    raise DataError(
        package.folder / "datapackage.json",
        f"table {resource.name!r}: the figure schema needs a foreign key from 'unit' to the "
        "units table, whose quantities and factors the row rules check",
    )


# The csv module's default field limit: no figure's text comes near it, so a longer cell is
# almost always a missing closing quote that swallowed the rest of the file.
MAX_CELL = 131_072
_TOO_LONG = (
    f"a cell holds more than {MAX_CELL:,} characters, too long for a table's text: "
    "look for a missing closing quote"
)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a UTF-8 CSV file (an Excel BOM allowed), or a DataError."""
    if not path.is_file():
        state = "is not a regular file" if path.exists() else "file not found"
        raise DataError(path, state)
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
        return [], []
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            records.append(record)
    except csv.Error:
        # The csv module's own limit (process-wide, and raised by some libraries) or ours
        # below: the same message either way.
        raise DataError(path, _TOO_LONG, row=len(records) + 1) from None
    for number, record in enumerate(records, start=1):
        if any(len(cell) > MAX_CELL for cell in record):
            raise DataError(path, _TOO_LONG, row=number)
    return records[0], records[1:]


def _read_rows(resource: Resource) -> tuple[list[str], list[list[str]]]:
    path = resource.path
    if not path.is_file():
        raise DataError(
            path,
            f"{'is not a regular file' if path.exists() else 'file not found'}; "
            f"datapackage.json lists it as table {resource.name!r}",
        )
    header, rows = read_rows(path)
    if not header:
        raise DataError(
            path, f"is empty; expected a header row with columns {', '.join(resource.field_names)}"
        )
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            raise DataError(
                path,
                f"has {len(row)} cells but the header has {width}: {_shorten(repr(row))}",
                row=number,
            )
    return header, rows


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


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
            f"column(s) {', '.join(_shorten(repr(e), 60) for e in extra)} not described "
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
    resource: Resource, spec: dict[str, Any], raw: list[str], package: DataPackage
) -> Any:
    name, kind = spec["name"], spec.get("type", "string")
    constraints = spec.get("constraints", {})
    path = resource.path
    values: list[Any] = []
    for number, cell in enumerate(raw, start=2):
        hidden = _HIDDEN.search(cell)
        if hidden:
            raise DataError(
                path,
                f"{_shorten(repr(cell), 80)} holds {_describe(hidden.group())} at character "
                f"{hidden.start() + 1}; remove it (cells hold visible text on one line)",
                number,
                name,
            )
        if cell.strip() == "":
            if constraints.get("required"):
                raise DataError(path, "is blank, but this column is required", number, name)
            values.append(None)
            continue
        value = _parse_cell(path, number, name, kind, cell)
        if "enum" in constraints and value not in constraints["enum"]:
            raise DataError(
                path,
                f"{_shorten(repr(cell), 80)} is not an allowed value; valid: "
                f"{', '.join(map(str, constraints['enum']))}",
                number,
                name,
            )
        if "pattern" in constraints and not re.fullmatch(constraints["pattern"], cell):
            raise DataError(
                path,
                f"{_shorten(repr(cell), 80)} does not match the pattern {constraints['pattern']!r}",
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
                    f"{_shorten(repr(value), 80)} is not in {foreign.target.name} (column "
                    f"{foreign.column!r} of {foreign.target.path.name}); valid: "
                    f"{', '.join(foreign.values)}",
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


def _describe(char: str) -> str:
    """A character by code point and name: ``U+FF13 (FULLWIDTH DIGIT THREE)``."""
    name = unicodedata.name(char, "")
    kind = "the control character" if unicodedata.category(char) == "Cc" else "the character"
    return f"{kind} U+{ord(char):04X}" + (f" ({name})" if name else "")


def _foreign_number_char(cell: str) -> str | None:
    """The first character that looks like part of a number but is not ASCII."""
    for char in cell:
        if char.isascii():
            continue
        folded = unicodedata.normalize("NFKC", char)
        if (
            unicodedata.category(char) == "Nd"
            or folded in set("0123456789.,+-")
            or char in "\u2212\ufe63"
        ):
            return char
    return None


def _parse_cell(path: Path, row: int, column: str, kind: str, cell: str) -> Any:
    if kind == "string":
        return cell
    if kind == "number":
        return _parse_number(path, row, column, cell)
    if kind == "date":
        try:
            if not _DATE.fullmatch(cell):
                raise ValueError
            return date.fromisoformat(cell)
        except ValueError:
            raise DataError(
                path, f"{_shorten(repr(cell), 80)} is not a date; write YYYY-MM-DD", row, column
            ) from None
    raise DataError(
        path,
        f"datapackage.json gives type {kind!r}, which huaiyin cannot load; "
        "use string, number or date",
        row,
        column,
    )


def _parse_number(path: Path, row: int, column: str, cell: str) -> float:
    shown = _shorten(repr(cell), 40)
    if _NUMBER.fullmatch(cell):
        digits = cell.lstrip("-").replace(".", "").lstrip("0")
        if len(digits.rstrip("0") if "." not in cell else digits) > _MAX_DIGITS:
            raise DataError(
                path,
                f"{shown} has more than {_MAX_DIGITS} significant digits, more than a "
                "number here can hold without rounding",
                row,
                column,
            )
        value = float(cell)
        if not math.isfinite(value) or (value == 0 and digits):
            raise DataError(path, f"{shown} is too large or too small for a number", row, column)
        return value
    if _GROUPED_NUMBER.fullmatch(cell):
        raise DataError(
            path,
            f"{cell!r} has thousands separators; write it without them, "
            f"e.g. {cell.replace(',', '')}",
            row,
            column,
        )
    foreign = _foreign_number_char(cell)
    if foreign is not None:
        raise DataError(
            path,
            f"{shown} is not a number: it holds {_describe(foreign)}; write numbers with "
            "the ASCII digits 0-9, an optional '-' and '.', e.g. 365.5",
            row,
            column,
        )
    raise DataError(
        path,
        f"{shown} is not a number; write digits with an optional decimal point, e.g. 365.5",
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
            values = [str(v) for v in _table(package, target.name)[target_column].dropna()]
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
