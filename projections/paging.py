"""A page of a list: which page is shown, of how many, of how many items."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paged:
    page: int  # 1-based, within 1..pages
    pages: int
    total: int
    size: int

    @classmethod
    def of(cls, total: int, page: int, size: int) -> Paged:
        """Page ``page`` of ``total`` items, ``size`` a page; a page past either end is the
        nearest that exists."""
        pages = max(1, -(-total // size))
        return cls(min(max(page, 1), pages), pages, total, size)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size
