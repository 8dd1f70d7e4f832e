"""``dvchub audit``: dossier histories, sealing, verification and proofs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from hub.auth.roles import ALL_UNITS, Principal, Role
from hub.cli.common import console, err_console, fail, hub_or_exit, settings_or_exit
from hub.cli.root import app

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.bootstrap import Hub
    from verifier.dvchub_verify import VerifierKey

audit_app = typer.Typer(help="The auditor's toolkit: histories, seals, verification, proofs.")


def _hub() -> Hub:
    return hub_or_exit()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"written: {output}")


def _json(value: BaseModel) -> str:
    import orjson

    return orjson.dumps(value.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode()


def _key(hub: Hub, key: str | None) -> VerifierKey:
    """The verifier key given (text or @FILE), else the one of this hub's signing key."""
    from hub.audit.checkpoints import load_signer
    from verifier.dvchub_verify import VerificationError, VerifierKey

    try:
        if key is None:
            settings = hub.settings
            return load_signer(
                settings.audit_origin, settings.audit_key_path, create=False
            ).verifier()
        if key.startswith("@"):
            key = Path(key[1:]).read_text(encoding="utf-8")
        return VerifierKey.parse(key)
    except (VerificationError, FileNotFoundError, ValueError) as error:
        raise fail(str(error)) from None


def _zoned(value: datetime | None, option: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise fail(f"{option} needs a time zone, e.g. +07:00")
    return value


@audit_app.command("dossier")
def dossier(
    code: Annotated[str, typer.Argument(help="The dossier's code")],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="The dossier as it was then: events occurred by then"),
    ] = None,
    known_at: Annotated[
        datetime | None,
        typer.Option("--known-at", help="Only what the hub had recorded by then"),
    ] = None,
    fmt: Annotated[
        Literal["json", "csv", "html"], typer.Option("--format", help="json, csv or html")
    ] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here")] = None,
) -> None:
    """A dossier's timeline (who did what, when; statuses and due dates before and after),
    its state at an instant, and whether it was early, on time or late. Times are ISO 8601
    with a zone, e.g. 2021-03-16T17:00+07:00."""
    from hub.audit import service
    from hub.audit.export import to_csv, to_html

    as_of, known_at = _zoned(as_of, "--as-of"), _zoned(known_at, "--known-at")
    hub = _hub()
    try:
        found = service.dossier_history(hub.store, code, as_of, known_at)
    except service.NotFoundError as error:
        raise fail(str(error), 1) from None
    finally:
        hub.close()
    if fmt == "csv":
        _write(to_csv(found), output)
    elif fmt == "html":
        _write(to_html(found, datetime.now(UTC)), output)
    else:
        _write(_json(found), output)


@audit_app.command("seal")
def seal() -> None:
    """Seal every event stored since the last seal and sign a checkpoint now."""
    from hub.audit.publish import sealer

    hub = _hub()
    try:
        worker = sealer(hub.settings, hub.store)
        if not worker.lock():
            err_console.print(
                "[bold red]error:[/] another sealer is running (dvchub serve or projections "
                "run); it seals new events within seconds"
            )
            raise typer.Exit(1)
        count = worker.seal()
        signed = worker.checkpoint()
        worker.db.close()
    finally:
        hub.close()
    console.print(f"sealed {count} new events")
    if signed is None:
        console.print("the log did not grow since the last checkpoint; none signed")
    else:
        console.print(f"checkpoint: {signed.size} events, root {signed.root.hex()}")


@audit_app.command("key")
def key() -> None:
    """Print the verifier key of this hub's checkpoints (give it to auditors)."""
    from hub.audit.checkpoints import load_signer

    settings = settings_or_exit()
    typer.echo(load_signer(settings.audit_origin, settings.audit_key_path).verifier_key)


@audit_app.command("verify")
def verify_command(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint kept elsewhere (repeatable)"),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Verifier key, or @FILE (default: this hub's)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check every stored event against its seal, every dossier's chain, and the Merkle
    tree against every signed checkpoint. Exit status 1 when anything is wrong."""
    import orjson
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from hub.adapters.sql import ReadModelDatabase
    from hub.audit.verify import published_checkpoints, verify

    hub = _hub()
    try:
        verifier_key = _key(hub, key)
        db = ReadModelDatabase(hub.settings)
        extra = published_checkpoints(hub.settings.audit_dir, checkpoint or [])
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True
        ) as bar:
            task = bar.add_task("verifying", total=None)
            report = verify(
                hub.store,
                db,
                verifier_key,
                extra,
                progress=lambda n: bar.update(task, description=f"verified {n:,} events"),
            )
        db.close()
    finally:
        hub.close()
    if as_json:
        typer.echo(
            orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode()
        )
    else:
        console.print(
            f"{report.events} events, {report.sealed} sealed, {report.unsealed} not yet sealed; "
            f"{report.checkpoints} checkpoints checked"
        )
        for finding in report.findings:
            console.print(f"[bold red]{finding.kind}[/]: {finding.detail}")
        console.print(
            "[green]verified: no finding[/]"
            if report.ok
            else f"[bold red]{len(report.findings)} findings[/]"
        )
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("prove")
def prove(
    code: Annotated[str, typer.Argument(help="The dossier's code")],
    since: Annotated[
        int | None,
        typer.Option("--since", help="Also prove the log grew from the checkpoint of this size"),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here")] = None,
) -> None:
    """Inclusion proofs of a dossier's events in the latest checkpoint, and a consistency
    proof from an older one; check them with verifier/dvchub_verify.py."""
    import orjson

    from hub.adapters.sql import ReadModelDatabase
    from hub.audit import service
    from hub.audit.seals import SealGapError

    hub = _hub()
    try:
        db = ReadModelDatabase(hub.settings)
        bundle = service.prove(hub.store, db, code, since)
        db.close()
    except (service.NotFoundError, SealGapError) as error:
        raise fail(str(error), 1) from None
    finally:
        hub.close()
    _write(
        orjson.dumps(bundle.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode(), output
    )


@audit_app.command("replay")
def replay_command(
    period: Annotated[str, typer.Option(help="2021H1, 2021Q2, 2021-03, 2021, A..B")],
    published: Annotated[
        Path | None,
        typer.Option(help="A report published earlier ('dvchub report --format json')"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON")] = False,
) -> None:
    """Re-derive the period's report from the raw log in a scratch database and compare
    every figure with the live read models' report and a published one. Exit status 1
    when any figure differs."""
    import orjson

    from hub.cli.common import period_of
    from hub.cli.reports import catch_up_embedded
    from projections.replay import replay

    chosen = period_of(period)
    document = None
    if published is not None:
        try:
            document = orjson.loads(published.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            raise fail(f"{published}: {error}") from None
    hub = _hub()
    try:
        catch_up_embedded(hub)
        with err_console.status("replaying the log into a scratch database"):
            result = replay(hub.settings, hub.store, chosen, document, str(published))
    except ValueError as error:
        raise fail(str(error)) from None
    finally:
        hub.close()
    if as_json:
        typer.echo(_json(result))
    else:
        console.print(f"period {result.period}: {result.replayed_events} events replayed")
        for comparison in result.comparisons:
            if not comparison.differences:
                console.print(
                    f"[green]{comparison.against}: all {comparison.figures} figures equal[/]"
                )
                continue
            console.print(
                f"[bold red]{comparison.against}: {len(comparison.differences)} of "
                f"{comparison.figures} figures differ[/]"
            )
            for difference in comparison.differences:
                console.print(
                    f"  {difference.path}: replayed {difference.replayed!r}, "
                    f"found {difference.other!r}"
                )
    raise typer.Exit(0 if result.ok else 1)


OPERATOR = Principal("cli", "operator (dvchub audit)", Role.AUDITOR, frozenset({ALL_UNITS}))


@audit_app.command("applicant")
def applicant(
    code: Annotated[str, typer.Argument(help="The dossier's code")],
    purpose: Annotated[str, typer.Option(help="Why the data is read (recorded)")],
) -> None:
    """The applicant's name and contact details. The read is recorded first, with the
    purpose given; an erased applicant's details cannot be shown."""
    import orjson

    from hub.personal.keys import ApplicantKeys
    from hub.personal.reads import PersonalDataReads
    from hub.personal.reveal import UnknownDossierError, reveal

    hub = _hub()
    keys = ApplicantKeys(hub.settings)
    reads = PersonalDataReads(hub.settings)
    try:
        found = reveal(hub.store, keys, reads, OPERATOR, code, purpose)
    except UnknownDossierError as error:
        raise fail(str(error), 1) from None
    finally:
        reads.close()
        keys.close()
        hub.close()
    details = None if found.details is None else found.details.model_dump(exclude_none=True)
    typer.echo(
        orjson.dumps(
            {
                "dossier_code": code,
                "outcome": found.outcome,
                "details": details,
                "read_id": found.read_id,
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )
    raise typer.Exit(0 if found.outcome == "revealed" else 1)


@audit_app.command("reads")
def reads_command(code: Annotated[str, typer.Argument(help="The dossier's code")]) -> None:
    """Every attempt to read the dossier's personal data: who, when, why, what came of it."""
    import orjson

    from hub.personal.reads import PersonalDataReads

    settings = settings_or_exit()
    reads = PersonalDataReads(settings)
    try:
        history = reads.history(code)
    finally:
        reads.close()
    typer.echo(orjson.dumps([r.to_json() for r in history], option=orjson.OPT_INDENT_2).decode())


@audit_app.command("erase")
def erase(
    reason: Annotated[str, typer.Option(help="Why (recorded with the erasure)")],
    applicant_hash: Annotated[
        str | None, typer.Option("--applicant-hash", help="The applicant's identity hash")
    ] = None,
    identity: Annotated[
        str | None,
        typer.Option("--identity", help="...or their identity number (needs the identity key)"),
    ] = None,
) -> None:
    """Erase an applicant's data key: their names and contact details become unreadable for
    good, everywhere; stored events, hashes, proofs and reports stay as they are."""
    from events.identity import applicant_id_hash
    from hub.personal.erasure import erase_applicant

    settings = settings_or_exit()
    if (applicant_hash is None) == (identity is None):
        raise fail("give one of --applicant-hash and --identity")
    if identity is not None:
        if settings.identity_key is None:
            raise fail("--identity needs DVCHUB_IDENTITY_KEY")
        applicant_hash = applicant_id_hash(
            settings.identity_key.get_secret_value().encode(), identity
        )
    assert applicant_hash is not None
    had = erase_applicant(settings, applicant_hash, f"{OPERATOR.key_id} ({OPERATOR.name})", reason)
    console.print(
        f"erased the data key of {applicant_hash}"
        if had
        else f"{applicant_hash} had no data key (nothing to erase); the request is recorded"
    )


app.add_typer(audit_app, name="audit")
