"""Reader tables: figures and derived figures as a reader writes them, for notebooks and PDFs.

A reader table has no index, no ids and no internal words: one value column as the report
prints it (超220万人次, 近30亿元, 第三, 6.4%), the period in words, integers as integers and
derived values rounded to the precision the table states. Its plain-text form, which nbval
compares, carries the same numbers as its HTML form. Each row's figure ids ride along in an
HTML attribute that no reader sees, so tools can still tell which figures a notebook shows.

>>> import huaiyin
>>> from huaiyin import derive, present
>>> present.figures_table(huaiyin.load_table("economy").head(2))
Indicator                                        Value      Period
全区生产总值 Gross domestic product              365.5亿元  H1 2023
全区生产总值增速 Gross domestic product, growth  6.4%       H1 2023
>>> present.derived_table(
...     {"GDP a year earlier 上年同期GDP": derive.implied_prior_level(
...         "hy2023h1.gdp", "hy2023h1.gdp_growth")})
Derived figure                  Value      Period
GDP a year earlier 上年同期GDP  343.5亿元  H1 2022
Rounded to 1 decimal place.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

import pandas as pd

from huaiyin import glossary
from huaiyin.derive import BOUNDS, SYMBOLS, Derived
from huaiyin.glossary import TERMS, language, term
from huaiyin.tables import Figure, load_table

__all__ = [
    "SIGN_WORDS",
    "ReaderTable",
    "bound_number",
    "derived_card",
    "derived_table",
    "figure_card",
    "figure_name",
    "figures_table",
    "indicators_table",
    "number",
    "period_words",
    "report_title",
]

# What the kind of a figure adds to its subject's name, in English and in Chinese.
_KIND_WORDS = {
    "level": ("", ""),
    "count": ("", ""),
    **{kind: (f", {term(kind, 'en')}", term(kind, "zh")) for kind in ("growth", "rank", "target")},
}


def period_words(period: str, lang: Literal["en", "zh"] | None = None) -> str:
    """A period code in words: ``2023H1`` → ``H1 2023`` (``2023年上半年``), and so on.

    >>> [period_words(p) for p in ("2023H1", "2023YTD", "unstated", "2023", "2022H1")]
    ['H1 2023', '2023, year to date', 'not stated', '2023', 'H1 2022']
    >>> [period_words(p, "zh") for p in ("2023H1", "2023YTD", "unstated", "2023", "2022YTD")]
    ['2023年上半年', '2023年以来', '未注明', '2023年', '2022年同期']
    """
    lang = lang or language()
    parts = [p.strip() for p in period.split("/")]
    if len(parts) > 1:
        words = dict.fromkeys(period_words(p, lang) for p in parts)
        return ("、" if lang == "zh" else " and ").join(words)
    if period == "unstated":
        return term("unstated", lang)
    match = re.fullmatch(r"(\d{4})(H1|H2|YTD)?", period)
    if match is None:
        raise ValueError(
            f"period {period!r} is not one of YYYY, YYYYH1, YYYYH2, YYYYYTD or unstated"
        )
    year, part = match.groups()
    if lang == "zh":
        if part == "YTD" and int(year) < _latest_report_year():
            # 2022年以来 would mean "since 2022": a year-to-date span a year back is 同期.
            return f"{year}年同期"
        return f"{year}年" + {None: "", "H1": "上半年", "H2": "下半年", "YTD": "以来"}[part]
    return {None: year, "H1": f"H1 {year}", "H2": f"H2 {year}", "YTD": f"{year}, year to date"}[
        part
    ]


def report_title(title_zh: str) -> str:
    """A report's Chinese title as Chinese print sets it: full-width commas, and a dash
    before the subtitle (the data keep the half-width comma of the extracted text).

    >>> report_title("锚定目标,为加快建设 槐荫区实干担当")
    '锚定目标，为加快建设——槐荫区实干担当'
    """
    title = re.sub(r"(?<=[\u4e00-\u9fff]),(?=[\u4e00-\u9fff])", "，", title_zh.strip())
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "——", title)


def _latest_report_year() -> int:
    # The sources say which year is the reports' own.
    return max(int(str(period)[:4]) for period in load_table("sources")["period"])


@dataclass(frozen=True)
class ReaderTable:
    """A table for readers: headed columns of text, and a note under it.

    ``figures`` holds, for each row, the ids of the figures it shows; they go into the HTML
    as a ``data-figures`` attribute, which no reader sees.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    figures: tuple[tuple[str, ...], ...] = ()
    note: str = ""
    align: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} has {len(row)} cells for {len(self.columns)}")

    def __repr__(self) -> str:
        widths = [
            max(_width(text) for text in column)
            for column in zip(self.columns, *self.rows, strict=True)
        ]
        lines = [
            "  ".join(_pad(text, width) for text, width in zip(line, widths, strict=True)).rstrip()
            for line in (self.columns, *self.rows)
        ]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        aligns = self.align or ("left",) * len(self.columns)
        head = "".join(
            f'<th style="text-align: {a}">{html.escape(c)}</th>'
            for c, a in zip(self.columns, aligns, strict=True)
        )
        body = []
        for position, row in enumerate(self.rows):
            ids = self.figures[position] if position < len(self.figures) else ()
            attribute = f' data-figures="{html.escape(" ".join(ids))}"' if ids else ""
            # Values and periods are short: never broken across lines (超220万人次, H1 2023).
            cells = "".join(
                f'<td style="text-align: {a}{"; white-space: nowrap" if column else ""}">'
                f"{_html_cell(text)}</td>"
                for column, (text, a) in enumerate(zip(row, aligns, strict=True))
            )
            body.append(f"<tr{attribute}>{cells}</tr>")
        note = f'<p class="reader-note">{html.escape(self.note)}</p>' if self.note else ""
        return (
            f'<table class="reader"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{note}"
        )

    def to_frame(self) -> pd.DataFrame:
        """The same rows as a DataFrame of text, for further work."""
        return pd.DataFrame(list(self.rows), columns=list(self.columns))


def figures_table(figures: pd.DataFrame | Iterable[Figure]) -> ReaderTable:
    """Figures as a reader's table: name in Chinese and English, printed value, period.

    ``figures`` is a table from :func:`huaiyin.load_table` or :func:`huaiyin.load_figures`
    (or rows of it), or :class:`~huaiyin.Figure` objects. The value is the report's own
    printed form, hedge included.
    """
    records = (
        figures.to_dict("records") if isinstance(figures, pd.DataFrame) else map(vars, figures)
    )
    rows, ids = [], []
    for record in records:
        name = figure_name(record)
        rows.append((name, str(record["printed"]), period_words(str(record["period"]))))
        ids.append((str(record["id"]),))
    return ReaderTable(
        _headings("indicator", "value", "period"),
        tuple(rows),
        tuple(ids),
        align=("left", "right", "left"),
    )


def figure_name(figure: Figure | Mapping[Any, Any], lang: str | None = None) -> str:
    """What a figure is, as tables name it: its subject, kind and (where the subject does
    not say it) scope: 全区生产总值增速 Gross domestic product, growth; 全区生产总值增速 in
    the Chinese edition.

    >>> import huaiyin
    >>> figure_name(huaiyin.figure("hy2023h1.gdp_growth"))
    '全区生产总值增速 Gross domestic product, growth'
    """
    record = vars(figure) if isinstance(figure, Figure) else figure
    english, chinese = _KIND_WORDS[str(record["kind"])]
    subject_en, subject_zh = str(record["subject_en"]), str(record["subject_zh"])
    kind_word = english.strip(", ").split(" ")[0]
    if kind_word and kind_word in subject_en.lower():  # not "target of …, target"
        english = ""
        chinese = "" if chinese in subject_zh else chinese
    # The scope only where the name does not already say it: not "Visitors to Impression
    # Jinan (Impression Jinan)"; its first words are enough ("Jinan West").
    scope_en = str(record["scope_en"])
    words = scope_en.lower().removeprefix("the ").split()[:2]
    named = " ".join(words) in subject_en.lower()
    scope = "" if scope_en == "Huaiyin District" or named else f" ({scope_en})"
    scope_zh = str(record["scope_zh"])
    if (lang or language()) == "zh":
        shown = scope_zh == "槐荫区" or scope_zh in subject_zh
        return f"{subject_zh}{chinese}" + ("" if shown else f"（{scope_zh}）")
    return f"{subject_zh}{chinese} {subject_en}{english}{scope}"


def indicators_table(figures: pd.DataFrame, indicators: Iterable[str]) -> ReaderTable:
    """One row per indicator: its level, growth and rank as printed, "—" where there is none.

    ``figures`` is a table from :func:`huaiyin.load_figures` (or part of it); ``indicators``
    are values of its ``indicator`` column, in the order the rows should follow.

    >>> import huaiyin
    >>> indicators_table(huaiyin.load_figures(), ["gdp", "fixed_asset_investment"])
    Indicator                            Level      Growth  Rank in Jinan  Period
    全区生产总值 Gross domestic product  365.5亿元  6.4%    —              H1 2023
    固定资产投资 Fixed-asset investment  —          20.5%   第三           H1 2023
    """
    rows, ids = [], []
    for indicator in indicators:
        group = figures[figures["indicator"] == indicator]
        if group.empty:
            raise ValueError(f"no figures for indicator {indicator!r}")
        printed = {str(k): str(p) for k, p in zip(group["kind"], group["printed"], strict=True)}
        level = next((printed[k] for k in ("level", "count", "target") if k in printed), "—")
        first = group.iloc[0]
        periods = " / ".join(dict.fromkeys(str(p) for p in group["period"]))
        rows.append(
            (
                glossary.name(str(first["subject_zh"]), str(first["subject_en"])),
                level,
                printed.get("growth", "—"),
                printed.get("rank", "—"),
                period_words(periods),
            )
        )
        ids.append(tuple(str(i) for i in group["id"]))
    return ReaderTable(
        _headings("indicator", "level", "growth", "rank", "period"),
        tuple(rows),
        tuple(ids),
        align=("left", "right", "right", "right", "left"),
    )


def derived_table(
    results: Mapping[str, Derived], decimals: int | Mapping[str, int] = 1
) -> ReaderTable:
    """Derived figures as a reader's table: the name you give, value with its hedge, period.

    Values are rounded to ``decimals`` places, or to ``decimals[name]`` for each row (the
    note under the table says so); a bound is rounded outward, so that it stays true. The sign
    before a value keeps the direction of the report's hedges: ``<`` under, ``>`` over,
    ``≈`` about. A percentage of 1,000% or more reads as a multiple: ``>19.6 times``.
    """
    places_of = {
        name: decimals if isinstance(decimals, int) else decimals[name] for name in results
    }
    # Rounded to tens or hundreds (a figure worked out from a rounded one): an exact result is
    # then "about" what the table shows.
    results = {
        name: replace(r, qualifier="approximate")
        if places_of[name] < 0 and r.qualifier == "exact" and r.value != int(r.value)
        else r
        for name, r in results.items()
    }
    rows = tuple(
        (name, _derived_value(result, places_of[name]), period_words(result.period))
        for name, result in results.items()
    )
    # Whole values are not rounded: a table of them (a sum of counts) needs no rounding note.
    rounded = [r for r in results.values() if r.value != int(r.value)]
    note = _rounding_note(sorted(set(places_of.values()))) if rounded else ""
    hedged = [r for r in results.values() if r.qualifier != "exact"]
    if hedged:
        shown = {SYMBOLS[r.qualifier] for r in hedged}
        signs = [sign for sign in SIGN_WORDS if sign in shown]
        if language() == "zh":
            meanings = "；".join(f"“{term(sign)}”表示{_SIGN_MEANINGS_ZH[sign]}" for sign in signs)
            bounded = "舍入后表述仍然成立。" if {">", "<"} & set(signs) else ""
            note += f"{meanings}。{bounded}"
        else:
            words = ", ".join(f"{sign} {term(sign)}" for sign in signs)
            note = (
                f"{note} {words}: where the true value lies; a bound is rounded so that it "
                "stays true."
            ).strip()
    return ReaderTable(
        _headings("derived", "value", "period"),
        rows,
        tuple(result.inputs for result in results.values()),
        note,
        align=("left", "right", "left"),
    )


def _headings(*keys: str) -> tuple[str, ...]:
    # "rank" heads a column as "Rank in Jinan".
    return tuple(term(k)[:1].upper() + term(k)[1:] for k in keys)


# Rounding to tens or hundreds: what a figure worked out from a rounded one (2.2万家) can say.
_PLACES_ZH = {-1: "十位", -2: "百位", -3: "千位"}
_PLACES_EN = {-1: "the nearest ten", -2: "the nearest hundred", -3: "the nearest thousand"}


def _rounding_note(places: list[int]) -> str:
    if language() == "zh":
        counts = {1: "一", 2: "两", 3: "三"}  # 保留两位小数: a small count in words
        words = [
            f"取整到{_PLACES_ZH[p]}" if p < 0 else "取整" if p == 0 else f"保留{counts[p]}位小数"
            for p in places
        ]
        return ("、".join(words[:-1]) + "或" + words[-1] if len(words) > 1 else words[0]) + "。"

    def english(p: int) -> str:
        if p < 0:
            return _PLACES_EN[p]
        return "whole numbers" if p == 0 else f"{p} decimal place{'s' * (p != 1)}"

    return f"Rounded to {' or '.join(map(english, places))}."


def _derived_value(result: Derived, decimals: int) -> str:
    if not math.isfinite(result.value):
        raise ValueError(f"derived value {result.value!r} is not a number a reader can read")
    value, unit = result.value, result.unit
    if unit == "%" and abs(value) >= 1000:  # 1,964% reads better as 19.6 times
        value, unit = value / 100, term("times")
    # A whole result (a total of counts, say) is written as the integer it is.
    places = 0 if value == int(value) else decimals
    sign = SYMBOLS[result.qualifier]
    if language() == "zh":  # 约343.5亿元, 不足18.6%: Chinese writes the hedge as a word
        number = bound_number(value, result.qualifier, places, grouped=False)
        return f"{term(sign) if sign else ''}{number}{glossary.unit_words(unit)}"
    number = bound_number(value, result.qualifier, places)
    return f"{sign}{number}{_unit_gap(unit)}{unit}"


SIGN_WORDS = {sign: TERMS[sign] for sign in (">", "<", "≈")}
"""What each sign before a derived value means, in Chinese and English."""
# What each sign says about the true value, and which way its bound was rounded, for the
# Chinese note under a table.
_SIGN_MEANINGS_ZH = {
    ">": "实际值大于所示数值，所示数值向下舍去",
    "<": "实际值小于所示数值，所示数值向上进位",
    "≈": "所示数值为近似值",
}


def number(value: float, decimals: int = 0) -> str:
    """``value`` to ``decimals`` places, as the edition writes numbers: 3,140 or 3140.

    >>> number(3140.0), number(0.926, 2)
    ('3,140', '0.93')
    """
    return bound_number(value, "exact", decimals, grouped=language() != "zh")


def bound_number(value: float, qualifier: str, decimals: int, grouped: bool = True) -> str:
    """``value`` to ``decimals`` places, rounded so that the hedge stays true: a lower bound
    (more than) down, an upper bound (nearly, under) up. Thousands are separated by commas
    unless ``grouped`` is false (Chinese publications write 1364元).

    >>> [bound_number(5.116, q, 2) for q in ("exact", "more_than", "nearly")]
    ['5.12', '5.11', '5.12']
    >>> bound_number(1363.636, "nearly", 0), bound_number(1363.636, "more_than", 0)
    ('1,364', '1,363')
    >>> bound_number(1363.636, "less_than", -2), bound_number(511.6, "exact", -1)
    ('1,400', '510')
    """
    bound = BOUNDS.get(qualifier, 0)  # +1 a lower bound, -1 an upper one
    rounding = {1: ROUND_FLOOR, -1: ROUND_CEILING}.get(bound, ROUND_HALF_UP)
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=rounding)
    shown = max(decimals, 0)  # to tens or hundreds: no decimal places
    return f"{exact:,.{shown}f}" if grouped else f"{exact:.{shown}f}"


def _unit_gap(unit: str) -> str:
    # Chinese units follow the number directly (365.5亿元); words and symbols after a space.
    return "" if unit.startswith("%") or (unit[:1] and _wide(unit[0])) else " "


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}


def _width(text: str) -> int:
    return sum(2 if _wide(c) else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _html_cell(text: str) -> str:
    # Keep each run of Chinese characters on one line: a name is never broken mid-word.
    return re.sub(
        r"([\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+)",
        r'<span style="white-space: nowrap">\1</span>',
        html.escape(text),
    )


# JupyterLab right-aligns table cells; a card reads from the left.
_LEFT = ' style="text-align: left"'

# What each of the report's hedges means, for a figure's card.
_HEDGE_WORDS = {
    "exact": ("无约数", "exact as printed"),
    "nearly": ("近：略低于该数", "nearly: a little under the number"),
    "more_than": ("超、突破、余：多于该数", "more than: at least the number"),
}


def figure_card(fig: Figure) -> str:
    """A figure as HTML for JupyterLab: its printed form, subject in both languages, period
    and hedge in words, the report's sentence with the figure marked in it, and the note."""
    esc = html.escape
    hedge_zh, hedge_en = _HEDGE_WORDS.get(fig.qualifier, (fig.qualifier, fig.qualifier))
    citation = esc(fig.citation).replace(esc(fig.printed), f"<mark>{esc(fig.printed)}</mark>", 1)
    rows = [
        ("时期 Period", _both_periods(fig.period)),
        ("范围 Scope", f"{fig.scope_zh} · {fig.scope_en}"),
        ("约数 Hedge", f"{hedge_zh} · {hedge_en}"),
        ("原文 Report", f"“{citation}”"),
    ]
    if fig.note:
        rows.append(("说明 Note", esc(fig.note)))
    return (
        f'<div class="huaiyin-figure"><div style="font-size: 1.6em">{esc(fig.printed)}</div>'
        f"<div><b>{esc(figure_name(fig, 'zh'))}</b> {esc(_english_part(fig))}</div>"
        f"{_card_table(rows)}"
        f'<div style="color: #666; font-size: 0.85em">{esc(fig.id)}</div></div>'
    )


def _both_periods(period: str) -> str:
    return " · ".join(period_words(period, lang) for lang in ("zh", "en"))


def _card_table(rows: list[tuple[str, str]]) -> str:
    """A card's rows: a heading (escaped here) and HTML that is already escaped."""
    cells = "".join(
        f"<tr><th{_LEFT}>{html.escape(k)}</th><td{_LEFT}>{v}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def _english_part(fig: Figure) -> str:
    """The English of a figure's name: the English edition's name after its Chinese."""
    return figure_name(fig, "en").removeprefix(figure_name(fig, "zh")).strip()


def derived_card(result: Derived) -> str:
    """A derived figure as HTML: its value with its direction, period, formula and inputs."""
    esc = html.escape
    sign = SYMBOLS[result.qualifier]
    direction = f"{sign} {SIGN_WORDS[sign][0]} {SIGN_WORDS[sign][1]}" if sign else "—"
    rows = [
        ("数值 Value", esc(_derived_value(result, 2))),
        ("方向 Direction", esc(direction)),
        ("时期 Period", esc(_both_periods(result.period))),
        ("算法 Formula", esc(result.formula)),
        ("来自 From", esc(", ".join(result.inputs))),
    ]
    if result.caveat:
        rows.append(("说明 Caveat", esc(result.caveat)))
    return f'<div class="huaiyin-derived">{_card_table(rows)}</div>'
