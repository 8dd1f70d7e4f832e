"""Exponential backoff for retrying a whole batch against a service that is away."""

from __future__ import annotations


class Backoff:
    """Delays that double from ``first`` up to ``cap``; :meth:`reset` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first, self.cap, self.current = first, cap, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.cap, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.first
