"""Unit conversion: defined once in units.csv, applied by huaiyin.units."""

from __future__ import annotations

import numpy as np
import pytest

import huaiyin
from huaiyin.units import UnitError, convert, to_base, unit


def test_every_unit_converts_to_its_base() -> None:
    for row in huaiyin.load_table("units").itertuples():
        assert to_base(1.0, row.unit) == (row.factor, row.base_unit)


def test_printed_decimals_convert_without_float_noise() -> None:
    assert to_base(50.91, "万人次") == (509100.0, "visit")
    assert to_base(166.72, "亿元") == (16672000000.0, "yuan")
    assert convert(2.2, "万家", "家") == 22000.0
    assert convert(18.8, "万人", "person") == 188000.0
    assert convert(188000.0, "person", "万人") == 18.8


def test_figure_values_convert_to_base_units() -> None:
    gdp = huaiyin.figure("hy2023h1.gdp")
    assert to_base(gdp.value, gdp.unit) == (36550000000.0, "yuan")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("%", "yuan", "cannot convert % (percentage, base unit percent) to yuan (money"),
        ("位", "亿元", "cannot convert 位 (rank, base unit rank) to 亿元 (money"),
        ("家", "人", "cannot convert 家 (count, base unit firm) to 人 (count, base unit person)"),
    ],
)
def test_converting_unlike_quantities_is_an_error(source: str, target: str, message: str) -> None:
    with pytest.raises(UnitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convert(1.0, source, target)


@pytest.mark.bad_input
def test_unknown_unit_lists_the_valid_ones() -> None:
    with pytest.raises(
        UnitError,
        match=r"unknown unit '万元'; valid printed units: 亿元, %, 位, 个, .*; "
        r"base units: yuan, percent, rank, item, .*\. A new unit needs a row",
    ):
        unit("万元")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            "365.5",
            TypeError,
            "a value to convert must be a number, not str '365.5'; write float('365.5') if you "
            "mean that number",
        ),
        (None, TypeError, "a value to convert must be a number, not NoneType None"),
        (True, TypeError, "a value to convert must be a number, not bool True"),
        (float("nan"), UnitError, "cannot convert nan: only finite numbers convert"),
        (float("inf"), UnitError, "cannot convert inf: only finite numbers convert"),
        (1e305, UnitError, "converting 1e+305 gives 1.000e+313, beyond what a float can hold"),
        (
            10**400,
            UnitError,
            "cannot convert a number of 401 digits: it is beyond what a float can hold",
        ),
        (
            10**17 + 1,
            UnitError,
            "cannot convert 100000000000000001: a float holds it only as 1e+17, so digits "
            "would be lost",
        ),
    ],
    ids=["text", "none", "bool", "nan", "inf", "overflow", "huge-int", "inexact-int"],
)
def test_convert_takes_finite_numbers_only(value: object, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        convert(value, "亿元", "yuan")  # type: ignore[arg-type]
    assert str(info.value) == message


def test_convert_accepts_numpy_numbers() -> None:
    assert convert(np.float64(50.91), "万人次", "visit") == 509100.0
    assert convert(np.int64(3), "万家", "家") == 30000.0


@pytest.mark.bad_input
def test_a_result_too_small_for_a_float_is_refused() -> None:
    with pytest.raises(UnitError) as info:
        convert(5e-310, "yuan", "亿元")
    assert str(info.value) == "converting 5e-310 gives 5.000e-318, beyond what a float can hold"
