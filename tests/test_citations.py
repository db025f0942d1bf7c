"""Every figure traces to the report: its citation is verbatim, and holds the figure as printed."""

from __future__ import annotations

import pandas as pd
import pytest
from provenance import chinese_number, parse_printed

import huaiyin

FIGURES = huaiyin.load_figures()
IDS = FIGURES["id"].tolist()
MAX_CITATION = 40  # characters: a citation is a short span, not a copy of the report


def row(figure_id: str) -> pd.Series:
    return FIGURES.set_index("id").loc[figure_id]


@pytest.mark.parametrize("figure_id", IDS)
def test_citation_is_a_unique_verbatim_span(figure_id: str, source_texts: dict[str, str]) -> None:
    fig = row(figure_id)
    text = source_texts[fig.source_id]
    count = text.count(fig.citation)
    assert count == 1, f"{figure_id}: citation {fig.citation!r} occurs {count} times in the report"
    assert len(fig.citation) <= MAX_CITATION, f"{figure_id}: citation is not a short span"


@pytest.mark.parametrize("figure_id", IDS)
def test_citation_holds_the_figure_as_printed(figure_id: str) -> None:
    fig = row(figure_id)
    assert fig.citation.count(fig.printed) == 1, (
        f"{figure_id}: printed form {fig.printed!r} must occur once in {fig.citation!r}"
    )
    assert parse_printed(fig.printed) == (fig.value, fig.unit, fig.qualifier), (
        f"{figure_id}: value/unit/qualifier disagree with the printed {fig.printed!r}"
    )


@pytest.mark.parametrize("figure_id", IDS)
def test_printed_span_is_a_whole_number(figure_id: str, source_texts: dict[str, str]) -> None:
    """The printed span does not cut a number: 28.4 must not be recorded as 8.4."""
    fig = row(figure_id)
    text = source_texts[fig.source_id]
    start = text.index(fig.citation) + fig.citation.index(fig.printed)
    before, after = text[start - 1 : start], text[start + len(fig.printed) :][:1]
    assert not (before.isdigit() or before == "."), f"{figure_id}: span starts inside a number"
    assert not (after.isdigit() or after == "."), f"{figure_id}: span ends inside a number"


# The quantity (units.csv) each kind of figure must be measured in.
KIND_QUANTITIES = {
    "level": {"money"},
    "growth": {"percentage"},
    "rank": {"rank"},
    "count": {"count"},
    "target": {"money", "count"},
}


def test_kind_agrees_with_unit(figures: pd.DataFrame) -> None:
    quantities = huaiyin.load_table("units").set_index("unit")["quantity"].astype(str)
    for fig in figures.itertuples():
        quantity = quantities[fig.unit]
        assert quantity in KIND_QUANTITIES[fig.kind], (
            f"{fig.id}: a {fig.kind} cannot be in {fig.unit} ({quantity})"
        )


HEDGES_BEFORE = ("近", "超", "突破", "约", "逾", "超过", "不到")
HEDGES_AFTER = ("余", "多")


@pytest.mark.parametrize("figure_id", IDS)
def test_no_hedge_of_the_report_is_left_out(figure_id: str, source_texts: dict[str, str]) -> None:
    """The printed span starts at the hedge: 40个 recorded for 近40个 would read as exact."""
    fig = row(figure_id)
    text = source_texts[fig.source_id]
    start = text.index(fig.citation) + fig.citation.index(fig.printed)
    before = text[max(0, start - 2) : start]
    hedged = before.endswith(HEDGES_BEFORE) and before != "签约"  # 签约 "signed", not 约 "about"
    assert not hedged, f"{figure_id}: hedge {before!r} left out"
    assert not text[start + len(fig.printed) :].startswith(HEDGES_AFTER), figure_id


def paragraphs(text: str) -> list[str]:
    """Paragraphs of the report, rejoined where a page break cut a sentence in half."""
    joined: list[str] = []
    for block in (b.strip() for b in text.split("\n\n")):
        if not block:
            continue
        if joined and not joined[-1].endswith(("。", "！", "？", "”", "…")):
            joined[-1] += block
        else:
            joined.append(block)
    return joined


# The words that state each period: the paragraph holding the citation must contain one.
PERIOD_WORDS = {"2023H1": ("上半年",), "2023YTD": ("今年以来",), "2023": ("年度", "全年")}


@pytest.mark.parametrize("figure_id", IDS)
def test_period_is_stated_in_the_paragraph(figure_id: str, source_texts: dict[str, str]) -> None:
    fig = row(figure_id)
    if fig.period == "unstated":
        return
    (paragraph,) = [p for p in paragraphs(source_texts[fig.source_id]) if fig.citation in p]
    words = PERIOD_WORDS[fig.period]
    assert any(w in paragraph for w in words), (
        f"{figure_id}: period {fig.period} but its paragraph says none of {words}"
    )


def test_ids_carry_their_source_and_are_unique(
    figures: pd.DataFrame, programmes: pd.DataFrame
) -> None:
    for table in (figures, programmes):
        prefix = table["source_id"].astype(str) + "."
        bad = table[~pd.Series([i.startswith(p) for i, p in zip(table["id"], prefix, strict=True)])]
        assert bad.empty, f"ids must start with their source id:\n{bad['id']}"
    all_ids = pd.concat([figures["id"], programmes["id"]])
    assert not all_ids.duplicated().any(), all_ids[all_ids.duplicated()].tolist()


def test_growth_and_rank_share_an_indicator_with_the_figure_they_qualify(
    figures: pd.DataFrame,
) -> None:
    """Growth rates and ranks name their indicator, and every indicator has one row per kind."""
    assert not figures.duplicated(["source_id", "indicator", "kind", "period", "scope_en"]).any()
    for fig in figures[figures["kind"].isin(["growth", "rank"])].itertuples():
        assert fig.id == f"{fig.source_id}.{fig.indicator}_{fig.kind}", fig.id


def test_ambiguous_budget_rank_is_recorded_as_ambiguous() -> None:
    note = huaiyin.figure("hy2023h1.budget_revenue_rank").note
    assert "Ambiguous" in note and "28.4亿元" in note and "16.4%" in note


def test_source_metadata_is_verbatim(sources: pd.DataFrame, source_texts: dict[str, str]) -> None:
    for source in sources.itertuples():
        text = source_texts[source.id]
        assert source.title_zh in text
        assert f"记者 {source.reporter}" in text


def test_programme_codes_and_meanings_are_verbatim(
    programmes: pd.DataFrame, source_texts: dict[str, str]
) -> None:
    for prog in programmes.itertuples():
        text = source_texts[prog.source_id]
        assert text.count(prog.citation) == 1, f"{prog.id}: citation not unique or absent"
        assert prog.code in prog.citation, f"{prog.id}: code not in its citation"
        has_meaning = not pd.isna(prog.meaning_zh)
        assert has_meaning == (not pd.isna(prog.meaning_en)), f"{prog.id}: meaning in one language"
        if has_meaning:
            assert prog.meaning_zh in text, f"{prog.id}: meaning is not the report's own words"
        else:
            assert "does not spell out" in prog.note, f"{prog.id}: say that no meaning is given"


def test_printed_parser_reads_the_report_forms() -> None:
    assert parse_printed("365.5亿元") == (365.5, "亿元", "exact")
    assert parse_printed("近40个") == (40.0, "个", "nearly")
    assert parse_printed("20余场") == (20.0, "场", "more_than")
    assert parse_printed("超220万人次") == (220.0, "万人次", "more_than")
    assert parse_printed("突破千万人次") == (1000.0, "万人次", "more_than")
    assert parse_printed("第六") == (6.0, "位", "exact")
    assert [chinese_number(n) for n in ("三", "十", "十六", "二十", "一百零八", "千")] == [
        3,
        10,
        16,
        20,
        108,
        1000,
    ]
    with pytest.raises(ValueError, match="two hedges"):
        parse_printed("近20余场")
