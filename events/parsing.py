"""Turn bytes or JSON values into contract events, or say precisely why not."""

from __future__ import annotations

from typing import Annotated, Any, get_args

import orjson
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from events.codes import DossierCodeError, ProcedureCodeError, UnitCodeError
from events.errors import EventRejected, shown
from events.models import EVENT_CLASSES, DossierEvent, Envelope
from events.reasons import RejectReason
from events.upcasting import UPCASTERS, upcast

EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.model_fields["event_type"].default: cls for cls in EVENT_CLASSES
}
CURRENT_VERSIONS: dict[str, int] = {
    name: get_args(cls.model_fields["schema_version"].annotation)[0]
    for name, cls in EVENT_TYPES.items()
}
SUPPORTED_VERSIONS: dict[str, frozenset[int]] = {
    name: frozenset({current} | {v for (t, v) in UPCASTERS if t == name})
    for name, current in CURRENT_VERSIONS.items()
}

_CODE_ERRORS: tuple[tuple[type[ValueError], RejectReason], ...] = (
    (UnitCodeError, RejectReason.INVALID_UNIT_CODE),
    (DossierCodeError, RejectReason.INVALID_DOSSIER_CODE),
    (ProcedureCodeError, RejectReason.INVALID_PROCEDURE_CODE),
)


_CURRENT_EVENT: TypeAdapter[DossierEvent] = TypeAdapter(
    Annotated[DossierEvent, Field(discriminator="event_type")],
    config=ConfigDict(defer_build=True),
)


def parse_event_bytes(raw: bytes) -> DossierEvent:
    """Parse one JSON-encoded event.

    Well-formed events of the current schema version are validated straight from the bytes;
    anything else takes the slower path that upcasts old versions and explains errors.
    """
    try:
        return _CURRENT_EVENT.validate_json(raw, strict=True)
    except ValidationError:
        pass
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise EventRejected(RejectReason.MALFORMED_JSON, f"not valid JSON: {error}") from None
    return parse_event(data)


def parse_event(data: Any) -> DossierEvent:
    """Validate a decoded JSON value as an event of the current schema version."""
    if not isinstance(data, dict):
        raise EventRejected(
            RejectReason.NOT_AN_OBJECT, f"an event is a JSON object, got {type(data).__name__}"
        )
    event_type = data.get("event_type")
    cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None or not isinstance(event_type, str):
        raise EventRejected(
            RejectReason.UNKNOWN_EVENT_TYPE,
            f"event_type {shown(event_type)} is not one of: {', '.join(sorted(EVENT_TYPES))}",
            field="event_type",
        )
    version = data.get("schema_version")
    # JSON numbers: 2 and 2.0 are the same version; true is not a version.
    if (
        isinstance(version, bool)
        or not isinstance(version, int | float)
        or version not in SUPPORTED_VERSIONS[event_type]
    ):
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS[event_type]))
        raise EventRejected(
            RejectReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {shown(version)} of {event_type} is not supported "
            f"(supported: {supported})",
            field="schema_version",
        )
    data = upcast(event_type, int(version), data, CURRENT_VERSIONS[event_type])
    try:
        # Validated as JSON, where the contract is strict as its schema says.
        document = orjson.dumps(data)
    except TypeError as error:  # an integer beyond 64 bits, or a value JSON does not have
        raise EventRejected(RejectReason.SCHEMA_VIOLATION, f"not a JSON event: {error}") from None
    try:
        return cls.model_validate_json(document, strict=True)  # type: ignore[return-value]
    except ValidationError as error:
        raise rejection_from(error) from None


def load_stored_event(data: dict[str, Any]) -> DossierEvent:
    """Load an event the hub stored earlier (already validated, possibly an old version)."""
    event_type = data["event_type"]
    data = upcast(event_type, data["schema_version"], data, CURRENT_VERSIONS[event_type])
    return EVENT_TYPES[event_type].model_validate(data)  # type: ignore[return-value]


def rejection_from(error: ValidationError) -> EventRejected:
    """Map pydantic's errors to one rejection naming the first bad field and every problem."""
    details = error.errors(include_url=False)
    reason, blamed = RejectReason.SCHEMA_VIOLATION, details[0]
    for detail in details:
        cause = (detail.get("ctx") or {}).get("error")
        matched = next((r for kind, r in _CODE_ERRORS if isinstance(cause, kind)), None)
        if matched is not None:
            reason, blamed = matched, detail
            break
    first = _path(blamed)[:200]
    problems = "; ".join(f"{_path(d)[:200] or '(event)'}: {_message(d)}" for d in details[:5])
    if len(details) > 5:
        problems += f"; and {len(details) - 5} more"
    return EventRejected(reason, problems, field=first or None)


def _path(detail: ErrorDetails) -> str:
    return ".".join(str(part) for part in detail["loc"])


def _message(detail: ErrorDetails) -> str:
    message = detail["msg"]
    return message.removeprefix("Value error, ")
