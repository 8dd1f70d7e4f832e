"""Who may do what: roles and principals. No I/O, and nothing heavy to import."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: A principal's units: every unit.
ALL_UNITS = "*"


class Role(StrEnum):
    PUBLISHER = "publisher"  # publishes events for its units
    READER = "reader"  # reads dossiers, figures and reports
    AUDITOR = "auditor"  # reads everything, including audit trails
    REUSER = "reuser"  # looks up earlier dossiers for reuse, for its units


@dataclass(frozen=True)
class Principal:
    """Who a request or record comes from, and what it may do."""

    key_id: str
    name: str
    role: Role
    units: frozenset[str]

    def may_publish_for(self, unit_code: str) -> bool:
        return self.role is Role.PUBLISHER and (ALL_UNITS in self.units or unit_code in self.units)

    def may_read(self) -> bool:
        return self.role in (Role.READER, Role.AUDITOR)

    def may_reuse_for(self, unit_code: str) -> bool:
        return self.role is Role.REUSER and (ALL_UNITS in self.units or unit_code in self.units)
