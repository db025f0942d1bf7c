"""Rules every figure row obeys beyond its column types: they tie columns to each other.

A Table Schema checks one cell at a time; these rules check that a row is coherent: the id
starts with its source, the kind fits the unit, counts are whole and ranks start at 1, and
value, unit and qualifier say what the printed form says. The loader applies them to every
table that uses the figure schema, so new data gets the same checks as the report's.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd

from huaiyin.printed import parse_printed

__all__ = ["KIND_QUANTITIES", "row_problems"]

# The quantity (units.csv) each kind of figure is measured in.
KIND_QUANTITIES = {
    "level": ("money",),
    "growth": ("percentage",),
    "rank": ("rank",),
    "count": ("count",),
    "target": ("money", "count"),
}


def row_problems(figures: pd.DataFrame, units: pd.DataFrame) -> Iterator[tuple[int, str, str]]:
    """Yield ``(position, column, message)`` for each row that breaks a rule, in row order."""
    quantity = dict(zip(units["unit"].astype(str), units["quantity"].astype(str), strict=True))
    factor = dict(zip(units["unit"].astype(str), units["factor"].astype(float), strict=True))
    columns = ["id", "source_id", "kind", "value", "unit", "qualifier", "printed", "citation"]
    for position, row in enumerate(figures[columns].to_dict("records")):
        problem = _problem({str(k): v for k, v in row.items()}, quantity, factor)
        if problem is not None:
            yield position, *problem


def _problem(
    row: dict[str, Any], quantity: dict[str, str], factor: dict[str, float]
) -> tuple[str, str] | None:
    figure_id, source_id, kind = str(row["id"]), str(row["source_id"]), str(row["kind"])
    value, unit, qualifier = float(row["value"]), str(row["unit"]), str(row["qualifier"])
    printed, citation = str(row["printed"]), str(row["citation"])
    if not figure_id.startswith(f"{source_id}."):
        return "id", (
            f"{figure_id!r} does not start with its source_id {source_id!r} and a dot; "
            f"write {source_id}.<slug>"
        )
    allowed = KIND_QUANTITIES[kind]
    if quantity[unit] not in allowed:
        return "kind", (
            f"a {kind} is measured in {' or '.join(allowed)}, but its unit {unit!r} measures "
            f"{quantity[unit]}; check kind and unit"
        )
    if quantity[unit] == "rank" and (value < 1 or not value.is_integer()):
        return "value", f"{value:g} is not a rank; ranks are whole numbers from 1 (first)"
    if quantity[unit] == "count":
        if value < 0:
            return "value", f"{value:g} is negative; a count cannot be"
        items = Decimal(repr(value)) * Decimal(repr(factor[unit]))
        if items != items.to_integral_value():
            return "value", (
                f"{value:g} {unit} is {items.normalize():f} items, not a whole number; "
                "a count is whole"
            )
    try:
        read = parse_printed(printed)
    except ValueError:
        return "printed", (
            f"{printed!r} cannot be read as a figure; write it as the report prints it: "
            "an optional hedge (近, 超, 突破 or 余), the number and the unit, e.g. 近40个 "
            "or 第三"
        )
    for column, found, expected in zip(
        ("value", "unit", "qualifier"), (value, unit, qualifier), read, strict=True
    ):
        if found != expected:
            shown = f"{found:g}" if isinstance(found, float) else repr(found)
            wanted = f"{expected:g}" if isinstance(expected, float) else repr(expected)
            return column, (
                f"{shown} disagrees with the printed form {printed!r}, which reads as {wanted}"
            )
    if citation.count(printed) != 1:
        return "printed", f"{printed!r} must occur exactly once in the citation {citation!r}"
    return None
