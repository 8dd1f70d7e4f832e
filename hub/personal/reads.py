"""Every attempt to read an applicant's personal data, recorded as an event before any
answer leaves the hub: who (credential), when, which dossier, for what purpose, and what
came of it (revealed, erased, refused, none). Never the data itself.

An event-sourced application of its own (table ``personaldatareads_events`` in PostgreSQL,
``personal-reads.sqlite3`` embedded), one stream per dossier code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import stamina
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from hub.adapters.persistence import HubApplication
from hub.settings import HubSettings

ReadOutcome = Literal["revealed", "erased", "none", "refused"]


def stream_id(dossier_code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:dvc-hub:personal-reads:{dossier_code}")


@dataclass(frozen=True)
class PersonalDataRead:
    read_id: str
    at: datetime
    dossier_code: str
    key_id: str  # the credential's key id ("cli" for an operator)
    principal: str
    role: str
    purpose: str
    applicant_hash: str | None
    outcome: ReadOutcome
    fields: list[str]  # the names of the fields shown, never their values

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PersonalDataRead:
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})


class DossierReads(Aggregate):
    class Started(Aggregate.Created):
        dossier_code: str

    class Read(Aggregate.Event):
        read: dict[str, Any]

    def __init__(self, dossier_code: str) -> None:
        self.dossier_code = dossier_code


class PersonalDataReads(HubApplication):
    name = "PersonalDataReads"

    def __init__(self, settings: HubSettings) -> None:
        super().__init__(settings.model_copy(update={"aggregate_cache_size": 0}), "personal-reads")

    def record(self, read: PersonalDataRead) -> None:
        for attempt in stamina.retry_context(on=IntegrityError, attempts=10, wait_initial=0.01):
            with attempt:
                try:
                    stream: Any = self.repository.get(stream_id(read.dossier_code))
                except AggregateNotFoundError:
                    stream = DossierReads._create(
                        DossierReads.Started,
                        id=stream_id(read.dossier_code),
                        dossier_code=read.dossier_code,
                    )
                stream.trigger_event(DossierReads.Read, read=read.to_json())
                self.save(stream)

    def history(self, dossier_code: str) -> list[PersonalDataRead]:
        return [
            PersonalDataRead.from_json(e.read)
            for e in self.events.get(stream_id(dossier_code))
            if isinstance(e, DossierReads.Read)
        ]
