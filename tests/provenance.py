"""Where each number of a report sits, and what accounts for it.

Used by the tests to prove that the data holds every figure of the report: every number in
the text must lie inside a figure's printed span, a programme code or a listed non-figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from huaiyin.printed import chinese_number, parse_printed

# chinese_number and parse_printed come from the library; the tests read the report with them.
__all__ = [
    "NUMBER",
    "chinese_number",
    "figure_spans",
    "occurrences",
    "parse_printed",
    "text_spans",
    "uncovered_numbers",
]

# Arabic numbers, and runs of the Chinese numerals the report uses, with an optional 第
# (ordinal) before and 万/亿 after. 双 (double) and 首 (first) count too, so that codes like
# 双十 and ordinals like 首届 must be accounted for.
NUMBER = re.compile(r"\d+(?:\.\d+)?|第?[零一二两三四五六七八九十百千双首]+[万亿]?")


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
