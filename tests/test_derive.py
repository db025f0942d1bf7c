"""Derived figures: values computed from the data, and the report's hedges carried honestly."""

from __future__ import annotations

import dataclasses
import re

import pytest

import huaiyin
from huaiyin.derive import Derived, implied_prior_level, per_unit, propagate, ratio


def hedged(figure_id: str, qualifier: str) -> huaiyin.Figure:
    """A real figure with its qualifier changed, to exercise every propagation case."""
    return dataclasses.replace(huaiyin.figure(figure_id), qualifier=qualifier)


def level_growth_pairs() -> list[tuple[str, str]]:
    figures = huaiyin.load_figures()
    levels = figures[figures["kind"].isin(["level", "count"])]
    growths = figures[figures["kind"] == "growth"]
    pairs = levels.merge(growths, on=["source_id", "indicator", "period", "scope_en"])
    return list(zip(pairs["id_x"], pairs["id_y"], strict=True))


def test_every_level_with_a_growth_rate_is_paired() -> None:
    pairs = level_growth_pairs()
    assert ("hy2023h1.gdp", "hy2023h1.gdp_growth") in pairs
    assert len(pairs) == 4  # GDP, budget revenue, car sales, venue revenue


@pytest.mark.parametrize(("level", "growth"), level_growth_pairs())
def test_implied_prior_level(level: str, growth: str) -> None:
    result = implied_prior_level(level, growth)
    lvl, gr = huaiyin.figure(level), huaiyin.figure(growth)
    assert result.value == pytest.approx(lvl.value / (1 + gr.value / 100))
    assert (result.unit, result.inputs, result.qualifier) == (lvl.unit, (level, growth), "exact")
    assert result.period == f"{int(lvl.period[:4]) - 1}{lvl.period[4:]}"


def test_implied_gdp_matches_the_worked_example() -> None:
    gdp = implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth")
    assert round(gdp.value, 1) == 343.5
    assert str(gdp) == "343.5 亿元"
    assert gdp.formula == "365.5 亿元 / (1 + 6.4%)"


@pytest.mark.bad_input
def test_implied_prior_level_rejects_mismatched_inputs() -> None:
    with pytest.raises(
        ValueError, match=re.escape("is not the growth of hy2023h1.gdp: they differ in indicator")
    ):
        implied_prior_level("hy2023h1.gdp", "hy2023h1.budget_revenue_growth")
    with pytest.raises(ValueError, match=re.escape("hy2023h1.gdp_growth is a growth, not a level")):
        implied_prior_level("hy2023h1.gdp_growth", "hy2023h1.gdp_growth")
    with pytest.raises(
        ValueError, match=re.escape("hy2023h1.budget_revenue_rank is a rank, not a growth")
    ):
        implied_prior_level("hy2023h1.budget_revenue", "hy2023h1.budget_revenue_rank")


def test_ratio_budget_revenue_to_gdp() -> None:
    share = ratio("hy2023h1.budget_revenue", "hy2023h1.gdp")
    assert share.value == pytest.approx(100 * 28.4 / 365.5)
    assert (share.unit, share.qualifier, share.period) == ("%", "exact", "2023H1")
    assert share.inputs == ("hy2023h1.budget_revenue", "hy2023h1.gdp")


def test_ratio_converts_units_first() -> None:
    exhibitors = huaiyin.figure("hy2023h1.exhibitors")  # 2.2万家
    dealers = huaiyin.figure("hy2023h1.car_dealers")  # 179家
    assert ratio(dealers, exhibitors).value == pytest.approx(100 * 179 / 22000)


@pytest.mark.bad_input
def test_ratio_of_unlike_things_is_an_error() -> None:
    with pytest.raises(ValueError, match="a ratio needs two amounts of the same kind"):
        ratio("hy2023h1.gdp", "hy2023h1.key_projects")
    with pytest.raises(ValueError, match="a ratio needs two amounts of the same kind"):
        ratio("hy2023h1.gdp_growth", "hy2023h1.budget_revenue_growth")


def test_per_unit_averages() -> None:
    per_project = per_unit("hy2023h1.key_projects_investment", "hy2023h1.key_projects")
    assert per_project.value == pytest.approx(3140 / 216)
    assert per_project.unit == "亿元/个"
    per_dealer = per_unit("hy2023h1.car_sales", "hy2023h1.car_dealers", unit_of_total="yuan")
    assert per_dealer.value == pytest.approx(166.72e8 / 179)
    assert per_dealer.unit == "yuan/家"


@pytest.mark.bad_input
def test_per_unit_needs_a_count_and_an_amount() -> None:
    with pytest.raises(ValueError, match="an average needs a count to divide by"):
        per_unit("hy2023h1.gdp", "hy2023h1.budget_revenue")
    with pytest.raises(ValueError, match="averaging it per item has no meaning"):
        per_unit("hy2023h1.gdp_growth", "hy2023h1.key_projects")


def test_per_unit_notes_inputs_from_different_periods() -> None:
    result = per_unit("hy2023h1.signed_investment", "hy2023h1.investment_promotion_events")
    assert result.period == "2023H1 / unstated"
    assert "different periods" in result.caveat


# Qualifier propagation: each case on real figures through the public functions.


def test_more_than_numerator_over_exact_denominator_is_more_than() -> None:
    visitors = per_unit("hy2023h1.exhibition_visitors", "hy2023h1.exhibitions")  # 超220万 / 43
    assert visitors.qualifier == "more_than"
    assert str(visitors).startswith(">")


def test_exact_numerator_over_more_than_denominator_is_less_than() -> None:
    result = per_unit("hy2023h1.signed_projects", "hy2023h1.investment_promotion_events")
    assert result.qualifier == "less_than"  # 88 / 20余 : fewer than 4.4 per event
    assert str(result).startswith("<")


def test_any_nearly_input_makes_the_result_approximate() -> None:
    assert per_unit("hy2023h1.exhibition_consumption", "hy2023h1.exhibitions").qualifier == (
        "approximate"
    )  # 近30亿元 / 43
    near_count = hedged("hy2023h1.key_projects", "nearly")
    assert per_unit("hy2023h1.key_projects_investment", near_count).qualifier == "approximate"
    near_growth = hedged("hy2023h1.gdp_growth", "nearly")
    assert implied_prior_level("hy2023h1.gdp", near_growth).qualifier == "approximate"


def test_opposite_bounds_give_an_approximate_result() -> None:
    # 超220万人次 per 20余场: numerator pushes up, denominator pushes down.
    result = per_unit("hy2023h1.exhibition_visitors", "hy2023h1.investment_promotion_events")
    assert result.qualifier == "approximate"
    assert str(result).startswith("≈")


def test_bounds_pushing_the_same_way_keep_their_direction() -> None:
    more_level = hedged("hy2023h1.gdp", "more_than")
    assert implied_prior_level(more_level, "hy2023h1.gdp_growth").qualifier == "more_than"
    more_growth = hedged("hy2023h1.gdp_growth", "more_than")
    assert implied_prior_level("hy2023h1.gdp", more_growth).qualifier == "less_than"
    both = implied_prior_level(more_level, more_growth)
    assert both.qualifier == "approximate"


def test_propagate_table() -> None:
    cases = {
        (("exact", 1), ("exact", -1)): "exact",
        (("more_than", 1), ("exact", -1)): "more_than",
        (("exact", 1), ("more_than", -1)): "less_than",
        (("less_than", 1), ("more_than", -1)): "less_than",
        (("more_than", 1), ("more_than", -1)): "approximate",
        (("nearly", 1), ("exact", -1)): "approximate",
        (("approximate", 1), ("more_than", 1)): "approximate",
    }
    for inputs, expected in cases.items():
        assert propagate(inputs) == expected, inputs
    with pytest.raises(ValueError, match="unknown qualifier 'roughly'"):
        propagate([("roughly", 1)])


def test_derived_records_its_inputs() -> None:
    result = ratio("hy2023h1.continuing_projects", "hy2023h1.key_projects")
    assert isinstance(result, Derived)
    assert result.inputs == ("hy2023h1.continuing_projects", "hy2023h1.key_projects")
    assert result.formula == "92个 / 216个"


@pytest.mark.bad_input
def test_inputs_must_be_ids_or_figures() -> None:
    with pytest.raises(TypeError, match="expected a figure id or a Figure, not float"):
        ratio(365.5, "hy2023h1.gdp")  # type: ignore[arg-type]
