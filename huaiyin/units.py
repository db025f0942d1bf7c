"""Convert between the units the report prints (亿元, 万人次, …) and base units (yuan, visits, …).

The conversions themselves are data: ``data/units.csv`` gives each printed unit its base unit
and factor. This module only applies them, so a new unit needs a new row, not new code.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real

from huaiyin.tables import load_table, memo

_TINY = sys.float_info.min  # below it a float loses digits (a subnormal)

__all__ = ["Unit", "UnitError", "convert", "to_base", "unit"]


class UnitError(ValueError):
    """A unit is unknown, or cannot be converted to the unit asked for."""


@dataclass(frozen=True)
class Unit:
    """A unit as printed, with its quantity and its conversion to the base unit."""

    unit: str
    quantity: str
    base_unit: str
    factor: float
    name_en: str


def _units() -> dict[str, Unit]:
    # Built once per version of the data: derived figures look units up many times.
    return memo("units", _read_units)  # type: ignore[no-any-return]


def _read_units() -> dict[str, Unit]:
    records = load_table("units").to_dict("records")
    return {
        str(r["unit"]): Unit(
            str(r["unit"]),
            str(r["quantity"]),
            str(r["base_unit"]),
            float(r["factor"]),
            str(r["name_en"]),
        )
        for r in records
    }


def unit(name: str) -> Unit:
    """Look up a printed unit or a base unit by name.

    Examples
    --------
    >>> unit("亿元").factor
    100000000.0
    >>> unit("yuan").unit, unit("yuan").factor
    ('yuan', 1.0)
    """
    if not isinstance(name, str):
        raise TypeError(f"a unit is named by a string such as '亿元', not {type(name).__name__}")
    units = _units()
    if name in units:
        return units[name]
    for known in units.values():
        if known.base_unit == name:
            return Unit(name, known.quantity, name, 1.0, name)
    bases = dict.fromkeys(u.base_unit for u in units.values())
    raise UnitError(
        f"unknown unit {name!r}; valid printed units: {', '.join(units)}; "
        f"base units: {', '.join(bases)}. A new unit needs a row in units.csv"
    )


def to_base(value: float, printed_unit: str) -> tuple[float, str]:
    """Express ``value`` in its base unit: ``(value × factor, base unit)``.

    Examples
    --------
    >>> to_base(365.5, "亿元")
    (36550000000.0, 'yuan')
    >>> to_base(50.91, "万人次")
    (509100.0, 'visit')
    """
    source = unit(printed_unit)
    return _scale(value, source.factor, 1.0), source.base_unit


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` between two units that measure the same thing.

    Raises
    ------
    UnitError
        If either unit is unknown, or the two have different base units (a percentage or a
        rank converts to nothing but itself; firms do not convert to persons).

    Examples
    --------
    >>> convert(2.2, "万家", "家")
    22000.0
    >>> convert(6.4, "%", "yuan")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    huaiyin.units.UnitError: cannot convert % (percentage, base unit percent) to yuan ...
    """
    source, target = unit(from_unit), unit(to_unit)
    if source.base_unit != target.base_unit:
        raise UnitError(
            f"cannot convert {source.unit} ({source.quantity}, base unit {source.base_unit}) "
            f"to {target.unit} ({target.quantity}, base unit {target.base_unit}); "
            "units convert only within the same base unit"
        )
    return _scale(value, source.factor, target.factor)


def _scale(value: float, multiply: float, divide: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"a value to convert must be a number, not {type(value).__name__} {value!r}"
            + (
                f"; write float({value!r}) if you mean that number"
                if isinstance(value, str)
                else ""
            )
        )
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the largest float
        raise UnitError(
            f"cannot convert a number of {len(str(abs(int(value))))} digits: it is beyond "
            "what a float can hold"
        ) from None
    if not finite:
        raise UnitError(f"cannot convert {value!r}: only finite numbers convert")
    if isinstance(value, Integral) and float(value) != value:
        raise UnitError(
            f"cannot convert {value}: a float holds it only as {float(value):.17g}, so "
            "digits would be lost"
        )
    # Decimal arithmetic on the printed digits: 50.91万 is 509100 visits, not 509099.99999999994.
    exact = Decimal(repr(float(value))) * Decimal(repr(multiply)) / Decimal(repr(divide))
    result = float(exact)
    if not math.isfinite(result) or (result == 0 and exact != 0) or 0 < abs(result) < _TINY:
        raise UnitError(f"converting {value!r} gives {exact:.3e}, beyond what a float can hold")
    return result
