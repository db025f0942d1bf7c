"""Every figure of a report on Huaiyin District (槐荫区), Jinan, in H1 2023, as typed tables.

>>> import huaiyin
>>> huaiyin.figure("hy2023h1.gdp_growth").value
6.4
>>> str(huaiyin.derive.implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth"))
'343.5亿元'

Modules: :mod:`huaiyin.units` (conversions), :mod:`huaiyin.derive` (derived figures),
:mod:`huaiyin.present` (reader tables) and :mod:`huaiyin.charts` (chart style; imported on
first use, as it loads matplotlib).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from huaiyin import derive, glossary, present, units
from huaiyin.glossary import set_language
from huaiyin.tables import DataError, Figure, figure, find, list_tables, load_figures, load_table

__all__ = [
    "DataError",
    "Figure",
    "charts",
    "derive",
    "figure",
    "find",
    "glossary",
    "list_tables",
    "load_figures",
    "load_table",
    "present",
    "set_language",
    "units",
]


def __getattr__(name: str) -> ModuleType:
    # huaiyin.charts imports matplotlib and seaborn: load it only when asked for.
    if name == "charts":
        return importlib.import_module("huaiyin.charts")
    raise AttributeError(f"module 'huaiyin' has no attribute {name!r}")
