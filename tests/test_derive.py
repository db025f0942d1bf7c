"""Derived figures: values computed from the data, and the report's hedges carried honestly."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

import huaiyin
from huaiyin.derive import Derived, implied_prior_level, per_unit, propagate, ratio, total


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
    assert str(gdp) == "343.5亿元"
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
    with pytest.raises(ValueError) as info:
        ratio("hy2023h1.gdp_growth", "hy2023h1.budget_revenue_growth")
    assert str(info.value) == (
        "a ratio needs two amounts, and hy2023h1.gdp_growth is a percentage (6.4%): compare "
        "growth rates by their difference in percentage points, and ranks as they are"
    )


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


def test_nearly_is_an_upper_bound_and_keeps_its_direction() -> None:
    # 近30亿元 / 43场: a little under 30 over an exact count is under the quotient.
    per_exhibition = per_unit("hy2023h1.exhibition_consumption", "hy2023h1.exhibitions")
    assert per_exhibition.qualifier == "less_than"
    assert str(per_exhibition).startswith("<")
    # 近30亿元 / 超220万人次: an upper bound over a lower bound is an upper bound.
    per_visit = per_unit(
        "hy2023h1.exhibition_consumption", "hy2023h1.exhibition_visitors", "yuan", "visit"
    )
    assert per_visit.qualifier == "less_than"
    assert str(per_visit) == "<1,364 yuan/visit"
    near_count = hedged("hy2023h1.key_projects", "nearly")  # an upper bound as a denominator
    assert per_unit("hy2023h1.key_projects_investment", near_count).qualifier == "more_than"
    near_growth = hedged("hy2023h1.gdp_growth", "nearly")  # deflating by less: more before
    assert implied_prior_level("hy2023h1.gdp", near_growth).qualifier == "more_than"


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


# The hedge tables of the README, pinned pair by pair. A quotient a / b moves with a and
# against b; a sum a + b moves with both. Each is written out, not computed.
QUALIFIERS = ("exact", "nearly", "more_than", "less_than", "approximate")
QUOTIENT = {  # row: numerator a; columns: denominator b, in QUALIFIERS order
    "exact": ("exact", "more_than", "less_than", "more_than", "approximate"),
    "nearly": ("less_than", "approximate", "less_than", "approximate", "approximate"),
    "more_than": ("more_than", "more_than", "approximate", "more_than", "approximate"),
    "less_than": ("less_than", "approximate", "less_than", "approximate", "approximate"),
    "approximate": ("approximate",) * 5,
}
SUM = {
    "exact": ("exact", "less_than", "more_than", "less_than", "approximate"),
    "nearly": ("less_than", "less_than", "approximate", "less_than", "approximate"),
    "more_than": ("more_than", "approximate", "more_than", "approximate", "approximate"),
    "less_than": ("less_than", "less_than", "approximate", "less_than", "approximate"),
    "approximate": ("approximate",) * 5,
}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(a, b, QUOTIENT[a][i]) for a in QUALIFIERS for i, b in enumerate(QUALIFIERS)],
)
def test_quotient_hedge(a: str, b: str, expected: str) -> None:
    assert propagate([(a, +1), (b, -1)]) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(a, b, SUM[a][i]) for a in QUALIFIERS for i, b in enumerate(QUALIFIERS)],
)
def test_sum_hedge(a: str, b: str, expected: str) -> None:
    assert propagate([(a, +1), (b, +1)]) == expected
    assert SUM[a][QUALIFIERS.index(b)] == SUM[b][QUALIFIERS.index(a)], "a sum is symmetric"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (("hy2023h1.exhibition_consumption", "exact"), ("hy2023h1.exhibitions", "exact"), "exact"),
        (
            ("hy2023h1.exhibition_consumption", "nearly"),
            ("hy2023h1.exhibitions", "exact"),
            "less_than",
        ),
        (
            ("hy2023h1.exhibition_consumption", "more_than"),
            ("hy2023h1.exhibitions", "nearly"),
            "more_than",
        ),
        (
            ("hy2023h1.exhibition_consumption", "nearly"),
            ("hy2023h1.exhibitions", "nearly"),
            "approximate",
        ),
        (
            ("hy2023h1.exhibition_consumption", "exact"),
            ("hy2023h1.exhibitions", "more_than"),
            "less_than",
        ),
    ],
)
def test_per_unit_follows_the_quotient_table(
    numerator: tuple[str, str], denominator: tuple[str, str], expected: str
) -> None:
    assert per_unit(hedged(*numerator), hedged(*denominator)).qualifier == expected


def test_a_total_may_cancel_to_zero() -> None:
    """Unlike a quotient that underflows, a sum of opposite signs is exactly 0."""
    result = total(hedged_value("hy2023h1.budget_revenue", 5), hedged_value("hy2023h1.gdp", -5))
    assert (result.value, result.unit) == (0, "亿元")


def test_totals_follow_the_sum_table() -> None:
    near = hedged("hy2023h1.community_grids", "nearly")
    more = hedged("hy2023h1.rural_grids", "more_than")
    assert total(near, "hy2023h1.rural_grids").qualifier == "less_than"
    assert total("hy2023h1.community_grids", more).qualifier == "more_than"
    assert total(near, more).qualifier == "approximate"


@pytest.mark.bad_input
def test_unknown_qualifier_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown qualifier 'roughly'; valid: exact, nearly"):
        propagate([("roughly", 1)])


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: per_unit(
                "hy2023h1.key_projects_investment", hedged_value("hy2023h1.key_projects", 0)
            ),
            ValueError,
            "cannot divide hy2023h1.key_projects_investment by hy2023h1.key_projects: "
            "hy2023h1.key_projects is 0",
        ),
        (
            lambda: ratio("hy2023h1.budget_revenue", hedged_value("hy2023h1.gdp", 0)),
            ValueError,
            "cannot divide hy2023h1.budget_revenue by hy2023h1.gdp: hy2023h1.gdp is 0",
        ),
        (
            lambda: implied_prior_level("hy2023h1.gdp", hedged_value("hy2023h1.gdp_growth", -100)),
            ValueError,
            "hy2023h1.gdp_growth is a growth of -100%: a level can fall by less than 100% only, "
            "so no level a year before hy2023h1.gdp is implied",
        ),
        (
            lambda: implied_prior_level("hy2023h1.gdp", hedged_value("hy2023h1.gdp_growth", -150)),
            ValueError,
            "hy2023h1.gdp_growth is a growth of -150%: a level can fall by less than 100% only",
        ),
        (
            lambda: total("hy2023h1.community_grids", "hy2023h1.community_grids"),
            ValueError,
            "total() would count hy2023h1.community_grids more than once; pass each figure once",
        ),
        (
            lambda: ratio(
                hedged_value("hy2023h1.budget_revenue", 1e300), hedged_value("hy2023h1.gdp", 1e-300)
            ),
            ValueError,
            "hy2023h1.budget_revenue, hy2023h1.gdp give inf, which a float cannot hold "
            "faithfully (too large or too small)",
        ),
        (
            lambda: ratio(
                hedged_value("hy2023h1.budget_revenue", 1e-300),
                hedged_value("hy2023h1.gdp", 1e300),
            ),
            ValueError,
            "hy2023h1.budget_revenue, hy2023h1.gdp give 0.0, which a float cannot hold",
        ),
        (
            lambda: per_unit(
                hedged_value("hy2023h1.budget_revenue", 1e-306), "hy2023h1.key_projects"
            ),
            ValueError,
            "hy2023h1.budget_revenue, hy2023h1.key_projects give 4.6",
        ),
        (
            lambda: total(
                hedged_value("hy2023h1.community_grids", 1.7e308),
                hedged_value("hy2023h1.rural_grids", 1.7e308),
            ),
            ValueError,
            "hy2023h1.community_grids, hy2023h1.rural_grids give inf, which a float cannot "
            "hold faithfully (too large or too small)",
        ),
        (
            lambda: total("hy2023h1.medical_centre_investment_target", "hy2023h1.gdp"),
            ValueError,
            "total() adds figures of one unit and one kind (levels, counts or targets); got "
            "hy2023h1.medical_centre_investment_target (target, 亿元), hy2023h1.gdp (level, 亿元)",
        ),
        (
            lambda: propagate([("more_than", float("nan"))]),
            ValueError,
            "direction must be -1, 0 or +1, not nan",
        ),
        (
            lambda: propagate([("more_than", None)]),  # type: ignore[list-item]
            ValueError,
            "direction must be -1, 0 or +1, not None",
        ),
        (
            lambda: huaiyin.figure(None),  # type: ignore[arg-type]
            TypeError,
            "figure() takes a figure id as a string, such as 'hy2023h1.gdp', not NoneType",
        ),
    ],
    ids=[
        "zero-count",
        "zero-denominator",
        "growth-minus-100",
        "growth-below-minus-100",
        "total-twice",
        "overflow",
        "underflow-to-zero",
        "underflow-subnormal",
        "total-overflow",
        "target-plus-level",
        "nan-direction",
        "none-direction",
        "figure-none",
    ],
)
def test_derivations_refuse_impossible_inputs(call, error, message) -> None:
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(message)


def hedged_value(figure_id: str, value: float) -> huaiyin.Figure:
    """A real figure with its value changed, to reach the edge cases."""
    return dataclasses.replace(huaiyin.figure(figure_id), value=value)


def test_derived_records_its_inputs() -> None:
    result = ratio("hy2023h1.continuing_projects", "hy2023h1.key_projects")
    assert isinstance(result, Derived)
    assert result.inputs == ("hy2023h1.continuing_projects", "hy2023h1.key_projects")
    assert result.formula == "92个 / 216个"


@pytest.mark.bad_input
def test_inputs_must_be_ids_or_figures() -> None:
    with pytest.raises(TypeError, match="expected a figure id or a Figure, not float"):
        ratio(365.5, "hy2023h1.gdp")  # type: ignore[arg-type]


def test_negative_values_turn_the_direction() -> None:
    """A bound moves a result the way the arithmetic does, whatever the signs."""
    loss = hedged_value("hy2023h1.venue_revenue", -8.54)
    more_growth = hedged("hy2023h1.venue_revenue_growth", "more_than")
    assert implied_prior_level(loss, more_growth).qualifier == "more_than"
    more_revenue = hedged("hy2023h1.budget_revenue", "more_than")
    assert ratio(more_revenue, hedged_value("hy2023h1.gdp", -365.5)).qualifier == "less_than"
    assert ratio(more_revenue, "hy2023h1.gdp").qualifier == "more_than"


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "None (NoneType)"), ("365.5", "'365.5' (str)"), (math.nan, "nan (float)")],
    ids=["none", "text", "nan"],
)
def test_a_figure_changed_by_hand_must_keep_a_number(value: object, shown: str) -> None:
    gdp = dataclasses.replace(huaiyin.figure("hy2023h1.gdp"), value=value)
    message = f"hy2023h1.gdp has the value {shown}; a figure's value is a finite number"
    for call in (
        lambda: implied_prior_level(gdp, "hy2023h1.gdp_growth"),
        lambda: ratio("hy2023h1.budget_revenue", gdp),
        lambda: total(gdp, "hy2023h1.budget_revenue"),
    ):
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == message
