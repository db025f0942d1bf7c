"""Reader tables: what a briefing reader sees of figures and derived figures."""

from __future__ import annotations

import math

import pytest

import huaiyin
from huaiyin import derive, glossary, present


def test_periods_read_as_words() -> None:
    assert [present.period_words(p) for p in ("2023H1", "2023YTD", "unstated", "2023")] == [
        "H1 2023",
        "2023, year to date",
        "not stated",
        "2023",
    ]
    assert present.period_words("2023H1 / unstated") == "H1 2023 and not stated"


def test_an_unknown_period_code_is_named() -> None:
    with pytest.raises(ValueError, match=r"period '2023Q3' is not one of YYYY, YYYYH1"):
        present.period_words("2023Q3")


def test_figures_show_their_printed_form_and_no_internal_words() -> None:
    table = present.figures_table(huaiyin.load_figures())
    text = repr(table)
    for printed in ("365.5亿元", "超220万人次", "近30亿元", "第三", "6.4%"):
        assert printed in text
    for internal in ("hy2023h1.", "more_than", "nearly", "unstated", "2023YTD", "2023H1", "NaN"):
        assert internal not in text, internal
    assert "H1 2023" in text and "not stated" in text and "year to date" in text
    # The HTML carries the same rows, and the ids only in an attribute no reader sees.
    page = table._repr_html_()
    assert 'data-figures="hy2023h1.gdp"' in page
    assert ">365.5<span" in page and ">H1 2023</td>" in page


def test_chinese_names_are_kept_on_one_line_in_html() -> None:
    page = present.figures_table([huaiyin.figure("hy2023h1.gdp")])._repr_html_()
    assert '<span style="white-space: nowrap">全区生产总值</span>' in page


def test_derived_values_are_rounded_as_stated_and_keep_their_direction() -> None:
    per_visit = derive.per_unit(
        "hy2023h1.exhibition_consumption",
        "hy2023h1.exhibition_visitors",
        unit_of_total="yuan",
        per="visit",
    )
    table = present.derived_table({"spend per visit": per_visit}, decimals=0)
    assert table.rows == (("spend per visit", "<1,364 yuan/visit", "H1 2023"),)
    # The note names only the signs the table shows, and says how a bound is rounded.
    assert table.note == (
        "Rounded to whole numbers. < under: where the true value lies; a bound is rounded so "
        "that it stays true."
    )
    two = present.derived_table({"spend per visit": per_visit}, decimals=2)
    assert two.rows[0][1] == "<1,363.64 yuan/visit"
    assert two.note.startswith("Rounded to 2 decimal places.")
    assert two.figures == (("hy2023h1.exhibition_consumption", "hy2023h1.exhibition_visitors"),)


def test_exact_derived_values_carry_no_hedge_note() -> None:
    prior = derive.implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth")
    table = present.derived_table({"GDP a year earlier": prior})
    assert table.rows == (("GDP a year earlier", "343.5亿元", "H1 2022"),)
    assert table.note == "Rounded to 1 decimal place."


@pytest.mark.bad_input
def test_a_derived_value_no_reader_can_read_is_refused() -> None:
    broken = derive.Derived(math.nan, "亿元", "exact", ("x",), "2023H1", "", "")
    with pytest.raises(ValueError, match="derived value nan is not a number a reader can read"):
        present.derived_table({"broken": broken})


@pytest.mark.bad_input
def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match=r"row \('a',\) has 1 cells for 2"):
        present.ReaderTable(("A", "B"), (("a",),))


def test_text_form_aligns_chinese_by_its_display_width() -> None:
    table = present.ReaderTable(("Name", "Value"), (("全区", "1"), ("GDP", "2")))
    assert repr(table).splitlines() == ["Name  Value", "全区  1", "GDP   2"]


def test_indicators_put_level_growth_and_rank_side_by_side() -> None:
    table = present.indicators_table(huaiyin.load_figures(), ["budget_revenue", "car_sales"])
    assert table.rows == (
        ("一般公共预算收入 General public budget revenue", "28.4亿元", "16.4%", "第六", "H1 2023"),
        (
            "限上汽车销售企业销售额 Sales of car dealers above designated size",
            "166.72亿元",
            "13.31%",
            "—",
            "2023, year to date",
        ),
    )


@pytest.mark.bad_input
def test_an_unknown_indicator_is_named() -> None:
    with pytest.raises(ValueError, match="no figures for indicator 'GDP'"):
        present.indicators_table(huaiyin.load_figures(), ["GDP"])


def test_bounds_are_rounded_outward_so_the_hedge_stays_true() -> None:
    per_exhibition = derive.per_unit("hy2023h1.exhibition_visitors", "hy2023h1.exhibitions")
    assert per_exhibition.qualifier == "more_than" and 5.116 < per_exhibition.value < 5.117
    table = present.derived_table({"visits": per_exhibition}, decimals=2)
    assert table.rows[0][1] == ">5.11万人次/场"  # not >5.12: 5.116万 is not more than 5.12万
    assert present.bound_number(1363.636, "nearly", 0) == "1,364"
    assert present.bound_number(1363.636, "more_than", 0) == "1,363"
    assert present.bound_number(0.925, "exact", 2) == "0.93"  # half up, as readers round


def test_rows_may_have_their_own_precision_and_large_percentages_read_as_times() -> None:
    results = {
        "exhibitors": derive.per_unit(
            "hy2023h1.exhibitors", "hy2023h1.exhibitions", unit_of_total="家"
        ),
        "visits": derive.ratio("hy2023h1.impression_jinan_visitors", "hy2023h1.fantawild_visitors"),
    }
    table = present.derived_table(results, decimals={"exhibitors": 0, "visits": 1})
    assert [row[1] for row in table.rows] == ["512家/场", ">19.6 times"]
    assert table.note.startswith("Rounded to whole numbers or 1 decimal place.")


def test_a_name_that_says_its_scope_and_kind_is_not_repeated() -> None:
    rows = present.figures_table(
        [
            huaiyin.figure("hy2023h1.impression_jinan_visitors"),
            huaiyin.figure("hy2023h1.west_station_trains"),
            huaiyin.figure("hy2023h1.medical_centre_investment_target"),
        ]
    ).rows
    assert [row[0] for row in rows] == [
        "印象济南客流量 Visitors to Impression Jinan",
        "济南西站每天高铁趟数 High-speed trains per day at Jinan West",
        "医学中心年度投资目标 Annual investment target of the medical centre",
    ]


def test_a_table_of_whole_values_states_no_rounding() -> None:
    recruited = derive.total("hy2023h1.doctorates", "hy2023h1.masters")
    table = present.derived_table({"recruited": recruited}, decimals=0)
    assert (table.rows[0][1], table.note) == ("112人", "")


def test_the_chinese_edition_writes_tables_as_chinese_publications_do() -> None:
    per_visit = derive.per_unit(
        "hy2023h1.exhibition_consumption", "hy2023h1.exhibition_visitors", "yuan", "visit"
    )
    prior = derive.implied_prior_level("hy2023h1.car_sales", "hy2023h1.car_sales_growth")
    with glossary.edition("zh"):
        figures = present.figures_table(
            [huaiyin.figure("hy2023h1.gdp_growth"), huaiyin.figure("hy2023h1.west_station_trains")]
        )
        derived = present.derived_table(
            {"每人次拉动消费": per_visit, "限上汽车销售额（上年同期）": prior},
            decimals={"每人次拉动消费": -2, "限上汽车销售额（上年同期）": 1},
        )
    assert figures.columns == ("指标", "数值", "时期")
    assert figures.rows == (
        ("全区生产总值增速", "6.4%", "2023年上半年"),
        ("济南西站每天高铁趟数", "388趟", "未注明"),
    )
    # A hedge as a word, no thousands separator, Chinese units, and 同期 for a year back.
    assert derived.rows == (
        ("每人次拉动消费", "不足1400元/人次", "2023年上半年"),
        ("限上汽车销售额（上年同期）", "147.1亿元", "2022年同期"),
    )
    assert derived.note == (
        "取整到百位或保留一位小数。“不足”表示实际值小于所示数值，所示数值向上进位。"
        "舍入后表述仍然成立。"
    )
    assert glossary.language() == "en"  # the edition ends with the block
