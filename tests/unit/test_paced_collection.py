"""Garbage collection paced by a batch job: off while it runs, a full pass every N items."""

from __future__ import annotations

import gc

import pytest

from hub.paced_collection import PacedCollection


def _full_passes() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with PacedCollection(10):
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_full_pass_runs_once_every_n_items_done() -> None:
    with PacedCollection(10) as collection:
        before = _full_passes()
        collection.done(9)
        assert _full_passes() == before
        collection.done(1)
        assert _full_passes() == before + 1
        collection.done(25)  # one pass per call at most, the count starting again
        assert _full_passes() == before + 2


def test_an_error_inside_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), PacedCollection(10):
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with PacedCollection(10):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PacedCollection(0)
