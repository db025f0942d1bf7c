"""Chart style: a seaborn theme with a Simplified Chinese font, and bilingual labels.

Importing ``huaiyin`` does not import this module or matplotlib; call :func:`set_theme`
once, as with ``seaborn.set_theme()``, before drawing.

The CJK font is found offline by :mod:`huaiyin.fonts`: ``HUAIYIN_CJK_FONT`` first, then the
Noto Sans CJK collection installed with huaiyin, then conda's or the system's Noto Sans CJK
or WenQuanYi; of a ``.ttc`` collection, the Simplified Chinese face.
"""

from __future__ import annotations

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
from matplotlib.text import Text

from huaiyin.derive import SYMBOLS
from huaiyin.fonts import FONT_ENV, SC_FAMILIES, FontNotFoundError, find_sc_face
from huaiyin.tables import Figure, load_table
from huaiyin.units import unit as lookup_unit

__all__ = [
    "FONT_ENV",
    "SC_FAMILIES",
    "CJKFont",
    "FontNotFoundError",
    "add_source_caption",
    "bar_chart",
    "find_cjk_font",
    "label",
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
        },
    )
    # Also first among sans-serif fonts, for code that later asks for "sans-serif".
    others = [f for f in mpl.rcParams["font.sans-serif"] if f != font.family]
    mpl.rcParams["font.sans-serif"] = [font.family, *others]
    return font


def label(fig: Figure, lang: Lang = "both") -> str:
    """A figure's subject in Chinese, English, or both (``全区生产总值 GDP``)."""
    return _pick(fig.subject_zh, fig.subject_en, lang)


def unit_label(printed_unit: str, lang: Lang = "both") -> str:
    """An axis label for a unit: ``亿元``, ``100 million yuan`` or ``亿元 (100 million yuan)``."""
    if printed_unit == "%":
        return _pick("%", "%", lang)
    return _pick(printed_unit, lookup_unit(printed_unit).name_en, lang)


def add_source_caption(
    chart: MplFigure | Axes, source_id: str = "hy2023h1", lang: Lang = "both"
) -> None:
    """Write the source under the chart: the reporter, the period and the data package."""
    sources = load_table("sources").set_index("id")
    if source_id not in sources.index:
        raise KeyError(f"no source {source_id!r}; valid: {', '.join(sources.index)}")
    source = sources.loc[source_id]
    zh = f"来源：记者{source['reporter']}报道（{source['period']}），huaiyin 数据包"
    en = f"Source: report by {source['reporter']} ({source['period']}), huaiyin data package"
    target = chart.figure if isinstance(chart, Axes) else chart
    target.text(
        0.01,
        0.005,
        _pick(zh, en, lang, both="{zh}  {en}"),
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
    source_id: str = "hy2023h1",
    lang: Lang = "both",
    width: float = 8.0,
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
        A qualifier per label (``more_than``, ``nearly``, …) for a Series: the value labels
        then carry the report's hedge, as in ``>220`` or ``≈30``.
    """
    # Every text of the chart comes from the data or the caller: draw it literally, so that
    # a "$" in a label is a dollar sign, not the start of a formula that fails at display time.
    with mpl.rc_context({"text.parse_math": False}):
        fig = _bar_chart(data, title, axis_label, qualifiers, source_id, lang, width)
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


def _bar_chart(
    data: pd.Series | pd.DataFrame,
    title: str,
    axis_label: str,
    qualifiers: pd.Series | None,
    source_id: str,
    lang: Lang,
    width: float,
) -> MplFigure:
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if qualifiers is not None:
        unknown = sorted(set(map(str, qualifiers.dropna())) - set(SYMBOLS))
        if unknown:
            raise ValueError(
                f"unknown qualifier(s) {', '.join(map(repr, unknown))}; valid: {', '.join(SYMBOLS)}"
            )
    bars = len(frame) * len(frame.columns)
    height = 1.6 + 0.3 * bars + 0.15 * len(frame)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    # Leave room at the bottom for the source caption, which layout engines do not see.
    fig.get_layout_engine().set(rect=(0, 0.35 / height, 1, 1 - 0.35 / height))  # type: ignore[union-attr, call-arg]
    # Reversed, so that the first label is at the top as in the table beside the chart.
    frame.iloc[::-1].plot.barh(ax=ax, legend=False, width=0.8)
    for container, column in zip(ax.containers, frame.columns, strict=True):
        values = frame[column].iloc[::-1]
        marks = (
            qualifiers.reindex(values.index).fillna("exact")
            if qualifiers is not None
            else pd.Series("exact", index=values.index)
        )
        labels = [f"{SYMBOLS[str(q)]}{_number(v)}" for v, q in zip(values, marks, strict=True)]
        ax.bar_label(container, labels=labels, padding=3, fontsize="small")  # type: ignore[arg-type]
    ax.set_title(title)
    ax.set_xlabel(axis_label)
    ax.set_ylabel("")
    ax.margins(x=0.18)
    if len(frame.columns) > 1:
        # Labels passed explicitly: matplotlib would drop a series whose name starts with "_".
        ax.legend(
            ax.containers,
            [str(c) for c in frame.columns],
            loc="lower right",
            fontsize="small",
        )
    add_source_caption(fig, source_id, lang)
    return fig


def _number(value: float) -> str:
    """Up to two decimals, no trailing zeros, thousands separated: 3,140 / 166.72 / 0.7."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _pick(zh: str, en: str, lang: Lang, both: str = "{zh} ({en})") -> str:
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    if lang == "both":
        return zh if zh == en else both.format(zh=zh, en=en)
    raise ValueError(f"lang must be 'zh', 'en' or 'both', not {lang!r}")
