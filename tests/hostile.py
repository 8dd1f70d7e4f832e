"""A corpus of what careless and hostile publishers send, each with the answer it must get.

Every channel (``dvchub ingest``, ``POST /v1/events``, the Kafka actions topic) is fed the
same lines by the tests; each line must be accounted for with its own reason, and the read
side must follow the log to its end afterwards. All events are of unit A (``UNIT``) unless
they say otherwise; dossiers are numbered apart so that lines do not interfere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from tests.factories import OTHER_UNIT, UNIT, at, event, received

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Line:
    name: str
    raw: bytes
    status: str  # accepted, duplicate, rejected
    reason: str | None = None


def code(n: int, unit: str = UNIT) -> str:
    return f"{unit}-210315-{n:04d}"


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _with(n: int, event_type: str = "dossier.received", **changes: Any) -> dict[str, Any]:
    data = event(event_type, code=code(n))
    for key, value in changes.items():
        if key.startswith("payload_"):
            data["payload"][key.removeprefix("payload_")] = value
        else:
            data[key] = value
    return data


def corpus() -> list[Line]:
    """The lines, in the order they are sent (some depend on earlier ones)."""
    opened = _with(1)
    second = _with(2)
    resolved_by_b = event(
        "dossier.resolved", code=code(1), unit=OTHER_UNIT, when="2021-03-16 10:00"
    )
    withdrawn_by_b = event(
        "dossier.withdrawn", code=code(1), unit=OTHER_UNIT, when="2021-03-16 10:00"
    )
    transferred_by_b = event(
        "dossier.transferred", code=code(1), unit=OTHER_UNIT, when="2021-03-16 10:00"
    )
    future_on_2 = event("dossier.transferred", code=code(2), when="2099-01-01 10:00")
    real_on_2 = event("dossier.resolved", code=code(2), when="2021-03-17 10:00")
    reused = dict(opened, payload={**opened["payload"], "summary": "khác"})
    no_deadline = _with(3, payload_processing_time=None, payload_due_at="9999-12-31T23:59:59Z")
    long_type = "dossier.đã_tiếp_nhận_hồ_sơ_" * 400  # ~10 kB of multi-byte characters
    return [
        Line("received", _dumps(opened), "accepted"),
        Line("the same again", _dumps(opened), "duplicate"),
        Line("its id with other content", _dumps(reused), "rejected", "event_id_reused"),
        Line("another received", _dumps(second), "accepted"),
        Line("not JSON", b'{"event_type": "dossier.received", ', "rejected", "malformed_json"),
        Line("not UTF-8", b'{"a": "\xff\xfe"}', "rejected", "malformed_json"),
        Line("an array", b"[1, 2, 3]", "rejected", "not_an_object"),
        Line("null", b"null", "rejected", "not_an_object"),
        Line(
            "a long Vietnamese event type",
            _dumps(_with(4, event_type="dossier.received") | {"event_type": long_type}),
            "rejected",
            "unknown_event_type",
        ),
        Line(
            "schema_version as text",
            _dumps(_with(5, schema_version="2")),
            "rejected",
            "unsupported_schema_version",
        ),
        Line(
            "no deadline written 9999-12-31",
            _dumps(no_deadline),
            "rejected",
            "due_beyond_horizon",
        ),
        Line(
            "a null date written 0001-01-01",
            _dumps(_with(6, occurred_at="0001-01-01T00:00:00+07:00")),
            "rejected",
            "before_earliest_date",
        ),
        Line(
            "an instant at the end of time",
            _dumps(_with(7, occurred_at="9999-12-31T23:59:59-07:00")),
            "rejected",
            "occurred_in_future",
        ),
        Line(
            "a clock set years ahead",
            _dumps(future_on_2),
            "rejected",
            "occurred_in_future",
        ),
        Line("the real event after it", _dumps(real_on_2), "accepted"),
        Line(
            "Arabic-Indic digits",
            _dumps(_with(8, dossier_code=code(8).translate(ARABIC_INDIC))),
            "rejected",
            "invalid_dossier_code",
        ),
        Line(
            "full-width digits",
            _dumps(_with(9, unit_code=UNIT.translate(FULL_WIDTH))),
            "rejected",
            "invalid_unit_code",
        ),
        Line(
            "channel true",
            _dumps(_with(10, payload_channel=True)),
            "rejected",
            "schema_violation",
        ),
        Line(
            'channel "2"',
            _dumps(_with(11, payload_channel="2")),
            "rejected",
            "schema_violation",
        ),
        Line(
            "a date with a space",
            _dumps(_with(12, occurred_at="2021-03-15 09:00:00+07:00")),
            "rejected",
            "schema_violation",
        ),
        Line(
            "an unknown field",
            _dumps(_with(13) | {"trang_thai": 2}),
            "rejected",
            "schema_violation",
        ),
        Line(
            "a huge number",
            _dumps(_with(14)).replace(b'"channel":2', b'"channel":1' + b"0" * 40),
            "rejected",
            "schema_violation",
        ),
        Line(
            "a unit opening another unit's code",
            _dumps(event("dossier.received", code=code(15), unit=OTHER_UNIT)),
            "rejected",
            "unit_not_involved",
        ),
        Line("another unit resolving A's", _dumps(resolved_by_b), "rejected", "unit_not_involved"),
        Line(
            "another unit withdrawing A's", _dumps(withdrawn_by_b), "rejected", "unit_not_involved"
        ),
        Line(
            "another unit transferring A's",
            _dumps(transferred_by_b),
            "rejected",
            "unit_not_involved",
        ),
        Line(
            "a 3650-working-day procedure",
            _dumps(_with(16, payload=received(days=3650))),
            "rejected",
            "due_beyond_horizon",
        ),
        Line(
            "resolved in order",
            _dumps(event("dossier.resolved", code=code(1), when="2021-03-16 11:00")),
            "accepted",
        ),
    ]


def expected_counts(lines: list[Line]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.status] = counts.get(line.status, 0) + 1
    return counts


#: An instant the read side of an older hub could not fold, stored without the checks of
#: today's ingest path.
UNFOLDABLE_AT = "9999-12-31T23:59:59-07:00"
LEGACY_AT = at("2021-03-15 09:00")
