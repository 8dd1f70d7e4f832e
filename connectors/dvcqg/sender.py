"""Deliver the outbox to the portal: per dossier in order, in batches across dossiers.

A round takes up to ``batch_size`` dossiers whose first unsent update (the *head*) can go,
each with the updates queued after it:

1. dossiers the connector has not yet seen on the portal, and heads left ``in_flight`` by a
   crash or an unanswered call, are looked up (``TraCuuHoSo``): that decides insert or update,
   and a step the portal already holds is marked sent instead of being sent again. Once the
   hub is the only system that syncs the province's dossiers (``sole_sync_since``), one
   received since that day and never sent is inserted without a look-up: half the calls of
   a first sync;
2. the updates are marked ``in_flight``, then each dossier is sent as its last update leaves
   it (``DongBoHoSoMC``, inserts and updates apart), then all their steps in order
   (``CapNhatTienDoHoSoMC``);
3. they are marked ``sent``.

A call the portal refuses is split up to find the update it refuses; that update is tried
again later and, after ``refusals_before_parking`` refusals, parked: its dossier's later
updates wait, other dossiers flow on. Transient failures (5xx, timeouts, garbled answers,
rate limits, expired sessions) are retried with jittered exponential backoff (stamina);
rounds that keep failing open a circuit breaker that holds calls off for a while. A call
whose answer never came may still have been applied: dossiers are sent again (harmless),
but steps are not; their heads stay ``in_flight`` and, once ``settle_seconds`` have passed
since the call went unanswered (it may still reach the portal: a loaded portal can apply a
call after the client gave up), are checked by a look-up first.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import stamina
import structlog
from prometheus_client import Counter, Gauge

from connectors.dvcqg import outbox
from connectors.dvcqg.answers import UnreadableAnswer, already_exists
from connectors.dvcqg.client import (
    PortalClient,
    PortalRefused,
    PortalUnavailable,
    SessionExpired,
    look_up_retrying,
    retry_on,
)
from connectors.dvcqg.protocol import PortalAnswer, Service
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
        lookups: int = 16,
        settle_seconds: float = 30.0,
        sole_sync_since: date | None = None,
    ) -> None:
        self.db, self.client = db, client
        self.batch_size, self.budget = batch_size, refusals_before_parking
        self.breaker = breaker or Breaker(5, 30.0)
        self.idle_seconds = idle_seconds
        self.settle_seconds = settle_seconds
        self.sole_sync_since = sole_sync_since
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
        """Deliver one batch; the number of updates settled (sent or refused)."""
        batch = outbox.runs(
            self.db, self.batch_size, self.settle_seconds, sole_sync_since=self.sole_sync_since
        )
        if not batch:
            return 0
        return self._deliver(batch)

    def _call(
        self,
        service: Service,
        replayable: bool,
        flying: list[outbox.Head] | None = None,
        **body: Any,
    ) -> Any:
        """Call with retries. A call that may have been applied though it failed (a timeout,
        a 5xx, a garbled answer) is retried only if ``replayable``; otherwise the failure is
        raised and its updates stay ``in_flight``, to be checked before they are sent again.
        Refusals, rate limits and expired sessions were not applied: always retried.
        ``flying``: the updates the call carries, stamped in flight as each attempt leaves."""

        for attempt in stamina.retry_context(
            on=retry_on(replayable), attempts=5, wait_initial=0.1, wait_max=3.0, wait_jitter=0.3
        ):
            with attempt:
                if flying:
                    outbox.mark_in_flight(self.db, flying, again=True)
                return self.client.call(service, **body).result
        raise AssertionError("unreachable: stamina re-raises after the last attempt")

    def _deliver(self, batch: list[list[outbox.Head]]) -> int:
        """``batch``: per dossier, its head and the updates after it, in order."""
        unsure = [run for run in batch if run[0].on_portal == 0 or _any_in_flight(run)]

        def look_up(run: list[outbox.Head]) -> dict[str, Any] | Exception | None:
            try:
                return look_up_retrying(self.client, run[0].dossier_code)
            except (*_TRANSIENT, PortalRefused, UnreadableAnswer) as error:
                return error

        known: dict[str, int] = {}
        already: list[outbox.Head] = []
        skipped: set[str] = set()
        unreadable = 0
        for run, found in zip(unsure, self.pool.map(look_up, unsure), strict=True):
            code = run[0].dossier_code
            if isinstance(found, PortalRefused | UnreadableAnswer):
                # An answer of no known shape, or a refusal of the look-up itself: counted
                # against the dossier's head (parked in the end, the answer kept).
                self._refused(run[0], str(found), found.answer, maybe_applied=True)
                skipped.add(code)
                unreadable += 1
                continue
            if isinstance(found, Exception):
                skipped.add(code)  # try this dossier again next round
                continue
            known[code] = 1 if found else -1
            for head in run:
                head.on_portal = known[code]
            while run and run[0].status == "in_flight" and found and _has_step(found, run[0].step):
                already.append(run.pop(0))  # the portal holds it: an earlier call went through
        if known:
            outbox.set_on_portal(self.db, known)
        if already:
            outbox.mark_sent(self.db, already)
            SENT.inc(len(already))
        todo = [run for run in batch if run and run[0].dossier_code not in skipped]
        if not todo:
            if skipped and not already and not unreadable:
                raise PortalUnavailable(f"{len(skipped)} look-ups failed")
            return len(already) + unreadable
        flying = [h for run in todo for h in run]
        outbox.mark_in_flight(self.db, flying)
        try:
            # Split before sending: an insert answered "đã tồn tại" turns its run into an
            # update (on_portal = 1), which must not put it in the updates a second time.
            inserts = [r for r in todo if r[0].on_portal < 0]
            updates = [r for r in todo if r[0].on_portal > 0]
            upserted = self._upsert(inserts, inserting=True)
            upserted += self._upsert(updates, inserting=False)
            sent = self._steps(upserted)
        except _TRANSIENT:
            outbox.mark_in_flight(self.db, flying, again=True)
            raise
        outbox.mark_sent(self.db, sent)
        SENT.inc(len(sent))
        return len(already) + sum(len(run) for run in todo)

    def _upsert(self, runs: list[list[outbox.Head]], inserting: bool) -> list[list[outbox.Head]]:
        """Send each dossier as its last update leaves it; the runs the portal took. Sending a
        dossier again is harmless: an update rewrites it, and an insert of one that exists is
        answered "đã tồn tại" and becomes an update."""
        if not runs:
            return []
        flag = "False" if inserting else "True"
        try:
            self._call(
                "DongBoHoSoMC", replayable=True, isUpdating=flag, data=[r[-1].dossier for r in runs]
            )
            return runs
        except PortalRefused as error:
            if len(runs) > 1:  # find the dossier it refuses
                middle = len(runs) // 2
                return self._upsert(runs[:middle], inserting) + self._upsert(
                    runs[middle:], inserting
                )
            run = runs[0]
            if inserting and already_exists(error.answer, self.client.codes):
                for head in run:
                    head.on_portal = 1  # inserted by an earlier, unanswered call
                outbox.set_on_portal(self.db, {run[0].dossier_code: 1})
                return self._upsert([run], inserting=False)
            self._refused(run[0], str(error), error.answer)
            outbox.back_to_pending(self.db, run[1:])
            return []

    def _steps(self, runs: list[list[outbox.Head]]) -> list[outbox.Head]:
        """Send the runs' steps in order; the updates settled. A step sent twice would be
        recorded twice, so an answer that never came leaves them ``in_flight`` for the next
        round to check."""
        steps = [h.step for run in runs for h in run if h.step is not None]
        if not steps:
            return [h for run in runs for h in run]
        try:
            flying = [h for run in runs for h in run]
            self._call("CapNhatTienDoHoSoMC", replayable=False, flying=flying, data=steps)
            return [h for run in runs for h in run]
        except PortalRefused as error:
            if len(runs) > 1:
                middle = len(runs) // 2
                return self._steps(runs[:middle]) + self._steps(runs[middle:])
            run = runs[0]
            if len(run) > 1:  # one update at a time, to find the refused step
                done: list[outbox.Head] = []
                for index, head in enumerate(run):
                    settled = self._steps([[head]])
                    if not settled:
                        outbox.back_to_pending(self.db, run[index + 1 :])
                        break
                    done += settled
                return done
            self._refused(run[0], str(error), error.answer)
            return []

    def _refused(
        self, head: outbox.Head, error: str, answer: PortalAnswer, maybe_applied: bool = False
    ) -> None:
        REFUSED.inc()
        stored = answer.model_dump_json()
        if outbox.refused(self.db, head, error, stored, self.budget, maybe_applied=maybe_applied):
            PARKED.inc()
            logger.error(
                "dvcqg.parked",
                dossier_code=head.dossier_code,
                position=head.position,
                error=error,
            )
        else:
            logger.warning("dvcqg.refused", dossier_code=head.dossier_code, error=error)


def _any_in_flight(run: list[outbox.Head]) -> bool:
    return any(head.status == "in_flight" for head in run)


def _has_step(found: dict[str, Any], step: dict[str, Any] | None) -> bool:
    if step is None:
        return True
    key = (step["ThoiDiemXuLy"], step["TrangThai"], step["NoiDungXuLy"])
    return any(
        (s.get("ThoiDiemXuLy"), s.get("TrangThai"), s.get("NoiDungXuLy")) == key
        for s in found.get("TienDoXuLy", ())
    )
