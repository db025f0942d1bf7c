"""The one error type for bad data, shared by the descriptor reader and the table loader."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataError"]


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
