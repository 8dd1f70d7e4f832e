"""``dvchub reuse lookup|history``: the reuse look-up for operators and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hub.auth.roles import ALL_UNITS, Principal, Role
from hub.cli.common import console, fail, hub_or_exit
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.reuse.models import LookupAnswer

OPERATOR = Principal("cli", "operator (dvchub reuse)", Role.REUSER, frozenset({ALL_UNITS}))
reuse_app = typer.Typer(help="Reuse of earlier dossiers' results and documents.")
app.add_typer(reuse_app, name="reuse")


@reuse_app.command("lookup")
def reuse_lookup(
    unit: Annotated[str, typer.Option("--unit", help="The requesting unit's code")],
    dossier: Annotated[str, typer.Option("--dossier", help="The earlier dossier's code")],
    procedure: Annotated[str, typer.Option("--procedure", help="The new dossier's procedure")],
    identity: Annotated[
        str | None, typer.Option("--identity", help="The applicant's identity number")
    ] = None,
    identity_hash: Annotated[
        str | None, typer.Option("--identity-hash", help="...or its keyed hash")
    ] = None,
    consent: Annotated[
        str | None, typer.Option("--consent", help="The applicant's consent reference")
    ] = None,
    match: Annotated[
        str | None,
        typer.Option("--match", help="TYPE:NUMBER: only confirm that this document is valid"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """What of an earlier dossier may be reused for a procedure; the look-up is recorded.
    Exit status 0 when granted or matched, 1 when refused or not matched."""
    with hub_or_exit() as hub:
        status = _lookup(
            hub, unit, dossier, procedure, identity, identity_hash, consent, match, as_json
        )
    raise typer.Exit(status)


@reuse_app.command("history")
def reuse_history(
    dossier: Annotated[str, typer.Argument(help="The dossier's code")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every look-up of a dossier, and the dossiers that reused it."""
    with hub_or_exit() as hub:
        _history(hub, dossier, as_json)


def _lookup(
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
    from pydantic import ValidationError

    from hub.bus.sources import LogSource
    from hub.reuse.models import LookupRequest, Match
    from projections.reuse.service import IdentityKeyMissingError, ReuseService
    from projections.reuse.worker import catch_up

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
        raise fail(f"not a look-up:\n{error}") from None
    service = ReuseService(hub.settings)
    try:
        if hub.bus.embedded:
            catch_up(service.db, LogSource(hub.store))  # embedded: the index is read here
        answer = service.lookup(OPERATOR, request)
    except IdentityKeyMissingError as error:
        raise fail(str(error)) from None
    finally:
        service.close()
    if as_json:
        console.print_json(answer.model_dump_json())
    else:
        _print_answer(answer)
    return 0 if answer.outcome in ("granted", "matched") else 1


def _print_answer(answer: LookupAnswer) -> None:
    from rich.table import Table

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


def _history(hub: Hub, dossier: str, as_json: bool) -> None:
    import orjson
    from rich.table import Table

    from hub.bus.sources import LogSource
    from hub.reuse.ledger import ReuseLedger
    from projections.reuse import tables
    from projections.reuse.service import ReuseService
    from projections.reuse.worker import catch_up

    ledger = ReuseLedger(hub.settings)
    service = ReuseService(hub.settings, ledger=ledger)
    try:
        if hub.bus.embedded:
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
