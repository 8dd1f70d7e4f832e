"""``dvchub audit verify``: check the stored log against its seals and signed checkpoints.

Every stored event's leaf hash is recomputed from its bytes and matched with its seal by
dossier and version; each dossier's chain is recomputed from the seals; the Merkle root of
the recomputed leaves is compared, at every checkpoint's size, with the root the
checkpoint signs (after checking its signature). Each finding names the position, dossier
and version concerned:

- ``changed``: an event's bytes differ from what was sealed;
- ``reordered``: an event holds what was sealed as another version of its dossier;
- ``moved``: an event sits at another log position than the one sealed;
- ``deleted``: a sealed event is missing from the store;
- ``inserted``: an event the seals do not know, among sealed ones;
- ``chain_broken``: a seal's chain hash does not follow from its dossier's earlier seals,
  or a dossier's sealed versions are not 1, 2, 3...;
- ``truncated``: a checkpoint covers more events than the store holds;
- ``checkpoint_mismatch``: the store's first N events do not hash to a checkpoint's root;
- ``bad_checkpoint``: a checkpoint whose signature or form is wrong.

Events stored after the last seal are counted as ``unsealed``, not as findings.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.audit import seals as seal_store
from hub.audit import stored
from hub.audit.checkpoints import read_published
from hub.audit.heads import Head, HeadsMap
from hub.audit.merkle import RootAccumulator
from hub.settings import HubSettings
from verifier.dvchub_verify import (
    CHAIN_START,
    Checkpoint,
    VerificationError,
    VerifierKey,
    chain_hash,
    open_checkpoint,
)

FindingKind = Literal[
    "changed",
    "reordered",
    "moved",
    "deleted",
    "inserted",
    "chain_broken",
    "truncated",
    "seal_missing",
    "checkpoint_mismatch",
    "bad_checkpoint",
]


class Finding(BaseModel):
    kind: FindingKind
    detail: str
    position: int | None = None
    dossier_code: str | None = None
    version: int | None = None


class VerifyReport(BaseModel):
    events: int
    sealed: int
    unsealed: int
    checkpoints: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class _Checked:
    size: int
    root: bytes
    label: str
    heads: tuple[int, bytes] | None = None  # the map of dossier heads it signs


@dataclass
class _Run:
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        kind: FindingKind,
        detail: str,
        position: int | None = None,
        dossier_code: str | None = None,
        version: int | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                kind=kind,
                detail=detail,
                position=position,
                dossier_code=dossier_code,
                version=version,
            )
        )


@dataclass
class _Shard:
    """What checking one shard of the dossiers found."""

    events: int = 0
    unsealed: int = 0
    findings: list[Finding] = field(default_factory=list)
    moved: list[tuple[seal_store.Seal, int]] = field(default_factory=list)
    leaf_indexes: array[int] = field(default_factory=lambda: array("q"))
    leaves: bytearray = field(default_factory=bytearray)


def _check_shard(
    events: Iterable[stored.StoredEvent],
    sealed: list[seal_store.Seal],
    last_sealed_position: int,
    progress: Callable[[int], None] | None = None,
) -> _Shard:
    """Match stored events with their seals, and check the chains, for a set of dossiers
    whose events and seals are all here."""
    shard, run = _Shard(), _Run()
    by_key = {(s.originator_id, s.version): s for s in sealed}
    by_dossier: dict[str, list[seal_store.Seal]] = {}
    for item in sealed:
        by_dossier.setdefault(item.originator_id, []).append(item)
    seen: set[tuple[str, int]] = set()
    for event in events:
        shard.events += 1
        if progress is not None and shard.events % 10_000 == 0:
            progress(shard.events)
        key_ = (str(event.originator_id), event.version)
        seal = by_key.get(key_)
        if seal is None:
            if event.position > last_sealed_position:
                shard.unsealed += 1
            else:
                run.add(
                    "inserted",
                    f"position {event.position} holds {event.dossier_code()} version "
                    f"{event.version}, which was never sealed",
                    event.position,
                    event.dossier_code(),
                    event.version,
                )
            continue
        seen.add(key_)
        leaf = event.leaf(seal.slow)
        shard.leaf_indexes.append(seal.leaf_index)
        shard.leaves += leaf
        where = (event.position, seal.dossier_code, event.version)
        if leaf != seal.leaf_hash:
            other = _sealed_as_other_version(event, by_dossier[seal.originator_id])
            if other is not None:
                run.add(
                    "reordered",
                    f"{seal.dossier_code} version {event.version} holds what was sealed as "
                    f"version {other.version}",
                    *where,
                )
            else:
                run.add(
                    "changed",
                    f"{seal.dossier_code} version {event.version} at position "
                    f"{event.position} differs from its seal",
                    *where,
                )
        if event.position != seal.position:
            shard.moved.append((seal, event.position))
    for seal in sealed:
        if (seal.originator_id, seal.version) not in seen:
            run.add(
                "deleted",
                f"{seal.dossier_code} version {seal.version}, sealed at position "
                f"{seal.position}, is missing from the store",
                position=seal.position,
                dossier_code=seal.dossier_code,
                version=seal.version,
            )
    _check_chains(sealed, run)
    shard.findings = run.findings
    return shard


def _postgres_shard(job: tuple[HubSettings, int, int, int]) -> _Shard:
    """Check shard ``k`` of ``n`` in a process of its own (reading it with a binary COPY)."""
    settings, k, n, last_sealed_position = job
    db = ReadModelDatabase(settings)
    try:
        sealed = seal_store.seals(db, shard=(k, n))
    finally:
        db.close()
    events = stored.scan_postgres(settings, shard=(k, n))
    return _check_shard(events, sealed, last_sealed_position)


def verify(
    store: DossierStore,
    db: ReadModelDatabase,
    key: VerifierKey,
    extra_checkpoints: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> VerifyReport:
    """Check every stored event, every chain and every checkpoint; see the module's doc.
    On PostgreSQL the dossiers are split among ``processes`` (default: one per CPU) by
    their id, each process reading and checking its share of the log."""
    seal_store.prepare(db)
    size = seal_store.sealed_size(db)
    last_sealed_position = seal_store.last_sealed_position(db)
    if db.postgres:
        count = processes or os.cpu_count() or 1
        jobs = [(db.settings, k, count, last_sealed_position) for k in range(count)]
        with multiprocessing.get_context("fork").Pool(count) as pool:
            shards = pool.map(_postgres_shard, jobs)
    else:
        shards = [
            _check_shard(
                stored.stored_events(store),
                seal_store.seals(db),
                last_sealed_position,
                progress,
            )
        ]
    run = _Run()
    leaves: list[bytes | None] = [None] * size
    for shard in shards:
        run.findings.extend(shard.findings)
        blob = bytes(shard.leaves)
        for i, index in enumerate(shard.leaf_indexes):
            leaves[index] = blob[32 * i : 32 * i + 32]
    for first, last in seal_store.missing_leaves(db, size):
        which = f"leaf {first}" if first == last else f"leaves {first} to {last}"
        where = f"from leaf {first - 1} to {last + 1}" if first else f"to leaf {last + 1}"
        run.add("seal_missing", f"the seal of {which} is missing: the seals skip {where}")
    _report_moves([pair for shard in shards for pair in shard.moved], run)
    run.findings.sort(key=lambda f: (f.position is None, f.position or 0, f.kind))
    checked = _checkpoints(db, key, extra_checkpoints or {}, run)
    _check_roots(leaves, checked, size, run)
    _check_heads(db, checked, size, run)
    return VerifyReport(
        events=sum(shard.events for shard in shards),
        sealed=size,
        unsealed=sum(shard.unsealed for shard in shards),
        checkpoints=len(checked),
        findings=run.findings,
    )


def _sealed_as_other_version(
    event: stored.StoredEvent, dossier: list[seal_store.Seal]
) -> seal_store.Seal | None:
    """The seal of another version of the dossier whose bytes ``event`` now holds."""
    for seal in dossier:
        if seal.version == event.version:
            continue
        moved = stored.StoredEvent(
            event.position, event.originator_id, seal.version, event.topic, event.state
        )
        if moved.leaf(seal.slow) == seal.leaf_hash:
            return seal
    return None


def _report_moves(moved: list[tuple[seal_store.Seal, int]], run: _Run) -> None:
    """One finding per run of events shifted alike (as an insertion or a deletion by
    renumbering shifts everything after it), one per event otherwise."""
    moved.sort(key=lambda item: item[0].leaf_index)
    start = 0
    while start < len(moved):
        first, now = moved[start]
        shift = now - first.position
        end = start + 1
        while (
            end < len(moved)
            and moved[end][0].leaf_index == moved[end - 1][0].leaf_index + 1
            and moved[end][1] - moved[end][0].position == shift
        ):
            end += 1
        if end - start == 1:
            detail = (
                f"{first.dossier_code} version {first.version} was sealed at position "
                f"{first.position} and is now at {now}"
            )
        else:
            last = moved[end - 1][0]
            detail = (
                f"the {end - start} events sealed at positions {first.position} to "
                f"{last.position} now sit {shift:+d} positions from there"
            )
        run.add("moved", detail, first.position, first.dossier_code, first.version)
        start = end


def _check_chains(sealed: Iterable[seal_store.Seal], run: _Run) -> None:
    heads: dict[str, tuple[int, bytes]] = {}
    for seal in sorted(sealed, key=lambda s: (s.originator_id, s.version)):
        version, previous = heads.get(seal.originator_id, (0, CHAIN_START))
        if seal.version != version + 1:
            run.add(
                "chain_broken",
                f"{seal.dossier_code}: sealed version {seal.version} follows version {version}",
                position=seal.position,
                dossier_code=seal.dossier_code,
                version=seal.version,
            )
        if chain_hash(previous, seal.leaf_hash) != seal.chain_hash:
            run.add(
                "chain_broken",
                f"{seal.dossier_code} version {seal.version}: the chain hash does not follow "
                "from the dossier's earlier events",
                position=seal.position,
                dossier_code=seal.dossier_code,
                version=seal.version,
            )
        heads[seal.originator_id] = (seal.version, seal.chain_hash)


def _checkpoints(
    db: ReadModelDatabase, key: VerifierKey, extra: dict[str, str], run: _Run
) -> list[_Checked]:
    notes = {
        f"checkpoint of size {row.size} in the database": row.note
        for row in seal_store.checkpoints(db)
    }
    for label, note in extra.items():
        if note not in notes.values():  # the same checkpoint, published: checked once
            notes[label] = note
    checked: list[_Checked] = []
    for label, note in notes.items():
        try:
            checkpoint: Checkpoint = open_checkpoint(note, key)
        except VerificationError as error:
            run.add("bad_checkpoint", f"{label}: {error}")
            continue
        try:
            mapped = checkpoint.heads()
        except VerificationError as error:
            run.add("bad_checkpoint", f"{label}: {error}")
            continue
        checked.append(_Checked(checkpoint.size, checkpoint.root, label, mapped))
    return sorted(checked, key=lambda c: c.size)


def _check_heads(db: ReadModelDatabase, checked: list[_Checked], sealed: int, run: _Run) -> None:
    """The map of dossier heads the newest checkpoint signs, recomputed from the seals
    (whose match with the events is checked apart). Older checkpoints' maps are not
    recomputed: each would cost a pass over every dossier."""
    # A checkpoint beyond the seals is already a finding (truncated).
    newest = next((c for c in reversed(checked) if c.heads is not None and c.size <= sealed), None)
    if newest is None or newest.heads is None:
        return
    mapped = HeadsMap(Head(*row) for row in seal_store.head_rows(db, newest.size))
    if (mapped.size, mapped.root()) != newest.heads:
        run.add(
            "checkpoint_mismatch",
            f"{newest.label}: the map of dossier heads it signs ({newest.heads[0]} dossiers) "
            f"is not the one the seals give ({mapped.size} dossiers)",
        )


def _check_roots(
    leaves: list[bytes | None], checked: list[_Checked], sealed: int, run: _Run
) -> None:
    accumulator = RootAccumulator()
    missing_at: int | None = None
    for checkpoint in checked:
        if checkpoint.size > sealed:
            run.add(
                "truncated",
                f"{checkpoint.label} covers {checkpoint.size} events; the seals cover "
                f"{sealed}: the log's tail was cut",
            )
            continue
        while accumulator.size < checkpoint.size and missing_at is None:
            leaf = leaves[accumulator.size]
            if leaf is None:
                missing_at = accumulator.size
                break
            accumulator.append(leaf)
        if missing_at is not None and missing_at < checkpoint.size:
            run.add(
                "checkpoint_mismatch",
                f"{checkpoint.label}: cannot be recomputed, leaf {missing_at} is missing or "
                "its event is",
            )
            continue
        if accumulator.root() != checkpoint.root:
            run.add(
                "checkpoint_mismatch",
                f"{checkpoint.label}: the store's first {checkpoint.size} events do not hash "
                "to the root it signs",
            )


def published_checkpoints(directory: Path, files: Iterable[Path] = ()) -> dict[str, str]:
    """Checkpoints published in ``directory`` and any kept ones given as files."""
    found = {str(path): note for path, note in read_published(directory).items()}
    for path in files:
        found[str(path)] = path.read_text(encoding="utf-8")
    return found
