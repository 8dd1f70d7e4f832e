"""Group commit: the events of concurrent requests decided and written together.

Agency systems post one event per request, many at once. Each request on its own is a
transaction (a commit, a round trip, the store's lock); taken together, the requests that
arrive while one group is being written are the next group: one :meth:`Ingestor.submit_items`
call, one transaction. Each request still gets only its own outcomes, in its own order, and
only once the group is durable: nothing is acknowledged that was not stored (the
exactly-once rules are the ingest's: a duplicate is a duplicate, whichever group carries it).

There is no gathering window: the writer takes what is waiting the moment it is free, so a
lone request is written at once, and the busier the hub the larger the groups. A group that
fails for a reason other than a refusal (which is an outcome, not a failure) is written
again request by request, so one request's trouble is its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import structlog

from events.models import DossierEvent
from hub.domain.ownership import Publisher
from hub.ingest import Ingestor, Outcome
from hub.metrics import GROUP_REQUESTS

logger = structlog.get_logger(__name__)


Items = Sequence[DossierEvent | Outcome]


@dataclass
class _Request:
    items: Items | Callable[[], Items]  # admitted, or admitted by the writer
    publishers: Sequence[Publisher]
    answer: Future[list[Outcome]] = field(default_factory=Future)

    def admitted(self) -> Items:
        if callable(self.items):
            self.items = self.items()
            if len(self.items) != len(self.publishers):
                raise ValueError("one publisher per item")
        return self.items


class GroupCommitter:
    """Writes the waiting requests' events as one batch, on a thread of its own."""

    def __init__(self, ingestor: Ingestor, most_events: int = 2_000) -> None:
        self.ingestor = ingestor
        self.most_events = most_events
        self._waiting: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(
        self, items: Items | Callable[[], Items], publishers: Sequence[Publisher]
    ) -> Future[list[Outcome]]:
        """Queue a request's admitted items; its outcomes once its group is durable.

        ``items`` may also be a function that admits them (parses and authorises), called
        on the writer's thread: a large request is then parsed by the thread that writes it
        rather than by another one taking turns with it on the interpreter lock."""
        if not callable(items) and len(items) != len(publishers):
            raise ValueError("one publisher per item")
        request = _Request(items, publishers)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
            self._waiting.put(request)
        return request.answer

    @property
    def alive(self) -> bool:
        """Whether the writer runs (or has not been needed since it last stopped)."""
        thread = self._thread
        return thread is None or thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is waiting, then stop (a later request starts it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._waiting.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            group, count, last = [first], len(first.publishers), False
            while count < self.most_events:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    last = True
                    break
                group.append(more)
                count += len(more.publishers)
            self._write(group)
            if last:
                return

    def _write(self, group: list[_Request]) -> None:
        group = [request for request in group if self._admit(request)]
        if not group:
            return
        items = [item for request in group for item in request.admitted()]
        publishers = [by for request in group for by in request.publishers]
        try:
            outcomes = self.ingestor.submit_items(items, publishers)
        except Exception as error:
            if len(group) == 1:  # answered with its own error, as if it had been alone
                group[0].answer.set_exception(error)
                return
            logger.warning("ingest.group_retried_alone", requests=len(group), events=len(items))
            for request in group:
                self._write([request])
            return
        GROUP_REQUESTS.observe(len(group))
        start = 0
        for request in group:
            end = start + len(request.publishers)
            request.answer.set_result(outcomes[start:end])
            start = end
        logger.debug("ingest.group_written", requests=len(group), events=len(items))

    @staticmethod
    def _admit(request: _Request) -> bool:
        """Admit ``request``'s items if the writer is to; a failure is its answer alone."""
        try:
            request.admitted()
        except Exception as error:
            request.answer.set_exception(error)
            return False
        return True
