"""Chart style: a seaborn theme with a Simplified Chinese font, and bilingual labels.

Importing ``huaiyin`` does not import this module or matplotlib; call :func:`set_theme`
once, as with ``seaborn.set_theme()``, before drawing.

The CJK font is found offline by :mod:`huaiyin.fonts`: ``HUAIYIN_CJK_FONT`` first, then the
Noto Sans CJK collection installed with huaiyin, then conda's or the system's Noto Sans CJK
or WenQuanYi; of a ``.ttc`` collection, the Simplified Chinese face.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from matplotlib.text import Text

from huaiyin.derive import SYMBOLS
from huaiyin.fonts import CHART_TEXT_ENV, FONT_ENV, SC_FAMILIES, FontNotFoundError, find_sc_face
from huaiyin.glossary import TERMS, language
from huaiyin.present import SIGN_WORDS, bound_number, period_words
from huaiyin.tables import Figure, load_table
from huaiyin.units import unit as lookup_unit

__all__ = [
    "FONT_ENV",
    "SC_FAMILIES",
    "CJKFont",
    "FontNotFoundError",
    "add_source_caption",
    "bar_chart",
    "figures_chart",
    "find_cjk_font",
    "label",
    "rank_chart",
    "set_theme",
    "unit_label",
]

Lang = Literal["zh", "en", "both"]


@dataclass(frozen=True)
class CJKFont:
    """The font the charts use: its file, the family name matplotlib knows it by, its origin."""

    path: Path
    family: str
    origin: str


def find_cjk_font() -> CJKFont:
    """Find a Simplified Chinese font offline (see :mod:`huaiyin.fonts`); register it.

    Raises
    ------
    FontNotFoundError
        If no font is found; the message says how to install one.
    """
    face = find_sc_face()
    font_manager.fontManager.addfont(str(face.path))
    registered = {e.name for e in font_manager.fontManager.ttflist if Path(e.fname) == face.path}
    if face.family not in registered:
        raise FontNotFoundError(
            f"matplotlib did not register {face.family!r} from {face.path}; it found "
            f"{', '.join(sorted(registered)) or 'nothing'}"
        )
    return CJKFont(path=face.path, family=face.family, origin=face.origin)


def set_theme(
    context: Literal["paper", "notebook", "talk", "poster"] = "notebook",
    style: Literal["white", "dark", "whitegrid", "darkgrid", "ticks"] = "whitegrid",
) -> CJKFont:
    """Apply the house chart style: a seaborn theme with a Simplified Chinese font.

    Returns the font in use, so a notebook can show where it came from.
    """
    font = find_cjk_font()
    sns.set_theme(
        context=context,
        style=style,
        font=font.family,
        rc={
            "axes.unicode_minus": False,  # CJK fonts lack U+2212; use the ASCII minus
            # Labels are data: "$" is a character, never the start of a formula.
            "text.parse_math": False,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.axisbelow": True,  # gridlines behind bars and value labels
            # SVG, the same bytes on every run: nbval compares it as text, so a chart is tested
            # like a table, and PDFs get vector graphics. Text as outlines unless asked otherwise.
            "svg.hashsalt": "huaiyin",
            "svg.fonttype": _svg_fonttype(),
        },
    )
    _show_as_svg()
    # Also first among sans-serif fonts, for code that later asks for "sans-serif".
    others = [f for f in mpl.rcParams["font.sans-serif"] if f != font.family]
    mpl.rcParams["font.sans-serif"] = [font.family, *others]
    return font


# What CHART_TEXT_ENV may ask for, and matplotlib's name for it.
_SVG_FONTTYPES = {"outlines": "path", "text": "none"}


def _svg_fonttype() -> str:
    asked = os.environ.get(CHART_TEXT_ENV) or "outlines"  # set but empty: the default
    if asked not in _SVG_FONTTYPES:
        raise ValueError(
            f"{CHART_TEXT_ENV}={asked!r} is not a way to draw chart text; valid: "
            f"{', '.join(_SVG_FONTTYPES)} (the default: outlines)"
        )
    return _SVG_FONTTYPES[asked]


def label(fig: Figure, lang: Lang | None = None) -> str:
    """A figure's subject in Chinese, English, or both (``全区生产总值 GDP``)."""
    lang = _resolve(lang)
    return _pick(fig.subject_zh, fig.subject_en, lang)


def unit_label(printed_unit: str, lang: Lang | None = None) -> str:
    """An axis label for a unit: ``亿元``, ``100 million yuan`` or ``亿元 (100 million yuan)``."""
    lang = _resolve(lang)
    if printed_unit == "%":
        return _pick("%", "%", lang)
    return _pick(printed_unit, lookup_unit(printed_unit).name_en, lang)


def _show_as_svg() -> None:
    """In a notebook, display charts as SVG without a date, so that a re-run gives the same
    bytes. Outside IPython there is nothing to set."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("svg", metadata={"Date": None}, bbox_inches="tight")  # type: ignore[no-untyped-call]


def add_source_caption(
    chart: MplFigure | Axes,
    source_id: str = "hy2023h1",
    lang: Lang | None = None,
    periods: Iterable[str] | None = None,
    note: tuple[str, str] | None = None,
) -> None:
    """Write the source under the chart: the reporter, and the periods of what it plots.

    ``periods`` are the period codes of the plotted figures; without them the caption names
    the report's own period. ``note`` is a (Chinese, English) sentence to add.
    """
    lang = _resolve(lang)
    sources = load_table("sources").set_index("id")
    if source_id not in sources.index:
        raise KeyError(f"no source {source_id!r}; valid: {', '.join(sources.index)}")
    source = sources.loc[source_id]
    codes = list(dict.fromkeys(periods)) if periods is not None else [str(source["period"])]
    zh_periods = "、".join(dict.fromkeys(period_words(c, "zh") for c in codes))
    en_words = list(dict.fromkeys(period_words(c) for c in codes))
    en_periods = " and ".join(en_words) if len(en_words) < 3 else "; ".join(en_words)
    zh = f"来源：记者{source['reporter']}报道；时期：{zh_periods}"
    en = f"Source: report by {source['reporter']}; period: {en_periods}"
    if note is not None:
        zh, en = f"{zh}。{note[0]}", f"{en}. {note[1][:1].upper()}{note[1][1:]}"
    target = chart.figure if isinstance(chart, Axes) else chart
    target.text(
        0.01,
        0.005,
        _pick(zh, en, lang, both="{zh}\n{en}"),
        ha="left",
        va="bottom",
        fontsize="small",
        color="0.35",
        # No wrap=True: matplotlib measures wrapped text as mathtext, whatever parse_math says.
        parse_math=False,
    )


def bar_chart(
    data: pd.Series | pd.DataFrame,
    *,
    title: str,
    axis_label: str,
    qualifiers: pd.Series | None = None,
    periods: pd.Series | None = None,
    groups: pd.Series | None = None,
    kinds: pd.Series | None = None,
    source_id: str = "hy2023h1",
    lang: Lang | None = None,
    width: float = 8.0,
    decimals: int | None = None,
    note: tuple[str, str] | None = None,
) -> MplFigure:
    """A titled horizontal bar chart with its values written on the bars and a source caption.

    Parameters
    ----------
    data : Series or DataFrame
        Bar lengths, indexed by the labels; a DataFrame draws one bar per column (series).
    title, axis_label : str
        The chart title, and the value axis label: always name the unit (see
        :func:`unit_label`).
    qualifiers : Series, optional
        A qualifier per label (``more_than``, ``nearly``, …) for a Series: hedged bars are
        hatched, and their value labels carry the hedge, as in ``>220`` or ``<30``.
    periods : Series, optional
        A period code per label: the caption names them, and where they differ each label
        says its own.
    groups : Series, optional
        A group name per label: one panel per group (kinds of money apart: planned,
        completed, a target), all on one scale, so that bar lengths still compare.
    kinds : Series, optional
        A figure kind per label: a ``target`` is drawn as an outline, not as an outcome.
    decimals : int, optional
        Places for the value labels, as in the table beside the chart (a hedged value is
        rounded so that its hedge stays true); by default up to two, as the report prints.
    note : (str, str), optional
        A sentence in Chinese and in English for the source line: what a reader must know to
        read the chart right.
    """
    lang = _resolve(lang)
    # Every text of the chart comes from the data or the caller: draw it literally, so that
    # a "$" in a label is a dollar sign, not the start of a formula that fails at display time.
    with mpl.rc_context({"text.parse_math": False}):
        fig = _bar_chart(
            data,
            title,
            axis_label,
            _Marks(qualifiers, periods, groups, kinds),
            source_id,
            lang,
            width,
            decimals,
            note,
        )
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


def figures_chart(
    figures: pd.DataFrame,
    *,
    title: str,
    axis_label: str,
    groups: pd.Series | None = None,
    lang: Lang | None = None,
    width: float = 8.0,
    note: tuple[str, str] | None = None,
) -> MplFigure:
    """:func:`bar_chart` of figures (rows of :func:`huaiyin.load_figures`): each bar keeps the
    figure's hedge, period and kind, and is labelled with its subject in both languages.

    ``groups`` maps figure ids to panel names, and ``note`` adds a sentence to the source line
    (see :func:`bar_chart`).
    """
    lang = _resolve(lang)
    labels = [
        _pick(str(zh), str(en), lang, both="{zh}\n{en}")
        for zh, en in zip(figures["subject_zh"], figures["subject_en"], strict=True)
    ]
    if len(set(labels)) != len(labels):
        raise ValueError("two figures in one chart have the same subject; chart them apart")
    ids = list(figures["id"].astype(str))
    if groups is not None:
        if not isinstance(groups, pd.Series):
            raise TypeError(
                f"groups must be a pandas Series of panel names indexed by figure id, not "
                f"{type(groups).__name__}; write pd.Series({{...}}) around a dict"
            )
        ungrouped = [i for i in ids if i not in groups.index]
        if ungrouped:
            raise ValueError(f"groups names no panel for {', '.join(ungrouped)}")

    def by_label(values: Iterable[object]) -> pd.Series:
        return pd.Series([str(v) for v in values], index=labels)

    return bar_chart(
        pd.Series(figures["value"].astype(float).to_numpy(), index=labels),
        title=title,
        axis_label=axis_label,
        qualifiers=by_label(figures["qualifier"]),
        periods=by_label(figures["period"]),
        groups=by_label(groups.reindex(ids)) if groups is not None else None,
        kinds=by_label(figures["kind"]),
        source_id=str(figures["source_id"].iloc[0]),
        lang=lang,
        width=width,
        note=note,
    )


def rank_chart(figures: pd.DataFrame, *, title: str, lang: Lang | None = None) -> MplFigure:
    """Ranks as a dot plot with 1 at the top, labelled as printed (第三), and a note that the
    report does not say how many units are ranked."""
    lang = _resolve(lang)
    ranks = figures[figures["kind"] == "rank"]
    if ranks.empty:
        raise ValueError("no rank among these figures")
    with mpl.rc_context({"text.parse_math": False}):
        fig, ax = plt.subplots(figsize=(8.0, 3.6), layout="constrained")
        fig.get_layout_engine().set(rect=(0, 0.7 / 3.6, 1, 1 - 0.7 / 3.6))  # type: ignore[union-attr, call-arg]
        positions = range(len(ranks))
        ax.scatter(positions, ranks["value"], s=90, color="C0", zorder=3)
        for x, (value, printed) in enumerate(zip(ranks["value"], ranks["printed"], strict=True)):
            ax.annotate(
                str(printed),
                (x, value),
                xytext=(10, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
                bbox=_LABEL_BOX,
            )
        ax.set_xticks(
            list(positions),
            [
                _pick(str(zh), textwrap.fill(str(en), 22), lang, both="{zh}\n{en}")
                for zh, en in zip(ranks["subject_zh"], ranks["subject_en"], strict=True)
            ],
            fontsize="small",
        )
        worst = int(ranks["value"].max())
        ax.set_ylim(worst + 1, 0.5)  # 1 at the top
        ax.set_yticks(range(1, worst + 1))
        ax.set_xlim(-0.5, len(ranks) - 0.3)
        ax.set_ylabel(_pick("全市位次", "rank in Jinan", lang, both="{zh} {en}"))
        ax.set_title(title)
        add_source_caption(
            fig,
            str(ranks["source_id"].iloc[0]),
            lang,
            periods=ranks["period"].astype(str),
            note=(
                "1为第一；参与排名的单位数报道未注明",
                "1 = first; the report does not say how many units are ranked",
            ),
        )
        _freeze_layout(fig)
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


@dataclass(frozen=True)
class _Marks:
    qualifiers: pd.Series | None
    periods: pd.Series | None
    groups: pd.Series | None
    kinds: pd.Series | None

    def get(self, name: str, labels: pd.Index, default: str) -> list[str]:
        marks: pd.Series | None = getattr(self, name)
        if marks is None:
            return [default] * len(labels)
        missing = [str(label) for label in labels if label not in marks.index]
        if missing:
            raise ValueError(f"no {name[:-1]} for {', '.join(map(repr, missing))}")
        return [str(marks[label]) for label in labels]


_LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}


def _bar_chart(
    data: pd.Series | pd.DataFrame,
    title: str,
    axis_label: str,
    marks: _Marks,
    source_id: str,
    lang: Lang,
    width: float,
    decimals: int | None,
    note: tuple[str, str] | None,
) -> MplFigure:
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    qualifiers = marks.get("qualifiers", frame.index, "exact")
    unknown = sorted(set(qualifiers) - set(SYMBOLS))
    if unknown:
        raise ValueError(
            f"unknown qualifier(s) {', '.join(map(repr, unknown))}; valid: {', '.join(SYMBOLS)}"
        )
    periods = marks.get("periods", frame.index, "")
    kinds = marks.get("kinds", frame.index, "")
    group_of = marks.get("groups", frame.index, "")
    if len(set(periods)) > 1:
        frame = frame.set_axis(
            [
                _with_period(str(label), p, lang)
                for label, p in zip(frame.index, periods, strict=True)
            ]
        )
    qualifier_of = dict(zip(frame.index, qualifiers, strict=True))
    kind_of = dict(zip(frame.index, kinds, strict=True))
    panels = list(dict.fromkeys(group_of))
    sizes = [group_of.count(g) * len(frame.columns) for g in panels]
    # Room for every line of the longest label, so that two-line labels never overlap.
    lines = max(str(label).count("\n") + 1 for label in frame.index)
    per_bar = max(0.28, 0.21 * lines + 0.08)
    height = 1.6 + sum(per_bar * n + 0.3 for n in sizes) + 0.35 * (len(panels) > 1) * len(panels)
    # Below the panels: the key (if a bar is hedged or a target), then the source caption.
    keyed = any(q != "exact" for q in qualifiers) or "target" in kinds
    bottom = 0.55 + 0.35 * keyed
    height += 0.35 * keyed
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(width, height),
        layout="constrained",
        squeeze=False,
        height_ratios=[n + 1 for n in sizes],
        sharex=True,  # one scale for every panel: bar lengths compare across kinds
    )
    # Leave room at the bottom for the source caption, which layout engines do not see.
    fig.get_layout_engine().set(rect=(0, bottom / height, 1, 1 - bottom / height))  # type: ignore[union-attr, call-arg]
    hedges: set[str] = set()
    target = False
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        rows = frame[[g == panel for g in group_of]]
        # Reversed, so that the first label is at the top as in the reading order.
        rows.iloc[::-1].plot.barh(ax=ax, legend=False, width=0.8)
        for container, column in zip(ax.containers, rows.columns, strict=True):
            values = rows[column].iloc[::-1]
            labels = []
            for bar, (label, value) in zip(container, values.items(), strict=True):
                qualifier = qualifier_of[label]
                if qualifier != "exact":
                    # A paler solid colour, not transparency: gridlines must not show through.
                    colour = bar.get_facecolor()
                    bar.set_facecolor(_paler(colour))
                    bar.set_edgecolor(colour)  # the hatch is drawn in the edge colour
                    bar.set_hatch("////")
                    hedges.add(qualifier)
                if kind_of[label] == "target":
                    bar.set_fill(False)
                    bar.set_linestyle("--")
                    bar.set_edgecolor("C0")
                    target = True
                labels.append(
                    f"{_hedge_mark(qualifier, lang)}{_number(value, qualifier, decimals)}"
                )
            ax.bar_label(container, labels=labels, padding=3, fontsize="small", bbox=_LABEL_BOX)
        if len(panels) > 1:
            ax.set_title(panel, loc="left", fontsize="medium")
        ax.set_ylabel("")
        ax.set_xlabel("")
        ax.margins(x=0.2)
        if len(rows.columns) > 1:
            # Labels passed explicitly: matplotlib would drop a series whose name starts with "_".
            ax.legend(
                ax.containers,
                [str(c) for c in rows.columns],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.26),  # under the axis label, never over the bars
                ncols=len(rows.columns),
                fontsize="small",
                frameon=False,
            )
    axes[-1, 0].set_xlabel(axis_label)
    if len(panels) > 1:
        fig.suptitle(title)
    else:
        axes[0, 0].set_title(title)
    _key(fig, hedges, target, lang, 0.5 / height)
    add_source_caption(
        fig,
        source_id,
        lang,
        periods=[p for p in periods if p] or None,
        note=note,
    )
    _freeze_layout(fig)
    return fig


def _with_period(label: str, period: str, lang: Lang) -> str:
    """A bar label that says its period: each language's line gets its own words."""
    zh, en = f"（{period_words(period, 'zh')}）", f" ({period_words(period)})"
    if lang == "both" and "\n" in label:
        first, rest = label.split("\n", 1)
        return f"{first}{zh}\n{rest}{en}"
    both = f"\n{period_words(period, 'zh')}，{period_words(period)}"
    return label + _pick(zh, en, lang, both=both)


def _freeze_layout(fig: MplFigure) -> None:
    """Run the layout once and fix the result, rounded to a millionth of the figure.

    The constrained-layout solver's results can differ in the last bits from one process to
    the next; the SVG names its clip paths by hashing the exact positions, so without this a
    multi-panel chart could change its bytes between runs.
    """
    fig.draw_without_rendering()
    for ax in fig.axes:
        x, y, width, height = (round(float(v), 6) for v in ax.get_position().bounds)
        ax.set_position((x, y, width, height))
    fig.set_layout_engine("none")


# Before a hedged value: the report's own words in Chinese (超220, 近30), signs otherwise.
_HEDGE_WORDS_ZH = {
    "more_than": TERMS["more_than"][0],
    "nearly": TERMS["nearly"][0],
    "less_than": TERMS["<"][0],
    "approximate": TERMS["≈"][0],
}


def _hedge_mark(qualifier: str, lang: Lang) -> str:
    return _HEDGE_WORDS_ZH.get(qualifier, "") if lang == "zh" else SYMBOLS[qualifier]


def _key(fig: MplFigure, hedges: set[str], target: bool, lang: Lang, y: float) -> None:
    """A legend, above the source caption, for the ways a bar can differ from an exact
    outcome; ``y`` is the caption's top, as a fraction of the figure's height. It names only
    the hedges (qualifiers) the chart shows."""
    handles, texts = [], []
    if hedges:
        signs = {SYMBOLS[q] for q in hedges}
        shown = {sign: words for sign, words in SIGN_WORDS.items() if sign in signs}
        hedged_zh, hedged_en = TERMS["hedged"]
        if lang == "zh":  # the words the bars carry: 约数（超、近）
            words = dict.fromkeys(_HEDGE_WORDS_ZH[q] for q in sorted(hedges))
            zh = f"{hedged_zh}（{'、'.join(words)}）"
        else:  # beside the signs the bars carry: 约数：>超过
            zh = f"{hedged_zh}：" + "，".join(f"{sign}{w[0]}" for sign, w in shown.items())
        en = f"{hedged_en}: " + ", ".join(f"{sign} {w[1]}" for sign, w in shown.items())
        handles.append(Patch(facecolor=_paler("C0"), edgecolor="C0", hatch="////"))
        texts.append(_pick(zh, en, lang, both="{zh}  {en}"))
    if target:
        handles.append(Patch(fill=False, edgecolor="C0", linestyle="--"))
        texts.append(_pick(*TERMS["target_outline"], lang, both="{zh} {en}"))
    if handles:
        key = fig.legend(
            handles,
            texts,
            loc="lower left",
            bbox_to_anchor=(0.0, y),
            ncols=len(handles),
            fontsize="small",
            frameon=False,
        )
        key.set_in_layout(False)  # its room is kept free below the panels


def _number(value: float, qualifier: str = "exact", decimals: int | None = None) -> str:
    """Thousands separated, to ``decimals`` places, or by default up to two without trailing
    zeros, as the report prints: 3,140 / 166.72 / 0.7. Chinese writes 3140, ungrouped."""
    grouped = language() != "zh"
    if decimals is not None:
        return bound_number(value, qualifier, decimals, grouped)
    return bound_number(value, qualifier, 2, grouped).rstrip("0").rstrip(".")


def _paler(colour: object) -> tuple[float, float, float, float]:
    """The colour mixed half with white: a hedged bar, solid so nothing shows through."""
    red, green, blue, _ = mpl.colors.to_rgba(colour)  # type: ignore[arg-type]
    return (0.5 + red / 2, 0.5 + green / 2, 0.5 + blue / 2, 1.0)


def _resolve(lang: Lang | None) -> Lang:
    # By default, the edition's language: Chinese alone, or the English edition's both.
    if lang is None:
        return "zh" if language() == "zh" else "both"
    return lang


def _pick(zh: str, en: str, lang: Lang, both: str = "{zh} ({en})") -> str:
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    if lang == "both":
        return zh if zh == en else both.format(zh=zh, en=en)
    raise ValueError(f"lang must be 'zh', 'en' or 'both', not {lang!r}")
