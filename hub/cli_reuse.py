"""``dvchub reuse lookup|history``: the reuse look-up for operators and tests."""

from __future__ import annotations

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from hub.auth.credentials import ALL_UNITS, Principal, Role
from hub.bootstrap import Hub
from hub.bus.sources import LogSource
from hub.reuse.ledger import ReuseLedger
from hub.reuse.models import LookupAnswer, LookupRequest, Match
from hub.reuse.service import IdentityKeyMissingError, ReuseService
from projections.reuse import tables
from projections.reuse.worker import catch_up

console = Console(width=max(Console().width, 150))
err_console = Console(stderr=True, soft_wrap=True)
OPERATOR = Principal("cli", "operator (dvchub reuse)", Role.REUSER, frozenset({ALL_UNITS}))


def lookup(
    hub: Hub,
    unit: str,
    dossier: str,
    procedure: str,
    identity: str | None,
    identity_hash: str | None,
    consent: str | None,
    match: str | None,
    as_json: bool,
) -> int:
    """Look up, print the answer; the exit status: 0 granted or matched, 1 otherwise."""
    try:
        wanted = None
        if match is not None:
            document_type, sep, number = match.partition(":")
            if not sep:
                raise typer.BadParameter("--match takes TYPE:NUMBER")
            wanted = Match(document_type=document_type, reference_number=number)
        request = LookupRequest(
            requesting_unit=unit,
            earlier_dossier=dossier,
            procedure_code=procedure,
            applicant_id_number=identity,
            applicant_id_hash=identity_hash,
            consent_reference=consent,
            match=wanted,
        )
    except ValidationError as error:
        err_console.print(f"[bold red]error:[/] not a look-up:\n{error}")
        raise typer.Exit(2) from None
    service = ReuseService(hub.settings)
    try:
        if not hub.settings.kafka_bootstrap:
            catch_up(service.db, LogSource(hub.store))  # embedded: the index is read here
        answer = service.lookup(OPERATOR, request)
    except IdentityKeyMissingError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    finally:
        service.close()
    if as_json:
        console.print_json(answer.model_dump_json())
    else:
        _print_answer(answer)
    return 0 if answer.outcome in ("granted", "matched") else 1


def _print_answer(answer: LookupAnswer) -> None:
    console.print(f"look-up {answer.lookup_id}: [bold]{answer.outcome}[/]", highlight=False)
    if answer.reason is not None:
        console.print(f"reason: {answer.reason.value} ({answer.message})", highlight=False)
    else:
        console.print(answer.message, highlight=False)
    if answer.results:
        table = Table("for", "type", "number", "issued", "valid until", "by unit", "sha256")
        for r in answer.results:
            table.add_row(
                r.satisfies,
                r.document_type,
                r.reference_number,
                str(r.issued_on),
                str(r.valid_until or ""),
                r.issuing_unit,
                r.sha256,
            )
        console.print(table)
    if answer.components:
        table = Table("for", "document", "name", "sha256", title="Documents submitted then")
        for c in answer.components:
            table.add_row(c.satisfies, c.code, c.name, c.sha256)
        console.print(table)


def history(hub: Hub, dossier: str, as_json: bool) -> None:
    ledger = ReuseLedger(hub.settings)
    service = ReuseService(hub.settings, ledger=ledger)
    try:
        if not hub.settings.kafka_bootstrap:
            catch_up(service.db, LogSource(hub.store))
        lookups = ledger.history(dossier)
        later = tables.reused_by(service.db, dossier)
    finally:
        service.close()
        ledger.close()
    if as_json:
        data = {
            "dossier_code": dossier,
            "lookups": [x.to_json() for x in lookups],
            "reused_by": later,
        }
        console.print_json(orjson.dumps(data).decode())
        return
    table = Table(
        "at",
        "lookup",
        "by",
        "unit",
        "procedure",
        "mode",
        "outcome",
        "reason",
        title=f"Look-ups of {dossier}",
    )
    for x in lookups:
        table.add_row(
            x.at.isoformat(timespec="seconds"),
            x.lookup_id[:8],
            x.principal,
            x.requesting_unit,
            x.procedure_code,
            x.mode,
            x.outcome,
            x.reason or "",
        )
    console.print(table)
    console.print(f"{len(lookups)} look-up(s); reused by {len(later)} dossier(s)")
    for item in later:
        console.print(
            f"  {item['dossier_code']} ({item['unit_code']}, received {item['received_on']}): "
            f"{', '.join(item['components']) or 'named as reused'}",
            highlight=False,
        )
