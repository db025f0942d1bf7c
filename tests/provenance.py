"""Where each number of a report sits, and what accounts for it.

Used by the tests to prove that the data holds every figure of the report: every number in
the text must lie inside a figure's printed span, a programme code or a listed non-figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

# Arabic numbers, and runs of the Chinese numerals the report uses, with an optional 第
# (ordinal) before and 万/亿 after. 双 (double) and 首 (first) count too, so that codes like
# 双十 and ordinals like 首届 must be accounted for.
NUMBER = re.compile(r"\d+(?:\.\d+)?|第?[零一二两三四五六七八九十百千双首]+[万亿]?")

_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
PRINTED = re.compile(
    r"(?P<before>近|超|突破)?(?P<number>\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)"
    r"(?P<after>余)?(?P<unit>\D*)"
)
RANK = re.compile(r"第(?P<number>[一二三四五六七八九十]+)")
HEDGES = {None: "exact", "近": "nearly", "超": "more_than", "突破": "more_than", "余": "more_than"}


def chinese_number(text: str) -> int:
    """Value of a Chinese numeral below 10000: 三 → 3, 十六 → 16, 千 → 1000."""
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _MULTIPLIERS:
            total += (1 if digit is None else digit) * _MULTIPLIERS[char]
            digit = None
        else:
            raise ValueError(f"{char!r} in {text!r} is not a Chinese numeral")
    return total + (digit or 0)


def parse_printed(printed: str) -> tuple[float, str, str]:
    """Read (value, unit, qualifier) back from a figure as printed: 近40个 → (40, 个, nearly)."""
    if rank := RANK.fullmatch(printed):
        return float(chinese_number(rank["number"])), "位", "exact"
    match = PRINTED.fullmatch(printed)
    if not match:
        raise ValueError(f"cannot read a figure from {printed!r}")
    if match["before"] and match["after"]:
        raise ValueError(f"{printed!r} carries two hedges")
    number = match["number"]
    value = float(number) if number[0].isdigit() else float(chinese_number(number))
    return value, match["unit"], HEDGES[match["before"] or match["after"]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def occurrences(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), text)]


def figure_spans(text: str, figures: pd.DataFrame) -> list[Span]:
    """The printed span of each figure, located through its (unique) citation."""
    spans = []
    for row in figures.itertuples():
        start = text.index(row.citation) + row.citation.index(row.printed)
        spans.append(Span(start, start + len(row.printed), f"figure {row.id}"))
    return spans


def text_spans(text: str, needles: Iterable[str], label: str) -> list[Span]:
    """Every occurrence of each needle (programme codes, non-figure words)."""
    return [Span(s, s + len(n), f"{label} {n}") for n in needles for s in occurrences(text, n)]


def uncovered_numbers(text: str, spans: Iterable[Span]) -> list[tuple[int, str, str]]:
    """Numbers in ``text`` lying in no span: (offset, number, context around it)."""
    spans = list(spans)
    missing = []
    for match in NUMBER.finditer(text):
        if not any(s.start <= match.start() and match.end() <= s.end for s in spans):
            context = text[max(0, match.start() - 10) : match.end() + 10].replace("\n", "⏎")
            missing.append((match.start(), match.group(), context))
    return missing
