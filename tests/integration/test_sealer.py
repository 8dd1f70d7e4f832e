"""The sealer as ``dvchub serve`` runs it: it waits out a database that went away, and one
sealer works at a time."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from hub.audit import publish
from hub.audit.sealer import Sealer
from hub.audit.seals import sealed_size
from hub.bootstrap import Hub
from hub.simulation.workload import Workload
from tests.waiting import eventually, thread_alive


def test_the_sealer_outlives_a_database_that_goes_away(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcomes = hub.ingestor.submit_json(Workload(date(2021, 3, 1), 3, 10, seed=3).events())
    assert {o.status for o in outcomes} == {"accepted"}
    failures = {"left": 3}
    real_seal = Sealer.seal

    def seal_while_the_database_is_away(self: Sealer) -> int:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the database is away")
        return real_seal(self)

    monkeypatch.setattr(Sealer, "seal", seal_while_the_database_is_away)
    monkeypatch.setattr(publish, "RETRY_SECONDS", 0.05)
    settings = hub.settings.model_copy(update={"audit_checkpoint_seconds": 0.1})
    stop = threading.Event()
    thread = threading.Thread(target=publish.run_sealer, args=(settings, hub.store, stop))
    thread.start()
    try:
        eventually(
            lambda: (
                not failures["left"] and (hub.settings.audit_dir / "latest.checkpoint").exists()
            ),
            timeout=60,
            what="a checkpoint sealed after the database came back",
            alive=lambda: thread_alive(thread, "the sealer gave up"),
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    worker = publish.sealer(hub.settings, hub.store)
    assert sealed_size(worker.db) == len(outcomes)
    # Another sealer is refused while one holds the store.
    holder = publish.sealer(hub.settings, hub.store)
    assert holder.lock()
    assert not worker.lock()
    worker.db.close()
    holder.db.close()


def test_a_sealer_failure_that_is_not_the_database_shows_in_readiness(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a database that is away is waited out inside the sealer; anything else is the
    supervisor's to restart and to show, as for every service."""
    from hub.supervisor import Service, Supervisor

    hub.ingestor.submit_json(Workload(date(2021, 3, 1), 1, 5, seed=3).events())

    def broken(self: Sealer) -> int:
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(Sealer, "seal", broken)
    supervisor = Supervisor()
    supervisor.start(
        Service("audit-sealer", lambda stop: publish.run_sealer(hub.settings, hub.store, stop))
    )
    try:

        def shown() -> bool:
            seen = supervisor.readiness()
            sealer = seen.services["audit-sealer"]
            return not seen.ready and sealer.get("last_crash") == "ValueError"

        eventually(shown, timeout=30, what="the sealer's crash in readiness")
    finally:
        supervisor.shutdown()
