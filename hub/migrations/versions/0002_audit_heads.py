"""The map of dossier heads the sealer keeps for its checkpoints.

Its rows (each dossier's latest seal) are filled from the seals the first time the sealer
starts on this table (``hub.audit.seals.prepare``), then kept as it seals.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    binary = "BYTEA" if op.get_context().dialect.name == "postgresql" else "BLOB"
    op.execute(
        "CREATE TABLE IF NOT EXISTS audit_heads (originator_id TEXT PRIMARY KEY, "
        "dossier_code TEXT NOT NULL, version INTEGER NOT NULL, leaf_index BIGINT NOT NULL, "
        f"chain_hash {binary} NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_heads")
