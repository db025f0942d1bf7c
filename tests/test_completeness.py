"""The data holds every figure of the report: each number in the text is accounted for."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from provenance import NUMBER, figure_spans, occurrences, text_spans, uncovered_numbers

import huaiyin
from conftest import ROOT

NON_FIGURES = ROOT / "tests" / "non_figures.csv"


def non_figures(source_id: str) -> list[dict[str, str]]:
    with NON_FIGURES.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["source_id"] == source_id]


def accounted(text: str, source_id: str, figures: pd.DataFrame, programmes: pd.DataFrame) -> list:
    return [
        *figure_spans(text, figures[figures["source_id"] == source_id]),
        *text_spans(
            text, programmes.loc[programmes["source_id"] == source_id, "code"], "programme"
        ),
        *text_spans(text, [r["span"] for r in non_figures(source_id)], "non-figure"),
    ]


def test_every_number_is_a_figure_a_code_or_a_listed_non_figure(
    source_texts: dict[str, str], figures: pd.DataFrame, programmes: pd.DataFrame
) -> None:
    for source_id, text in source_texts.items():
        missing = uncovered_numbers(text, accounted(text, source_id, figures, programmes))
        assert not missing, (
            "numbers in the report that the data does not account for:\n"
            + "\n".join(
                f"  offset {pos}: {number!r} in …{context}…" for pos, number, context in missing
            )
        )


def test_non_figures_are_listed_with_a_reason_and_occur(source_texts: dict[str, str]) -> None:
    for source_id, text in source_texts.items():
        for entry in non_figures(source_id):
            assert entry["reason"].strip(), f"non-figure {entry['span']!r} needs a reason"
            assert occurrences(text, entry["span"]), f"{entry['span']!r} is not in the report"
            assert NUMBER.search(entry["span"]), f"{entry['span']!r} holds no number to excuse"


def test_non_figures_and_codes_never_cover_a_figure(
    source_texts: dict[str, str], figures: pd.DataFrame, programmes: pd.DataFrame
) -> None:
    """An exemption overlapping a figure would let that figure go missing unnoticed."""
    for source_id, text in source_texts.items():
        spans = accounted(text, source_id, figures, programmes)
        figure_only = [s for s in spans if s.label.startswith("figure")]
        others = [s for s in spans if not s.label.startswith("figure")]
        for fig in figure_only:
            for other in others:
                assert fig.end <= other.start or other.end <= fig.start, (fig, other)


@pytest.mark.parametrize("figure_id", huaiyin.load_figures()["id"].tolist())
def test_dropping_any_figure_is_caught(
    figure_id: str, source_texts: dict[str, str], figures: pd.DataFrame, programmes: pd.DataFrame
) -> None:
    """Remove one figure from the data: the completeness check must then report its number."""
    fig = figures.set_index("id").loc[figure_id]
    text = source_texts[fig.source_id]
    without = figures[figures["id"] != figure_id]
    missing = uncovered_numbers(text, accounted(text, fig.source_id, without, programmes))
    start = text.index(fig.citation) + fig.citation.index(fig.printed)
    assert any(start <= pos < start + len(fig.printed) for pos, _, _ in missing), (
        f"dropping {figure_id} went unnoticed"
    )
