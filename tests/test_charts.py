"""The chart style draws Chinese in a Simplified Chinese face, or refuses loudly."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.image import imread

import huaiyin
from huaiyin import charts, fonts

GROWTH_IDS = [
    "hy2023h1.gdp_growth",
    "hy2023h1.fixed_asset_investment_growth",
    "hy2023h1.budget_revenue_growth",
]


def draw_growth_chart(path: Path) -> list[str]:
    """Draw a bilingual chart; return the warnings raised while rendering it."""
    figures = [huaiyin.figure(i) for i in GROWTH_IDS]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([charts.label(f, "zh") for f in figures], [f.value for f in figures])
    ax.set_xlabel(charts.unit_label("%", "both"))
    ax.set_title("同比增长 直骨 Year-on-year growth")
    charts.add_source_caption(fig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(path)
    plt.close(fig)
    return [str(w.message) for w in caught]


def test_set_theme_uses_a_simplified_chinese_face() -> None:
    font = charts.set_theme()
    assert font.family in charts.SC_FAMILIES
    expected = (
        f"${charts.FONT_ENV}"
        if os.environ.get(charts.FONT_ENV)
        else "the noto-cjk-sans-otc package"
    )
    assert font.origin == expected
    charts.set_theme()  # a second call changes nothing
    assert matplotlib.rcParams["font.family"] == [font.family]
    assert matplotlib.rcParams["font.sans-serif"].count(font.family) == 1
    assert matplotlib.rcParams["font.sans-serif"][0] == font.family
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_chinese_chart_renders_without_missing_glyphs(tmp_path: Path) -> None:
    charts.set_theme()
    path = tmp_path / "growth.png"
    messages = draw_growth_chart(path)
    assert not [m for m in messages if "missing from font" in m], messages
    pixels = imread(path)
    assert (
        pixels.shape[0] > 100
        and np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 10
    )


def test_missing_glyph_check_can_fail(tmp_path: Path) -> None:
    """Without the CJK font, the same chart warns of missing glyphs: the check above bites."""
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.sans-serif": ["DejaVu Sans"]}):
        messages = draw_growth_chart(tmp_path / "boxes.png")
    assert any("missing from font" in m for m in messages)


def test_explicit_font_setting_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = charts.find_cjk_font().path
    monkeypatch.setenv(charts.FONT_ENV, str(bundled))
    font = charts.find_cjk_font()
    assert (font.path, font.family, font.origin) == (
        bundled,
        "Noto Sans CJK SC",
        f"${charts.FONT_ENV}",
    )


@pytest.mark.bad_input
def test_explicit_font_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(charts.FONT_ENV, "/no/such/font.ttc")
    with pytest.raises(
        charts.FontNotFoundError, match=re.escape("'/no/such/font.ttc': no such font file")
    ):
        charts.find_cjk_font()


@pytest.mark.bad_input
def test_explicit_font_without_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    latin = font_manager.findfont("DejaVu Sans")
    monkeypatch.setenv(charts.FONT_ENV, latin)
    with pytest.raises(
        charts.FontNotFoundError, match="has no Simplified Chinese face; it offers DejaVu Sans"
    ):
        charts.find_cjk_font()


@pytest.mark.bad_input
def test_no_font_anywhere_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "noto_cjk_sans_otc", None)  # import now fails
    monkeypatch.setattr(fonts, "_environment_font_files", lambda: [])
    with pytest.raises(charts.FontNotFoundError) as info:
        charts.find_cjk_font()
    message = str(info.value)
    assert "Chinese would be drawn as boxes" in message
    assert "pip install noto-cjk-sans-otc" in message
    assert "conda install -c conda-forge font-ttf-noto-cjk" in message
    assert "apt-get install fonts-noto-cjk" in message


def test_the_briefing_font_keeps_the_glyphs_and_names_it_needs(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    face = fonts.find_sc_face()
    font = TTFont(fonts.extract(face, tmp_path, text="槐荫区 GDP"))
    mapped = set(font.getBestCmap())
    assert {ord(c) for c in "槐荫区GDPz~"} <= mapped  # the text, and printable ASCII
    assert ord("京") not in mapped and len(mapped) < 200
    assert font["name"].getBestFamilyName() == face.family


def test_a_face_that_cannot_be_subset_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.otf"
    empty.write_bytes(b"")
    face = fonts.SCFace(empty, 0, "Noto Sans CJK SC", "a test")
    with pytest.raises(fonts.FontNotFoundError, match=re.escape(f"{empty} (face 0) cannot be")):
        fonts.extract(face, tmp_path / "out", text="槐荫")


def test_labels_in_both_languages() -> None:
    gdp = huaiyin.figure("hy2023h1.gdp")
    assert charts.label(gdp, "zh") == "全区生产总值"
    assert charts.label(gdp, "en") == "Gross domestic product"
    assert charts.label(gdp, "both") == "全区生产总值 (Gross domestic product)"
    assert charts.unit_label("亿元", "both") == "亿元 (hundred million yuan)"
    assert charts.unit_label("%", "en") == "%"
    with pytest.raises(ValueError, match="lang must be 'zh', 'en' or 'both', not 'fr'"):
        charts.label(gdp, "fr")  # type: ignore[arg-type]


def test_source_caption_names_the_reporter_and_period() -> None:
    fig, ax = plt.subplots()
    charts.add_source_caption(ax, lang="en")
    texts = [t.get_text() for t in fig.texts]
    plt.close(fig)
    assert texts == ["Source: report by 王贝艺; period: H1 2023"]
    fig, ax = plt.subplots()
    charts.add_source_caption(ax, periods=["2023YTD", "unstated"])
    texts = [t.get_text() for t in fig.texts]
    plt.close(fig)
    assert texts == [
        "来源：记者王贝艺报道；时期：2023年以来、未注明\n"
        "Source: report by 王贝艺; period: 2023, year to date and not stated"
    ]
    fig, ax = plt.subplots()
    charts.add_source_caption(
        ax, lang="en", periods=["2023YTD", "2023H1", "2023"], note=("注", "each panel differs")
    )
    texts = [t.get_text() for t in fig.texts]
    plt.close(fig)
    # Three periods, one of which has a comma of its own: listed with semicolons.
    assert texts == [
        "Source: report by 王贝艺; period: 2023, year to date; H1 2023; 2023. Each panel differs"
    ]
    with pytest.raises(KeyError, match="no source 'nope'; valid: hy2023h1"):
        charts.add_source_caption(ax, source_id="nope")


@pytest.mark.bad_input
@pytest.mark.parametrize("text", [r"$\示范$村", "$5 and $6", "price $x$ 元"])
def test_data_text_is_drawn_literally(text: str, tmp_path: Path) -> None:
    """A "$" in data is a dollar sign: mathtext would drop it, or fail when the chart is shown."""
    charts.set_theme()
    fig = charts.bar_chart(
        pd.Series([1.0, 2.0], index=[text, "普通"]),
        title=f"标题 {text}",
        axis_label=text,
    )
    fig.savefig(tmp_path / "chart.svg")  # what display does; raises if text is parsed as math
    plt.close(fig)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if "$" in t.get_text()]
    assert len(texts) >= 3  # tick label, title and axis label keep their "$"
    assert all(not t.get_parse_math() for t in texts)
    # The theme makes the user's own charts literal too.
    assert matplotlib.rcParams["text.parse_math"] is False


@pytest.mark.bad_input
def test_caption_text_from_the_data_is_literal(data_copy: Path, tmp_path: Path) -> None:
    from datafiles import edit_cell

    edit_cell(data_copy, "sources", 2, "reporter", r"$\王$ & $x_$")
    charts.set_theme()
    fig = charts.bar_chart(pd.Series([1.0], index=["a"]), title="t", axis_label="a")
    fig.savefig(tmp_path / "chart.svg")  # raised a mathtext error when captions wrapped
    plt.close(fig)
    assert any(r"$\王$" in t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_every_series_keeps_its_legend_entry() -> None:
    charts.set_theme()
    frame = pd.DataFrame({"_first": [1.0, 2.0], "$second$": [2.0, 3.0]}, index=["a", "b"])
    fig = charts.bar_chart(frame, title="t", axis_label="a")
    legend = fig.axes[0].get_legend()
    plt.close(fig)
    assert [t.get_text() for t in legend.get_texts()] == ["_first", "$second$"]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("groups", "error", "message"),
    [
        (
            pd.Series({"hy2023h1.gdp": "level"}),
            ValueError,
            "groups names no panel for hy2023h1.budget_revenue",
        ),
        (
            {"hy2023h1.gdp": "level", "hy2023h1.budget_revenue": "level"},
            TypeError,
            "groups must be a pandas Series of panel names indexed by figure id, not dict; "
            "write pd.Series({...}) around a dict",
        ),
    ],
    ids=["id-without-panel", "dict"],
)
def test_chart_groups_must_name_every_figure(groups: object, error: type, message: str) -> None:
    figures = huaiyin.load_figures().set_index("id", drop=False)
    two = figures.loc[["hy2023h1.gdp", "hy2023h1.budget_revenue"]]
    with pytest.raises(error) as info:
        charts.figures_chart(two, title="t", axis_label="a", groups=groups)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.bad_input
def test_unknown_qualifier_in_a_chart_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown qualifier\(s\) 'approx'; valid: exact, more"):
        charts.bar_chart(
            pd.Series([1.0], index=["a"]),
            title="t",
            axis_label="a",
            qualifiers=pd.Series(["approx"], index=["a"]),
        )


def figure_rows(*ids: str) -> pd.DataFrame:
    return huaiyin.load_figures().set_index("id").loc[list(ids)].reset_index()


def test_hedged_bars_are_hatched_and_targets_outlined_with_a_key() -> None:
    charts.set_theme()
    rows = figure_rows(
        "hy2023h1.exhibition_visitors",  # 超220万人次
        "hy2023h1.fantawild_visitors",  # exact
    )
    fig = charts.figures_chart(rows, title="t", axis_label="万人次")
    bars = fig.axes[0].patches
    # Drawn bottom-up: the first figure is the top bar, drawn last.
    assert [b.get_hatch() for b in bars] == [None, "////"]
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["50.91", ">220"]
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    # The key names only the hedges the chart shows.
    assert key == ["约数：>超过  hedged in the report: > more than"]
    # Hedged bars are solid, in a paler colour: a gridline behind must not show through.
    assert [b.get_alpha() for b in bars] == [None, None]
    both = charts.figures_chart(
        figure_rows("hy2023h1.exhibition_visitors", "hy2023h1.exhibition_consumption"),
        title="t",
        axis_label="mixed",
    )
    assert [t.get_text() for t in both.legends[0].get_texts()] == [
        "约数：>超过，<不足  hedged in the report: > more than, < under"
    ]
    plt.close(both)
    target = charts.figures_chart(
        figure_rows("hy2023h1.medical_centre_investment_target", "hy2023h1.special_bonds"),
        title="t",
        axis_label="亿元",
    )
    bars = target.axes[0].patches
    assert [b.get_fill() for b in bars] == [True, False]
    assert [t.get_text() for t in target.legends[0].get_texts()] == ["目标 target, not an outcome"]
    plt.close(target)


def test_bars_of_different_periods_say_their_own() -> None:
    charts.set_theme()
    fig = charts.figures_chart(
        figure_rows("hy2023h1.gdp_growth", "hy2023h1.car_sales_growth"), title="t", axis_label="%"
    )
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    caption = fig.texts[-1].get_text()
    plt.close(fig)
    assert ticks == [
        "限上汽车销售企业销售额（2023年以来）\nSales of car dealers above designated size "
        "(2023, year to date)",
        "全区生产总值（2023年上半年）\nGross domestic product (H1 2023)",
    ]
    assert caption.endswith("period: H1 2023 and 2023, year to date")


def test_groups_get_a_panel_each_on_one_scale() -> None:
    charts.set_theme()
    ids = ("hy2023h1.key_projects_investment", "hy2023h1.special_bonds")
    fig = charts.figures_chart(
        figure_rows(*ids),
        title="t",
        axis_label="亿元",
        groups=pd.Series(["planned", "bonds"], index=list(ids)),
    )
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    limits = [ax.get_xlim()[1] for ax in fig.axes]
    plt.close(fig)
    assert titles == ["planned", "bonds"]
    # One scale: the bonds' bar is as short beside the plan as the numbers say.
    assert limits[0] == limits[1] and limits[0] > 3140


def test_ranks_are_dots_with_first_at_the_top_and_a_note() -> None:
    charts.set_theme()
    fig = charts.rank_chart(huaiyin.load_figures(), title="t")
    ax = fig.axes[0]
    bottom, top = ax.get_ylim()
    labels = [t.get_text() for t in ax.texts]
    caption = fig.texts[-1].get_text()
    plt.close(fig)
    assert top < 1 < bottom, "rank 1 is at the top"
    assert labels == ["第三", "第四", "第六", "第六"]
    assert "the report does not say how many units are ranked" in caption


@pytest.mark.bad_input
def test_two_figures_with_one_subject_are_refused() -> None:
    with pytest.raises(ValueError, match="two figures in one chart have the same subject"):
        charts.figures_chart(
            figure_rows("hy2023h1.gdp", "hy2023h1.gdp_growth"), title="t", axis_label="x"
        )


def test_svg_output_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    charts.set_theme()
    outputs = []
    for name in ("a.svg", "b.svg"):
        fig = charts.figures_chart(
            figure_rows("hy2023h1.exhibition_visitors", "hy2023h1.fantawild_visitors"),
            title="客流",
            axis_label="万人次",
        )
        fig.savefig(tmp_path / name, metadata={"Date": None})
        plt.close(fig)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    assert b"<text" not in outputs[0], "text is drawn as paths: no font is needed to view it"


@pytest.mark.parametrize(
    ("asked", "fonttype"), [(None, "path"), ("", "path"), ("outlines", "path"), ("text", "none")]
)
def test_chart_text_is_outlines_unless_text_is_asked_for(
    asked: str | None, fonttype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notebooks keep outlines, which a browser without a Chinese font still shows; the
    briefing's kernels ask for text, drawn from the face its PDFs embed."""
    if asked is None:
        monkeypatch.delenv(fonts.CHART_TEXT_ENV, raising=False)
    else:
        monkeypatch.setenv(fonts.CHART_TEXT_ENV, asked)
    with matplotlib.rc_context():
        charts.set_theme()
        assert matplotlib.rcParams["svg.fonttype"] == fonttype


@pytest.mark.bad_input
def test_an_unknown_way_to_draw_chart_text_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fonts.CHART_TEXT_ENV, "glyphs")
    with matplotlib.rc_context(), pytest.raises(ValueError) as caught:
        charts.set_theme()
    assert str(caught.value) == (
        "HUAIYIN_CHART_TEXT='glyphs' is not a way to draw chart text; valid: outlines, text "
        "(the default: outlines)"
    )


def test_a_note_joins_the_source_line() -> None:
    charts.set_theme()
    fig = charts.figures_chart(
        figure_rows("hy2023h1.special_bonds", "hy2023h1.medical_centre_investment_target"),
        title="t",
        axis_label="亿元",
        note=("注意", "mind this"),
    )
    caption = fig.texts[-1].get_text()
    plt.close(fig)
    assert caption.endswith(
        "。注意\nSource: report by 王贝艺; period: 2023, year to date and 2023. Mind this"
    )
