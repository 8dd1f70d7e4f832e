"""``dvchub``: the hub's command line, one module per command group.

Modules import only what their commands' options need; each command imports the rest when
it runs, so that ``dvchub --help`` and a report do not pay for the API server, Kafka or the
portal connector.
"""

from hub.cli import (  # noqa: F401 - each module adds its commands to the root
    audit,
    backup,
    catalogue,
    connector,
    contract,
    credentials,
    db,
    demo,
    events,
    projections,
    reports,
    reuse,
    serve,
    simulate,
)
from hub.cli.root import app

__all__ = ["app"]
