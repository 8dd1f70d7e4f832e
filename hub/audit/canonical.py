"""The canonical bytes of a stored event, which its hashes cover.

A stored event is its dossier's id and version, its topic and its state (the JSON the
store keeps). Its canonical form is the RFC 8785 (JSON Canonicalization Scheme)
serialisation of ``{"originator_id", "originator_version", "topic", "state"}``, so anyone
can recompute it from the stored row with any JCS implementation.

A state that is not such JSON (only a row changed behind the hub's back holds one) is
canonicalised as its exact bytes in base64 (``state_base64`` in place of ``state``), so that
every stored row can be sealed and verified.

For JSON without floating-point numbers, non-ASCII object keys or integers beyond 2^53,
JCS output is exactly orjson's with sorted keys (same escapes, UTF-8, no spaces), which is
some eighty times faster than the reference ``rfc8785`` package; anything else goes through
that package. tests/unit/test_canonical.py holds the two to the same bytes.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import orjson
import rfc8785

_SAFE_INT = 2**53


def _orjson_is_jcs(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            for key, inner in item.items():
                if not key.isascii():
                    return False
                if type(inner) in (dict, list, float, int):
                    pending.append(inner)
        elif kind is list:
            pending.extend(inner for inner in item if type(inner) in (dict, list, float, int))
        elif kind is float or (kind is int and not -_SAFE_INT < item < _SAFE_INT):
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` (JSON types only)."""
    return canonical_json_checked(value)[0]


def canonical_json_checked(value: Any) -> tuple[bytes, bool]:
    """RFC 8785 canonical JSON of ``value``, and whether it needed the reference package."""
    if _orjson_is_jcs(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS), False
    return rfc8785.dumps(value), True


def _event(originator_id: UUID | str, version: int, topic: str, state: bytes) -> dict[str, Any]:
    try:
        return {
            "originator_id": str(originator_id),
            "originator_version": version,
            "topic": topic,
            "state": orjson.loads(state),
        }
    except orjson.JSONDecodeError:
        return _opaque(originator_id, version, topic, state)


def _opaque(originator_id: UUID | str, version: int, topic: str, state: bytes) -> dict[str, Any]:
    """A stored event whose state is not JSON that RFC 8785 can write (not JSON at all, or
    numbers beyond I-JSON's range): sealed as its exact bytes, in base64. The hub never
    stores such a state itself; a row changed behind its back may hold one, and it must be
    sealed like any other (the log's leaves have no gaps), and verified the same way."""
    return {
        "originator_id": str(originator_id),
        "originator_version": version,
        "topic": topic,
        "state_base64": base64.b64encode(state).decode("ascii"),
    }


def canonical_event(
    originator_id: UUID | str, version: int, topic: str, state: bytes, slow: bool | None = None
) -> bytes:
    """The canonical bytes of one stored event. ``slow`` says which way its seal recorded
    they were made (``None``: find out, as sealing does). Verification makes them the same
    way without looking: an event whose content changed so that the other way would apply
    differs from its seal either way."""
    value = _event(originator_id, version, topic, state)
    try:
        if slow is None:
            return canonical_json(value)
        if slow:
            return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return canonical_json(_opaque(originator_id, version, topic, state))
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def canonical_event_checked(
    originator_id: UUID | str, version: int, topic: str, state: bytes
) -> tuple[bytes, bool]:
    """The canonical bytes of one stored event, and whether they needed the slow way."""
    try:
        return canonical_json_checked(_event(originator_id, version, topic, state))
    except rfc8785.CanonicalizationError:
        return canonical_json(_opaque(originator_id, version, topic, state)), True
