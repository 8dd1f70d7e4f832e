"""One reading of a publisher's credential, whatever the channel (RFC 6750, section 2.1).

Over HTTP the ``Authorization`` header, over Kafka the record's ``authorization`` header,
carry ``Bearer <API key>``: the scheme in any case, one or more spaces, the key. Exactly
one such header; a bare key, another scheme, or two headers are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CREDENTIALS = re.compile(r"(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)")


class MalformedAuthorizationError(ValueError):
    """The authorization header is missing, repeated, or not ``Bearer <key>``."""


def bearer_token(values: Sequence[str | bytes]) -> str:
    """The API key in the authorization header values of one request or record."""
    if not values:
        raise MalformedAuthorizationError("no authorization header: send 'Bearer <API key>'")
    if len(values) > 1:
        raise MalformedAuthorizationError(
            f"{len(values)} authorization headers: send exactly one, 'Bearer <API key>'"
        )
    value = values[0]
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedAuthorizationError(
                "the authorization header is not ASCII: send 'Bearer <API key>'"
            ) from None
    match = _CREDENTIALS.fullmatch(value.strip(" \t"))
    if match is None:
        raise MalformedAuthorizationError(
            "the authorization header is not 'Bearer <API key>' (RFC 6750)"
        )
    return match.group(1)
