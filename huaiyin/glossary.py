"""One glossary, and the language an edition is written in.

Every word that tables, charts and briefings put around a number comes from here, in Chinese
and English: the kind of a figure (增速 growth), the report's hedges (近 nearly), the signs of
derived figures (不足 under), table headings and period words. Indicator names come from the
data itself (each indicator has one ``subject_zh`` and one ``subject_en``), so a table, a
chart and the prose call 规模以上工业增加值 by one name.

An edition is ``zh`` (Chinese only) or ``en`` (English, with each Chinese term beside it, as
the English briefing prints it). Notebooks say which at the top, and everything after follows:

>>> from huaiyin import glossary
>>> glossary.name("增速", "growth"), glossary.say("同比增长", "year on year")
('增速 growth', 'year on year')
>>> with glossary.edition("zh"):
...     glossary.name("增速", "growth"), glossary.term("nearly")
('增速', '近')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import pandas as pd

__all__ = [
    "LANGUAGES",
    "NOT_NAMES",
    "SEARCH_WORDS",
    "SHORT_NAMES",
    "TERMS",
    "Language",
    "edition",
    "indicator",
    "indicator_names",
    "language",
    "name",
    "say",
    "set_language",
    "term",
    "unit_words",
]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

# key: (Chinese, English). Grouped by what they name; the keys are what code asks for.
TERMS: dict[str, tuple[str, str]] = {
    # The kind of a figure, as added to its subject's name.
    "growth": ("增速", "growth"),
    "rank": ("全市位次", "rank in Jinan"),
    "target": ("目标", "target"),
    # The report's hedges, by qualifier: 近 a little under; 超, 突破 and 余 at least.
    "nearly": ("近", "nearly"),
    "more_than": ("超", "more than"),
    # The direction of a derived figure, by the sign before it.
    ">": ("超过", "more than"),
    "<": ("不足", "under"),
    "≈": ("约", "about"),
    "times": ("倍", "times"),
    # Base units, as derived figures name them (元/人次 for yuan/visit).
    "yuan": ("元", "yuan"),
    "visit": ("人次", "visit"),
    "person": ("人", "person"),
    "item": ("个", "item"),
    "firm": ("家", "firm"),
    "event": ("场", "event"),
    "household": ("户", "household"),
    "train": ("趟", "train"),
    # Table headings.
    "indicator": ("指标", "Indicator"),
    "value": ("数值", "Value"),
    "period": ("时期", "Period"),
    "level": ("总量", "Level"),
    "derived": ("推算指标", "Derived figure"),
    # Periods.
    "H1": ("上半年", "H1"),
    "H2": ("下半年", "H2"),
    "YTD": ("以来", "year to date"),
    "unstated": ("未注明", "not stated"),
    # Charts and briefings.
    "hedged": ("约数", "hedged in the report"),
    "target_outline": ("目标", "target, not an outcome"),
}

# Shorter names some indicators go by in charts and prose, in Chinese and English; every other
# indicator goes by its full name from the data.
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "gdp": ("全区生产总值", "GDP"),
    "budget_revenue": ("一般公共预算收入", "budget revenue"),
    "car_sales": ("限上汽车销售企业销售额", "car sales"),
    "venue_revenue": ("营业收入", "revenue"),
}

# Names an indicator must not go by, as patterns, in Chinese and English: other names for
# the same thing, which would make a reader think there are two. Prose and code are checked
# against these (tests/test_editions.py).
NOT_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # GDP beside Chinese (GDP增速, 相当于GDP的): the Chinese edition writes 全区生产总值.
    "gdp": (
        ("地区生产总值", "国内生产总值", r"GDP(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])GDP"),
        (r"gross regional product",),
    ),
    "signed_projects": (("签约项目",), ()),
    "special_bonds": (("专项债券",), ()),
    "industrial_value_added": (
        ("规上工业增加值", r"(?<!规模以上)工业增加值"),
        (r"industrial value added", r"industrial output"),
    ),
    "budget_revenue": (
        (r"(?<!一般)公共预算收入", "财政收入"),
        (r"fiscal revenue", r"public revenue"),
    ),
    "retail_sales": (("社零总额", "社会零售总额", "消费品零售额"), (r"consumer sales",)),
    "fixed_asset_investment": (("固投",), (r"fixed investment",)),
    "car_sales": (("汽车销售额",), (r"auto sales",)),
}

# Words a search for a kind of figure may use, beyond its glossary term.
SEARCH_WORDS: dict[str, tuple[str, ...]] = {
    "growth": ("增速", "增长", "growth"),
    "rank": ("全市位次", "位次", "排名", "rank"),
    "target": ("目标", "target"),
    "level": ("总量", "level"),
    "count": ("数量", "count"),
}

_current: Language = "en"


def set_language(lang: str) -> None:
    """Write what follows in ``lang``: ``"zh"`` or ``"en"``."""
    global _current
    _current = _checked(lang)


def language() -> Language:
    """The language of the edition being written (``"en"`` unless set)."""
    return _current


@contextlib.contextmanager
def edition(lang: str) -> Iterator[None]:
    """Write in ``lang`` inside the ``with`` block only."""
    before = _current
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def say(zh: str, en: str, lang: str | None = None) -> str:
    """A sentence in the edition's language: ``zh`` or ``en``."""
    return zh if _checked(lang or _current) == "zh" else en


def name(zh: str, en: str, lang: str | None = None, both: str = "{zh} {en}") -> str:
    """A name: Chinese in the Chinese edition; in the English one, both, Chinese first, so
    that a reader can find the term in the report.
    """
    if _checked(lang or _current) == "zh":
        return zh
    return both.format(zh=zh, en=en) if zh and zh != en else en


def term(key: str, lang: str | None = None) -> str:
    """One term of the glossary in ``lang`` (default: the edition's language)."""
    if key not in TERMS:
        raise KeyError(f"no glossary term {key!r}; terms: {', '.join(TERMS)}")
    zh, en = TERMS[key]
    return zh if _checked(lang or _current) == "zh" else en


def unit_words(unit: str, lang: str | None = None) -> str:
    """A unit in the edition's words: ``yuan/visit`` is 元/人次 in Chinese; Chinese units
    (亿元/个) stay as they are."""
    return "/".join(term(part, lang) if part in TERMS else part for part in unit.split("/"))


def indicator(key: str, short: bool = False, lang: str | None = None) -> str:
    """An indicator's name in the edition (``short``: the name charts and prose use)."""
    from huaiyin.tables import load_figures  # the names live in the data

    names = indicator_names(load_figures())
    if key not in names.index:
        raise KeyError(f"no indicator {key!r} in the data")
    zh, en = names.loc[key, "zh"], names.loc[key, "en"]
    if short and key in SHORT_NAMES:
        zh, en = SHORT_NAMES[key]
    return name(str(zh), str(en), lang)


def indicator_names(figures: pd.DataFrame) -> pd.DataFrame:
    """Each indicator's one name in each language, from figures (``load_figures()``).

    Raises ValueError if an indicator has two names in a language: the data must call one
    thing by one name.
    """
    names = figures[["indicator", "subject_zh", "subject_en"]].astype(str).drop_duplicates()
    doubled = names[names["indicator"].duplicated(keep=False)]
    if not doubled.empty:
        first = doubled["indicator"].iloc[0]
        found = doubled[doubled["indicator"] == first]
        raise ValueError(
            f"indicator {first!r} has more than one name: "
            + "; ".join(f"{r.subject_zh} / {r.subject_en}" for r in found.itertuples())
        )
    return names.rename(columns={"subject_zh": "zh", "subject_en": "en"}).set_index("indicator")


def _checked(lang: str) -> Language:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return lang
