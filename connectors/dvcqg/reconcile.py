"""Compare the portal's view of every integrated dossier with the hub's, and queue again
what differs (``dvchub connector reconcile --period ...``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import orjson
import structlog

from connectors.dvcqg.answers import UnreadableAnswer
from connectors.dvcqg.client import PortalClient, PortalError, look_up_retrying
from connectors.dvcqg.outbox import DOSSIERS, OUTBOX
from hub.adapters.sql import ReadModelDatabase

logger = structlog.get_logger("connectors.dvcqg.reconcile")


@dataclass
class ReconcileReport:
    checked: int = 0
    matching: int = 0
    differences: Counter[str] = field(default_factory=Counter)
    requeued: int = 0
    #: Dossiers the portal could not be asked about (after retries), with why: checked again
    #: by the next reconcile; the others are done.
    errors: dict[str, str] = field(default_factory=dict)


def reconcile(
    db: ReadModelDatabase, client: PortalClient, start: date, end: date, attempts: int = 5
) -> ReconcileReport:
    """Check every integrated dossier received from ``start`` to ``end``. A dossier the
    portal cannot be asked about is recorded in the report's errors and the others go on."""
    report = ReconcileReport()
    codes = [
        row[0]
        for row in db.query(
            f"SELECT dossier_code FROM {DOSSIERS} WHERE integrated = 1 AND received_day >= ? "
            "AND received_day <= ? ORDER BY dossier_code",
            (db.day(start), db.day(end)),
        )
    ]
    for code in codes:
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
            continue
        report.differences.update(reasons)
        with db.transaction():
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
    return report
