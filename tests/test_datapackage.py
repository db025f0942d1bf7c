"""datapackage.json is valid Frictionless metadata, and describes exactly the CSVs that exist."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from datafiles import error_of
from frictionless import Package, validate

import huaiyin
from huaiyin.__main__ import main as cli
from huaiyin.datapackage import DESCRIPTOR, read_datapackage

PACKAGE = read_datapackage()
DATA = PACKAGE.folder


def test_package_validates_with_frictionless() -> None:
    report = validate(str(DATA / DESCRIPTOR))
    errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.valid, f"frictionless found {len(errors)} error(s): {errors[:20]}"


def test_frictionless_sees_every_table_and_its_keys() -> None:
    package = Package(str(DATA / DESCRIPTOR))
    assert [r.name for r in package.resources] == list(PACKAGE.resources)
    for resource in package.resources:
        assert resource.schema.primary_key, f"{resource.name} has no primary key"
    for name in PACKAGE.figure_tables():
        keys = package.get_resource(name).schema.foreign_keys
        targets = {k["reference"]["resource"] for k in keys}
        assert targets == {"sources", "units"}, name


def test_frictionless_catches_a_bad_row(tmp_path) -> None:
    """The validation above can fail: a broken copy of the data is reported row by row."""
    for path in DATA.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    economy = tmp_path / "economy.csv"
    rows = list(csv.reader(economy.open(encoding="utf-8", newline="")))
    header = rows[0]
    rows[1][header.index("value")] = "36x5.5"
    rows[2][header.index("unit")] = "亿圆"
    rows[3][header.index("id")] = rows[1][header.index("id")]
    with economy.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    report = validate(str(tmp_path / DESCRIPTOR))
    types = {(e[0], e[1]) for e in report.flatten(["rowNumber", "type"])}
    assert {(2, "type-error"), (3, "foreign-key"), (4, "primary-key")} <= types


@pytest.mark.parametrize("name", list(PACKAGE.resources))
def test_every_column_is_described_and_nothing_described_is_absent(name: str) -> None:
    resource = PACKAGE.resources[name]
    with resource.path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    described = resource.field_names
    assert [c for c in header if c not in described] == [], "columns not in datapackage.json"
    assert [c for c in described if c not in header] == [], "described columns not in the CSV"
    assert header == described, "column order differs from datapackage.json"


def test_every_file_in_data_is_part_of_the_package() -> None:
    listed = {r.path.name for r in PACKAGE.resources.values()}
    schemas = {r.schema_ref for r in PACKAGE.resources.values() if r.schema_ref}
    present = {p.name for p in DATA.iterdir() if p.is_file()}
    assert present == listed | schemas | {DESCRIPTOR}


def test_every_table_and_column_has_a_title_and_description() -> None:
    descriptor = json.loads((DATA / DESCRIPTOR).read_text(encoding="utf-8"))
    for entry in descriptor["resources"]:
        assert entry.get("title") and entry.get("description"), entry["name"]
    for resource in PACKAGE.resources.values():
        for field in resource.schema["fields"]:
            assert field.get("title") and field.get("description"), (resource.name, field["name"])


# Bad descriptors: every one is a DataError naming datapackage.json (or the schema file) and
# the key, from the API and from the command line alike; nothing outside the folder is read.
SECRET = "root:x:0:0:a line that must never be quoted"


def edit_descriptor(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / DESCRIPTOR
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8")


def edit_schema(folder: Path, old: str, new: str) -> None:
    path = folder / "figure.schema.json"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in descriptor["resources"] if r["name"] == name]
    return found


def outside_file(folder: Path) -> Path:
    secret = folder.parent / f"{folder.name}-outside.csv"
    secret.write_text(f"{SECRET}\n{SECRET},more\n", encoding="utf-8")
    return secret


OUTSIDE = (
    "is not a file inside the data folder {folder}; paths must be relative, without '..', "
    "and may not lead outside it through a link"
)
DESCRIPTOR_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "parent-path",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "economy").update(path=f"../{outside_file(f).name}")
        ),
        "{descriptor}: resources[3] ('economy'): path '../{folder.name}-outside.csv' " + OUTSIDE,
    ),
    (
        "absolute-path",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "economy").update(path=str(outside_file(f)))
        ),
        "{descriptor}: resources[3] ('economy'): path '{folder.parent}/{folder.name}-outside.csv' "
        + OUTSIDE,
    ),
    (
        "url-path",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "economy").update(path="https://example.com/economy.csv")
        ),
        "{descriptor}: resources[3] ('economy'): path 'https://example.com/economy.csv' " + OUTSIDE,
    ),
    (
        "symlink-out",
        lambda f: ((f / "economy.csv").unlink(), (f / "economy.csv").symlink_to(outside_file(f))),
        "{descriptor}: resources[3] ('economy'): path 'economy.csv' " + OUTSIDE,
    ),
    (
        "schema-outside",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "talent").update(schema="../figure.schema.json")
        ),
        "{descriptor}: resources[6] ('talent'): schema: path '../figure.schema.json' " + OUTSIDE,
    ),
    (
        "schema-absolute",
        lambda f: edit_descriptor(f, lambda d: resource(d, "talent").update(schema="/etc/passwd")),
        "{descriptor}: resources[6] ('talent'): schema: path '/etc/passwd' " + OUTSIDE,
    ),
    (
        "duplicate-name",
        lambda f: edit_descriptor(f, lambda d: resource(d, "talent").update(name="economy")),
        "{descriptor}: resources[6] ('economy'): the name 'economy' is already used by another "
        "resource; resource names must be unique",
    ),
    (
        "invalid-json",
        lambda f: (f / DESCRIPTOR).write_text('{"resources": [', encoding="utf-8"),
        "{descriptor}: is not valid JSON: Expecting value at line 1, column 16",
    ),
    (
        "bom",
        lambda f: (f / DESCRIPTOR).write_bytes(b"\xef\xbb\xbf" + (f / DESCRIPTOR).read_bytes()),
        "{descriptor}: starts with a UTF-8 byte-order mark, which JSON does not allow; save it "
        "as UTF-8 without BOM",
    ),
    (
        "duplicate-key",
        lambda f: (f / DESCRIPTOR).write_text('{"resources": [], "resources": []}'),
        "{descriptor}: is not valid JSON: the key 'resources' appears twice in one object",
    ),
    (
        "missing-resources",
        lambda f: edit_descriptor(f, lambda d: d.pop("resources")),
        "{descriptor}: 'resources' is missing or not a non-empty list; it lists the tables, each "
        "with a name, a path and a schema",
    ),
    (
        "missing-schema",
        lambda f: edit_descriptor(f, lambda d: resource(d, "units").pop("schema")),
        "{descriptor}: resources[1] ('units'): 'schema' is missing",
    ),
    (
        "missing-path",
        lambda f: edit_descriptor(f, lambda d: resource(d, "units").pop("path")),
        "{descriptor}: resources[1] ('units'): 'path' is missing",
    ),
    (
        "invalid-regex",
        lambda f: edit_schema(f, '"[a-z][a-z0-9_]*"', '"[a-z"'),
        "{folder}/figure.schema.json: schema: field 'indicator': pattern '[a-z' is not a valid "
        "regular expression: unterminated character set at position 0",
    ),
    (
        "unknown-foreign-table",
        lambda f: edit_schema(f, '"resource": "units"', '"resource": "unit"'),
        "{descriptor}: table 'economy': foreign key on 'unit' refers to table 'unit', which does "
        "not exist; tables: sources, units, programmes, economy, projects, tourism, talent, "
        "governance",
    ),
    (
        "unknown-constraint",
        lambda f: edit_descriptor(
            f,
            lambda d: resource(d, "units")["schema"]["fields"][0]["constraints"].update(
                maxLength=3
            ),
        ),
        "{descriptor}: resources[1] ('units'): schema: field 'unit': constraint(s) 'maxLength' "
        "are not applied by huaiyin; use required, unique, enum, pattern, minimum",
    ),
    (
        "not-a-table",
        lambda f: (
            (f / ".env").write_text(f"API_KEY=secret\n{SECRET},x\n"),
            edit_descriptor(f, lambda d: resource(d, "programmes").update(path=".env")),
        ),
        "{descriptor}: resources[2] ('programmes'): path '.env' is not a .csv file; a resource "
        "is a CSV table",
    ),
    (
        "descriptor-as-table",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "programmes").update(path="datapackage.json")
        ),
        "{descriptor}: resources[2] ('programmes'): path 'datapackage.json' is not a .csv file; "
        "a resource is a CSV table",
    ),
    (
        "one-file-two-tables",
        lambda f: edit_descriptor(f, lambda d: resource(d, "talent").update(path="./economy.csv")),
        "{descriptor}: resources[6] ('talent'): path './economy.csv' is the file of table "
        "'economy' too; each table has a file of its own",
    ),
    (
        "schema-is-a-pipe",
        lambda f: (
            os.mkfifo(f / "pipe.json"),
            edit_descriptor(f, lambda d: resource(d, "economy").update(schema="pipe.json")),
        ),
        "{folder}/pipe.json: is not a regular file",
    ),
    (
        "near-duplicate-name",
        lambda f: edit_descriptor(f, lambda d: resource(d, "talent").update(name="economy ")),
        "{descriptor}: resources[6] ('economy '): a resource name is lowercase letters, digits, "
        "'.', '-' and '_'",
    ),
    (
        "hidden-in-description",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "units").update(description="Units\u202e evil")
        ),
        "{descriptor}: resources[1].description: 'Units\\u202e evil' holds the character U+202E "
        "(RIGHT-TO-LEFT OVERRIDE); remove it",
    ),
    (
        "misspelt-constraints",
        lambda f: edit_descriptor(
            f,
            lambda d: resource(d, "units")["schema"]["fields"][3].update(
                constraint={"minimum": 1000}
            ),
        ),
        "{descriptor}: resources[1] ('units'): schema: field 'factor': key(s) 'constraint' are "
        "not read by huaiyin (a misspelling?); it reads bareNumber, constraints, decimalChar, "
        "description, example, format, groupChar, name, title, type",
    ),
    (
        "semicolon-dialect",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "units").update(dialect={"delimiter": ";"})
        ),
        "{descriptor}: resources[1] ('units'): dialect 'delimiter': ';' is not read by huaiyin; "
        "it reads comma-separated tables with a header row and double quotes",
    ),
    (
        "optional-value",
        lambda f: edit_schema(
            f,
            '"description": "The number as printed, in the printed unit (365.5 for 365.5亿元; '
            '3 for 第三; 1000 for 千万人次 in 万人次).",\n      "constraints": {\n        '
            '"required": true\n      }',
            '"description": "The number as printed.",\n      "constraints": {}',
        ),
        "{descriptor}: table 'economy' (figure.schema.json): the figure rules need a required "
        "field 'value'",
    ),
    (
        "figure-columns-inline-schema",
        lambda f: edit_descriptor(
            f,
            lambda d: resource(d, "economy").update(
                schema=json.loads((f / "figure.schema.json").read_text(encoding="utf-8"))
            ),
        ),
        "{descriptor}: table 'economy' has the columns of a figure table but not the schema "
        '\'figure.schema.json\'; write "schema": "figure.schema.json" so that the figure '
        "rules apply and load_figures reads it",
    ),
    (
        "unchecked-hash",
        lambda f: edit_descriptor(f, lambda d: resource(d, "economy").update(hash="sha256:00")),
        "{descriptor}: resources[3] ('economy'): key(s) 'hash' are not read by huaiyin (a "
        "misspelling?); it reads description, dialect, encoding, example, format, "
        "homepage, licenses, mediatype, name, path, profile, schema, sources, title",
    ),
    (
        "minimum-beyond-float",
        lambda f: edit_schema(
            f, '"required": true\n      }', '"required": true,\n        "minimum": 1e400\n      }'
        ),
        "{folder}/figure.schema.json: is not valid JSON: the number 1e400 is beyond what a "
        "float can hold",
    ),
    (
        "link-loop",
        lambda f: (
            (f / "loop.csv").symlink_to("loop.csv"),
            edit_descriptor(f, lambda d: resource(d, "economy").update(path="loop.csv")),
        ),
        "{descriptor}: resources[3] ('economy'): path 'loop.csv' cannot be followed: "
        "Symlink loop from '{folder}/loop.csv'",
    ),
    (
        "nested-too-deep",
        lambda f: (f / DESCRIPTOR).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"),
        "{descriptor}: nests arrays or objects too deeply to read; a descriptor needs a few levels",
    ),
    (
        "no-figure-tables",
        lambda f: edit_descriptor(
            f,
            lambda d: d.update(
                resources=[r for r in d["resources"] if r["schema"] != "figure.schema.json"]
            ),
        ),
        "{descriptor}: no table holds figures: a figure table has the schema 'figure.schema.json'",
    ),
    (
        "sources-without-reporter",
        lambda f: edit_descriptor(
            f,
            lambda d: resource(d, "sources")["schema"]["fields"][3]["constraints"].clear(),
        ),
        "{descriptor}: table 'sources': huaiyin needs a required field 'reporter'",
    ),
    (
        "no-sources-table",
        lambda f: (
            edit_schema(f, '"resource": "sources"', '"resource": "reports"'),
            (f / DESCRIPTOR).write_text(
                (f / DESCRIPTOR).read_text(encoding="utf-8").replace('"sources"', '"reports"'),
                encoding="utf-8",
            ),
        ),
        "{descriptor}: no table named 'sources', which lists the reports",
    ),
    (
        "unknown-type",
        lambda f: edit_descriptor(
            f, lambda d: resource(d, "units")["schema"]["fields"][3].update(type="integer")
        ),
        "{descriptor}: resources[1] ('units'): schema: field 'factor': type 'integer' is not one "
        "huaiyin loads; use string, number, date",
    ),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("change", "message"),
    [c[1:] for c in DESCRIPTOR_CASES],
    ids=[c[0] for c in DESCRIPTOR_CASES],
)
def test_bad_descriptor(
    data_copy: Path,
    change: Callable[[Path], None],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change(data_copy)
    expected = message.format(folder=data_copy, descriptor=data_copy / DESCRIPTOR)
    for call in (huaiyin.list_tables, lambda: huaiyin.load_table("economy"), huaiyin.load_figures):
        assert error_of(call) == expected
    for command in ("summary", "dictionary"):
        assert cli([command]) == 1, command
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"error: {expected}\n"), command
    assert SECRET not in expected


def test_a_schema_path_is_read_as_written_the_short_way(data_copy: Path) -> None:
    """./figure.schema.json is the figure schema: its tables keep the figure rules."""
    edit_descriptor(
        data_copy, lambda d: resource(d, "economy").update(schema="./figure.schema.json")
    )
    assert len(huaiyin.load_figures()) == 58
