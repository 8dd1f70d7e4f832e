"""Who may act on a dossier: its units, and who brought each event. No I/O.

The rule (docs/decisions/0017-dossier-ownership.md):

- an opening event (registered, received, refused) comes from the unit its dossier code
  names: a unit cannot open dossiers under another unit's codes;
- every later event comes from a unit the dossier involves (the unit that opened it, the
  competent authority it was received for, or a unit it was transferred to), from a unit
  that succeeded one of those after a merger or split (the catalogue's unit history,
  docs/decisions/0022-dossiers-across-the-reorganisation.md), or is brought by a credential
  scoped above one of those units (all units, or an ancestor by the QCVN 102 code: the
  province over its departments and communes, a former district over its communes);
- a dossier is received for a competent authority of the receiving unit's own province
  (Decree 118/2025: reception regardless of boundary, inside the province).

Unit codes are hierarchical (``V1V2V3.Z1Z2.Y1Y2.MX1X2``): a unit's ancestors are the codes
with its lower groups set to zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from events.codes import parse_dossier_code
from events.errors import EventRejected
from events.reasons import RejectReason
from hub.domain.vietnam import VIETNAM

ALL_UNITS = "*"

#: ``successors(unit, day)``: the units that carry ``unit`` on ``day`` (itself while it
#: exists), as :meth:`hub.domain.unit_tree.UnitTree.successors` answers.
Successors = Callable[[str, date], Mapping[str, Fraction]]


class Transport(StrEnum):
    """How an event reached the hub."""

    HTTP = "http"
    KAFKA = "kafka"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who brought an event: the credential's key id (``None``: the operator, e.g. a file
    given to ``dvchub ingest``), the channel, and the units the credential acts for."""

    key_id: str | None
    channel: Transport
    units: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "channel": self.channel.value}

    def acts_above(self, unit_code: str, units: frozenset[str]) -> bool:
        """Whether the credential may act as ``unit_code`` on a dossier of ``units``: it is
        scoped to all units, or ``unit_code`` is one of its units and an ancestor of one of
        ``units`` (another unit of the same credential gains nothing by it)."""
        if ALL_UNITS in self.units:
            return True
        return unit_code in self.units and any(is_ancestor(unit_code, unit) for unit in units)


#: An operator's file: no credential; the ownership rule applies as written.
OPERATOR = Publisher(None, Transport.FILE)


def _groups(unit: str) -> tuple[str, tuple[str, str, str]]:
    """``(province, (Y1Y2, Z1Z2, V1V2V3))`` of a full unit code."""
    return unit[-3:], (unit[7:9], unit[4:6], unit[0:3])


def _depth(levels: tuple[str, str, str]) -> int:
    depth = 0
    for group in levels:
        if int(group) == 0:
            break
        depth += 1
    return depth


def is_ancestor(above: str, unit: str) -> bool:
    """Whether ``above`` is an ancestor of ``unit`` by their codes (never itself)."""
    if len(above) != 13 or len(unit) != 13:
        return False
    province, levels = _groups(above)
    other_province, other_levels = _groups(unit)
    if province != other_province:
        return False
    depth = _depth(levels)
    if any(int(group) != 0 for group in levels[depth:]):
        return False  # a gap (e.g. 001.00.60): not a node of the tree
    return levels[:depth] == other_levels[:depth] and _depth(other_levels) > depth


def code_names_unit(dossier_code: str, unit_code: str) -> bool:
    """Whether ``dossier_code`` was issued by ``unit_code``: the unit part is the unit's
    code, or its shortened form (``H21.65`` for ``000.00.65.H21``: the province, then the
    groups from the top; a unit under those groups matches too, as the short form names
    no more)."""
    unit_part = parse_dossier_code(dossier_code).unit
    if len(unit_part) == 13 and unit_part[3] == ".":
        return unit_part == unit_code
    province, *levels = unit_part.split(".")
    own_province, own_levels = _groups(unit_code)
    if province != own_province:
        return False
    return len(levels) <= len(own_levels) and all(
        int(group) == int(own) for group, own in zip(levels, own_levels, strict=False)
    )


def check_opening(dossier_code: str, unit_code: str) -> None:
    if not code_names_unit(dossier_code, unit_code):
        raise EventRejected(
            RejectReason.UNIT_NOT_INVOLVED,
            f"dossier code {dossier_code} is not a code of unit {unit_code}: a dossier is "
            "opened by the unit its code names",
            field="unit_code",
        )


def check_involved(
    dossier_code: str,
    unit_code: str,
    involved: frozenset[str],
    by: Publisher,
    successors: Successors | None = None,
    at: datetime | None = None,
) -> None:
    """``unit_code`` may act on the dossier at ``at``: one of its units, a unit that
    succeeded one of them by that day (in Vietnam), or a credential above them."""
    if unit_code in involved or by.acts_above(unit_code, involved):
        return
    if successors is not None and at is not None:  # the rare case: the day is worked out here
        day = at.astimezone(VIETNAM).date()
        carried = {code for unit in involved for code in successors(unit, day)}
        if unit_code in carried or by.acts_above(unit_code, frozenset(carried)):
            return
    raise EventRejected(
        RejectReason.UNIT_NOT_INVOLVED,
        f"unit {unit_code} is not a unit of dossier {dossier_code} (its units: "
        f"{', '.join(sorted(involved))}); only they, their successors, or a credential above "
        "them act on it",
        field="unit_code",
    )


def check_authority(dossier_code: str, unit_code: str, authority_code: str) -> None:
    """A dossier is received for an authority of the receiving unit's province."""
    if _groups(authority_code)[0] != _groups(unit_code)[0]:
        raise EventRejected(
            RejectReason.UNIT_NOT_INVOLVED,
            f"dossier {dossier_code}: unit {unit_code} receives for authorities of its own "
            f"province, not for {authority_code}",
            field="payload.authority_code",
        )
