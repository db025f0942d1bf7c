"""Unit conversion: defined once in units.csv, applied by huaiyin.units."""

from __future__ import annotations

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
