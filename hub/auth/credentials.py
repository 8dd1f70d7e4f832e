"""The Credential aggregate and the principal an authenticated request acts as.

An API key reads ``dvc_<key id>_<secret>``. Only a SHA-256 digest of the secret is stored:
the secret is 256 random bits, so a plain digest cannot be reversed by guessing, and checking
it costs nothing (no password-hashing work factor is needed for random keys).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.codes import parse_unit_code
from hub.auth.roles import ALL_UNITS, Principal, Role

__all__ = ["ALL_UNITS", "Credential", "MalformedKeyError", "Principal", "Role"]

_PREFIX = "dvc"


class MalformedKeyError(ValueError):
    """The text is not an API key of this hub."""


def split_key(api_key: str) -> tuple[str, str]:
    """``(key id, secret)`` of an API key."""
    prefix, _, rest = api_key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or len(key_id) != 12 or not secret:
        raise MalformedKeyError("not an API key of the form dvc_<key id>_<secret>")
    return key_id, secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(key_hash: str, secret: str) -> bool:
    """Whether ``secret`` is the one whose digest is ``key_hash`` (in constant time)."""
    return hmac.compare_digest(key_hash, _digest(secret))


class Credential(Aggregate):
    """One agency system's API key."""

    class Issued(Aggregate.Created):
        key_id: str
        name: str
        role: str
        units: list[str]
        key_hash: str

    class Revoked(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True
            aggregate.revoked_reason = self.reason

    def __init__(self, key_id: str, name: str, role: str, units: list[str], key_hash: str) -> None:
        self.key_id = key_id
        self.name = name
        self.role = Role(role)
        self.units = frozenset(units)
        self.key_hash = key_hash
        self.revoked = False
        self.revoked_reason: str | None = None

    @classmethod
    def issue(cls, name: str, role: Role, units: list[str]) -> tuple[Credential, str]:
        """A new credential and its API key; the key is shown once and never stored."""
        if not name.strip():
            raise ValueError("a credential needs a name")
        for unit in units:
            if unit != ALL_UNITS:
                parse_unit_code(unit)
        if role is Role.PUBLISHER and not units:
            raise ValueError("a publisher credential needs at least one unit code (or '*')")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        credential = cls._create(
            cls.Issued,
            id=credential_id(key_id),
            key_id=key_id,
            name=name.strip(),
            role=role.value,
            units=sorted(set(units)),
            key_hash=_digest(secret),
        )
        return credential, f"{_PREFIX}_{key_id}_{secret}"

    def revoke(self, reason: str) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked, reason=reason)

    def verifies(self, secret: str) -> bool:
        return not self.revoked and secret_matches(self.key_hash, secret)

    def principal(self) -> Principal:
        return Principal(self.key_id, self.name, self.role, self.units)


def credential_id(key_id: str) -> UUID:
    """The aggregate id of a key id."""
    return uuid5(NAMESPACE_URL, f"urn:dvc-hub:credential:{key_id}")
