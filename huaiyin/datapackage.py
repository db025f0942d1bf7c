"""Find the data folder and read its Frictionless descriptor, ``datapackage.json``.

The descriptor is the single place where tables, columns, types and allowed values are
declared; everything else (the loader, the data dictionary, the tests) reads it from here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_ENV = "HUAIYIN_DATA"
DESCRIPTOR = "datapackage.json"
FIGURE_SCHEMA = "figure.schema.json"


def data_dir() -> Path:
    """Return the folder holding ``datapackage.json`` and the CSV tables.

    Looked up, in order: the ``HUAIYIN_DATA`` environment variable; the data shipped
    inside an installed wheel (``huaiyin/_data``); the ``data/`` folder of a source
    checkout. Never the working directory.
    """
    override = os.environ.get(DATA_ENV)
    if override:
        path = Path(override).expanduser().resolve()
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


def read_datapackage(folder: Path | None = None) -> DataPackage:
    """Parse the descriptor in ``folder`` (default: :func:`data_dir`), resolving shared schemas."""
    # Not cached: the descriptor is small, and a cache would hide edits made mid-session.
    folder = folder or data_dir()
    descriptor_path = folder / DESCRIPTOR
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    resources = {}
    for entry in descriptor["resources"]:
        schema = entry["schema"]
        ref = schema if isinstance(schema, str) else None
        if ref is not None:
            schema = json.loads((folder / ref).read_text(encoding="utf-8"))
        resources[entry["name"]] = Resource(
            name=entry["name"],
            title=entry.get("title", entry["name"]),
            description=entry.get("description", ""),
            path=folder / entry["path"],
            schema=schema,
            schema_ref=ref,
        )
    return DataPackage(folder=folder, descriptor=descriptor, resources=resources)
