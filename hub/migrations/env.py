"""Alembic's environment for the hub's own tables: run on the connection
:mod:`hub.migrations` hands it (never on a URL of its own), in one transaction."""

from __future__ import annotations

from alembic import context

from hub.migrations import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
