"""A client of the portal's sync interface: log in, keep the session, call services.

Failures are specific exceptions, so the sender can tell what to do:
:class:`PortalUnavailable` (5xx, timeouts, connection errors, a body that is not the
portal's answer: retry, and count towards the circuit breaker), :class:`RateLimited` (retry
after the time it asks), :class:`SessionExpired` (log in again, then retry) and
:class:`PortalRefused` (the portal understood and said no: retrying the same payload will
not help).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import stamina
import structlog
from pydantic import ValidationError

from connectors.dvcqg.answers import (
    SIMULATOR_CODES,
    AnswerCodes,
    already_exists,
    looked_up,
    not_found,
    session_expired,
)
from connectors.dvcqg.protocol import INVALID_SESSION, PortalAnswer, Service

logger = structlog.get_logger("connectors.dvcqg.client")


class PortalError(Exception):
    """Anything that kept a call from succeeding."""


class PortalUnavailable(PortalError):
    """The portal did not answer usefully: down, slow, or garbled. Worth retrying."""


class RateLimited(PortalUnavailable):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionExpired(PortalError):
    """The session is no longer valid: log in again."""


class PortalRefused(PortalError):
    """The portal answered with an error about the request itself."""

    def __init__(self, answer: PortalAnswer) -> None:
        super().__init__(f"error_code {answer.error_code}: {answer.message}")
        self.answer = answer


class PortalClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        dstcode: str,
        madonvi: str,
        timeout: float = 10.0,
        login_path: str = "/login",
        service_path: str = "/service",
        codes: AnswerCodes = SIMULATOR_CODES,
    ) -> None:
        self.login_path, self.service_path = login_path, service_path
        self.codes = codes
        self.username, self.password, self.dstcode, self.madonvi = (
            username,
            password,
            dstcode,
            madonvi,
        )
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self._session: str | None = None
        self._session_made = 0.0
        self._lock = threading.Lock()
        self.logins = 0

    def close(self) -> None:
        self.http.close()

    def session(self) -> tuple[str, float]:
        """The current session, logging in if there is none; and when it was made."""
        with self._lock:
            if self._session is None:
                answer = self._post(
                    self.login_path,
                    {"username": self.username, "password": self.password},
                    headers={"dstcode": self.dstcode},
                )
                if not answer.ok or not answer.session:
                    raise PortalRefused(answer)
                self._session, self._session_made = answer.session, time.monotonic()
                self.logins += 1
                logger.info("dvcqg.logged_in")
            return self._session, self._session_made

    def forget_session(self, session: str | None = None) -> None:
        """Log in again at the next call (unless another call already did, for ``session``)."""
        with self._lock:
            if session is None or self._session == session:
                self._session = None

    def call(self, service: Service, **body: Any) -> PortalAnswer:
        """Call ``service`` with this client's session.

        An answer that says the session expired, in any form the portal uses
        (:func:`~connectors.dvcqg.answers.session_expired`), is followed by one fresh login
        and the call again; so is any other refusal made under a session older than this
        call, since portals do not agree on how they say a session is gone. Only a refusal
        under a fresh session is taken for one. Answers that mean something ("đã tồn tại",
        not found) are never repeated."""
        started = time.monotonic()
        for attempt in (1, 2):
            session, made = self.session()
            answer = self._post(
                self.service_path,
                {"session": session, "madonvi": self.madonvi, "service": service, **body},
            )
            if answer.ok:
                return answer
            expired = session_expired(answer, self.codes)
            meaningful = already_exists(answer, self.codes) or (
                service == "TraCuuHoSo" and not_found(answer, self.codes)
            )
            if attempt == 1 and (expired or (made < started and not meaningful)):
                self.forget_session(session)
                continue
            if expired:
                self.forget_session(session)
                raise SessionExpired(answer.message or "session expired")
            raise PortalRefused(answer)
        raise AssertionError("unreachable")

    def look_up(self, code: str) -> dict[str, Any] | None:
        """``TraCuuHoSo``: the dossier on the portal with its steps under ``TienDoXuLy``, or
        None if it is not there. :class:`UnreadableAnswer` for an answer of no known shape."""
        try:
            answer = self.call("TraCuuHoSo", mahoso=code)
        except PortalRefused as error:
            if not_found(error.answer, self.codes):
                return None
            raise
        return looked_up(answer, code)

    def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> PortalAnswer:
        try:
            response = self.http.post(path, json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise PortalUnavailable(f"timed out: {error!r}") from error
        except httpx.TransportError as error:
            raise PortalUnavailable(f"no connection: {error!r}") from error
        if response.status_code == 429:
            retry_after = float(response.headers.get("retry-after", "1") or 1)
            raise RateLimited("rate limited", retry_after)
        if response.status_code >= 500:
            raise PortalUnavailable(f"HTTP {response.status_code}")
        if response.status_code in (401, 403):
            return PortalAnswer(
                error_code=INVALID_SESSION, message=f"HTTP {response.status_code}: session"
            )
        try:
            return PortalAnswer.model_validate_json(response.content)
        except ValidationError as error:
            raise PortalUnavailable(f"not the portal's answer: {response.text[:200]!r}") from error


def retry_on(replayable: bool) -> Callable[[Exception], bool]:
    """Which failures a call is tried again after (for stamina). Refusals are not; rate
    limits (after the pause they ask for) and expired sessions were not applied, so always;
    the rest only if the call is safe to repeat."""

    def retryable(error: Exception) -> bool:
        if isinstance(error, RateLimited):
            time.sleep(min(error.retry_after, 10.0))
            return True
        if isinstance(error, SessionExpired):
            return True
        return replayable and isinstance(error, PortalUnavailable)

    return retryable


def look_up_retrying(client: PortalClient, code: str, attempts: int = 5) -> dict[str, Any] | None:
    """:meth:`PortalClient.look_up` through transient faults: a look-up changes nothing, so
    it is always safe to repeat."""
    for attempt in stamina.retry_context(
        on=retry_on(replayable=True), attempts=attempts, wait_initial=0.1, wait_max=3.0
    ):
        with attempt:
            return client.look_up(code)
    raise AssertionError("unreachable: stamina re-raises after the last attempt")
