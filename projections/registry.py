"""Every projection the hub keeps, in one place: adding one is an entry here (its
:class:`~projections.worker.Projection`: name, tables, how it applies a batch) and its tests.
The live workers, the embedded catch-up before a report, the read models' tables and the
retry of parked events all come from this list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Source
from projections.reuse.worker import ReuseIndex
from projections.runner import UnitProgress
from projections.worker import Projection, ProjectionWorker


@dataclass(frozen=True)
class Registered:
    make: Callable[[], Projection]
    #: Its consumer group is the projections group with this suffix ("" for unit progress,
    #: whose group and offsets are older than the others').
    group_suffix: str

    @property
    def name(self) -> str:
        return self.make().name


PROJECTIONS: tuple[Registered, ...] = (
    Registered(UnitProgress, ""),
    Registered(ReuseIndex, ".reuse_index"),
)


class UnknownProjectionError(KeyError):
    """No projection of that name."""


def names() -> list[str]:
    return [registered.name for registered in PROJECTIONS]


def named(name: str) -> Registered:
    for registered in PROJECTIONS:
        if registered.name == name:
            return registered
    raise UnknownProjectionError(f"no projection {name!r}; there are: {', '.join(names())}")


def prepare_all(db: ReadModelDatabase) -> None:
    """Every projection's tables and generation row, if missing."""
    for registered in PROJECTIONS:
        registered.make().prepare(db)


def workers(
    db: Callable[[], ReadModelDatabase], source: Callable[[Registered], Source]
) -> list[ProjectionWorker]:
    """A worker per projection, each on its own connection and its own source."""
    return [ProjectionWorker(r.make(), db(), source(r)) for r in PROJECTIONS]


def catch_up_all(db: ReadModelDatabase, source: Callable[[], Source]) -> int:
    """Apply what the log holds now to every projection (embedded); events applied."""
    return sum(ProjectionWorker(r.make(), db, source()).catch_up() for r in PROJECTIONS)
