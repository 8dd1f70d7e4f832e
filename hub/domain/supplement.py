"""How a completed supplement moves the deadline: a setting (../shared/domain.md; decision
0002), in a module of its own so that naming it costs nothing."""

from __future__ import annotations

from enum import StrEnum


class SupplementRule(StrEnum):
    """How a completed supplement moves the deadline (see docs/decisions)."""

    RECOMPUTE = "recompute"  # the whole processing time again, from the moment it is complete
    EXTEND = "extend"  # the old deadline plus the office time spent waiting
