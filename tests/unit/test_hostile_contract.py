"""What legacy and careless systems send: sentinel dates, clocks years ahead, digits that are
not ASCII, lax types, another unit's dossiers. Each is refused with its own reason, and the
published JSON Schema says the same as the validator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import jsonschema_rs
import orjson
import pytest

from events import EventRejected, RejectReason, parse_event
from events.parsing import parse_event_bytes
from events.schema_export import event_schemas
from hub.domain.calendar import WorkingCalendar
from hub.domain.dossier import Dossier
from hub.domain.lifecycle import Rules
from hub.domain.ownership import Publisher, Transport, code_names_unit, is_ancestor
from tests.factories import CODE, OTHER_UNIT, UNIT, at, event, received

RULES = Rules(WorkingCalendar())
NOW = at("2021-04-01 10:00")
R = RejectReason


def _refusal(command: Callable[[], object]) -> EventRejected:
    with pytest.raises(EventRejected) as caught:
        command()
    return caught.value


def _parsed_refusal(data: dict[str, Any]) -> EventRejected:
    return _refusal(lambda: parse_event_bytes(orjson.dumps(data)))


def _opened(*more: dict[str, Any], by: Publisher | None = None) -> Dossier:
    dossier = Dossier.open(parse_event(event("dossier.received")), RULES, NOW)
    for item in more:
        if by is None:
            dossier.record(parse_event(item), RULES, NOW)
        else:
            dossier.record(parse_event(item), RULES, NOW, by)
    return dossier


# --- instants -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"occurred_at": "0001-01-01T00:00:00Z"}, R.BEFORE_EARLIEST_DATE, "occurred_at"),
        ({"occurred_at": "1999-12-31T23:59:59+07:00"}, R.BEFORE_EARLIEST_DATE, "occurred_at"),
        ({"occurred_at": "2099-03-15T09:00:00+07:00"}, R.OCCURRED_IN_FUTURE, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:59Z"}, R.OCCURRED_IN_FUTURE, "occurred_at"),
        (
            {"payload": received() | {"processing_time": None, "due_at": "9999-12-31T23:59:59Z"}},
            R.DUE_BEYOND_HORIZON,
            "payload.due_at",
        ),
        (
            {"payload": received() | {"processing_time": None, "due_at": "0001-01-01T00:00:00Z"}},
            R.BEFORE_EARLIEST_DATE,
            "payload.due_at",
        ),
        (
            {"payload": received(days=3650, unit="working_days")},
            R.DUE_BEYOND_HORIZON,
            "payload.processing_time",
        ),
    ],
)
def test_instants_outside_the_window_are_refused_before_they_can_be_stored(
    change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    parsed = parse_event(event("dossier.received") | change)
    error = _refusal(lambda: Dossier.open(parsed, RULES, NOW))
    assert (error.reason, error.field) == (reason, field)


@pytest.mark.parametrize(
    ("instant", "reason"),
    [
        ("0001-01-01T00:00:00+07:00", R.BEFORE_EARLIEST_DATE),
        ("9999-12-31T23:59:59-07:00", R.OCCURRED_IN_FUTURE),
    ],
)
def test_instants_whose_offset_overflows_are_refused_with_their_reason(
    instant: str, reason: RejectReason
) -> None:
    parsed = parse_event(event("dossier.received") | {"occurred_at": instant})
    assert _refusal(lambda: Dossier.open(parsed, RULES, NOW)).reason is reason


def test_a_clock_a_few_minutes_ahead_is_within_the_allowed_skew() -> None:
    ahead = event("dossier.received", when="2021-04-01 10:04")
    assert Dossier.open(parse_event(ahead), RULES, NOW).state is not None


def test_a_dossier_is_not_frozen_by_a_future_event() -> None:
    """An event dated 2099 would make every real event ``occurred_before_previous``."""
    dossier = _opened()
    future = event("dossier.transferred", when="2099-01-01 10:00")
    assert _refusal(lambda: dossier.record(parse_event(future), RULES, NOW)).reason is (
        R.OCCURRED_IN_FUTURE
    )
    dossier.record(parse_event(event("dossier.resolved", when="2021-03-16 10:00")), RULES, NOW)
    assert dossier.state is not None
    assert dossier.state.finished_at == at("2021-03-16 10:00")


def test_an_apology_slip_to_9999_is_refused() -> None:
    dossier = _opened()
    slip = event("dossier.deadline_extended", when="2021-03-16 10:00")
    slip["payload"]["new_due_at"] = "9999-12-31T00:00:00+07:00"
    error = _refusal(lambda: dossier.record(parse_event(slip), RULES, NOW))
    assert (error.reason, error.field) == (R.DUE_BEYOND_HORIZON, "payload.new_due_at")


def test_result_documents_dated_in_the_future_or_valid_for_ever_are_refused() -> None:
    dossier = _opened()
    resolved = event("dossier.resolved", when="2021-03-16 10:00")
    resolved["payload"]["result_documents"][0]["issued_on"] = "2099-01-01"
    assert _refusal(lambda: dossier.record(parse_event(resolved), RULES, NOW)).reason is (
        R.DATE_OUT_OF_RANGE
    )
    resolved = event("dossier.resolved", when="2021-03-16 10:00")
    resolved["payload"]["result_documents"][0]["valid_until"] = "9999-12-31"
    assert _refusal(lambda: dossier.record(parse_event(resolved), RULES, NOW)).reason is (
        R.DATE_OUT_OF_RANGE
    )


def test_anything_else_going_wrong_with_an_event_is_that_events_refusal() -> None:
    class BrokenCalendar(WorkingCalendar):
        def due_at(self, start: datetime, processing_time: Any) -> datetime:
            raise OverflowError("date value out of range")

    rules = Rules(BrokenCalendar())
    error = _refusal(lambda: Dossier.open(parse_event(event("dossier.received")), rules, NOW))
    assert error.reason is R.UNPROCESSABLE
    assert "OverflowError" in error.message


# --- codes and types ------------------------------------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
@pytest.mark.parametrize(
    ("field", "reason"),
    [("dossier_code", R.INVALID_DOSSIER_CODE), ("unit_code", R.INVALID_UNIT_CODE)],
)
def test_codes_are_ascii_digits_only(field: str, reason: RejectReason, digits: Any) -> None:
    data = event("dossier.received")
    data[field] = data[field].translate(digits)
    assert _parsed_refusal(data).reason is reason


@pytest.mark.parametrize("channel", [True, "2", 2.5, None, [2], 9])
def test_a_channel_is_a_json_integer(channel: object) -> None:
    data = event("dossier.received")
    data["payload"]["channel"] = channel
    error = _parsed_refusal(data)
    assert (error.reason, error.field) == (R.SCHEMA_VIOLATION, "payload.channel")


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": "2021-03-15 09:00:00+07:00"},  # a space, not T
        {"occurred_at": "2021-03-15T09:00:00"},  # no offset
        {"occurred_at": 1615773600},  # a Unix time
        {"unit_code": f" {UNIT}"},
        {"source_system": "   "},
        {"actor": {"id": ""}},
    ],
)
def test_lax_forms_are_refused(change: dict[str, Any]) -> None:
    assert _parsed_refusal(event("dossier.received") | change).reason in (
        R.SCHEMA_VIOLATION,
        R.INVALID_UNIT_CODE,
    )


def test_lists_are_bounded() -> None:
    component = received()["components"][0]
    data = event("dossier.received", received(components=[component] * 201))
    error = _parsed_refusal(data)
    assert (error.reason, error.field) == (R.SCHEMA_VIOLATION, "payload.components")


# --- the schema and the validator agree -------------------------------------------------


def _variants() -> list[tuple[str, dict[str, Any]]]:
    """Documents of every kind: the factories' valid events and hostile changes of them."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for event_type in sorted(event_schemas()):
        docs.append((f"{event_type} as made", event(event_type)))
    base = event("dossier.received")
    hostile: dict[str, Callable[[dict[str, Any]], None]] = {
        "channel true": lambda d: d["payload"].update(channel=True),
        "channel string": lambda d: d["payload"].update(channel="2"),
        "channel fraction": lambda d: d["payload"].update(channel=2.5),
        "valid, channel 2.0 (the JSON number 2)": lambda d: d["payload"].update(channel=2.0),
        "channel unknown": lambda d: d["payload"].update(channel=9),
        "arabic-indic code": lambda d: d.update(dossier_code=CODE.translate(ARABIC_INDIC)),
        "full-width unit": lambda d: d.update(unit_code=UNIT.translate(FULL_WIDTH)),
        "padded unit": lambda d: d.update(unit_code=f"{UNIT} "),
        "short procedure": lambda d: d["payload"].update(procedure_code="1.0017"),
        "blank summary": lambda d: d["payload"].update(summary="   "),
        "long summary": lambda d: d["payload"].update(summary="ồ" * 501),
        "space in instant": lambda d: d.update(occurred_at="2021-03-15 09:00:00+07:00"),
        "no offset": lambda d: d.update(occurred_at="2021-03-15T09:00:00"),
        "unix time": lambda d: d.update(occurred_at=1615773600),
        "unknown field": lambda d: d.update(colour="red"),
        "missing actor": lambda d: d.pop("actor"),
        "201 components": lambda d: d["payload"].update(
            components=d["payload"]["components"] * 201
        ),
        "hash upper case": lambda d: d["payload"].update(applicant_id_hash="A" * 64),
        "fee as text": lambda d: d["payload"].update(processing_time={"value": "x", "unit": "x"}),
        "service level string": lambda d: d["payload"].update(service_level="4"),
        "valid, summary": lambda d: d["payload"].update(summary="Đăng ký khai sinh"),
        "valid, padded name": lambda d: d["actor"].update(name=" Nguyễn Văn A "),
    }
    for name, change in hostile.items():
        doc = orjson.loads(orjson.dumps(base))
        change(doc)
        docs.append((name, doc))
    return docs


@pytest.mark.parametrize(
    ("name", "document"), [pytest.param(name, doc, id=name) for name, doc in _variants()]
)
def test_the_json_schema_and_the_validator_agree(name: str, document: dict[str, Any]) -> None:
    schema = event_schemas()[document["event_type"]]
    schema_says = jsonschema_rs.Draft202012Validator(schema, validate_formats=True).is_valid(
        document
    )
    try:
        parse_event_bytes(orjson.dumps(document))
        validator_says = True
    except EventRejected:
        validator_says = False
    assert schema_says == validator_says, name
    assert schema_says == (name.startswith("valid") or name.endswith("as made")), name


def test_every_code_has_its_pattern_in_the_schema() -> None:
    schema = event_schemas()["dossier.received"]
    assert "pattern" in schema["properties"]["dossier_code"]
    assert "pattern" in schema["properties"]["unit_code"]
    procedure = schema["$defs"]["ReceivedPayload"]["properties"]["procedure_code"]
    assert procedure["pattern"].startswith("^[0-9]")


# --- ownership ------------------------------------------------------------------------

B_CREDENTIAL = Publisher("b0b0b0b0b0b0", Transport.HTTP, frozenset({OTHER_UNIT}))
A_CODE_BY_B = f"{UNIT}-210315-0042"


def test_a_unit_cannot_open_a_dossier_under_another_units_code() -> None:
    squat = parse_event(event("dossier.received", code=A_CODE_BY_B, unit=OTHER_UNIT))
    error = _refusal(lambda: Dossier.open(squat, RULES, NOW, B_CREDENTIAL))
    assert (error.reason, error.field) == (R.UNIT_NOT_INVOLVED, "unit_code")


@pytest.mark.parametrize(
    "event_type", ["dossier.resolved", "dossier.withdrawn", "dossier.transferred"]
)
def test_a_unit_cannot_act_on_another_units_dossier(event_type: str) -> None:
    dossier = _opened()
    foreign = parse_event(event(event_type, unit=OTHER_UNIT, when="2021-03-16 10:00"))
    error = _refusal(lambda: dossier.record(foreign, RULES, NOW, B_CREDENTIAL))
    assert error.reason is R.UNIT_NOT_INVOLVED
    assert OTHER_UNIT in error.message


def test_a_unit_the_dossier_was_transferred_to_acts_on_it() -> None:
    transfer = event("dossier.transferred", {"kind": "unit", "to_unit_code": OTHER_UNIT})
    dossier = _opened(transfer | {"occurred_at": at("2021-03-15 10:00").isoformat()})
    resolved = parse_event(event("dossier.resolved", unit=OTHER_UNIT, when="2021-03-16 10:00"))
    dossier.record(resolved, RULES, NOW, B_CREDENTIAL)
    assert dossier.state is not None
    assert dossier.state.units == {UNIT, OTHER_UNIT}


@pytest.mark.parametrize("scope", ["*", "000.00.00.H12"], ids=["all units", "the province"])
def test_a_credential_scoped_above_the_dossiers_units_acts_on_it(scope: str) -> None:
    province_unit = "000.00.00.H12"
    above = Publisher("c0c0c0c0c0c0", Transport.KAFKA, frozenset({scope}))
    dossier = _opened()
    returned = event("dossier.resolved", unit=province_unit, when="2021-03-16 10:00")
    dossier.record(parse_event(returned), RULES, NOW, above)
    assert dossier.state is not None


def test_unit_codes_form_a_tree() -> None:
    assert is_ancestor("000.00.00.H12", "000.00.60.H12")
    assert is_ancestor("000.00.60.H12", "000.01.60.H12")
    assert not is_ancestor("000.00.60.H12", "000.00.61.H12")
    assert not is_ancestor("000.00.60.H12", "000.00.60.H12")
    assert not is_ancestor("000.00.00.H12", "000.00.60.H13")
    assert not is_ancestor("000.01.60.H12", "000.00.60.H12")


def test_a_shortened_dossier_code_names_its_unit() -> None:
    assert code_names_unit("H21.65-220914-0011", "000.00.65.H21")
    assert not code_names_unit("H21.65-220914-0011", "000.00.66.H21")
    assert not code_names_unit("H21.65-220914-0011", "000.00.65.H22")
    assert code_names_unit(CODE, UNIT)
    assert not code_names_unit(CODE, OTHER_UNIT)


def test_a_credential_above_lends_nothing_to_its_other_units() -> None:
    """Scoped to the province and to another department: the province may act, the other
    department may not."""
    province = "000.00.00.H12"
    both = Publisher("d0d0d0d0d0d0", Transport.HTTP, frozenset({province, OTHER_UNIT}))
    dossier = _opened()
    foreign = parse_event(event("dossier.resolved", unit=OTHER_UNIT, when="2021-03-16 10:00"))
    assert _refusal(lambda: dossier.record(foreign, RULES, NOW, both)).reason is (
        R.UNIT_NOT_INVOLVED
    )
    own = parse_event(event("dossier.resolved", unit=province, when="2021-03-16 10:00"))
    dossier.record(own, RULES, NOW, both)
    assert dossier.state is not None
