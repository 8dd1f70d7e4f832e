"""Run a command's named background tasks in threads until asked to stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

Task = Callable[[threading.Event], None]


def run_tasks(tasks: Sequence[tuple[str, Task]], stop: threading.Event) -> None:
    """Run each task (given ``stop``) in its own thread until ``stop`` is set. If one ends on
    its own, the others are stopped too and the command fails, naming it and its error."""
    failed: list[tuple[str, str]] = []

    def work(name: str, task: Task) -> None:
        try:
            task(stop)
            if not stop.is_set():
                failed.append((name, "it returned"))
        except BaseException as error:
            failed.append((name, repr(error)))
        finally:
            stop.set()

    threads = [threading.Thread(target=work, args=task, name=task[0]) for task in tasks]
    for thread in threads:
        thread.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    if failed:
        name, why = failed[0]
        raise SystemExit(f"{name} stopped ({why}); see the log")
