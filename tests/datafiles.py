"""Helpers for tests that break a copy of the data: edit one cell or row, catch the error."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

import huaiyin


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


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
