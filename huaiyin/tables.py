"""Load the data package's tables as typed DataFrames, checked against ``datapackage.json``.

One generic loader applies each table's Table Schema: numbers become floats, columns with
allowed values (an ``enum`` or a foreign key) become categoricals, text becomes pandas
strings. Figure tables also pass the row rules of :mod:`huaiyin.figure_rules`. Anything that
does not fit raises :class:`DataError` naming the file, row, column and value; nothing is
coerced to NaN or dropped.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import filterfalse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from huaiyin.columns import all_valid, cell_problem, typed
from huaiyin.datapackage import DataPackage, Resource, data_dir, read_datapackage
from huaiyin.errors import DataError, UnknownFigureError, UnknownTableError
from huaiyin.figure_rules import first_problem, first_unit_problem, first_unprefixed_id
from huaiyin.glossary import NOT_NAMES, SEARCH_WORDS
from huaiyin.text import find_hidden, shorten

__all__ = ["DataError", "Figure", "figure", "find", "list_tables", "load_figures", "load_table"]


def list_tables() -> list[str]:
    """Names of the tables in the data package, in the order ``datapackage.json`` lists them.

    Examples
    --------
    >>> list_tables()[:3]
    ['sources', 'units', 'programmes']
    """
    return list(_package().resources)


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
    package, snapshot = _current()
    if name not in package.resources:
        valid = ", ".join(package.resources)
        raise UnknownTableError(f"no table named {name!r}; valid names: {valid}")
    return _copy(_table(package, name, snapshot))


def load_figures() -> pd.DataFrame:
    """Load every figure of every theme into one DataFrame, with a ``theme`` column.

    Examples
    --------
    >>> figures = load_figures()
    >>> figures["theme"].cat.categories.tolist()
    ['economy', 'projects', 'tourism', 'talent', 'governance']
    """
    return _copy(_all_figures(*_current()))


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

    def __str__(self) -> str:
        from huaiyin.present import figure_name, period_words  # the presentation layer

        return f"{figure_name(self, 'en')}: {self.printed}, {period_words(self.period, 'en')}"

    def __repr__(self) -> str:
        from huaiyin.present import figure_name  # the presentation layer

        return f"<Figure {self.id}: {figure_name(self, 'zh')} {self.printed}, {self.period}>"

    def _repr_html_(self) -> str:
        from huaiyin.present import figure_card  # the presentation layer draws it

        return figure_card(self)


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
    package, snapshot = _current()
    if snapshot.by_id is None:
        snapshot.by_id = _all_figures(package, snapshot).set_index("id")
    figures = snapshot.by_id
    if figure_id not in figures.index:
        close = _close_ids(figure_id, list(figures.index))
        hint = f"; did you mean {', '.join(close)}?" if close else "; find them with find()"
        raise UnknownFigureError(f"no figure with id {figure_id!r}{hint}")
    record = figures.loc[figure_id].to_dict()
    text = {
        name: "" if pd.isna(record[name]) else str(record[name])
        for name in Figure.__dataclass_fields__
        if name not in {"id", "value"}
    }
    return Figure(id=figure_id, value=float(record["value"]), **text)


def _close_ids(wanted: str, ids: list[str]) -> list[str]:
    """Ids a mistyped ``wanted`` may mean: the same but for case, then those with its last
    part in them, then the closest spellings."""
    folded = {i.casefold(): i for i in ids}
    key = wanted.casefold().strip()
    if key in folded:
        return [folded[key]]
    last = key.rsplit(".", 1)[-1]
    close = [i for f, i in folded.items() if last and last in f]
    # Spellings compared after the source's prefix, which every id shares.
    suffixes = {f.rsplit(".", 1)[-1]: i for f, i in folded.items()}
    close += [suffixes[f] for f in difflib.get_close_matches(last, suffixes, n=3, cutoff=0.6)]
    if not close and wanted.strip() and "." not in wanted:  # a name, not an id: 全区生产总值
        close = find(wanted)["id"].tolist()
    return list(dict.fromkeys(close))[:5]


def find(query: str) -> pd.DataFrame:
    """Figures whose name (kind included: 增速, growth, 位次, rank), scope, indicator, period
    or citation contain every word of ``query``, in Chinese or English, ignoring case: a
    table with the id to pass to :func:`figure`. A word that is another name for an
    indicator (财政收入 for 一般公共预算收入) finds that indicator.

    >>> find("GDP")["id"].tolist()
    ['hy2023h1.gdp', 'hy2023h1.gdp_growth']
    >>> find("GDP 增速")["id"].tolist(), find("西站 城市")["printed"].tolist()
    (['hy2023h1.gdp_growth'], ['343个'])
    """
    from huaiyin.present import figure_name, period_words  # the presentation layer

    if not isinstance(query, str) or not query.split():
        raise ValueError(f"find() takes words to look for, such as 'GDP' or '投资', not {query!r}")
    figures = load_figures()
    searched = ["subject_zh", "subject_en", "scope_zh", "scope_en", "indicator", "citation"]
    text = figures[searched].astype(str).agg(" ".join, axis=1)
    periods = {
        p: f"{period_words(p, 'zh')} {period_words(p, 'en')}"
        for p in figures["period"].astype(str).unique()
    }  # once per period, not once per figure
    extra = [
        " ".join(
            (
                figure_name(record, "zh"),
                figure_name(record, "en"),
                *SEARCH_WORDS.get(str(record["kind"]), ()),
                periods[str(record["period"])],
            )
        )
        for record in figures.to_dict("records")
    ]
    text = (text + " " + pd.Series(extra, index=figures.index)).str.casefold()
    hit = pd.Series(True, index=figures.index)
    for word in query.casefold().split():
        meant = [
            key
            for key, (chinese, english) in NOT_NAMES.items()
            if any(re.fullmatch(pattern, word, re.IGNORECASE) for pattern in (*chinese, *english))
        ]
        hit &= text.str.contains(meant[0] if meant else word, regex=False)
    found = figures[hit]
    table = found[["id", "subject_zh", "subject_en", "printed"]].copy()
    table["period"] = [period_words(str(p)) for p in found["period"]]
    return table.reset_index(drop=True)


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
    digest: str | None
    """The files' hash, taken only when there is something to compare it with: a version
    already cached, or files too fresh for their stats to be trusted. None: not taken."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: pd.DataFrame | None = None
    by_id: pd.DataFrame | None = None
    package: DataPackage | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    contents: dict[Path, bytes] = field(default_factory=dict)
    """The bytes of each table's file, read with the others, until the table is parsed:
    read once, and all tables come from one reading of the folder."""


_CACHE: dict[Path, _Snapshot] = {}


def _copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A cached table as a caller's own: changing one never changes the other. A deep copy:
    under pandas 3 a shallow one still lets writes through ``Series.array`` reach the cache."""
    return frame.copy()


def _stat(path: Path) -> tuple[int, ...]:
    try:
        s = path.stat()
    except OSError:
        return (-1,)
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _read_files(paths: list[Path], hashed: bool) -> tuple[str | None, dict[Path, bytes]]:
    """The bytes of the package's tables, and the hash of every file if ``hashed``."""
    digest = hashlib.sha256()  # hardware-accelerated on most machines: ~2 GB/s
    contents = {}
    for path in paths:
        if not hashed and path.suffix != ".csv":
            continue  # the descriptor and schemas were just read by read_datapackage
        try:
            # Only regular files: reading a pipe or a device could block or never end.
            if path.is_file():
                data = path.read_bytes()
                if path.suffix == ".csv":
                    contents[path] = data
            else:
                data = b"\x00not a file"
        except OSError:
            data = b"\x00missing"
        if hashed:
            digest.update(f"{path}\x00{len(data)}\x00".encode())
            digest.update(data)
    return (digest.hexdigest() if hashed else None), contents


def _settled(stats: tuple[tuple[int, ...], ...], now: int) -> bool:
    return all(s[-1] < now - _SETTLED_NS for s in stats if len(s) > 1)


def _current() -> tuple[DataPackage, _Snapshot]:
    """The current data package and its cache entry: the package is parsed and checked
    again whenever one of its files changed.

    The check (every path inside the data folder, and so on) is kept with the files it was
    made on: a retargeted link or an edited descriptor changes their stats.
    """
    folder = data_dir()
    cached = _CACHE.get(folder)
    if cached is not None and cached.package is not None:
        stats = tuple(_stat(p) for p in cached.package.files())
        if stats == cached.stats and _settled(stats, time.time_ns()):
            return cached.package, cached
    package = read_datapackage(folder)
    snapshot = _snapshot(package)
    snapshot.package = package
    return package, snapshot


def _package() -> DataPackage:
    return _current()[0]


def memo(key: str, build: Callable[[], Any]) -> Any:
    """A value computed from the current data (a lookup table, say), kept until it changes."""
    return _remembered(_current()[1], key, build)


def _remembered(snapshot: _Snapshot, key: str, build: Callable[[], Any]) -> Any:
    if key not in snapshot.memo:
        snapshot.memo[key] = build()
    return snapshot.memo[key]


def _snapshot(package: DataPackage) -> _Snapshot:
    """The cache entry for the package's current content, emptied if the content changed."""
    now = time.time_ns()
    paths = package.files()
    stats = tuple(_stat(p) for p in paths)
    cached = _CACHE.get(package.folder)
    if cached is not None and cached.stats == stats and _settled(stats, now):
        return cached
    # A first reading of settled files has nothing to be compared with, now or later (a
    # later change of stats makes a new entry unless hashes match): no hash is needed.
    hashed = cached is not None or not _settled(stats, now)
    digest, contents = _read_files(paths, hashed)
    if cached is not None and cached.digest is not None and cached.digest == digest:
        cached.stats = stats
        return cached
    fresh = _Snapshot(stats, digest, contents=contents)
    _CACHE.pop(package.folder, None)
    while len(_CACHE) >= _FOLDERS_KEPT:
        del _CACHE[next(iter(_CACHE))]
    _CACHE[package.folder] = fresh
    return fresh


def _table(package: DataPackage, name: str, snapshot: _Snapshot | None = None) -> pd.DataFrame:
    """A validated table, shared from the cache: copy it before handing it to a caller.

    ``snapshot`` is the package's current cache entry, when the caller already has it.
    """
    snapshot = snapshot or _snapshot(package)
    if name not in snapshot.tables:
        resource = package.resources[name]
        data = snapshot.contents.pop(resource.path, None)
        snapshot.tables[name] = _load(resource, package, snapshot, data)
    return snapshot.tables[name]


def _all_figures(package: DataPackage, snapshot: _Snapshot | None = None) -> pd.DataFrame:
    snapshot = snapshot or _snapshot(package)
    if snapshot.figures is None:
        snapshot.figures = _combine_figures(package, snapshot)
    return snapshot.figures


def _combine_figures(package: DataPackage, snapshot: _Snapshot) -> pd.DataFrame:
    themes = package.figure_tables()
    frames = [_table(package, t, snapshot) for t in themes]
    figures = pd.concat(frames, ignore_index=True)
    sizes = [len(frame) for frame in frames]
    figures["theme"] = pd.Categorical.from_codes(
        np.repeat(np.arange(len(themes)), sizes), dtype=pd.CategoricalDtype(themes)
    )
    starts = np.cumsum([0, *sizes])  # where each theme's rows begin
    duplicated = figures["id"].duplicated()
    if duplicated.any():
        first = figures["id"][duplicated].iloc[0]
        places = []
        for position in np.flatnonzero((figures["id"] == first).to_numpy()):
            theme = int(np.searchsorted(starts, position, side="right")) - 1
            # The row the figure has in its file (the header is row 1).
            row = position - starts[theme] + 2
            places.append(f"{package.resources[themes[theme]].path.name} row {row}")
        raise DataError(
            package.folder,
            f"figure id {first!r} is used in {' and '.join(places)}; ids must be unique "
            "across tables",
        )
    return figures


def _load(
    resource: Resource, package: DataPackage, snapshot: _Snapshot, data: bytes | None
) -> pd.DataFrame:
    """Read, type and check one table; ``data`` is its file's bytes if already read."""
    cells = _read_cells(resource, data)
    _check_header(resource, cells.header)
    position = {name: cells.header.index(name) for name in resource.field_names}
    columns = {
        spec["name"]: _typed_column(
            resource, spec, cells.columns[position[spec["name"]]], package, snapshot
        )
        for spec in resource.schema["fields"]
    }
    frame = pd.DataFrame(columns, copy=False)  # the columns are new: no need to copy them
    _check_primary_key(resource, frame)
    if resource.name in package.figure_tables():
        problem = first_problem(frame, _unit_table(resource, package, snapshot))
    elif {"id", "source_id"} <= set(frame):  # programmes: ids name their report too
        problem = first_unprefixed_id(frame)
    elif {"unit", "quantity", "base_unit", "factor"} <= set(frame):
        problem = first_unit_problem(frame)
    else:
        problem = None
    if problem is not None:
        row, column, message = problem
        raise DataError(resource.path, message, row + 2, column)
    return frame


def _unit_table(resource: Resource, package: DataPackage, snapshot: _Snapshot) -> pd.DataFrame:
    """The table the figure schema's ``unit`` column refers to, which the row rules need."""
    for key in resource.schema.get("foreignKeys", []):
        if key["fields"] == ["unit"]:
            return _table(package, key["reference"]["resource"], snapshot)
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


def _read_bytes(path: Path, listed: str = "") -> bytes:
    """The file's bytes; ``listed`` ends the message of an error (what refers to the file)."""
    try:
        if not path.is_file():
            state = "is not a regular file" if path.exists() else "file not found"
            raise DataError(path, f"{state}{listed}")
        return path.read_bytes()
    except OSError as err:  # a name too long, no permission, an I/O error
        raise DataError(path, f"cannot be read ({err.strerror}){listed}") from None


_BOM = b"\xef\xbb\xbf"  # the byte-order mark Excel writes at the start of a UTF-8 file


def _read_text(path: Path, data: bytes | None = None) -> str:
    """The file's text: UTF-8, with or without the byte-order mark Excel writes."""
    if data is None:
        data = _read_bytes(path)
    body = data.removeprefix(_BOM)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        # Decoding a guessed legacy encoding could turn a wrong guess into wrong text,
        # so the loader refuses and says how to fix the file instead.
        offset = err.start + len(data) - len(body)  # in the file, the mark included
        raise DataError(
            path,
            f"is not UTF-8 (byte {data[offset]:#04x} at offset "
            f"{offset}); it may be GBK/GB18030 as saved by Excel on a Chinese "
            "system. Re-save it as 'CSV UTF-8', or convert it with "
            "iconv -f GB18030 -t UTF-8.",
        ) from None


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a UTF-8 CSV file (an Excel BOM allowed), or a DataError."""
    return _rows(path, _read_text(path))


def _rows(path: Path, text: str) -> tuple[list[str], list[list[str]]]:
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


@dataclass(frozen=True)
class _Column:
    """One column's cells, factorized: its distinct texts in order of first appearance, and
    which of them each row holds. Checks and conversions work on the distinct texts."""

    codes: np.ndarray
    distinct: list[str]

    @classmethod
    def of(cls, cells: np.ndarray) -> _Column:
        codes, uniques = pd.factorize(cells)
        return cls(codes, uniques.tolist())

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, position: int) -> str:
        return self.distinct[int(self.codes[position])]

    def first(self, bad: Callable[[str], bool]) -> int:
        """Position of the first cell for which ``bad`` is true (there must be one)."""
        wanted = [code for code, text in enumerate(self.distinct) if bad(text)]
        return int(np.flatnonzero(np.isin(self.codes, wanted))[0])

    def commas(self) -> int:
        """How many commas the column's cells hold."""
        if "," not in "".join(self.distinct):  # one search, not one per text: the usual case
            return 0
        holding = [code for code, text in enumerate(self.distinct) if "," in text]
        rows = np.bincount(self.codes, minlength=len(self.distinct))
        return sum(self.distinct[code].count(",") * int(rows[code]) for code in holding)


@dataclass(frozen=True)
class _Cells:
    """A table's header and its columns, as read from its file."""

    header: list[str]
    columns: list[_Column]


# Below this size the csv module reads a file faster than pandas, whose set-up per call
# outweighs its faster parsing (measured: 0.07 ms against 0.6 ms for one report's table).
_C_PARSER_FROM = 128 * 1024


def _read_cells(resource: Resource, data: bytes | None = None) -> _Cells:
    """Read a table's cells, with pandas' C parser where it reads as the csv module would.

    On a large file the C parser is several times faster. A file it might read differently
    (a control character, a short row, a blank line) is read with the csv module instead,
    whose reading the errors describe.
    """
    path = resource.path
    if data is None:
        data = _read_bytes(path, f"; datapackage.json lists it as table {resource.name!r}")
    fast = _parsed_by_pandas(data) if len(data) >= _C_PARSER_FROM else None
    if fast is not None:
        return fast
    header, rows = _rows(path, _read_text(path, data))
    if not header:
        raise DataError(
            path, f"is empty; expected a header row with columns {', '.join(resource.field_names)}"
        )
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            raise DataError(
                path,
                f"has {len(row)} cells but the header has {width}: {shorten(repr(row))}",
                row=number,
            )
    if not rows:
        return _Cells(header, [_Column.of(np.array([], dtype=object)) for _ in header])
    columns = zip(*rows, strict=True)
    return _Cells(header, [_Column.of(np.array(column, dtype=object)) for column in columns])


def _parsed_by_pandas(data: bytes) -> _Cells | None:
    """The cells as pandas reads them, or None where the csv module must read the file."""
    data = data.removeprefix(_BOM)
    # pandas would drop a second mark, which the csv module keeps in the first name.
    if not data or data.isspace() or b"\x00" in data or data.startswith(_BOM):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            low_memory=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    if not len(frame):
        return None
    arrays = [frame[i].to_numpy() for i in frame.columns]  # one array each, not one 2D copy
    header = [str(array[0]) for array in arrays]
    columns = [_Column.of(array[1:]) for array in arrays]
    # pandas refuses a long row but pads a short one (or a blank line) with empty cells.
    # Every row has its full width only if the file's commas are those inside its cells and
    # width - 1 separators per row.
    inside = sum(name.count(",") for name in header) + sum(c.commas() for c in columns)
    if data.count(b",") != inside + len(frame) * (len(columns) - 1):
        return None
    # One column has no commas to count: an empty cell there may be a blank line.
    if len(columns) == 1 and "" in columns[0].distinct:
        return None
    return _Cells(header, columns)


def _listing(values: list[str], limit: int = 20) -> str:
    """Values for a message, the first ``limit`` of them when there are many."""
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown}, … ({len(values):,} in all)"


def _check_header(resource: Resource, header: list[str]) -> None:
    expected = resource.field_names
    missing = [name for name in expected if name not in header]
    extra = [name for name in header if name not in expected]
    if missing:
        # A header cell with a space or a hidden character is the usual cause: show it.
        near = [e for e in extra if e.strip().strip("\ufeff\u200b\x00") in missing]
        found = f" (the header has {', '.join(map(repr, near))})" if near else ""
        raise DataError(
            resource.path,
            f"missing column(s) {', '.join(map(repr, missing))}{found}; "
            f"the schema expects {', '.join(expected)}",
        )
    if extra:
        raise DataError(
            resource.path,
            f"column(s) {', '.join(shorten(repr(e), 60) for e in extra)} not described "
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
    resource: Resource,
    spec: dict[str, Any],
    column: _Column,
    package: DataPackage,
    snapshot: _Snapshot,
) -> Any:
    name, kind = spec["name"], spec.get("type", "string")
    constraints = spec.get("constraints", {})
    path = resource.path
    distinct = column.distinct  # in order of first appearance
    if max(map(len, distinct), default=0) > MAX_CELL:
        raise DataError(path, _TOO_LONG, row=column.first(lambda c: len(c) > MAX_CELL) + 2)
    # One search of all distinct values for a hidden character, rather than one per value.
    clean = find_hidden(",".join(distinct)) is None
    problems = {}
    if not (clean and all_valid(distinct, kind, constraints)):
        check = partial(cell_problem, kind=kind, constraints=constraints, hidden=not clean)
        problems = {cell: problem for cell in distinct if (problem := check(cell)) is not None}
    if problems:
        position = column.first(problems.__contains__)
        raise DataError(path, problems[column[position]], position + 2, name)
    blanks = set(filterfalse(str.strip, distinct))  # empty, or spaces only
    foreign = _foreign_key(resource, name, package, snapshot)
    if foreign is not None:
        # Distinct values come in order of first appearance: the first outsider is the row's.
        outside = next((c for c in distinct if c not in foreign.members and c not in blanks), None)
        if outside is not None:
            position = column.first(outside.__eq__)
            raise DataError(
                path,
                f"{shorten(repr(outside), 80)} is not in {foreign.target.name} (column "
                f"{foreign.column!r} of {foreign.target.path.name}); valid: "
                f"{_listing(foreign.values)}",
                position + 2,
                name,
            )
    if constraints.get("unique") and len(distinct) < len(column):
        seen: dict[str, int] = {}
        for position, cell in enumerate(distinct[code] for code in column.codes.tolist()):
            if cell in seen and cell not in blanks:
                raise DataError(
                    path,
                    f"duplicate value {cell!r}, first used in row {seen[cell] + 2}; values "
                    "in this column must be unique",
                    position + 2,
                    name,
                )
            seen.setdefault(cell, position)
    categories = constraints.get("enum") or (foreign.values if foreign is not None else None)
    return typed(column.codes, distinct, blanks, kind, categories)


@dataclass(frozen=True)
class _ForeignKey:
    """The values a column may take, from the table and column a foreign key points at."""

    target: Resource
    column: str
    values: list[str]
    members: frozenset[str]


def _foreign_key(
    resource: Resource, column: str, package: DataPackage, snapshot: _Snapshot
) -> _ForeignKey | None:
    for key in resource.schema.get("foreignKeys", []):
        if key["fields"] == [column]:
            target = package.resources[key["reference"]["resource"]]
            target_column = key["reference"]["fields"][0]
            # Every figure table refers to the same columns: work each out once.
            found: _ForeignKey = _remembered(
                snapshot,
                f"foreign key to {target.name}.{target_column}",
                partial(_referred_values, target, target_column, package, snapshot),
            )
            return found
    return None


def _referred_values(
    target: Resource, target_column: str, package: DataPackage, snapshot: _Snapshot
) -> _ForeignKey:
    values = [str(v) for v in _table(package, target.name, snapshot)[target_column].dropna()]
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        rows = [i + 2 for i, v in enumerate(values) if v == repeated[0]]
        raise DataError(
            target.path,
            f"{repeated[0]!r} appears in rows {' and '.join(map(str, rows))} of column "
            f"{target_column!r}; values that other tables refer to must be unique",
        )
    return _ForeignKey(target, target_column, values, frozenset(values))


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
