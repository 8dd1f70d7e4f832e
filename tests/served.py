"""The hub's API and board in this process, over a test client, for tests that read figures
with the clock set: the read models are caught up with the log first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import FileRejectSink
from hub.bus.sources import LogSource
from projections.read_models import Clock, ReadModels
from projections.registry import catch_up_all


@contextmanager
def served(hub: Hub, clock: Clock) -> Iterator[tuple[ReadModels, TestClient]]:
    """``hub``'s app, its read models counting as of ``clock``; closed at the end."""
    settings = hub.settings
    with ReadModelDatabase(settings) as db:
        catch_up_all(db, lambda: LogSource(hub.store))
    models = ReadModels(settings, clock=clock)
    credentials = CredentialStore(settings)
    rejects = FileRejectSink(Path(settings.data_dir) / "r.jsonl")
    try:
        with TestClient(create_app(hub, credentials, rejects, None, models)) as client:
            yield models, client
    finally:
        credentials.close()
        models.close()
