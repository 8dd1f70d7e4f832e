"""``dvchub ingest FILE.jsonl``: append a file of events, batch by batch.

Every line is accounted for: accepted, duplicate, rejected or blank. A rejected line is
written to the rejects file with its reason and its original bytes (base64, so that even
bytes that are not UTF-8 survive), and the lines after it flow on.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from events.reasons import RejectReason
from hub.ingest import Ingestor, Outcome


@dataclass
class IngestReport:
    lines: int = 0
    blank: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "accepted":
            self.accepted += 1
        elif outcome.status == "duplicate":
            self.duplicate += 1
        else:
            self.rejected += 1
            assert outcome.reason is not None
            self.reasons[outcome.reason.value] += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "blank": self.blank,
            "reasons": dict(sorted(self.reasons.items())),
        }

    @property
    def accounted(self) -> int:
        return self.blank + self.accepted + self.duplicate + self.rejected


class RejectedLine(BaseModel):
    """One line of the rejects file: where, why, and the original bytes."""

    model_config = ConfigDict(frozen=True)

    line: int
    reason: RejectReason
    message: str
    field: str | None
    event_id: UUID | None
    dossier_code: str | None
    original: str | None  # the line as text, when it is UTF-8
    original_base64: str  # the line's exact bytes

    @classmethod
    def of(cls, line: int, raw: bytes, outcome: Outcome) -> RejectedLine:
        assert outcome.reason is not None
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return cls(
            line=line,
            reason=outcome.reason,
            message=outcome.message or "",
            field=outcome.field,
            event_id=outcome.event_id,
            dossier_code=outcome.dossier_code,
            original=text,
            original_base64=base64.b64encode(raw).decode("ascii"),
        )


def ingest_file(
    source: Path,
    ingestor: Ingestor,
    rejects: Path,
    batch_size: int,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest ``source`` into the store; write its rejected lines to ``rejects``."""
    report = IngestReport()
    with source.open("rb") as lines, rejects.open("wb") as rejects_out:
        for batch in _batches(lines, batch_size, report):
            numbers = [number for number, _ in batch]
            raws = [raw for _, raw in batch]
            outcomes = ingestor.submit_bytes(raws)
            for number, raw, outcome in zip(numbers, raws, outcomes, strict=True):
                report.add(outcome)
                if outcome.status == "rejected":
                    row = RejectedLine.of(number, raw, outcome)
                    rejects_out.write(row.model_dump_json().encode() + b"\n")
            if on_progress is not None:
                on_progress(sum(len(raw) + 1 for raw in raws))
    return report


def _batches(
    lines: IO[bytes], size: int, report: IngestReport
) -> Iterator[list[tuple[int, bytes]]]:
    """Non-blank lines with their numbers, ``size`` at a time; blank ones are counted."""
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        report.lines = number
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            report.blank += 1
            continue
        batch.append((number, raw))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
