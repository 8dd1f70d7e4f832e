"""Group commit: concurrent requests' events written as one batch, each request answered
with its own outcomes, in order, once the batch is stored; a failed batch written again
request by request, so one request's trouble is its own."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import pytest

from hub.domain.ownership import OPERATOR, Publisher
from hub.group_commit import GroupCommitter
from hub.ingest import Outcome


class RecordingIngestor:
    """Stands in for the store's ingest: records each batch; the first call waits on a gate
    so that requests queue up behind it; items named "boom" make the batch fail."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def submit_items(self, items: Sequence[Any], by: Sequence[Publisher]) -> list[Outcome]:
        self.entered.set()
        self.gate.wait(5)
        self.batches.append(list(items))
        if "boom" in items:
            raise OSError("the store went away")
        return [Outcome("accepted", None, str(item)) for item in items]


def ask(committer: GroupCommitter, *items: Any) -> Future[list[Outcome]]:
    """A request of ``items`` (stand-ins for admitted events), brought by the operator."""
    admitted: list[Any] = list(items)
    return committer.submit(admitted, [OPERATOR] * len(items))


def test_requests_waiting_behind_a_write_go_together_and_get_their_own_outcomes() -> None:
    ingestor = RecordingIngestor()
    committer = GroupCommitter(ingestor)  # type: ignore[arg-type]
    first = ask(committer, "a")
    assert ingestor.entered.wait(5)
    waiting = [ask(committer, f"{n}.1", f"{n}.2") for n in range(10)]
    ingestor.gate.set()
    assert [o.dossier_code for o in first.result(5)] == ["a"]
    for n, answer in enumerate(waiting):
        assert [o.dossier_code for o in answer.result(5)] == [f"{n}.1", f"{n}.2"]
    assert len(ingestor.batches) == 2  # the lone first request, then all the waiting ones
    assert len(ingestor.batches[1]) == 20
    committer.stop()
    assert committer.alive


def test_a_group_is_never_larger_than_its_limit() -> None:
    ingestor = RecordingIngestor()
    committer = GroupCommitter(ingestor, most_events=4)  # type: ignore[arg-type]
    ask(committer, "a")
    assert ingestor.entered.wait(5)
    answers = [ask(committer, n) for n in range(9)]
    ingestor.gate.set()
    for answer in answers:
        answer.result(5)
    assert [len(batch) for batch in ingestor.batches] == [1, 4, 4, 1]
    committer.stop()


def test_a_failing_request_fails_alone_and_the_others_are_stored() -> None:
    ingestor = RecordingIngestor()
    committer = GroupCommitter(ingestor)  # type: ignore[arg-type]
    ask(committer, "a")
    assert ingestor.entered.wait(5)
    good = ask(committer, "b")
    bad = ask(committer, "boom")
    also = ask(committer, "c")
    ingestor.gate.set()
    assert [o.dossier_code for o in good.result(5)] == ["b"]
    assert [o.dossier_code for o in also.result(5)] == ["c"]
    with pytest.raises(OSError, match="went away"):
        bad.result(5)
    assert ingestor.batches[1] == ["b", "boom", "c"]  # together first, then one by one
    committer.stop()


def test_stopping_writes_what_waits_and_a_later_request_starts_it_again() -> None:
    ingestor = RecordingIngestor()
    ingestor.gate.set()
    committer = GroupCommitter(ingestor)  # type: ignore[arg-type]
    answer = ask(committer, "a")
    committer.stop()
    assert answer.done()
    assert ask(committer, "b").result(5)[0].dossier_code == "b"
    committer.stop()
    nothing: list[Any] = []
    with pytest.raises(ValueError, match="one publisher per item"):
        committer.submit(nothing, [OPERATOR])


def test_a_request_may_leave_its_admission_to_the_writer_and_its_failure_is_its_own() -> None:
    """A large request hands over a function that admits its items: the writer calls it on
    its own thread, before the group is written; if it fails, that request gets the error
    and the rest of the group is stored."""
    ingestor = RecordingIngestor()
    committer = GroupCommitter(ingestor)  # type: ignore[arg-type]
    first = ask(committer, "a")
    assert ingestor.entered.wait(5)
    threads: list[str] = []

    def admit() -> list[Any]:
        threads.append(threading.current_thread().name)
        return ["b.1", "b.2"]

    def broken() -> list[Any]:
        raise ValueError("not JSON after all")

    lazy = committer.submit(admit, [OPERATOR] * 2)
    failing = committer.submit(broken, [OPERATOR] * 3)

    def short_of_one() -> list[Any]:
        return ["c.1"]

    short = committer.submit(short_of_one, [OPERATOR] * 2)  # fewer items than publishers
    after = ask(committer, "d")
    ingestor.gate.set()
    assert [o.dossier_code for o in first.result(5)] == ["a"]
    assert [o.dossier_code for o in lazy.result(5)] == ["b.1", "b.2"]
    with pytest.raises(ValueError, match="not JSON after all"):
        failing.result(5)
    with pytest.raises(ValueError, match="one publisher per item"):
        short.result(5)
    assert [o.dossier_code for o in after.result(5)] == ["d"]
    assert threads == ["group-commit"]
    assert ingestor.batches[1] == ["b.1", "b.2", "d"]
    committer.stop()
