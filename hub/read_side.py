"""The read side's opening: what a command that only reads figures needs — the settings, the
store (whose log the read models catch up from when the hub is embedded) and the bus — and
nothing of the write side (the calendar, the personal-data keys, the ingest), so that such a
command starts at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hub.application import DossierStore
from hub.bus.choice import Bus, bus_of
from hub.logging import configure_logging
from hub.settings import HubSettings


class ReadsLog(Protocol):
    """What reading figures needs of an opened hub: the read side, or the whole hub."""

    @property
    def settings(self) -> HubSettings: ...

    @property
    def store(self) -> DossierStore: ...

    @property
    def bus(self) -> Bus: ...


@dataclass
class ReadSide:
    settings: HubSettings
    store: DossierStore
    bus: Bus

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ReadSide:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_read_side(settings: HubSettings, *, configure_logs: bool = True) -> ReadSide:
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    store = DossierStore(settings)
    return ReadSide(settings, store, bus_of(settings, store))
