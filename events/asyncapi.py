"""The topics' contract as an AsyncAPI 3.1 document: what agency systems put on the actions
topic, what the hub publishes on the events topic, and what it says of refused actions.

Written by ``dvchub schema export DIR`` beside the event schemas (``asyncapi.json``); the
schemas inside are the same pydantic models the hub validates and writes with, and the
tests check records the hub really wrote against this document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from events.bus import (
    AUTHORIZATION_HEADER,
    EVENT_TYPE_HEADER,
    POSITION_HEADER,
    REJECT_FIELD_HEADER,
    REJECT_MESSAGE_HEADER,
    REJECT_REASON_HEADER,
    REJECT_SOURCE_HEADER,
    PublishedEvent,
)
from events.codes import DOSSIER_PATTERN
from events.models import DossierEvent
from events.reasons import RejectReason

ACTIONS_TOPIC = "dvc.dossier-actions.v1"
EVENTS_TOPIC = "dvc.dossier-events.v1"
REJECTS_TOPIC = "dvc.dossier-actions.rejected.v1"

_REF = "#/components/schemas/{model}"

DOSSIER_KEY: dict[str, Any] = {
    "type": "string",
    "pattern": DOSSIER_PATTERN,
    "description": "The dossier code: a dossier's records share a partition, in order",
}


def _schemas() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The action's and the published event's schemas, and the definitions they share."""
    action: TypeAdapter[Any] = TypeAdapter(
        Annotated[DossierEvent, Field(discriminator="event_type")]
    )
    action_schema = action.json_schema(ref_template=_REF)
    published_schema = PublishedEvent.model_json_schema(ref_template=_REF)
    definitions = {**action_schema.pop("$defs", {}), **published_schema.pop("$defs", {})}
    return _asyncapi(action_schema), _asyncapi(published_schema), _asyncapi(definitions)


def _asyncapi(value: Any) -> Any:
    """A JSON Schema as pydantic writes it, as an AsyncAPI Schema Object: there a
    ``discriminator`` is the property's name, not OpenAPI's object with a mapping."""
    return _rewrite(
        value,
        lambda key, inner: (
            inner["propertyName"] if key == "discriminator" and isinstance(inner, dict) else None
        ),
    )


def _rewrite(value: Any, change: Callable[[str, Any], Any]) -> Any:
    """``value`` (JSON) with each member that ``change(key, value)`` gives a value for
    replaced by it, at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            changed = change(key, inner)
            out[key] = _rewrite(inner, change) if changed is None else changed
        return out
    if isinstance(value, list):
        return [_rewrite(item, change) for item in value]
    return value


def _headers(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


def actions_headers() -> dict[str, Any]:
    return _headers(
        {
            AUTHORIZATION_HEADER: {
                "type": "string",
                "pattern": r"^[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9\-._~+/]+=*$",
                "description": "'Bearer <API key>' (RFC 6750: the scheme in any case); "
                "exactly one such header",
            }
        },
        [AUTHORIZATION_HEADER],
    )


def events_headers() -> dict[str, Any]:
    return _headers(
        {
            POSITION_HEADER: {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "The event's position in the hub's log (also in the value)",
            },
            EVENT_TYPE_HEADER: {"type": "string", "description": "The event's type"},
        },
        [POSITION_HEADER, EVENT_TYPE_HEADER],
    )


def rejects_headers() -> dict[str, Any]:
    return _headers(
        {
            REJECT_REASON_HEADER: {
                "type": "string",
                "enum": [reason.value for reason in RejectReason],
                "description": "Why it was refused (docs/events.md lists the reasons)",
            },
            REJECT_MESSAGE_HEADER: {
                "type": "string",
                "maxLength": 4_000,
                "description": "For people: what is wrong (UTF-8, at most 4,000 bytes, cut "
                "between characters)",
            },
            REJECT_FIELD_HEADER: {
                "type": "string",
                "description": "The field to blame, as a dotted path, when there is one",
            },
            REJECT_SOURCE_HEADER: {
                "type": "string",
                "pattern": "^(kafka:.+/[0-9]+/[0-9]+|http:[0-9a-f]{32}(/[0-9]+)?)$",
                "description": "Where it came from: kafka:<topic>/<partition>/<offset> or "
                "http:<request id>[/<index in the batch>]",
            },
        },
        [REJECT_REASON_HEADER, REJECT_MESSAGE_HEADER, REJECT_SOURCE_HEADER],
    )


def asyncapi_document(
    actions: str = ACTIONS_TOPIC, events: str = EVENTS_TOPIC, rejects: str = REJECTS_TOPIC
) -> dict[str, Any]:
    action_schema, published_schema, definitions = _schemas()
    kafka_key = {"kafka": {"key": DOSSIER_KEY, "bindingVersion": "0.5.0"}}
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "DVC Hub topics",
            "version": "1",
            "description": "Dossier actions in, accepted events out, refused actions kept "
            "with their reason. Read the events topic with isolation.level=read_committed: "
            "the hub writes it in transactions.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "actions": {
                "address": actions,
                "description": "Agency systems publish one event (a JSON object) per record",
                "messages": {"action": {"$ref": "#/components/messages/action"}},
            },
            "events": {
                "address": events,
                "description": "Every accepted event, in the order the hub stored it",
                "messages": {"published": {"$ref": "#/components/messages/published"}},
            },
            "rejects": {
                "address": rejects,
                "description": "Every refused action: its original bytes, and why",
                "messages": {"rejected": {"$ref": "#/components/messages/rejected"}},
            },
        },
        "operations": {
            "publishAction": {
                "action": "send",
                "channel": {"$ref": "#/channels/actions"},
                "summary": "An agency system publishes a dossier action",
            },
            "readEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "Consumers read the accepted events (read_committed)",
            },
            "readRejects": {
                "action": "receive",
                "channel": {"$ref": "#/channels/rejects"},
                "summary": "Agency systems read what was refused, and why",
            },
        },
        "components": {
            "messages": {
                "action": {
                    "name": "DossierAction",
                    "headers": actions_headers(),
                    "payload": action_schema,
                    "bindings": kafka_key,
                },
                "published": {
                    "name": "PublishedEvent",
                    "headers": events_headers(),
                    "payload": published_schema,
                    "bindings": kafka_key,
                },
                "rejected": {
                    "name": "RejectedAction",
                    "contentType": "application/octet-stream",
                    "headers": rejects_headers(),
                    "payload": {
                        "description": "The action's original bytes, whatever they were",
                    },
                    "bindings": {
                        "kafka": {
                            "key": {
                                "type": "string",
                                "description": "The action's own key, as it was sent",
                            },
                            "bindingVersion": "0.5.0",
                        }
                    },
                },
            },
            "schemas": definitions,
        },
    }


def resolved_schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` of ``document`` made standalone: its ``#/components/schemas`` references
    resolved against a copy of the document's definitions, for a JSON Schema validator."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_rewritten(schema),
        "$defs": {name: _rewritten(s) for name, s in document["components"]["schemas"].items()},
    }


def _rewritten(value: Any) -> Any:
    return _rewrite(
        value,
        lambda key, inner: (
            inner.replace("#/components/schemas/", "#/$defs/")
            if key == "$ref" and isinstance(inner, str)
            else None
        ),
    )
