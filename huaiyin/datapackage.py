"""Find the data folder and read its Frictionless descriptor, ``datapackage.json``.

The descriptor is the single place where tables, columns, types and allowed values are
declared; everything else (the loader, the data dictionary, the tests) reads it from here.
It is checked before anything uses it: every resource and schema path stays inside the data
folder, every name is unique, every constraint and key is one huaiyin applies, and anything
else is a :class:`~huaiyin.errors.DataError` naming the file and the key.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from huaiyin.errors import DataError
from huaiyin.text import describe, find_hidden, shorten

DATA_ENV = "HUAIYIN_DATA"
DESCRIPTOR = "datapackage.json"
FIGURE_SCHEMA = "figure.schema.json"

# What the loader knows how to apply; anything else would be silently ignored, so it is refused.
FIELD_TYPES = ("string", "number", "date")
CONSTRAINTS = ("required", "unique", "enum", "pattern", "minimum")
# Keys that describe rather than change how a table is read; the rest must be huaiyin's.
_METADATA = {"title", "description", "licenses", "sources", "homepage", "profile", "example"}
# Not "bytes" or "hash": a declared size or checksum that huaiyin did not check would mislead.
_RESOURCE_KEYS = {"name", "path", "schema", "encoding", "format", "mediatype", "dialect"}
_RESOURCE_KEYS |= _METADATA
_SCHEMA_KEYS = {"fields", "primaryKey", "foreignKeys", "missingValues"} | _METADATA
# Field keys, each with the one value huaiyin reads a table by (None: any value).
_FIELD_KEYS: dict[str, object] = {
    "name": None,
    "type": None,
    "constraints": None,
    "title": None,
    "description": None,
    "example": None,
    "format": "default",
    "groupChar": "",
    "bareNumber": True,
    "decimalChar": ".",
}
# The CSV dialect huaiyin reads: anything else would be misread, so it is refused.
_DIALECT = {
    "delimiter": ",",
    "quoteChar": '"',
    "doubleQuote": True,
    "header": True,
    "skipInitialSpace": False,
    "lineTerminator": None,
    "csvddfVersion": None,
}
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
# The columns the figure rules read, and what they need of the units table.
RULE_FIELDS = ("id", "source_id", "kind", "value", "unit", "qualifier", "printed", "citation")
UNIT_FIELDS = ("unit", "quantity", "factor")
# What the summary, chart captions and briefings read of each report.
SOURCES = "sources"
SOURCE_FIELDS = ("id", "title_zh", "title_en", "reporter", "period", "file", "sha256")


def data_dir() -> Path:
    """Return the folder holding ``datapackage.json`` and the CSV tables.

    Looked up, in order: the ``HUAIYIN_DATA`` environment variable; the data shipped
    inside an installed wheel (``huaiyin/_data``); the ``data/`` folder of a source
    checkout. Never the working directory.
    """
    override = os.environ.get(DATA_ENV)
    if override:
        try:
            path = Path(override).expanduser().resolve()
        except (OSError, RuntimeError) as err:  # RuntimeError: a symbolic-link loop
            raise FileNotFoundError(
                f"{DATA_ENV}={override!r} does not point at a data folder: {err}"
            ) from None
        if not (path / DESCRIPTOR).is_file():
            raise FileNotFoundError(
                f"{DATA_ENV}={override!r} does not point at a data folder: "
                f"{path / DESCRIPTOR} does not exist."
            )
        return path
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / DESCRIPTOR).is_file():
            return candidate
    raise FileNotFoundError(
        f"huaiyin cannot find its data: no {DESCRIPTOR} in {here / '_data'} or "
        f"{here.parent / 'data'}. Reinstall the package, or set {DATA_ENV} to a data folder."
    )


@dataclass(frozen=True)
class Resource:
    """One table of the data package: its name, file and Table Schema."""

    name: str
    title: str
    description: str
    path: Path
    schema: dict[str, Any]
    schema_ref: str | None
    """The file name when the schema is shared by reference (the figure tables), else None."""

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.schema["fields"]]


@dataclass(frozen=True)
class DataPackage:
    """The parsed ``datapackage.json`` of one data folder."""

    folder: Path
    descriptor: dict[str, Any]
    resources: dict[str, Resource]

    def figure_tables(self) -> list[str]:
        """Names of the tables that hold figures: those sharing the figure schema."""
        return [r.name for r in self.resources.values() if r.schema_ref == FIGURE_SCHEMA]

    def files(self) -> list[Path]:
        """Every file the package is read from: descriptor, shared schemas, tables."""
        schemas = dict.fromkeys(
            self.folder / r.schema_ref for r in self.resources.values() if r.schema_ref
        )
        return [self.folder / DESCRIPTOR, *schemas, *(r.path for r in self.resources.values())]


def read_datapackage(folder: Path | None = None) -> DataPackage:
    """Parse and check the descriptor in ``folder`` (default: :func:`data_dir`).

    Raises
    ------
    DataError
        If the descriptor or a schema it refers to is not valid JSON, lacks a key, points
        outside the data folder, or declares something huaiyin cannot apply.
    """
    # Not cached: the descriptor is small, and a cache would hide edits made mid-session.
    folder = folder or data_dir()
    descriptor_path = inside(folder, DESCRIPTOR, folder / DESCRIPTOR, "the descriptor")
    descriptor = read_json(descriptor_path)
    _check_text(descriptor, descriptor_path, "")
    if not isinstance(descriptor, dict):
        raise DataError(descriptor_path, "must hold a JSON object with a 'resources' list")
    entries = descriptor.get("resources")
    if not isinstance(entries, list) or not entries:
        raise DataError(
            descriptor_path,
            "'resources' is missing or not a non-empty list; it lists the tables, each with "
            "a name, a path and a schema",
        )
    resources: dict[str, Resource] = {}
    shared: dict[str, dict[str, Any]] = {}
    files: dict[Path, str] = {}  # each table's real file, and the table that uses it
    for number, entry in enumerate(entries):
        where = f"resources[{number}]"
        if not isinstance(entry, dict):
            raise DataError(descriptor_path, f"{where} is not a JSON object")
        name = _text(entry, "name", descriptor_path, where)
        where = f"{where} ({name!r})"
        if not _NAME.fullmatch(name):
            raise DataError(
                descriptor_path,
                f"{where}: a resource name is lowercase letters, digits, '.', '-' and '_'",
            )
        _check_keys(entry, _RESOURCE_KEYS, descriptor_path, where)
        _check_resource_format(entry, descriptor_path, where)
        if name in resources:
            raise DataError(
                descriptor_path,
                f"{where}: the name {name!r} is already used by another resource; "
                "resource names must be unique",
            )
        path = inside(folder, _text(entry, "path", descriptor_path, where), descriptor_path, where)
        if path.suffix.lower() != ".csv":
            raise DataError(
                descriptor_path,
                f"{where}: path {entry['path']!r} is not a .csv file; a resource is a CSV table",
            )
        real = path.resolve()
        if real in files:
            raise DataError(
                descriptor_path,
                f"{where}: path {entry['path']!r} is the file of table {files[real]!r} too; "
                "each table has a file of its own",
            )
        files[real] = name
        encoding = entry.get("encoding", "utf-8")
        if not isinstance(encoding, str) or encoding.lower().replace("_", "-") not in {
            "utf-8",
            "utf8",
        }:
            raise DataError(
                descriptor_path,
                f"{where}: encoding {encoding!r} is not supported; tables must be UTF-8",
            )
        if "schema" not in entry:
            raise DataError(descriptor_path, f"{where}: 'schema' is missing")
        schema, ref = entry["schema"], None
        if isinstance(schema, str):
            ref = posixpath.normpath(schema)  # ./figure.schema.json is figure.schema.json
            schema_path = inside(folder, ref, descriptor_path, f"{where}: schema")
            if ref not in shared:
                shared[ref] = read_json(schema_path)
                _check_text(shared[ref], schema_path, "")
                _check_schema(shared[ref], schema_path, "schema")
            schema = shared[ref]
        elif isinstance(schema, dict):
            _check_schema(schema, descriptor_path, f"{where}: schema")
        else:
            raise DataError(
                descriptor_path,
                f"{where}: 'schema' must be an object or the file name of one, "
                f"not {type(schema).__name__}",
            )
        resources[name] = Resource(
            name=name,
            title=entry.get("title", name),
            description=entry.get("description", ""),
            path=path,
            schema=schema,
            schema_ref=ref,
        )
    package = DataPackage(folder=folder, descriptor=descriptor, resources=resources)
    _check_foreign_keys(package)
    _check_figure_schemas(package)
    _check_sources(package)
    return package


def read_json(path: Path) -> Any:
    """Read a JSON file strictly: UTF-8 without BOM, no duplicate keys, no NaN or Infinity."""
    if not path.is_file():
        raise DataError(path, "is not a regular file" if path.exists() else "file not found")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as err:
        raise DataError(path, f"cannot be read: {err.strerror}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise DataError(
            path,
            "starts with a UTF-8 byte-order mark, which JSON does not allow; "
            "save it as UTF-8 without BOM",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(
            path, f"is not UTF-8 (byte {data[err.start]:#04x} at offset {err.start})"
        ) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as err:
        raise DataError(
            path, f"is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    except ValueError as err:
        raise DataError(path, f"is not valid JSON: {err}") from None
    except RecursionError:
        raise DataError(
            path, "nests arrays or objects too deeply to read; a descriptor needs a few levels"
        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {shorten(text, 20)} is beyond what a float can hold")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def inside(folder: Path, relative: str, descriptor: Path, where: str) -> Path:
    """``folder / relative``, refusing a path that is absolute, a URL, or leads out of folder.

    Symbolic links are followed before the check, so a link pointing outside is refused too.
    """
    pure = PurePosixPath(relative)
    refused = (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", relative) is not None
        or pure.is_absolute()
        or ".." in pure.parts
    )
    path = folder / relative
    if not refused:
        try:
            path.resolve().relative_to(folder.resolve())
        except ValueError:
            refused = True
        except (OSError, RuntimeError) as err:  # RuntimeError: a symbolic-link loop
            raise DataError(
                descriptor, f"{where}: path {relative!r} cannot be followed: {err}"
            ) from None
    if refused:
        raise DataError(
            descriptor,
            f"{where}: path {relative!r} is not a file inside the data folder {folder}; "
            "paths must be relative, without '..', and may not lead outside it through a link",
        )
    return path


def _check_text(value: Any, path: Path, where: str) -> None:
    """Every string of a descriptor (names, titles, descriptions) shows all it holds."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path, where)
            _check_text(item, path, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _check_text(item, path, f"{where}[{number}]")
    elif isinstance(value, str):
        found = find_hidden(value)
        if found is not None:
            raise DataError(
                path,
                f"{where or 'a key'}: {value[:60]!r} holds {describe(found[1])}; remove it",
            )


def _check_keys(entry: dict[str, Any], allowed: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise DataError(
            path,
            f"{where}: key(s) {', '.join(map(repr, unknown))} are not read by huaiyin "
            f"(a misspelling?); it reads {', '.join(sorted(allowed))}",
        )
    for key in ("title", "description"):
        if key in entry and not isinstance(entry[key], str):
            raise DataError(path, f"{where}: {key!r} must be text, not {entry[key]!r}")


def _check_resource_format(entry: dict[str, Any], path: Path, where: str) -> None:
    """A resource must be a CSV file in the dialect huaiyin reads."""
    if (
        str(entry.get("format", "csv")).lower() != "csv"
        or str(entry.get("mediatype", "text/csv")).lower() != "text/csv"
    ):
        raise DataError(path, f"{where}: huaiyin reads CSV tables only ('format': 'csv')")
    dialect = entry.get("dialect", {})
    if not isinstance(dialect, dict):
        raise DataError(path, f"{where}: 'dialect' must be an object")
    for key, value in dialect.items():
        if key not in _DIALECT or (_DIALECT[key] is not None and value != _DIALECT[key]):
            raise DataError(
                path,
                f"{where}: dialect {key!r}: {value!r} is not read by huaiyin; it reads "
                "comma-separated tables with a header row and double quotes",
            )


def _text(entry: dict[str, Any], key: str, path: Path, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        state = "missing" if key not in entry else f"not a non-empty string ({value!r})"
        raise DataError(path, f"{where}: {key!r} is {state}")
    return value


def _check_schema(schema: Any, path: Path, where: str) -> None:
    if not isinstance(schema, dict):
        raise DataError(path, f"{where} must be a JSON object with a 'fields' list")
    _check_keys(schema, _SCHEMA_KEYS, path, where)
    if schema.get("missingValues", [""]) != [""]:
        raise DataError(
            path,
            f"{where}: 'missingValues' must be [\"\"]: huaiyin reads only a blank cell as missing",
        )
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        raise DataError(path, f"{where}: 'fields' is missing or not a non-empty list")
    names: list[str] = []
    for number, field in enumerate(fields):
        at = f"{where}: fields[{number}]"
        if not isinstance(field, dict):
            raise DataError(path, f"{at} is not a JSON object")
        name = _text(field, "name", path, at)
        at = f"{where}: field {name!r}"
        _check_keys(field, set(_FIELD_KEYS), path, at)
        for option, wanted in _FIELD_KEYS.items():
            if wanted is not None and option in field and field[option] != wanted:
                raise DataError(
                    path,
                    f"{at}: {option!r} {field[option]!r} is not read by huaiyin; use {wanted!r}",
                )
        if name in names:
            raise DataError(path, f"{at} is declared twice; field names must be unique")
        names.append(name)
        kind = field.setdefault("type", "string")
        if kind not in FIELD_TYPES:
            raise DataError(
                path, f"{at}: type {kind!r} is not one huaiyin loads; use {', '.join(FIELD_TYPES)}"
            )
        _check_constraints(field.get("constraints", {}), kind, path, at)
    key = schema.get("primaryKey", [])
    key = [key] if isinstance(key, str) else key
    if not isinstance(key, list) or any(k not in names for k in key):
        raise DataError(path, f"{where}: primaryKey {key!r} must name fields of the schema")
    schema["primaryKey"] = key
    foreign = schema.get("foreignKeys", [])
    if not isinstance(foreign, list):
        raise DataError(path, f"{where}: 'foreignKeys' must be a list")
    for number, item in enumerate(foreign):
        at = f"{where}: foreignKeys[{number}]"
        fields_ok = (
            isinstance(item, dict)
            and isinstance(item.get("fields"), list)
            and len(item["fields"]) == 1
            and item["fields"][0] in names
        )
        reference = item.get("reference") if isinstance(item, dict) else None
        reference_ok = (
            isinstance(reference, dict)
            and isinstance(reference.get("resource"), str)
            and isinstance(reference.get("fields"), list)
            and len(reference["fields"]) == 1
            and isinstance(reference["fields"][0], str)
        )
        if not (fields_ok and reference_ok):
            raise DataError(
                path,
                f"{at} must be {{'fields': [a field of this schema], 'reference': "
                "{'resource': a table name, 'fields': [one of its fields]}}; huaiyin checks "
                "single-field keys",
            )


def _check_constraints(constraints: Any, kind: str, path: Path, where: str) -> None:
    if not isinstance(constraints, dict):
        raise DataError(path, f"{where}: 'constraints' must be an object")
    unknown = [c for c in constraints if c not in CONSTRAINTS]
    if unknown:
        raise DataError(
            path,
            f"{where}: constraint(s) {', '.join(map(repr, unknown))} are not applied by huaiyin; "
            f"use {', '.join(CONSTRAINTS)}",
        )
    for flag in ("required", "unique"):
        if not isinstance(constraints.get(flag, False), bool):
            raise DataError(path, f"{where}: constraint {flag!r} must be true or false")
    enum = constraints.get("enum")
    if enum is not None and (
        not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum)
    ):
        raise DataError(path, f"{where}: 'enum' must be a non-empty list of strings")
    if enum is not None and kind != "string":
        raise DataError(path, f"{where}: 'enum' applies to string fields only")
    pattern = constraints.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise DataError(path, f"{where}: 'pattern' must be a string")
        try:
            re.compile(pattern)
        except re.error as err:
            raise DataError(
                path, f"{where}: pattern {pattern!r} is not a valid regular expression: {err}"
            ) from None
    minimum = constraints.get("minimum")
    if minimum is not None and (
        kind != "number" or isinstance(minimum, bool) or not isinstance(minimum, int | float)
    ):
        raise DataError(path, f"{where}: 'minimum' must be a number, on a number field")


def _check_figure_schemas(package: DataPackage) -> None:
    """The figure tables have what the row rules read, and so does their units table.

    A table with a figure's columns under another schema would escape the row rules, and
    its figures ``load_figures``: it is refused.
    """
    for resource in package.resources.values():
        if resource.schema_ref != FIGURE_SCHEMA and set(RULE_FIELDS) <= set(resource.field_names):
            raise DataError(
                package.folder / DESCRIPTOR,
                f"table {resource.name!r} has the columns of a figure table but not the schema "
                f'{FIGURE_SCHEMA!r}; write "schema": "{FIGURE_SCHEMA}" so that the figure '
                "rules apply and load_figures reads it",
            )
    if not package.figure_tables():
        raise DataError(
            package.folder / DESCRIPTOR,
            f"no table holds figures: a figure table has the schema {FIGURE_SCHEMA!r}",
        )
    for name in package.figure_tables():
        resource = package.resources[name]
        where = f"table {name!r} ({FIGURE_SCHEMA})"
        _needs(package, resource, where, RULE_FIELDS, number="value")
        units = [
            k["reference"]["resource"]
            for k in resource.schema.get("foreignKeys", [])
            if k["fields"] == ["unit"]
        ]
        if not units:
            raise DataError(
                package.folder / DESCRIPTOR,
                f"{where}: 'unit' needs a foreign key to the units table",
            )
        target = package.resources[units[0]]
        _needs(package, target, f"table {target.name!r}", UNIT_FIELDS, number="factor")


def _check_sources(package: DataPackage) -> None:
    """The sources table has what the summary, captions and briefings print of a report."""
    descriptor = package.folder / DESCRIPTOR
    if SOURCES not in package.resources:
        raise DataError(descriptor, f"no table named {SOURCES!r}, which lists the reports")
    _needs(
        package, package.resources[SOURCES], f"table {SOURCES!r}", SOURCE_FIELDS, "huaiyin needs"
    )


def _needs(
    package: DataPackage,
    resource: Resource,
    where: str,
    columns: tuple[str, ...],
    reader: str = "the figure rules need",
    number: str | None = None,
) -> None:
    """``resource`` has each of ``columns`` as a required field, and ``number`` as a number."""
    fields = {f["name"]: f for f in resource.schema["fields"]}
    for column in columns:
        field = fields.get(column)
        if field is None or not field.get("constraints", {}).get("required"):
            raise DataError(
                package.folder / DESCRIPTOR,
                f"{where}: {reader} a required field {column!r}",
            )
    if number is not None and fields[number]["type"] != "number":
        raise DataError(package.folder / DESCRIPTOR, f"{where}: {number!r} must be a number field")


def _check_foreign_keys(package: DataPackage) -> None:
    """Every key points at an existing table and field, and no table depends on itself."""
    descriptor = package.folder / DESCRIPTOR
    edges: dict[str, list[str]] = {}
    for resource in package.resources.values():
        edges[resource.name] = []
        for key in resource.schema.get("foreignKeys", []):
            target, field = key["reference"]["resource"], key["reference"]["fields"][0]
            where = f"table {resource.name!r}: foreign key on {key['fields'][0]!r}"
            if target not in package.resources:
                raise DataError(
                    descriptor,
                    f"{where} refers to table {target!r}, which does not exist; "
                    f"tables: {', '.join(package.resources)}",
                )
            if field not in package.resources[target].field_names:
                raise DataError(
                    descriptor,
                    f"{where} refers to {target}.{field}, which is not a field of {target!r}",
                )
            edges[resource.name].append(target)

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise DataError(
                descriptor, f"foreign keys form a cycle ({cycle}); a table cannot depend on itself"
            )
        for target in edges[name]:
            visit(target, [*trail, name])

    for name in edges:
        visit(name, [])
