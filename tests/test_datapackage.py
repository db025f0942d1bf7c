"""datapackage.json is valid Frictionless metadata, and describes exactly the CSVs that exist."""

from __future__ import annotations

import csv
import json

import pytest
from frictionless import Package, validate

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
