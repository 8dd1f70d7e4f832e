"""``dvchub credentials create|list|revoke``: agency systems' API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hub.auth.roles import Role
from hub.cli.common import JsonOption, console, fail, print_rows, settings_or_exit
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.auth.store import CredentialStore

credentials_app = typer.Typer(help="Agency systems' API keys.")
app.add_typer(credentials_app, name="credentials")


def _credentials() -> CredentialStore:
    from eventsourcing.persistence import InterfaceError, OperationalError

    from hub.auth.store import CredentialStore

    try:
        return CredentialStore(settings_or_exit())
    except (OperationalError, InterfaceError) as error:
        raise fail(str(error)) from None


@credentials_app.command("create")
def credentials_create(
    name: Annotated[str, typer.Option(help="The agency system, e.g. 'mot-cua-so-tu-phap'")],
    role: Annotated[
        Role, typer.Option(help="publisher, reader, auditor or reuser")
    ] = Role.PUBLISHER,
    unit: Annotated[
        list[str] | None, typer.Option(help="Unit code it may publish for; '*' for all; repeat")
    ] = None,
) -> None:
    """Issue an API key. It is printed once and stored only as a hash."""
    store = _credentials()
    try:
        credential, api_key = store.issue(name, role, unit or [])
    except ValueError as error:
        raise fail(str(error)) from None
    finally:
        store.close()
    console.print(f"key id: {credential.key_id}  role: {credential.role.value}")
    typer.echo(api_key)


@credentials_app.command("list")
def credentials_list(as_json: JsonOption = False) -> None:
    """List credentials (never their keys)."""
    store = _credentials()
    try:
        found = store.all()
    finally:
        store.close()
    rows = [
        {
            "key_id": c.key_id,
            "name": c.name,
            "role": c.role.value,
            "units": sorted(c.units) if as_json else ", ".join(sorted(c.units)),
            "state": f"revoked: {c.revoked_reason}" if c.revoked else "active",
        }
        for c in sorted(found, key=lambda c: c.name)
    ]
    columns = [("key_id", "key id"), ("name", "name"), ("role", "role"), ("units", "units")]
    print_rows(rows, [*columns, ("state", "state")], "credentials", as_json)


@credentials_app.command("revoke")
def credentials_revoke(
    key_id: str, reason: Annotated[str, typer.Option()] = "revoked by an operator"
) -> None:
    """Revoke a credential; it stops working at once here, within seconds elsewhere."""
    store = _credentials()
    try:
        store.revoke(key_id, reason)
    except KeyError:
        raise fail(f"no credential with key id {key_id}", 1) from None
    finally:
        store.close()
    console.print(f"revoked {key_id}")
