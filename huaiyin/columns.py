"""Check and type one column of a table against its Table Schema field.

A column is checked on its distinct values, each once: data files repeat the same units,
kinds, periods and sources thousands of times, so this is what keeps validation close to the
cost of reading the file. Only when a value is bad is the column walked row by row, to name
the first row that holds it, with the message the cell rules give.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import unicodedata
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from huaiyin.text import describe, find_hidden, shorten

__all__ = ["Problem", "all_valid", "cell_problem", "typed"]

Problem = str | None

# Numbers are ASCII digits with an optional sign and decimal point: never another script's
# digits, which Python's float() would quietly accept.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Arabic decimal and thousands separators, middle dots and the minus signs.
_NUMBER_MARKS = "\u066b\u066c\u00b7\u2027\u2212\ufe63"
# A float holds 15 significant decimal digits exactly; more would be rounded without a word.
_MAX_DIGITS = 15


def cell_problem(cell: str, kind: str, constraints: dict[str, Any], hidden: bool = True) -> Problem:
    """What is wrong with one cell under its field's type and constraints, or None.

    ``hidden=False`` skips the search for hidden characters, for a file known to hold none.
    """
    found = find_hidden(cell) if hidden else None
    if found:
        return (
            f"{shorten(repr(cell), 80)} holds {describe(found[1])} at character "
            f"{found[0] + 1}; remove it (cells hold visible text on one line)"
        )
    if cell.strip() == "":
        return "is blank, but this column is required" if constraints.get("required") else None
    if kind == "number":
        problem = _number_problem(cell)
    elif kind == "date":
        problem = _date_problem(cell)
    else:
        problem = None
    if problem:
        return problem
    if "enum" in constraints and cell not in constraints["enum"]:
        return (
            f"{shorten(repr(cell), 80)} is not an allowed value; valid: "
            f"{', '.join(map(str, constraints['enum']))}"
        )
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], cell):
        return f"{shorten(repr(cell), 80)} does not match the pattern {constraints['pattern']!r}"
    if "minimum" in constraints and float(cell) < constraints["minimum"]:
        return f"{cell!r} is below the minimum {constraints['minimum']}"
    return None


def all_valid(distinct: list[str], kind: str, constraints: dict[str, Any]) -> bool:
    """A fast yes for a column of plain text values that meet their constraints.

    For a file already known to hold no hidden character; a no says only that
    :func:`cell_problem` must look at each value.
    """
    if kind != "string":
        return False
    values = distinct
    if constraints.get("required") and not all(map(str.strip, values)):
        return False
    values = [v for v in values if v.strip()] if not constraints.get("required") else values
    if "enum" in constraints and not set(values) <= set(constraints["enum"]):
        return False
    if "pattern" in constraints:
        matches = re.compile(constraints["pattern"]).fullmatch
        return all(map(matches, values))
    return True


def typed(
    codes: np.ndarray,
    distinct: list[str],
    blanks: set[str],
    kind: str,
    categories: list[str] | None,
) -> Any:
    """The column as loaded: floats, dates, categories or strings; blank cells missing.

    The column is given factorized: ``distinct`` are its distinct values, which must have
    passed :func:`cell_problem`, and ``codes`` says which one each cell holds. Each distinct
    value is converted once and the conversions spread to the rows, so a column of 58,000
    cells costs about what its few hundred distinct values do.
    """
    if kind == "number":
        numbers = np.array([np.nan if c in blanks else float(c) for c in distinct])[codes]
        if not blanks:
            return numbers
        # The nullable Float64 keeps blanks of an optional column visible as <NA>, not NaN.
        return pd.arrays.FloatingArray(numbers, np.isnan(numbers))
    if kind == "date":
        # Days straight to NumPy's datetime64, at the second resolution pandas gives dates:
        # pd.to_datetime would infer a format first, at about 0.4 ms on its first call.
        days = [
            np.datetime64("NaT") if cell in blanks else np.datetime64(cell) for cell in distinct
        ]
        return pd.Series(np.array(days, dtype="datetime64[s]")[codes])
    if categories is not None:
        position = {category: i for i, category in enumerate(categories)}
        lookup = np.array([position.get(c, -1) for c in distinct], dtype=np.intp)
        return pd.Categorical.from_codes(lookup[codes], dtype=_categories(tuple(categories)))
    texts = np.array(distinct, dtype=object)[codes]
    if blanks:
        texts[np.isin(codes, [i for i, c in enumerate(distinct) if c in blanks])] = None
    return pd.array(texts, dtype="string")


@functools.lru_cache(maxsize=64)
def _categories(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """One dtype per set of categories: the figure tables share theirs, and a dtype checks
    its categories when made. Dtypes are immutable, so sharing one is safe."""
    return pd.CategoricalDtype(list(categories))


def _foreign_number_char(cell: str) -> str | None:
    """The first character that looks like part of a number but is not ASCII."""
    for char in cell:
        if char.isascii():
            continue
        # Digits, numerals, dashes and spaces of any script, and the marks that stand for a
        # decimal point or a sign in some scripts: each looks like part of a number.
        folded = unicodedata.normalize("NFKC", char)
        looks_numeric = folded in set("0123456789.,+-") or char in _NUMBER_MARKS
        if unicodedata.category(char) in {"Nd", "Nl", "No", "Pd", "Zs"} or looks_numeric:
            return char
    return None


def _number_problem(cell: str) -> Problem:
    shown = shorten(repr(cell), 40)
    if _NUMBER.fullmatch(cell):
        digits = cell.lstrip("-").replace(".", "").lstrip("0")
        if len(digits.rstrip("0") if "." not in cell else digits) > _MAX_DIGITS:
            return (
                f"{shown} has more than {_MAX_DIGITS} significant digits, more than a number "
                "here can hold without rounding"
            )
        value = float(cell)
        # Below the smallest normal float, digits are lost without a word; zero is fine.
        if not math.isfinite(value) or (digits and abs(value) < sys.float_info.min):
            return f"{shown} is too large or too small for a number"
        return None
    if _GROUPED_NUMBER.fullmatch(cell):
        return (
            f"{cell!r} has thousands separators; write it without them, "
            f"e.g. {cell.replace(',', '')}"
        )
    foreign = _foreign_number_char(cell)
    if foreign is not None:
        return (
            f"{shown} is not a number: it holds {describe(foreign)}; write numbers with the "
            "ASCII digits 0-9, an optional '-' and '.', e.g. 365.5"
        )
    return f"{shown} is not a number; write digits with an optional decimal point, e.g. 365.5"


def _date_problem(cell: str) -> Problem:
    if not _DATE.fullmatch(cell):
        return f"{shorten(repr(cell), 80)} is not a date; write YYYY-MM-DD"
    try:
        date.fromisoformat(cell)
    except ValueError as err:  # written right, but no such day: 2023-02-29, 2023-13-01
        return f"{cell!r} is not a day of the calendar ({err})"
    return None
