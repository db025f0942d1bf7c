"""Errors: bad data (shared by the descriptor reader and the table loader), and unknown ids."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataError", "NotFoundError", "UnknownFigureError", "UnknownTableError"]


class DataError(ValueError):
    """A data file is unreadable or does not match ``datapackage.json``.

    The message names the file, and the row and column where there is one; rows count the
    header as row 1, as a spreadsheet does.
    """

    def __init__(
        self, path: Path, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")
        self.path, self.row, self.column = path, row, column


class NotFoundError(KeyError):
    """No table or figure has the name asked for; the message says what there is.

    A ``KeyError``, so ``except KeyError`` catches it. In IPython and JupyterLab it shows as
    its one line of message: the library's source says nothing a reader needs.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # no quotes around the message

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class UnknownFigureError(NotFoundError):
    """No figure has the id asked for; the message suggests close ids."""


class UnknownTableError(NotFoundError):
    """No table has the name asked for; the message lists the tables."""
