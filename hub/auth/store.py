"""Credentials kept in their own event-sourced application, beside the dossiers' store."""

from __future__ import annotations

import threading
import time
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from hub.adapters.persistence import HubApplication
from hub.auth.credentials import (
    Credential,
    MalformedKeyError,
    Principal,
    Role,
    credential_id,
    secret_matches,
    split_key,
)
from hub.settings import HubSettings

#: Compared with when there is no credential, so that an unknown key costs what a known one
#: does.
_STAND_IN_HASH = "0" * 64


class AuthenticationError(Exception):
    """No valid credential: missing, malformed, unknown, wrong secret, or revoked."""


class CredentialStore(HubApplication):
    """Issues, lists, revokes and checks API keys; its table is ``credentials_events``."""

    name = "Credentials"
    #: How long a looked-up credential (or its absence) is trusted before it is read again:
    #: revocations by another process take effect within this time; in this process, at once.
    CACHE_SECONDS = 1.0

    def __init__(self, settings: HubSettings) -> None:
        # No aggregate cache: revocations by other processes must be seen (see CACHE_SECONDS).
        super().__init__(settings.model_copy(update={"aggregate_cache_size": 0}), "credentials")
        self._checked: dict[str, tuple[float, Credential | None]] = {}
        self._lock = threading.Lock()

    def issue(self, name: str, role: Role, units: list[str]) -> tuple[Credential, str]:
        credential, api_key = Credential.issue(name, role, units)
        self.save(credential)
        return credential, api_key

    def revoke(self, key_id: str, reason: str = "revoked by an operator") -> Credential:
        credential = self.get(key_id)
        credential.revoke(reason)
        self.save(credential)
        with self._lock:
            self._checked.pop(key_id, None)
        return credential

    def get(self, key_id: str) -> Credential:
        try:
            credential: object = self.repository.get(credential_id(key_id))
        except AggregateNotFoundError:
            raise KeyError(key_id) from None
        assert isinstance(credential, Credential)
        return credential

    def all(self) -> list[Credential]:
        ids: dict[UUID, None] = {}
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=1_000)
            ids.update(dict.fromkeys(n.originator_id for n in page))  # type: ignore[misc]
            if len(page) < 1_000:
                break
            start = page[-1].id + 1
        found: list[object] = [self.repository.get(i) for i in ids]
        return [c for c in found if isinstance(c, Credential)]

    def authenticate(self, api_key: str | None) -> Principal:
        """The principal of a valid API key, or :class:`AuthenticationError`.

        An unknown key, a wrong secret and a revoked key get one answer, by one path: the
        look-up (cached alike, present or absent) and a digest comparison (against a
        stand-in when there is no credential), so neither the answer nor its time tells
        which it was."""
        if not api_key:
            raise AuthenticationError("no API key")
        try:
            key_id, secret = split_key(api_key)
        except MalformedKeyError as error:
            raise AuthenticationError(str(error)) from None
        now = time.monotonic()
        with self._lock:
            cached = self._checked.get(key_id)
        if cached is not None and cached[0] > now:
            credential = cached[1]
        else:
            try:
                credential = self.get(key_id)
            except KeyError:
                credential = None
            with self._lock:
                if len(self._checked) > 10_000:  # unknown ids must not grow it for ever
                    self._checked.clear()
                self._checked[key_id] = (now + self.CACHE_SECONDS, credential)
        matched = secret_matches(credential.key_hash if credential else _STAND_IN_HASH, secret)
        if credential is None or credential.revoked or not matched:
            raise AuthenticationError("invalid or revoked API key")
        return credential.principal()
