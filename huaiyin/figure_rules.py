"""Rules every figure row obeys beyond its column types: they tie columns to each other.

A Table Schema checks one cell at a time; these rules check that a row is coherent: the id
starts with its source, the kind fits the unit, counts are whole and ranks start at 1, and
value, unit and qualifier say what the printed form says. The loader applies them to every
table that uses the figure schema, so new data gets the same checks as the report's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from huaiyin.printed import parse_printed

__all__ = ["KIND_QUANTITIES", "first_problem"]

# The quantity (units.csv) each kind of figure is measured in.
KIND_QUANTITIES = {
    "level": ("money",),
    "growth": ("percentage",),
    "rank": ("rank",),
    "count": ("count",),
    "target": ("money", "count"),
}


def first_problem(figures: pd.DataFrame, units: pd.DataFrame) -> tuple[int, str, str] | None:
    """``(position, column, message)`` for the first row that breaks a rule, or None.

    Rows repeat the same units, kinds and printed forms: each distinct combination is
    checked once, and the rows are walked only to find the first one that fails.
    """
    names = units["unit"].tolist()
    quantity = dict(zip(names, units["quantity"].tolist(), strict=True))
    factor = dict(zip(names, map(float, units["factor"].tolist()), strict=True))
    rest = ["kind", "value", "unit", "qualifier", "printed", "citation"]
    combos = list(zip(*(figures[column].tolist() for column in rest), strict=True))
    # Each distinct combination once; the id rule, the only one tied to the row, row by row.
    failing = {
        combo
        for combo in set(combos)
        if _problem(_row("s.x", "s", combo, rest), quantity, factor) is not None
    }
    ids, sources = figures["id"].tolist(), figures["source_id"].tolist()
    prefixes = {source: f"{source}." for source in set(sources)}
    prefixed = list(map(str.startswith, ids, map(prefixes.__getitem__, sources)))
    if not failing and all(prefixed):
        return None
    for position, (figure_id, source, combo) in enumerate(zip(ids, sources, combos, strict=True)):
        if combo in failing or not prefixed[position]:
            problem = _problem(_row(figure_id, source, combo, rest), quantity, factor)
            if problem is not None:
                return position, *problem
    return None


def _row(figure_id: str, source_id: str, combo: tuple[Any, ...], rest: list[str]) -> dict[str, Any]:
    return {"id": figure_id, "source_id": source_id, **dict(zip(rest, combo, strict=True))}


def first_unprefixed_id(rows: pd.DataFrame) -> tuple[int, str, str] | None:
    """``(position, "id", message)`` for the first id that does not start with its source."""
    pairs = zip(rows["id"].astype(str), rows["source_id"].astype(str), strict=True)
    for position, (row_id, source_id) in enumerate(pairs):
        if (problem := _id_problem(row_id, source_id)) is not None:
            return position, "id", problem
    return None


def first_unit_problem(units: pd.DataFrame) -> tuple[int, str, str] | None:
    """``(position, column, message)`` for the first unit row that would convert wrongly.

    Units of one base unit measure one quantity, and a row named like a base unit is that
    base unit (factor 1): otherwise ``convert`` would turn a count into money, or read
    ``yuan`` as two yuan.
    """
    quantity_of: dict[str, str] = {}
    bases = set(units["base_unit"].astype(str))
    rows = zip(
        units["unit"].astype(str),
        units["quantity"].astype(str),
        units["base_unit"].astype(str),
        units["factor"].astype(float),
        strict=True,
    )
    for position, (name, quantity, base, factor) in enumerate(rows):
        known = quantity_of.setdefault(base, quantity)
        if known != quantity:
            return (
                position,
                "quantity",
                (
                    f"{quantity!r} differs from {known!r}, the quantity of the other units in "
                    f"{base!r}; units of one base unit measure one quantity"
                ),
            )
        if name in bases and (base != name or factor != 1):
            return (
                position,
                "factor" if base == name else "base_unit",
                (f"{name!r} is a base unit, so its row must read base_unit {name!r} and factor 1"),
            )
    return None


def _id_problem(row_id: str, source_id: str) -> str | None:
    if row_id.startswith(f"{source_id}."):
        return None
    return (
        f"{row_id!r} does not start with its source_id {source_id!r} and a dot; "
        f"write {source_id}.<slug>"
    )


def _problem(
    row: dict[str, Any], quantity: dict[str, str], factor: dict[str, float]
) -> tuple[str, str] | None:
    figure_id, source_id, kind = str(row["id"]), str(row["source_id"]), str(row["kind"])
    value, unit, qualifier = float(row["value"]), str(row["unit"]), str(row["qualifier"])
    printed, citation = str(row["printed"]), str(row["citation"])
    if (problem := _id_problem(figure_id, source_id)) is not None:
        return "id", problem
    if kind not in KIND_QUANTITIES:
        return "kind", (
            f"{kind!r} has no rule for its unit; huaiyin knows {', '.join(KIND_QUANTITIES)}"
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
