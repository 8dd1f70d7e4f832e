"""Identifier formats of the Vietnamese one-stop system, as value types.

- Unit codes follow QCVN 102:2016/BTTTT: ``V1V2V3.Z1Z2.Y1Y2.MX1X2`` (``000.00.00.H49``).
- Dossier codes follow Circular 01/2018/TT-VPCP, Art. 19: ``<unit code>-YYMMDD-XXXX``.
  A shortened unit part (``H21.65-220914-0011``) is seen in the wild and accepted.
- Procedure codes are national ``x.yyyyyy`` (``1.001776``) or local, with the unit code
  appended (``1.001776.000.00.00.H56``).

Each ``parse_*`` function raises :class:`CodeFormatError` saying what is wrong, so that the
pydantic field that uses it reports the field name together with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, Field

from events.errors import shown

__all__ = [
    "CodeFormatError",
    "DossierCode",
    "DossierCodeError",
    "DossierCodeStr",
    "ProcedureCode",
    "ProcedureCodeError",
    "ProcedureCodeStr",
    "UnitCode",
    "UnitCodeError",
    "UnitCodeStr",
    "parse_dossier_code",
    "parse_procedure_code",
    "parse_unit_code",
]

# ASCII digits only: ``\d`` would also match Arabic-Indic or full-width digits, which would
# make one dossier two. The same patterns are published in the JSON Schema.
_UNIT = r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[HK][0-9]{2}"
_SHORT_UNIT = r"[HK][0-9]{2}(?:\.[0-9]{2,3}){0,3}"
UNIT_PATTERN = rf"^{_UNIT}$"
DOSSIER_PATTERN = rf"^(?:{_UNIT}|{_SHORT_UNIT})-[0-9]{{6}}-[0-9]{{4}}$"
PROCEDURE_PATTERN = rf"^[0-9]\.[0-9]{{6}}(?:\.{_UNIT})?$"
_UNIT_RE = re.compile(UNIT_PATTERN)
_DOSSIER_RE = re.compile(
    rf"^(?P<unit>{_UNIT}|{_SHORT_UNIT})-(?P<date>[0-9]{{6}})-(?P<seq>[0-9]{{4}})$"
)
_PROCEDURE_RE = re.compile(rf"^(?P<national>[0-9]\.[0-9]{{6}})(?:\.(?P<unit>{_UNIT}))?$")


class CodeFormatError(ValueError):
    """A code does not follow its published format."""


class UnitCodeError(CodeFormatError):
    """A unit code does not follow QCVN 102:2016."""


class DossierCodeError(CodeFormatError):
    """A dossier code does not follow Circular 01/2018/TT-VPCP."""


class ProcedureCodeError(CodeFormatError):
    """A procedure code is neither national nor local form."""


@dataclass(frozen=True, slots=True)
class UnitCode:
    """A unit code split into its groups (QCVN 102:2016)."""

    value: str

    @property
    def province(self) -> str:
        """``MX1X2``: the province's People's Committee (H) or Council (K)."""
        return self.value[-3:]

    @property
    def level2(self) -> str:
        """``Y1Y2``: departments and districts; ``00`` for the province itself."""
        return self.value[7:9]

    @property
    def level3(self) -> str:
        """``Z1Z2``: units under a level-2 unit, such as communes."""
        return self.value[4:6]

    @property
    def level4(self) -> str:
        """``V1V2V3``: units under a level-3 unit."""
        return self.value[0:3]


@dataclass(frozen=True, slots=True)
class DossierCode:
    """A dossier code: receiving unit, date received, daily sequence."""

    value: str
    unit: str
    received_on: date
    sequence: int

    @property
    def is_shortened(self) -> bool:
        return _UNIT_RE.match(self.unit) is None


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """A procedure code; ``national`` is the ``x.yyyyyy`` part."""

    value: str
    national: str
    unit: str | None

    @property
    def is_local(self) -> bool:
        return self.unit is not None


def parse_unit_code(value: str) -> UnitCode:
    if not _UNIT_RE.fullmatch(value):
        raise UnitCodeError(
            f"{shown(value)} is not a unit code: expected V1V2V3.Z1Z2.Y1Y2.MX1X2 as in "
            "QCVN 102:2016, e.g. '000.00.00.H49' (digits, dots, and H or K before the "
            "two-digit province number)"
        )
    return UnitCode(value)


def parse_dossier_code(value: str) -> DossierCode:
    match = _DOSSIER_RE.fullmatch(value)
    if match is None:
        raise DossierCodeError(
            f"{shown(value)} is not a dossier code: expected <unit code>-YYMMDD-XXXX as in "
            "Circular 01/2018/TT-VPCP, e.g. '000.00.00.H12-210315-0001'"
        )
    raw_date = match["date"]
    try:
        received_on = date(2000 + int(raw_date[:2]), int(raw_date[2:4]), int(raw_date[4:]))
    except ValueError:
        raise DossierCodeError(
            f"{shown(value)} is not a dossier code: its date part {raw_date!r} is not a "
            "calendar date in YYMMDD form"
        ) from None
    sequence = int(match["seq"])
    if sequence == 0:
        raise DossierCodeError(
            f"{shown(value)} is not a dossier code: the daily sequence starts at 0001"
        )
    return DossierCode(value, match["unit"], received_on, sequence)


def parse_procedure_code(value: str) -> ProcedureCode:
    match = _PROCEDURE_RE.fullmatch(value)
    if match is None:
        raise ProcedureCodeError(
            f"{shown(value)} is not a procedure code: expected the national form x.yyyyyy "
            "(e.g. '1.001776') or the local form with a unit code appended "
            "(e.g. '1.001776.000.00.00.H56')"
        )
    return ProcedureCode(value, match["national"], match["unit"])


def _check(parser: Callable[[str], object]) -> AfterValidator:
    # Codes repeat (a unit's, a procedure's in every event; a dossier's in each of its
    # events): a code that parsed once is not parsed again. Failures are not cached.
    parses = lru_cache(maxsize=65_536)(parser)

    def validate(value: str) -> str:
        parses(value)
        return value

    return AfterValidator(validate)


UnitCodeStr = Annotated[
    str,
    Field(
        description="Unit code, QCVN 102:2016/BTTTT (V1V2V3.Z1Z2.Y1Y2.MX1X2)",
        examples=["000.00.00.H12"],
        json_schema_extra={"pattern": UNIT_PATTERN},
    ),
    _check(parse_unit_code),
]
DossierCodeStr = Annotated[
    str,
    Field(
        description="Dossier code, Circular 01/2018/TT-VPCP Art. 19 (<unit code>-YYMMDD-XXXX)",
        examples=["000.00.00.H12-210315-0001"],
        json_schema_extra={"pattern": DOSSIER_PATTERN},
    ),
    _check(parse_dossier_code),
]
ProcedureCodeStr = Annotated[
    str,
    Field(
        description="Procedure code, national x.yyyyyy or local x.yyyyyy.<unit code>",
        examples=["1.001776", "1.001776.000.00.00.H56"],
        json_schema_extra={"pattern": PROCEDURE_PATTERN},
    ),
    _check(parse_procedure_code),
]
