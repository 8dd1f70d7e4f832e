"""Deliver the outbox to the portal: per dossier in order, in batches across dossiers.

A round takes the head update of up to ``batch_size`` dossiers:

1. dossiers the connector has not yet seen on the portal, and heads left ``in_flight`` by a
   crash or an unanswered call, are looked up (``TraCuuHoSo``): that decides insert or update,
   and a step the portal already holds is marked sent instead of being sent again;
2. the heads are marked ``in_flight``, then the dossiers are sent (``DongBoHoSoMC``, inserts
   and updates apart) and then their steps (``CapNhatTienDoHoSoMC``);
3. sent heads are marked ``sent``.

A call the portal refuses is split up to find the update it refuses; that update is tried
again later and, after ``refusals_before_parking`` refusals, parked: its dossier's later
updates wait, other dossiers flow on. Transient failures (5xx, timeouts, garbled answers,
rate limits, expired sessions) are retried with jittered exponential backoff (stamina);
rounds that keep failing open a circuit breaker that holds calls off for a while. A call
whose answer never came may still have been applied: dossiers are sent again (harmless),
but steps are not; their heads stay ``in_flight`` and are checked by a look-up first.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import stamina
import structlog
from prometheus_client import Counter, Gauge

from connectors.dvcqg import outbox
from connectors.dvcqg.client import (
    PortalClient,
    PortalRefused,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
)
from connectors.dvcqg.protocol import ALREADY_EXISTS, Service
from connectors.dvcqg.status import refresh_gauges
from hub.adapters.sql import ReadModelDatabase

logger = structlog.get_logger("connectors.dvcqg.sender")

SENT = Counter("dvchub_dvcqg_updates_sent_total", "Updates the portal acknowledged")
REFUSED = Counter("dvchub_dvcqg_refusals_total", "Updates the portal refused")
PARKED = Counter("dvchub_dvcqg_parked_total", "Updates parked after their refusals")
BREAKER = Gauge("dvchub_dvcqg_breaker_open", "1 while the circuit breaker holds calls off")
_TRANSIENT = (PortalUnavailable, SessionExpired)


class Breaker:
    """Opens after ``failures`` failed rounds in a row; stays open ``seconds``."""

    def __init__(self, failures: int, seconds: float) -> None:
        self.failures, self.seconds = failures, seconds
        self.count = 0
        self.opened_at: float | None = None

    def remaining(self) -> float:
        if self.opened_at is None:
            return 0.0
        left = self.opened_at + self.seconds - time.monotonic()
        if left <= 0:
            self.opened_at = None  # half-open: the next round is the probe
            BREAKER.set(0)
            return 0.0
        return left

    def success(self) -> None:
        self.count = 0

    def failure(self) -> None:
        self.count += 1
        if self.count >= self.failures and self.opened_at is None:
            self.opened_at = time.monotonic()
            BREAKER.set(1)
            logger.warning("dvcqg.breaker_open", failures=self.count, seconds=self.seconds)


class Sender:
    def __init__(
        self,
        db: ReadModelDatabase,
        client: PortalClient,
        batch_size: int = 100,
        refusals_before_parking: int = 3,
        breaker: Breaker | None = None,
        idle_seconds: float = 0.5,
        lookups: int = 8,
    ) -> None:
        self.db, self.client = db, client
        self.batch_size, self.budget = batch_size, refusals_before_parking
        self.breaker = breaker or Breaker(5, 30.0)
        self.idle_seconds = idle_seconds
        # Look-ups are one call per dossier: a few at once keep the round short.
        self.pool = ThreadPoolExecutor(max_workers=lookups, thread_name_prefix="dvcqg-lookup")

    def run(self, stop: threading.Event) -> None:
        outbox.create(self.db)
        try:
            self._loop(stop)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self, stop: threading.Event) -> None:
        refreshed = 0.0
        while not stop.is_set():
            if time.monotonic() - refreshed > 5:
                refresh_gauges(self.db)
                refreshed = time.monotonic()
            wait = self.breaker.remaining()
            if wait:
                stop.wait(min(wait, 1.0))
                continue
            try:
                done = self.round()
                self.breaker.success()
            except _TRANSIENT as error:
                logger.warning("dvcqg.round_failed", error=repr(error))
                self.breaker.failure()
                continue
            if done == 0:
                stop.wait(self.idle_seconds)

    def round(self) -> int:
        """Deliver one batch of heads; the number of updates settled (sent or refused)."""
        batch = outbox.heads(self.db, self.batch_size)
        if not batch:
            return 0
        return self._deliver(batch)

    def _call(self, service: Service, replayable: bool, **body: Any) -> Any:
        """Call with retries. A call that may have been applied though it failed (a timeout,
        a 5xx, a garbled answer) is retried only if ``replayable``; otherwise the failure is
        raised and its updates stay ``in_flight``, to be checked before they are sent again.
        Refusals, rate limits and expired sessions were not applied: always retried."""

        def retry_on(error: Exception) -> bool:
            if isinstance(error, RateLimited):
                time.sleep(min(error.retry_after, 10.0))
                return True
            if isinstance(error, SessionExpired):
                return True
            return replayable and isinstance(error, PortalUnavailable)

        for attempt in stamina.retry_context(
            on=retry_on, attempts=5, wait_initial=0.1, wait_max=3.0, wait_jitter=0.3
        ):
            with attempt:
                return self.client.call(service, **body).result
        raise AssertionError("unreachable: stamina re-raises after the last attempt")

    def _deliver(self, batch: list[outbox.Head]) -> int:
        unsure = [h for h in batch if h.on_portal == 0 or h.status == "in_flight"]

        def look_up(head: outbox.Head) -> dict[str, Any] | Exception | None:
            try:
                found: dict[str, Any] | None = self._call(
                    "TraCuuHoSo", replayable=True, mahoso=head.dossier_code
                )
                return found
            except _TRANSIENT as error:
                return error

        known: dict[str, int] = {}
        already: list[outbox.Head] = []
        unreachable: list[outbox.Head] = []
        for head, found in zip(unsure, self.pool.map(look_up, unsure), strict=True):
            if isinstance(found, Exception):
                unreachable.append(head)  # try this one again next round
                continue
            head.on_portal = 1 if found else -1
            known[head.dossier_code] = head.on_portal
            if head.status == "in_flight" and found and _has_step(found, head.step):
                already.append(head)
        if known:
            outbox.set_on_portal(self.db, known)
        if already:
            outbox.mark_sent(self.db, already)
            SENT.inc(len(already))
        todo = [h for h in batch if h not in already and h not in unreachable]
        if unreachable and len(unreachable) == len(unsure) and not todo:
            raise PortalUnavailable(f"{len(unreachable)} look-ups failed")
        if not todo:
            return len(already)
        outbox.mark_in_flight(self.db, todo)
        upserted = self._upsert([h for h in todo if h.on_portal < 0], inserting=True)
        upserted += self._upsert([h for h in todo if h.on_portal > 0], inserting=False)
        stepped = self._steps(upserted)
        outbox.mark_sent(self.db, stepped)
        SENT.inc(len(stepped))
        return len(already) + len(todo)

    def _upsert(self, heads: list[outbox.Head], inserting: bool) -> list[outbox.Head]:
        """Send the dossiers; those the portal took (refusals recorded, transients raised).
        Sending a dossier again is harmless: an update rewrites it, an insert is answered
        "đã tồn tại" and becomes an update."""
        if not heads:
            return []
        flag = "False" if inserting else "True"
        try:
            self._call(
                "DongBoHoSoMC", replayable=True, isUpdating=flag, data=[h.dossier for h in heads]
            )
            return heads
        except PortalRefused as error:
            if len(heads) > 1:  # find the one it refuses
                middle = len(heads) // 2
                first = self._upsert(heads[:middle], inserting)
                return first + self._upsert(heads[middle:], inserting)
            head = heads[0]
            if inserting and error.answer.error_code == ALREADY_EXISTS:
                head.on_portal = 1  # inserted by an earlier, unanswered call
                outbox.set_on_portal(self.db, {head.dossier_code: 1})
                return self._upsert([head], inserting=False)
            self._refused(head, error)
            return []

    def _steps(self, heads: list[outbox.Head]) -> list[outbox.Head]:
        """Send the heads' processing steps; a step sent twice would be recorded twice, so an
        answer that never came leaves them ``in_flight`` for the next round to check."""
        with_steps = [h for h in heads if h.step is not None]
        if not with_steps:
            return heads
        try:
            self._call("CapNhatTienDoHoSoMC", replayable=False, data=[h.step for h in with_steps])
            return heads
        except PortalRefused as error:
            if len(heads) > 1:
                middle = len(heads) // 2
                return self._steps(heads[:middle]) + self._steps(heads[middle:])
            self._refused(heads[0], error)
            return []

    def _refused(self, head: outbox.Head, error: PortalRefused) -> None:
        REFUSED.inc()
        answer = error.answer.model_dump_json()
        if outbox.refused(self.db, head, str(error), answer, self.budget):
            PARKED.inc()
            logger.error(
                "dvcqg.parked",
                dossier_code=head.dossier_code,
                position=head.position,
                error=str(error),
            )
        else:
            logger.warning("dvcqg.refused", dossier_code=head.dossier_code, error=str(error))


def _has_step(found: dict[str, Any], step: dict[str, Any] | None) -> bool:
    if step is None:
        return True
    key = (step["ThoiDiemXuLy"], step["TrangThai"], step["NoiDungXuLy"])
    return any(
        (s.get("ThoiDiemXuLy"), s.get("TrangThai"), s.get("NoiDungXuLy")) == key
        for s in found.get("TienDoXuLy", ())
    )
