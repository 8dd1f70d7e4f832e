"""Tamper evidence on SQLite and PostgreSQL: change, delete, reorder or insert a stored
event directly in the database, or cut the log's tail, and ``audit verify`` names exactly
what is wrong; on an untouched store it finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import uuid4

import orjson
import pytest

from hub.adapters.sql import ReadModelDatabase
from hub.audit import seals
from hub.audit.publish import sealer
from hub.audit.stored import StoredEvent
from hub.audit.verify import Finding, VerifyReport, published_checkpoints, verify
from hub.bootstrap import Hub
from hub.simulation.workload import Workload
from tests.raw_store import RawStore
from verifier.dvchub_verify import CHAIN_START, chain_hash


@dataclass
class Sealed:
    hub: Hub
    raw: RawStore
    db: ReadModelDatabase

    def verify(self, **kwargs: Any) -> VerifyReport:
        worker = sealer(self.hub.settings, self.hub.store)
        return verify(self.hub.store, self.db, worker.signer.verifier(), **kwargs)

    def dossier_with(self, versions: int) -> tuple[str, str]:
        """(originator id, dossier code) of a dossier with at least ``versions`` events,
        in the middle of the log."""
        rows = self.raw.rows()
        counts: dict[str, int] = {}
        for _, originator, version, _ in rows:
            counts[originator] = max(counts.get(originator, 0), version)
        middle = rows[len(rows) // 2 :]
        originator = next(o for _, o, _, _ in middle if counts[o] >= versions)
        state = next(s for _, o, v, s in rows if o == originator and v == 1)
        return originator, orjson.loads(state)["record"]["dossier_code"]


@pytest.fixture
def sealed(hub: Hub) -> Iterator[Sealed]:
    outcomes = hub.ingestor.submit_json(Workload(date(2021, 3, 1), 5, 12, seed=5).events())
    assert {o.status for o in outcomes} == {"accepted"}
    worker = sealer(hub.settings, hub.store)
    assert worker.seal() == len(outcomes)
    assert worker.checkpoint() is not None
    raw = RawStore(hub)
    db = ReadModelDatabase(hub.settings)
    yield Sealed(hub, raw, db)
    raw.close()
    db.close()
    worker.db.close()


def _named(report: VerifyReport) -> set[tuple[str, str | None, int | None]]:
    return {(f.kind, f.dossier_code, f.version) for f in report.findings}


def _without_roots(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind != "checkpoint_mismatch"]


def test_an_untouched_store_verifies_clean(sealed: Sealed) -> None:
    report = sealed.verify()
    assert report.ok, report.findings
    assert report.events == report.sealed > 0
    assert report.unsealed == 0
    assert report.checkpoints == 1


def test_a_changed_event_is_named(sealed: Sealed) -> None:
    originator, code = sealed.dossier_with(2)
    state = next(s for _, o, v, s in sealed.raw.rows() if o == originator and v == 2)
    data = orjson.loads(state)
    data["record"]["actor"]["id"] = "someone-else"
    sealed.raw.set_state(originator, 2, orjson.dumps(data))
    report = sealed.verify()
    assert _named(report) == {("changed", code, 2), ("checkpoint_mismatch", None, None)}


def test_a_deleted_event_is_named(sealed: Sealed) -> None:
    originator, code = sealed.dossier_with(3)
    sealed.raw.delete(originator, 2)
    report = sealed.verify()
    assert _named(report) == {("deleted", code, 2), ("checkpoint_mismatch", None, None)}


def test_reordered_events_are_named(sealed: Sealed) -> None:
    originator, code = sealed.dossier_with(3)
    states = {v: s for _, o, v, s in sealed.raw.rows() if o == originator}
    sealed.raw.set_state(originator, 2, states[3])
    sealed.raw.set_state(originator, 3, states[2])
    report = sealed.verify()
    assert {(f.kind, f.version) for f in _without_roots(report.findings)} == {
        ("reordered", 2),
        ("reordered", 3),
    }
    assert "holds what was sealed as version 3" in _without_roots(report.findings)[0].detail
    assert {f.dossier_code for f in _without_roots(report.findings)} == {code}


def test_an_inserted_event_is_named(sealed: Sealed) -> None:
    rows = sealed.raw.rows()
    originator, code = sealed.dossier_with(2)
    last_version = max(v for _, o, v, _ in rows if o == originator)
    position = rows[len(rows) // 3][0]
    forged = next(s for _, o, v, s in rows if o == originator and v == last_version)
    sealed.raw.shift_after(position, 1)
    sealed.raw.insert(position + 1, originator, last_version + 1, forged)
    report = sealed.verify()
    named = _named(report)
    assert ("inserted", code, last_version + 1) in named
    moved = [f for f in report.findings if f.kind == "moved"]
    assert len(moved) == 1
    assert "now sit +1 positions" in moved[0].detail
    assert {f.kind for f in report.findings} == {"inserted", "moved"}


def test_a_cut_tail_is_named_even_with_its_seals_gone(sealed: Sealed) -> None:
    rows = sealed.raw.rows()
    cut = rows[-3:]
    for _, originator, version, _ in cut:
        sealed.raw.delete(originator, version)
    report = sealed.verify()
    assert {(f.kind, f.version) for f in _without_roots(report.findings)} == {
        ("deleted", version) for _, _, version, _ in cut
    }
    # Someone with write access also removes the seals and the stored checkpoints; the
    # checkpoint published as a file (or kept by anyone) still shows the cut.
    settings = sealed.hub.settings
    sealed.db.execute(f"DELETE FROM {seals.SEALS} WHERE position > ?", (rows[-4][0],))
    sealed.db.execute(f"DELETE FROM {seals.CHECKPOINTS}")
    report = sealed.verify(extra_checkpoints=published_checkpoints(settings.audit_dir))
    assert [f.kind for f in report.findings] == ["truncated"]
    assert (
        f"covers {len(rows)} events; the seals cover {len(rows) - 3}" in report.findings[0].detail
    )


def test_a_rewrite_of_events_and_seals_together_breaks_the_signed_root(sealed: Sealed) -> None:
    originator, _ = sealed.dossier_with(2)
    state = next(s for _, o, v, s in sealed.raw.rows() if o == originator and v == 1)
    data = orjson.loads(state)
    data["record"]["occurred_at"] = "2021-02-01T08:00:00+07:00"
    sealed.raw.set_state(originator, 1, orjson.dumps(data))
    # A careful forger recomputes the dossier's seals, chain and all, to match.
    chain = CHAIN_START
    for position, topic, version, stored in sealed.raw.run(
        f"SELECT {sealed.raw.position}, topic, originator_version, state FROM {sealed.raw.table} "
        "WHERE originator_id = ? ORDER BY originator_version",
        (sealed.raw.key(originator),),
    ):
        leaf, _ = StoredEvent(position, originator, version, topic, bytes(stored)).sealed_leaf()
        chain = chain_hash(chain, leaf)
        sealed.db.execute(
            f"UPDATE {seals.SEALS} SET leaf_hash = ?, chain_hash = ? "
            "WHERE originator_id = ? AND version = ?",
            (leaf, chain, originator, version),
        )
    report = sealed.verify()
    assert [f.kind for f in report.findings] == ["checkpoint_mismatch", "checkpoint_mismatch"]
    assert "do not hash to the root it signs" in report.findings[0].detail
    # The dossier's head (its chain hash) in the signed map of heads shows it too.
    assert "the map of dossier heads it signs" in report.findings[1].detail


def test_rows_that_are_not_json_written_behind_the_hubs_back_are_sealed_and_verified(
    sealed: Sealed,
) -> None:
    """The log's leaves have no gaps: the sealer seals whatever a row holds (its exact
    bytes when they are not JSON that RFC 8785 can write), and verify makes them alike."""
    last = sealed.raw.rows()[-1][0]
    garbage, huge = str(uuid4()), str(uuid4())
    sealed.raw.insert(last + 1, garbage, 1, b"\xff\xfe not JSON")
    sealed.raw.insert(last + 2, huge, 1, b'{"record": {"n": 123456789012345678901}}')
    worker = sealer(sealed.hub.settings, sealed.hub.store)
    try:
        assert worker.seal() == 2
        assert worker.checkpoint() is not None
    finally:
        worker.db.close()
    report = sealed.verify()
    assert report.ok, report.findings
    assert report.unsealed == 0

    sealed.raw.set_state(garbage, 1, b"\xff\xfe changed")
    assert ("changed", "?", 1) in _named(sealed.verify())


def test_a_seal_deleted_from_the_middle_is_a_finding_never_a_crash(sealed: Sealed) -> None:
    """The log's size comes from its last leaf, not from a count of seals: a seal removed
    from the middle is named, the sealer neither reuses its index nor signs over the gap,
    and no proof is made across it."""
    from hub.audit.seals import SealGapError
    from hub.audit.service import prove

    (size,) = sealed.db.query(f"SELECT COUNT(*) FROM {seals.SEALS}")[0]
    middle = size // 2
    (code,) = sealed.db.query(
        f"SELECT dossier_code FROM {seals.SEALS} WHERE leaf_index = ?", (middle,)
    )[0]
    sealed.db.execute(f"DELETE FROM {seals.SEALS} WHERE leaf_index IN (?, ?)", (3, middle))
    report = sealed.verify()
    missing = [f for f in report.findings if f.kind == "seal_missing"]
    assert [f.detail for f in missing] == [
        "the seal of leaf 3 is missing: the seals skip from leaf 2 to 4",
        f"the seal of leaf {middle} is missing: the seals skip from leaf {middle - 1} to "
        f"{middle + 1}",
    ]
    assert report.sealed == size
    assert {f.kind for f in report.findings} == {
        "seal_missing",
        "inserted",
        "chain_broken",
        "checkpoint_mismatch",
    }

    worker = sealer(sealed.hub.settings, sealed.hub.store)
    outcomes = sealed.hub.ingestor.submit_json(Workload(date(2021, 4, 1), 1, 3, seed=9).events())
    assert worker.seal() == len(outcomes)
    (last,) = sealed.db.query(f"SELECT MAX(leaf_index) FROM {seals.SEALS}")[0]
    assert last == size + len(outcomes) - 1, "a new seal took an index already used"
    # A seal removed after the last checkpoint: the next one is not signed over the gap.
    sealed.db.execute(f"DELETE FROM {seals.SEALS} WHERE leaf_index = ?", (size + 1,))
    with pytest.raises(SealGapError, match=f"the seal of leaf {size + 1} is missing"):
        worker.checkpoint()
    worker.db.close()
    with pytest.raises(SealGapError, match="seals are missing"):
        prove(sealed.hub.store, sealed.db, code)
