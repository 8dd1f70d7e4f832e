"""CSV cells safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken for
a formula by Excel and LibreOffice (CSV injection, OWASP); names of units and procedures,
actors and reasons come from agency systems. Such a cell is written with a leading
apostrophe, which spreadsheets show as text and do not evaluate. Numbers are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


class _Writable(Protocol):
    def write(self, text: str, /) -> int: ...


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`neutral`."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutral(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
