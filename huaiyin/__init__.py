"""Every figure of a report on Huaiyin District (槐荫区), Jinan, in H1 2023, as typed tables.

>>> import huaiyin
>>> huaiyin.figure("hy2023h1.gdp_growth").value
6.4
"""

from huaiyin.tables import DataError, Figure, figure, list_tables, load_figures, load_table

__all__ = ["DataError", "Figure", "figure", "list_tables", "load_figures", "load_table"]
