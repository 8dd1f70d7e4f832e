"""``dvchub ingest FILE.jsonl``: append a file of events, batch by batch.

Every line is accounted for: accepted, duplicate, rejected or blank. A rejected line is
written to the rejects file with its reason and its original bytes (base64, so that even
bytes that are not UTF-8 survive), and the lines after it flow on.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from events.errors import EventRejected
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


class NotAFileError(ValueError):
    """The source to ingest is not a regular file (a directory, a device, a pipe)."""


#: Bytes of a too-long line kept in the rejects file (the rest is counted, not kept).
KEPT_OF_LONG_LINE = 4_096


@dataclass(frozen=True, slots=True)
class _TooLong:
    """A line over the limit: its first bytes and its length."""

    head: bytes
    length: int


def ingest_file(
    source: Path,
    ingestor: Ingestor,
    rejects: Path,
    batch_size: int,
    on_progress: Callable[[int], None] | None = None,
    max_line_bytes: int = 1_048_576,
) -> IngestReport:
    """Ingest ``source`` into the store; write its rejected lines to ``rejects`` (created
    readable by its owner only: rejected lines may hold applicants' details). A line longer
    than ``max_line_bytes`` is one rejected line, read through without being held."""
    if not source.is_file():
        raise NotAFileError(f"{source} is not a regular file")
    report = IngestReport()
    with source.open("rb") as lines, private_file(rejects) as rejects_out:
        for batch in _batches(lines, batch_size, report, max_line_bytes):
            admitted = [(n, raw) for n, raw in batch if isinstance(raw, bytes)]
            outcomes = iter(ingestor.submit_bytes([raw for _, raw in admitted]))
            for number, raw in batch:
                if isinstance(raw, _TooLong):
                    outcome = Outcome.rejected(
                        EventRejected(
                            RejectReason.LINE_TOO_LONG,
                            f"line {number} is {raw.length:,} bytes; at most "
                            f"{max_line_bytes:,} are read (its first "
                            f"{len(raw.head):,} bytes are kept)",
                        )
                    )
                    kept = raw.head
                else:
                    outcome, kept = next(outcomes), raw
                report.add(outcome)
                if outcome.status == "rejected":
                    row = RejectedLine.of(number, kept, outcome)
                    rejects_out.write(row.model_dump_json().encode() + b"\n")
            if on_progress is not None:
                on_progress(
                    sum(
                        (raw.length if isinstance(raw, _TooLong) else len(raw)) + 1
                        for _, raw in batch
                    )
                )
    return report


def private_file(path: Path) -> IO[bytes]:
    """``path`` opened for writing (truncated), readable and writable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode otherwise
    return os.fdopen(descriptor, "wb")


def _batches(
    lines: IO[bytes], size: int, report: IngestReport, limit: int
) -> Iterator[list[tuple[int, bytes | _TooLong]]]:
    """Non-blank lines with their numbers, ``size`` at a time; blank ones are counted. A
    line over ``limit`` bytes comes as :class:`_TooLong`, read in chunks and dropped."""
    batch: list[tuple[int, bytes | _TooLong]] = []
    number = 0
    while line := lines.readline(limit + 2):
        number += 1
        report.lines = number
        item: bytes | _TooLong
        complete = line.endswith(b"\n")
        if (len(line.rstrip(b"\r\n")) if complete else len(line)) > limit:
            head, length = line[:KEPT_OF_LONG_LINE], len(line)
            while not line.endswith(b"\n"):
                line = lines.readline(1_048_576)
                if not line:
                    break
                length += len(line)
            item = _TooLong(head, length - (1 if line.endswith(b"\n") else 0))
        else:
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                report.blank += 1
                continue
            item = raw
        batch.append((number, item))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
