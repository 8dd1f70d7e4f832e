"""The first release's tables, taken up as they are.

That release made them itself (``CREATE TABLE IF NOT EXISTS``): on a database it made, this
revision changes nothing and only records that the database is at it; on an empty one it
makes them.

Frozen: a later change of shape is a new revision, never an edit of this one.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

METRICS = (
    "received_walk_in",
    "received_online",
    "received_post",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "withdrawn",
    "refused",
    "supplements_requested",
    "returned_direct",
    "returned_post",
    "returned_online",
    "pending_within_delta",
    "overdue_delta",
)

TABLES = (
    # Projections: checkpoints, generations, parked events.
    "CREATE TABLE IF NOT EXISTS projection_checkpoints (projection TEXT NOT NULL, "
    "source TEXT NOT NULL, part INTEGER NOT NULL, position BIGINT NOT NULL, "
    "kafka_offset BIGINT, updated_at TEXT NOT NULL, PRIMARY KEY (projection, source, part))",
    "CREATE TABLE IF NOT EXISTS projection_generations (projection TEXT PRIMARY KEY, "
    "generation INTEGER NOT NULL, rebuilt_to BIGINT NOT NULL, rebuilt_at TEXT)",
    "CREATE TABLE IF NOT EXISTS projection_parked (projection TEXT NOT NULL, "
    "position BIGINT NOT NULL, dossier_code TEXT, event_type TEXT, error TEXT NOT NULL, "
    "parked_at TEXT NOT NULL, PRIMARY KEY (projection, position))",
    # Unit daily progress.
    "CREATE TABLE IF NOT EXISTS progress_daily (unit_code TEXT NOT NULL, "
    "procedure_code TEXT NOT NULL, day {day} NOT NULL, {metrics}, "
    "CONSTRAINT progress_daily_0_pk PRIMARY KEY (unit_code, procedure_code, day))",
    "CREATE TABLE IF NOT EXISTS progress_unit_daily (unit_code TEXT NOT NULL, "
    "day {day} NOT NULL, {metrics}, "
    "CONSTRAINT progress_unit_daily_0_pk PRIMARY KEY (unit_code, day))",
    "CREATE TABLE IF NOT EXISTS progress_dossiers (dossier_code TEXT NOT NULL, "
    "unit_code TEXT NOT NULL, procedure_code TEXT NOT NULL, status INTEGER NOT NULL, "
    "received INTEGER NOT NULL, pending INTEGER NOT NULL, due {day}, "
    "CONSTRAINT progress_dossiers_0_pk PRIMARY KEY (dossier_code))",
    "CREATE TABLE IF NOT EXISTS progress_late (dossier_code TEXT NOT NULL, "
    "unit_code TEXT NOT NULL, procedure_code TEXT NOT NULL, due {day}, "
    "resolved {day} NOT NULL, "
    "CONSTRAINT progress_late_0_pk PRIMARY KEY (unit_code, resolved, dossier_code))",
    # The reuse index and its look-ups.
    "CREATE TABLE IF NOT EXISTS reuse_dossiers (dossier_code TEXT PRIMARY KEY, "
    "unit_code TEXT NOT NULL, position BIGINT NOT NULL, procedure_code TEXT, "
    "owner_hash TEXT, status TEXT NOT NULL, received_on {day}, resolved_on {day}, "
    "components TEXT NOT NULL, results TEXT NOT NULL, reuses TEXT NOT NULL, "
    "reuse_count INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS reuse_dossiers_owner ON reuse_dossiers (owner_hash)",
    "CREATE INDEX IF NOT EXISTS reuse_dossiers_received ON reuse_dossiers (received_on, unit_code)",
    "CREATE TABLE IF NOT EXISTS reuse_lookups (lookup_id TEXT PRIMARY KEY, at TEXT NOT NULL, "
    "day {day} NOT NULL, dossier_code TEXT NOT NULL, requesting_unit TEXT NOT NULL, "
    "key_id TEXT NOT NULL, procedure_code TEXT NOT NULL, mode TEXT NOT NULL, "
    "outcome TEXT NOT NULL, reason TEXT)",
    "CREATE INDEX IF NOT EXISTS reuse_lookups_day ON reuse_lookups (day, requesting_unit)",
    # Seals and checkpoints of the log.
    "CREATE TABLE IF NOT EXISTS audit_seals (leaf_index BIGINT PRIMARY KEY, "
    "position BIGINT NOT NULL UNIQUE, originator_id TEXT NOT NULL, version INTEGER NOT NULL, "
    "dossier_code TEXT NOT NULL, leaf_hash {binary} NOT NULL, chain_hash {binary} NOT NULL, "
    "slow_canonical INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_seals_dossier ON audit_seals (originator_id, version)",
    "CREATE TABLE IF NOT EXISTS audit_checkpoints (tree_size BIGINT PRIMARY KEY, "
    "root_hash TEXT NOT NULL, signed_at TEXT NOT NULL, note TEXT NOT NULL, "
    "frontier TEXT NOT NULL)",
    # Applicants' data keys and their erasures.
    "CREATE TABLE IF NOT EXISTS personal_data_keys (applicant_hash TEXT PRIMARY KEY, "
    "wrapped_key TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS personal_data_erasures (applicant_hash TEXT NOT NULL, "
    "erased_at TEXT NOT NULL, erased_by TEXT NOT NULL, reason TEXT NOT NULL)",
    # The national portal connector.
    "CREATE TABLE IF NOT EXISTS dvcqg_checkpoints (source TEXT NOT NULL, "
    "part INTEGER NOT NULL, position BIGINT NOT NULL, kafka_offset BIGINT, "
    "PRIMARY KEY (source, part))",
    "CREATE TABLE IF NOT EXISTS dvcqg_dossiers (dossier_code TEXT PRIMARY KEY, "
    "unit_code TEXT NOT NULL, received_day {day}, state TEXT NOT NULL, "
    "integrated INTEGER NOT NULL DEFAULT 0, on_portal INTEGER NOT NULL DEFAULT 0, "
    "last_synced_position BIGINT, last_synced_at TEXT)",
    "CREATE TABLE IF NOT EXISTS dvcqg_outbox (dossier_code TEXT NOT NULL, "
    "position BIGINT NOT NULL, event_type TEXT NOT NULL, unit_code TEXT NOT NULL, "
    "day {day} NOT NULL, recorded_at TEXT, enqueued_at TEXT NOT NULL, dossier TEXT NOT NULL, "
    "step TEXT, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, "
    "last_error TEXT, answer TEXT, in_flight_at TEXT, sent_at TEXT, "
    "PRIMARY KEY (dossier_code, position))",
    "CREATE INDEX IF NOT EXISTS dvcqg_outbox_open ON dvcqg_outbox (status, dossier_code, position)",
    "CREATE INDEX IF NOT EXISTS dvcqg_outbox_unsent ON dvcqg_outbox (position) "
    "WHERE status <> 'sent'",
    "CREATE TABLE IF NOT EXISTS dvcqg_reconcile_runs (run_id TEXT PRIMARY KEY, "
    "first_day {day} NOT NULL, last_day {day} NOT NULL, started_at TEXT NOT NULL, "
    "finished_at TEXT)",
    "CREATE TABLE IF NOT EXISTS dvcqg_reconcile_checked (run_id TEXT NOT NULL, "
    "dossier_code TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT, "
    "checked_at TEXT NOT NULL, PRIMARY KEY (run_id, dossier_code))",
)


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    words = {
        "day": "DATE" if postgres else "TEXT",
        "binary": "BYTEA" if postgres else "BLOB",
        "metrics": ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in METRICS),
    }
    for statement in TABLES:
        op.execute(statement.format(**words))


def downgrade() -> None:
    raise NotImplementedError("the first release's tables are not taken down: restore a backup")
