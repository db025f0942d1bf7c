"""Figures derived from the report's figures, carrying the report's hedges and their direction.

Every result is a :class:`Derived`: its value and unit, the ids of the figures it comes
from, and a qualifier that says how far to trust it:

- ``exact``: every input is exact (as printed, so up to the rounding of the printed digits);
- ``more_than``: the true value lies above the result (shown ``>``);
- ``less_than``: the true value lies below the result (shown ``<``);
- ``approximate``: inputs bound the result from both sides, so no direction is known (``≈``).

Each hedged input is a bound. 超, 突破 and 余 ("more than") bound the true value from below;
近 ("nearly", a little under) bounds it from above. A bound passes to the result in the
direction the result moves with that input: a lower bound in a numerator stays a lower
bound, in a denominator it becomes an upper bound. Bounds that pull opposite ways leave
only "approximate". So 近30亿元 / 超220万人次 is *less than* 1,364 yuan per visit.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

import pandas as pd

from huaiyin.tables import Figure, figure
from huaiyin.units import convert, unit

__all__ = ["Derived", "implied_prior_level", "per_unit", "propagate", "ratio", "table", "total"]

# How each qualifier is shown before a number. 近 (nearly) is a little under: an upper bound.
SYMBOLS = {"exact": "", "more_than": ">", "less_than": "<", "approximate": "≈", "nearly": "<"}
# Which side of the true value each qualifier puts the shown number: +1 the true value is at
# least the number (a lower bound), -1 at most (an upper bound).
BOUNDS = {"more_than": +1, "nearly": -1, "less_than": -1}
QUALIFIERS = ("exact", "nearly", "more_than", "less_than", "approximate")
FigureRef = str | Figure


@dataclass(frozen=True)
class Derived:
    """A derived figure: value, unit, qualifier, the ids it comes from, and its caveats."""

    value: float
    unit: str
    qualifier: str
    inputs: tuple[str, ...]
    period: str
    formula: str
    caveat: str

    def __str__(self) -> str:
        shown = f"{self.value:,.0f}" if abs(self.value) >= 1000 else f"{self.value:.4g}"
        # A Chinese unit follows the number directly (343.5亿元); a word after a space.
        gap = "" if re.match(r"[%\u4e00-\u9fff]", self.unit) else " "
        return f"{SYMBOLS[self.qualifier]}{shown}{gap}{self.unit}"

    def __repr__(self) -> str:
        return f"<Derived {self}, {self.period}, from {', '.join(self.inputs)}>"

    def _repr_html_(self) -> str:
        from huaiyin.present import derived_card  # the presentation layer draws it

        return derived_card(self)


def propagate(inputs: Iterable[tuple[str, int]]) -> str:
    """Qualifier of a result from its inputs' qualifiers.

    Parameters
    ----------
    inputs : iterable of (qualifier, direction)
        ``direction`` is +1 if the result grows with that input, -1 if it shrinks (a
        denominator, a growth rate deflating a level), 0 if it does not move with it.

    Examples
    --------
    >>> propagate([("more_than", +1), ("exact", -1)])  # 超220万人次 / 43场
    'more_than'
    >>> propagate([("more_than", -1)])                 # a "more than" denominator
    'less_than'
    >>> propagate([("nearly", +1), ("exact", -1)])     # 近30亿元 / 43场
    'less_than'
    >>> propagate([("nearly", +1), ("more_than", -1)])  # 近30亿元 / 超220万人次
    'less_than'
    >>> propagate([("more_than", +1), ("more_than", -1)])
    'approximate'
    """
    bounds = set()
    for qualifier, direction in inputs:
        if direction not in (-1, 0, 1) or isinstance(direction, bool):
            raise ValueError(f"direction must be -1, 0 or +1, not {direction!r}")
        if qualifier not in QUALIFIERS:
            raise ValueError(f"unknown qualifier {qualifier!r}; valid: {', '.join(QUALIFIERS)}")
        if qualifier == "approximate":
            return "approximate"
        if qualifier in BOUNDS and direction:
            bounds.add(BOUNDS[qualifier] * (1 if direction > 0 else -1))
    if not bounds:
        return "exact"
    if len(bounds) == 2:
        return "approximate"
    return "more_than" if bounds == {1} else "less_than"


def implied_prior_level(level: FigureRef, growth: FigureRef) -> Derived:
    """The level one year earlier implied by a level and its year-on-year growth.

    ``prior = level / (1 + growth / 100)``. What this does and does not mean: it is the
    prior-year value *on the basis the growth rate was computed on*. China's official GDP
    and value-added growth rates are at comparable (constant) prices, so for them the result
    is H1 2022 output valued at 2023 prices, not the nominal H1 2022 figure that was
    published. For money flows measured in current prices (budget revenue, sales) it is
    close to the published prior figure, but statistical offices compute growth on revised,
    like-for-like bases (firms above designated size change every year), so the result can
    differ from the figure printed a year earlier.

    Parameters
    ----------
    level, growth : str or Figure
        A level (or count) and the growth rate of the same indicator, period and scope.

    Examples
    --------
    >>> gdp = implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth")
    >>> round(gdp.value, 1), gdp.unit, gdp.period, gdp.qualifier
    (343.5, '亿元', '2022H1', 'exact')
    """
    level_fig, growth_fig = _resolve(level), _resolve(growth)
    if level_fig.kind not in {"level", "count"}:
        raise ValueError(f"{level_fig.id} is a {level_fig.kind}, not a level or a count")
    if growth_fig.kind != "growth":
        raise ValueError(f"{growth_fig.id} is a {growth_fig.kind}, not a growth rate")
    mismatched = [
        attribute
        for attribute in ("source_id", "indicator", "period", "scope_en")
        if getattr(level_fig, attribute) != getattr(growth_fig, attribute)
    ]
    if mismatched:
        raise ValueError(
            f"{growth_fig.id} is not the growth of {level_fig.id}: they differ in "
            f"{', '.join(mismatched)}"
        )
    if growth_fig.value <= -100:
        raise ValueError(
            f"{growth_fig.id} is a growth of {growth_fig.value:g}%: a level can fall by less "
            f"than 100% only, so no level a year before {level_fig.id} is implied"
        )
    value = _finite(level_fig.value / (1 + growth_fig.value / 100), level_fig, growth_fig)
    return Derived(
        value=value,
        unit=level_fig.unit,
        # level / (1 + g): moves with the level, and against g when the level is positive.
        qualifier=propagate(
            [(level_fig.qualifier, +1), (growth_fig.qualifier, -_sign(level_fig.value))]
        ),
        inputs=(level_fig.id, growth_fig.id),
        period=_year_earlier(level_fig.period),
        formula=f"{level_fig.value:g} {level_fig.unit} / (1 + {growth_fig.value:g}%)",
        caveat=(
            "Implied by the growth rate, not a published figure: official growth rates may "
            "be at comparable prices (GDP, value added) and on revised, like-for-like bases, "
            "so the figure published a year earlier can differ."
        ),
    )


def ratio(numerator: FigureRef, denominator: FigureRef) -> Derived:
    """One figure as a percentage of another of the same quantity (a share or a ratio).

    Both are converted to their common base unit first, so 亿元 over 亿元 and 家 over 万家
    both work; a percentage of unlike things (yuan over persons) is an error.

    Examples
    --------
    >>> share = ratio("hy2023h1.budget_revenue", "hy2023h1.gdp")
    >>> round(share.value, 2), share.unit
    (7.77, '%')
    """
    num, den = _resolve(numerator), _resolve(denominator)
    num_unit, den_unit = unit(num.unit), unit(den.unit)
    rates = [
        f for f, u in ((num, num_unit), (den, den_unit)) if u.quantity in {"percentage", "rank"}
    ]
    if rates:
        raise ValueError(
            f"a ratio needs two amounts, and {rates[0].id} is a "
            f"{unit(rates[0].unit).quantity} ({rates[0].printed}): compare growth rates by their "
            "difference in percentage points, and ranks as they are"
        )
    if num_unit.base_unit != den_unit.base_unit:
        raise ValueError(
            f"a ratio needs two amounts of the same kind: {num.id} is in {num.unit} "
            f"({num_unit.base_unit}), {den.id} in {den.unit} ({den_unit.base_unit}); "
            "use per_unit() for an amount per item"
        )
    _nonzero(den, num)
    value = _finite(
        100
        * convert(num.value, num.unit, num_unit.base_unit)
        / convert(den.value, den.unit, den_unit.base_unit),
        num,
        den,
    )
    return Derived(
        value=value,
        unit="%",
        qualifier=propagate(_quotient_directions(num, den)),
        inputs=(num.id, den.id),
        period=_joint_period(num, den),
        formula=f"{num.printed} / {den.printed}",
        caveat=_period_caveat(num, den),
    )


def per_unit(
    amount: FigureRef,
    count: FigureRef,
    unit_of_total: str | None = None,
    per: str | None = None,
) -> Derived:
    """An average per item: ``amount / count``, such as investment per project.

    The result is in the total's unit per the count's printed unit (亿元/个); pass
    ``unit_of_total`` to express the total in another unit of the same base (``"yuan"``),
    and ``per`` to express the count in another unit (``"visit"`` rather than 万人次).

    Examples
    --------
    >>> per_project = per_unit("hy2023h1.key_projects_investment", "hy2023h1.key_projects")
    >>> str(per_project)
    '14.54亿元/个'
    >>> str(per_unit("hy2023h1.exhibition_visitors", "hy2023h1.exhibitions"))
    '>5.116万人次/场'
    """
    tot, cnt = _resolve(amount), _resolve(count)
    if cnt.kind != "count":
        raise ValueError(f"{cnt.id} is a {cnt.kind}; an average needs a count to divide by")
    if tot.kind in {"growth", "rank"}:
        raise ValueError(f"{tot.id} is a {tot.kind}; averaging it per item has no meaning")
    target_unit, per_label = unit_of_total or tot.unit, per or cnt.unit
    _nonzero(cnt, tot)
    value = _finite(
        convert(tot.value, tot.unit, target_unit) / convert(cnt.value, cnt.unit, per_label),
        tot,
        cnt,
    )
    return Derived(
        value=value,
        unit=f"{target_unit}/{per_label}",
        qualifier=propagate(_quotient_directions(tot, cnt)),
        inputs=(tot.id, cnt.id),
        period=_joint_period(tot, cnt),
        formula=f"{tot.printed} / {cnt.printed}",
        caveat=_period_caveat(tot, cnt),
    )


def total(*parts: FigureRef) -> Derived:
    """The sum of figures in the same unit, such as the graduates recruited of each kind.

    The report rarely says whether parts overlap; the caveat says so.

    Examples
    --------
    >>> str(total("hy2023h1.community_grids", "hy2023h1.rural_grids"))
    '740个'
    """
    figures = [_resolve(p) for p in parts]
    if len(figures) < 2:
        raise ValueError("total() needs at least two figures")
    repeated = sorted({f.id for f in figures if [g.id for g in figures].count(f.id) > 1})
    if repeated:
        raise ValueError(
            f"total() would count {', '.join(repeated)} more than once; pass each figure once"
        )
    units = {f.unit for f in figures}
    kinds = {f.kind for f in figures}
    if len(units) > 1 or len(kinds) > 1 or kinds & {"growth", "rank"}:
        raise ValueError(
            "total() adds figures of one unit and one kind (levels, counts or targets); got "
            + ", ".join(f"{f.id} ({f.kind}, {f.unit})" for f in figures)
        )
    return Derived(
        value=_finite(_sum(figures), *figures, may_cancel=True),
        unit=figures[0].unit,
        qualifier=propagate((f.qualifier, +1) for f in figures),
        inputs=tuple(f.id for f in figures),
        period=_joint_period(*figures),
        formula=" + ".join(f.printed for f in figures),
        caveat=" ".join(
            filter(None, ["Assumes the parts do not overlap.", _period_caveat(*figures)])
        ),
    )


def table(results: dict[str, Derived]) -> pd.DataFrame:
    """Derived figures as a DataFrame, one row per named result, for display in notebooks.

    Examples
    --------
    >>> table({"GDP, H1 2022": implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth")})[
    ...     ["shown", "qualifier", "period"]]
                    shown qualifier  period
    GDP, H1 2022  343.5亿元     exact  2022H1
    """
    rows = {
        name: {
            "shown": str(result),
            "value": result.value,
            "unit": result.unit,
            "qualifier": result.qualifier,
            "period": result.period,
            "formula": result.formula,
            "inputs": ", ".join(result.inputs),
            "caveat": result.caveat,
        }
        for name, result in results.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def _resolve(ref: FigureRef) -> Figure:
    if isinstance(ref, Figure):
        # A Figure built or changed by hand (dataclasses.replace) has not been through the
        # loader's checks: its value must still be a finite number.
        value = ref.value
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise TypeError(
                f"{ref.id} has the value {value!r} ({type(value).__name__}); a figure's value "
                "is a finite number"
            )
        return ref
    if isinstance(ref, str):
        return figure(ref)
    raise TypeError(f"expected a figure id or a Figure, not {type(ref).__name__}")


def _nonzero(denominator: Figure, numerator: Figure) -> None:
    if denominator.value == 0:
        raise ValueError(f"cannot divide {numerator.id} by {denominator.id}: {denominator.id} is 0")


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _quotient_directions(numerator: Figure, denominator: Figure) -> list[tuple[str, int]]:
    """How n / d moves with each input: with n when d > 0, against d when n / d > 0."""
    return [
        (numerator.qualifier, _sign(denominator.value)),
        (denominator.qualifier, -_sign(numerator.value) * _sign(denominator.value)),
    ]


def _sum(figures: Sequence[Figure]) -> float:
    try:
        return math.fsum(f.value for f in figures)
    except OverflowError:  # fsum refuses an intermediate sum beyond the largest float
        return math.inf


def _finite(value: float, *inputs: Figure, may_cancel: bool = False) -> float:
    """``value``, unless it is not finite or too small for a float to hold its digits.

    A product or quotient of non-zero inputs that comes out 0 has underflowed; a sum may
    cancel to exactly 0 (``may_cancel``).
    """
    tiny = value != 0 and abs(value) < sys.float_info.min
    vanished = (
        not may_cancel and value == 0 and len(inputs) == 2 and all(f.value != 0 for f in inputs)
    )
    if not math.isfinite(value) or tiny or vanished:
        raise ValueError(
            f"{', '.join(f.id for f in inputs)} give {value}, which a float cannot hold "
            "faithfully (too large or too small)"
        )
    return value


def _year_earlier(period: str) -> str:
    match = re.fullmatch(r"(\d{4})(.*)", period)
    if not match:
        return f"one year before ({period})"
    return f"{int(match[1]) - 1}{match[2]}"


def _joint_period(*figures: Figure) -> str:
    periods = list(dict.fromkeys(f.period for f in figures))
    return periods[0] if len(periods) == 1 else " / ".join(periods)


def _period_caveat(*figures: Figure) -> str:
    notes = []
    if len({f.period for f in figures}) > 1:
        notes.append(
            "The inputs cover different periods: "
            + ", ".join(f"{f.id} ({f.period})" for f in figures)
            + "."
        )
    undated = [f.id for f in figures if f.period == "unstated"]
    if undated:
        notes.append(f"The report gives no period for {', '.join(undated)}.")
    return " ".join(notes)
