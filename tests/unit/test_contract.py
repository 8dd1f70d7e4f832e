import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from events import (
    CURRENT_VERSIONS,
    EVENT_TYPES,
    Channel,
    DossierReceived,
    EventRejected,
    RejectReason,
    TimeUnit,
    parse_event,
    parse_event_bytes,
)
from events.schema_export import event_schemas
from tests.factories import PAYLOADS, event, received


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_every_event_type_parses_and_round_trips_through_json(event_type: str) -> None:
    parsed = parse_event(event(event_type))
    again = parse_event_bytes(orjson.dumps(parsed.model_dump(mode="json")))
    assert again == parsed
    assert again.event_type == event_type


def test_the_contract_has_a_payload_for_every_dossier_action() -> None:
    assert set(EVENT_TYPES) == set(PAYLOADS)
    assert len(EVENT_TYPES) == 15


def test_decimals_and_dates_round_trip_exactly() -> None:
    fee = parse_event(event("dossier.fee_paid", {"amount": "1234567.89", "receipt_number": "X"}))
    assert fee.payload.amount == Decimal("1234567.89")  # type: ignore[union-attr]
    dumped = fee.model_dump(mode="json")
    assert dumped["payload"]["amount"] == "1234567.89"
    assert parse_event(dumped) == fee


def test_an_event_from_schema_version_1_still_loads() -> None:
    old = event("dossier.received", schema_version=1)
    old["payload"] = {
        key: value for key, value in old["payload"].items() if key != "processing_time"
    }
    old["payload"].update(channel="truc_tuyen", processing_days=5)
    parsed = parse_event(old)
    assert isinstance(parsed, DossierReceived)
    assert parsed.schema_version == CURRENT_VERSIONS["dossier.received"] == 2
    assert parsed.payload.channel is Channel.ONLINE
    assert parsed.payload.processing_time is not None
    assert parsed.payload.processing_time.value == Decimal(5)
    assert parsed.payload.processing_time.unit is TimeUnit.WORKING_DAYS


def _rejection(data: object) -> EventRejected:
    """The rejection of ``data``, the same whether it arrives decoded or as bytes."""
    with pytest.raises(EventRejected) as caught:
        parse_event(data)
    with pytest.raises(EventRejected) as from_bytes:
        parse_event_bytes(orjson.dumps(data))
    assert (from_bytes.value.reason, from_bytes.value.field, from_bytes.value.message) == (
        caught.value.reason,
        caught.value.field,
        caught.value.message,
    )
    return caught.value


def test_unknown_event_type_is_named() -> None:
    error = _rejection(event("dossier.received") | {"event_type": "dossier.teleported"})
    assert error.reason is RejectReason.UNKNOWN_EVENT_TYPE
    assert "dossier.teleported" in error.message
    assert error.field == "event_type"


@pytest.mark.parametrize("version", [0, 3, "2", None, 2.5, True])
def test_unsupported_schema_versions_are_refused(version: object) -> None:
    error = _rejection(event("dossier.received") | {"schema_version": version})
    assert (
        _rejection(
            {k: v for k, v in event("dossier.received").items() if k != "schema_version"}
        ).reason
        is RejectReason.UNSUPPORTED_SCHEMA_VERSION
    )
    assert error.reason is RejectReason.UNSUPPORTED_SCHEMA_VERSION
    assert "supported: 1, 2" in error.message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("unit_code", "000.00.H12", RejectReason.INVALID_UNIT_CODE),
        ("dossier_code", "000.00.01.H12-211332-0001", RejectReason.INVALID_DOSSIER_CODE),
    ],
)
def test_invalid_codes_name_the_field_and_the_reason(
    field: str, value: str, reason: RejectReason
) -> None:
    error = _rejection(event("dossier.received") | {field: value})
    assert error.reason is reason
    assert error.field == field
    assert value in error.message


def test_invalid_procedure_code_in_the_payload_names_its_path() -> None:
    error = _rejection(event("dossier.received", received(procedure_code="1.0017")))
    assert error.reason is RejectReason.INVALID_PROCEDURE_CODE
    assert error.field == "payload.procedure_code"


def test_a_naive_timestamp_is_a_schema_violation() -> None:
    error = _rejection(event("dossier.received") | {"occurred_at": "2021-03-15T09:00:00"})
    assert error.reason is RejectReason.SCHEMA_VIOLATION
    assert error.field == "occurred_at"


def test_received_needs_exactly_one_deadline() -> None:
    payload = received() | {"due_at": "2021-03-20T17:00:00+07:00"}
    error = _rejection(event("dossier.received", payload))
    assert error.reason is RejectReason.SCHEMA_VIOLATION
    assert "exactly one of processing_time and due_at" in error.message


def test_unknown_fields_are_refused_not_dropped() -> None:
    error = _rejection(event("dossier.withdrawn") | {"colour": "blue"})
    assert error.reason is RejectReason.SCHEMA_VIOLATION
    assert error.field == "colour"


def test_identity_is_only_accepted_as_a_keyed_hash() -> None:
    error = _rejection(event("dossier.received", received(applicant_id_hash="001099012345")))
    assert error.field == "payload.applicant_id_hash"


def test_malformed_json_and_non_objects() -> None:
    with pytest.raises(EventRejected) as caught:
        parse_event_bytes(b'{"event_type": ')
    assert caught.value.reason is RejectReason.MALFORMED_JSON
    assert _rejection([1, 2]).reason is RejectReason.NOT_AN_OBJECT


def test_schema_export_writes_one_schema_per_event_type(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    result = CliRunner().invoke(app, ["schema", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("*.schema.json"))
    assert len(files) == len(EVENT_TYPES)
    received_schema = json.loads((tmp_path / "dossier.received.schema.json").read_text())
    assert received_schema == json.loads(json.dumps(event_schemas()["dossier.received"]))
    assert received_schema["$id"] == "urn:dvc-hub:event:dossier.received:v2"
    assert "payload" in received_schema["required"]


def test_every_reject_reason_is_described() -> None:
    from events.reasons import DESCRIPTIONS

    assert set(DESCRIPTIONS) == set(RejectReason)


def test_the_events_document_matches_the_code() -> None:
    from hub.contract_docs import render

    document = Path(__file__).resolve().parents[2] / "docs" / "events.md"
    assert document.read_text(encoding="utf-8") == render(), (
        "docs/events.md is out of date: run `dvchub schema docs`"
    )


def test_the_readme_lists_every_setting_as_the_settings_object_has_it() -> None:
    from hub.settings_docs import with_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert with_table(readme) == readme, (
        "README.md's settings are out of date: run `dvchub schema docs`"
    )
