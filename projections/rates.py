"""Rates as exact fractions; rounded half-up only when shown, as provinces publish them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    @property
    def fraction(self) -> Fraction | None:
        return None if self.whole == 0 else Fraction(self.part, self.whole)

    def percent(self, decimals: int = 2) -> Decimal | None:
        """The rate in percent, rounded half-up to ``decimals`` places (None if no whole)."""
        fraction = self.fraction
        return None if fraction is None else _round_half_up(fraction * 100, decimals)

    def shown(self, decimals: int = 2) -> str:
        value = self.percent(decimals)
        return "–" if value is None else f"{value}"

    def to_json(self, decimals: int = 2) -> dict[str, object]:
        value = self.percent(decimals)
        return {
            "part": self.part,
            "whole": self.whole,
            "percent": None if value is None else str(value),
        }


def _round_half_up(value: Fraction, decimals: int) -> Decimal:
    """``value`` rounded half-up (away from zero at .5) to ``decimals`` places, exactly."""
    scaled = value * 10**decimals
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if remainder * 2 >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-decimals)
