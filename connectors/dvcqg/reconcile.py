"""Compare the portal's view of every integrated dossier with the hub's, and queue again
what differs (``dvchub connector reconcile --period ...``).

A reconcile of a period is a *run*, kept in the read-model database with each dossier it has
checked (in the same transaction as what it queued again). A run that stopped part-way — the
process killed, the portal down for the rest of it — is resumed by the next reconcile of the
same period: dossiers already checked are not asked about again, those that could not be are.
A run is finished when every dossier of the period has been checked; the next reconcile of the
period then starts a new one (``fresh`` starts a new one at once).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import orjson
import structlog

from connectors.dvcqg.answers import UnreadableAnswer
from connectors.dvcqg.client import PortalClient, PortalError, look_up_retrying
from connectors.dvcqg.outbox import DOSSIERS, OUTBOX, now
from hub.adapters.sql import ReadModelDatabase

logger = structlog.get_logger("connectors.dvcqg.reconcile")

RUNS = "dvcqg_reconcile_runs"
CHECKED = "dvcqg_reconcile_checked"
#: Outcomes of a dossier's check that end it for the run (``error``: try again).
DONE = ("matching", "requeued")


def create(db: ReadModelDatabase) -> None:
    day = "DATE" if db.postgres else "TEXT"
    db.create(
        [
            f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id TEXT PRIMARY KEY, "
            f"first_day {day} NOT NULL, last_day {day} NOT NULL, started_at TEXT NOT NULL, "
            "finished_at TEXT)",
            f"CREATE TABLE IF NOT EXISTS {CHECKED} (run_id TEXT NOT NULL, "
            "dossier_code TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT, "
            "checked_at TEXT NOT NULL, PRIMARY KEY (run_id, dossier_code))",
        ]
    )


@dataclass
class ReconcileReport:
    run_id: str = ""
    #: Dossiers an earlier, unfinished reconcile of the period had checked already.
    resumed: int = 0
    finished: bool = False
    checked: int = 0
    matching: int = 0
    differences: Counter[str] = field(default_factory=Counter)
    requeued: int = 0
    #: Dossiers the portal could not be asked about (after retries), with why: checked again
    #: by the next reconcile; the others are done.
    errors: dict[str, str] = field(default_factory=dict)


def reconcile(
    db: ReadModelDatabase,
    client: PortalClient,
    start: date,
    end: date,
    attempts: int = 5,
    fresh: bool = False,
) -> ReconcileReport:
    """Check every integrated dossier received from ``start`` to ``end``, resuming the
    period's unfinished run unless ``fresh``. A dossier the portal cannot be asked about is
    recorded in the report's errors and the others go on."""
    create(db)
    report = ReconcileReport(run_id=_run(db, start, end, fresh))
    done = {
        code
        for (code,) in db.query(
            f"SELECT dossier_code FROM {CHECKED} WHERE run_id = ? AND outcome IN (?, ?)",
            (report.run_id, *DONE),
        )
    }
    codes = [
        row[0]
        for row in db.query(
            f"SELECT dossier_code FROM {DOSSIERS} WHERE integrated = 1 AND received_day >= ? "
            "AND received_day <= ? ORDER BY dossier_code",
            (db.day(start), db.day(end)),
        )
    ]
    report.resumed = sum(code in done for code in codes)
    logger.info(
        "dvcqg.reconcile_started",
        run_id=report.run_id,
        dossiers=len(codes),
        already_checked=report.resumed,
    )
    for code in codes:
        if code in done:
            continue
        sent = db.query(
            f"SELECT position, dossier, step FROM {OUTBOX} WHERE dossier_code = ? "
            "AND status = 'sent' ORDER BY position",
            (code,),
        )
        if not sent:
            continue  # nothing delivered yet: the sender has it in hand
        try:
            found = look_up_retrying(client, code, attempts)
        except (PortalError, UnreadableAnswer) as error:
            report.errors[code] = str(error)
            logger.warning("dvcqg.reconcile_failed", dossier_code=code, error=str(error))
            _checked(db, report.run_id, code, "error", str(error)[:1_000])
            continue
        report.checked += 1
        last_position, last_dossier, _ = sent[-1]
        expected = orjson.loads(last_dossier)
        portal_steps = {
            (s.get("ThoiDiemXuLy"), s.get("TrangThai"), s.get("NoiDungXuLy"))
            for s in (found or {}).get("TienDoXuLy", ())
        }
        missing = []
        for position, _, step in sent:
            if step is None:
                continue
            data = orjson.loads(step)
            if (data["ThoiDiemXuLy"], data["TrangThai"], data["NoiDungXuLy"]) not in portal_steps:
                missing.append(position)
        reasons = []
        if found is None:
            reasons.append("not_on_portal")
        else:
            if found.get("TrangThaiHoSo") != expected["TrangThaiHoSo"]:
                reasons.append("status")
            if found.get("NgayHenTra") != expected.get("NgayHenTra"):
                reasons.append("due_date")
        if missing:
            reasons.append("missing_steps")
        if not reasons:
            report.matching += 1
            _checked(db, report.run_id, code, "matching")
            continue
        report.differences.update(reasons)
        with db.transaction():
            _checked(db, report.run_id, code, "requeued", ", ".join(reasons))
            if found is None:
                db.execute(f"UPDATE {DOSSIERS} SET on_portal = -1 WHERE dossier_code = ?", (code,))
            db.executemany(
                f"UPDATE {OUTBOX} SET status = 'pending', attempts = 0, "
                "last_error = 'reconcile: the portal lacks this step' "
                "WHERE dossier_code = ? AND position = ?",
                [(code, position) for position in missing],
            )
            if last_position not in missing:  # the dossier itself differs: send it again
                db.execute(
                    f"UPDATE {OUTBOX} SET status = 'pending', attempts = 0, step = NULL, "
                    "last_error = 'reconcile: the portal differs; dossier sent again' "
                    "WHERE dossier_code = ? AND position = ?",
                    (code, last_position),
                )
        report.requeued += 1
    if not report.errors:
        db.execute(f"UPDATE {RUNS} SET finished_at = ? WHERE run_id = ?", (now(), report.run_id))
        report.finished = True
    logger.info(
        "dvcqg.reconcile_ended",
        run_id=report.run_id,
        checked=report.checked,
        requeued=report.requeued,
        errors=len(report.errors),
        finished=report.finished,
    )
    return report


def _run(db: ReadModelDatabase, start: date, end: date, fresh: bool) -> str:
    """The period's unfinished run, or a new one."""
    if not fresh:
        open_runs = db.query(
            f"SELECT run_id FROM {RUNS} WHERE first_day = ? AND last_day = ? "
            "AND finished_at IS NULL ORDER BY started_at DESC",
            (db.day(start), db.day(end)),
        )
        if open_runs:
            return str(open_runs[0][0])
    run_id = uuid.uuid4().hex
    db.execute(
        f"INSERT INTO {RUNS} (run_id, first_day, last_day, started_at) VALUES (?, ?, ?, ?)",
        (run_id, db.day(start), db.day(end), now()),
    )
    return run_id


def _checked(
    db: ReadModelDatabase, run_id: str, code: str, outcome: str, detail: str | None = None
) -> None:
    db.execute(
        f"INSERT INTO {CHECKED} (run_id, dossier_code, outcome, detail, checked_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, dossier_code) DO UPDATE SET "
        "outcome = excluded.outcome, detail = excluded.detail, checked_at = excluded.checked_at",
        (run_id, code, outcome, detail, now()),
    )
