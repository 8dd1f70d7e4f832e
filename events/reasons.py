"""Machine-readable reasons for refusing an event.

The value of each member is the stable code written into reject records and API answers;
agency systems may branch on it. Never rename a value: add a new member instead.
"""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    # The bytes could not be read as an event.
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    INVALID_UNIT_CODE = "invalid_unit_code"
    INVALID_DOSSIER_CODE = "invalid_dossier_code"
    INVALID_PROCEDURE_CODE = "invalid_procedure_code"
    SCHEMA_VIOLATION = "schema_violation"
    # The event is well formed but the dossier's lifecycle forbids it.
    DOSSIER_NOT_RECEIVED = "dossier_not_received"
    DOSSIER_ALREADY_RECEIVED = "dossier_already_received"
    DOSSIER_REFUSED = "dossier_refused"
    DOSSIER_WITHDRAWN = "dossier_withdrawn"
    DOSSIER_CLOSED = "dossier_closed"
    DOSSIER_NOT_IN_PROCESSING = "dossier_not_in_processing"
    SUPPLEMENT_NOT_REQUESTED = "supplement_not_requested"
    SUPPLEMENT_PENDING = "supplement_pending"
    FINANCIAL_OBLIGATION_PENDING = "financial_obligation_pending"
    NOT_STOPPED = "not_stopped"
    PROCESSING_STOPPED = "processing_stopped"
    RESULT_BEFORE_RESOLUTION = "result_before_resolution"
    ALREADY_RESOLVED = "already_resolved"
    DEADLINE_NOT_LATER = "deadline_not_later"
    NO_DEADLINE = "no_deadline"
    OCCURRED_BEFORE_PREVIOUS = "occurred_before_previous"
    # An instant outside the window the hub accepts (hub.domain.bounds).
    BEFORE_EARLIEST_DATE = "before_earliest_date"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    DUE_BEYOND_HORIZON = "due_beyond_horizon"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    # Identity of the event itself.
    EVENT_ID_REUSED = "event_id_reused"
    # Who sent it.
    UNAUTHENTICATED = "unauthenticated"
    UNIT_NOT_AUTHORISED = "unit_not_authorised"
    UNIT_NOT_INVOLVED = "unit_not_involved"
    KEY_NOT_DOSSIER_CODE = "key_not_dossier_code"
    # The hub could not process a well-formed event; it is kept in the rejects.
    UNPROCESSABLE = "unprocessable"
    LINE_TOO_LONG = "line_too_long"


#: What each reason means, for documentation and for people reading reject records.
DESCRIPTIONS: dict[RejectReason, str] = {
    RejectReason.MALFORMED_JSON: "the bytes are not valid JSON (or not UTF-8)",
    RejectReason.NOT_AN_OBJECT: "valid JSON, but not an object",
    RejectReason.UNKNOWN_EVENT_TYPE: "`event_type` is missing or not one of the contract's types",
    RejectReason.UNSUPPORTED_SCHEMA_VERSION: (
        "`schema_version` is missing, newer than the hub knows, or has no upcaster"
    ),
    RejectReason.INVALID_UNIT_CODE: "a unit code does not follow QCVN 102:2016",
    RejectReason.INVALID_DOSSIER_CODE: "the dossier code does not follow Circular 01/2018/TT-VPCP",
    RejectReason.INVALID_PROCEDURE_CODE: "a procedure code is neither x.yyyyyy nor x.yyyyyy.<unit>",
    RejectReason.SCHEMA_VIOLATION: (
        "a field is missing, unknown, of the wrong type or out of range; `field` names it"
    ),
    RejectReason.DOSSIER_NOT_RECEIVED: (
        "the dossier was never received (unknown, or only registered) and the event needs it"
    ),
    RejectReason.DOSSIER_ALREADY_RECEIVED: (
        "a registering, receiving or refusing event for a dossier already past that step"
    ),
    RejectReason.DOSSIER_REFUSED: "the dossier was refused at reception (status 3)",
    RejectReason.DOSSIER_WITHDRAWN: "the dossier was withdrawn (status 7); nothing follows",
    RejectReason.DOSSIER_CLOSED: "the result was returned (status 10); nothing follows",
    RejectReason.DOSSIER_NOT_IN_PROCESSING: "the event needs a dossier in another status",
    RejectReason.SUPPLEMENT_NOT_REQUESTED: "a supplement was received that was never requested",
    RejectReason.SUPPLEMENT_PENDING: "the dossier waits for a supplement (status 5)",
    RejectReason.FINANCIAL_OBLIGATION_PENDING: "the dossier waits for a financial obligation (6)",
    RejectReason.NOT_STOPPED: "processing resumed, but it was not stopped",
    RejectReason.PROCESSING_STOPPED: "processing is stopped (status 8); resume it first",
    RejectReason.RESULT_BEFORE_RESOLUTION: "a result returned before the dossier was resolved",
    RejectReason.ALREADY_RESOLVED: "the dossier is already resolved (status 9)",
    RejectReason.DEADLINE_NOT_LATER: "an apology slip must promise a date after the current one",
    RejectReason.NO_DEADLINE: "the dossier has no deadline to extend",
    RejectReason.OCCURRED_BEFORE_PREVIOUS: (
        "`occurred_at` is before the dossier's previous event: events of a dossier come in order"
    ),
    RejectReason.UNAUTHENTICATED: "no valid credential came with the event",
    RejectReason.UNIT_NOT_AUTHORISED: (
        "the sender's credential does not allow publishing for the event's `unit_code`"
    ),
    RejectReason.BEFORE_EARLIEST_DATE: (
        "an instant or date is before the earliest date the hub accepts "
        "(`DVCHUB_EARLIEST_DATE`, 2000-01-01 by default): a sentinel such as 0001-01-01"
    ),
    RejectReason.OCCURRED_IN_FUTURE: (
        "`occurred_at` is later than the hub's receipt plus the allowed clock skew "
        "(`DVCHUB_MAX_CLOCK_SKEW_SECONDS`): the sender's clock is wrong"
    ),
    RejectReason.DUE_BEYOND_HORIZON: (
        "a due date is further after its event than `DVCHUB_DUE_HORIZON_DAYS` allows: a "
        "sentinel such as 9999-12-31"
    ),
    RejectReason.DATE_OUT_OF_RANGE: (
        "a result document is issued in the future, or valid for over 100 years"
    ),
    RejectReason.UNIT_NOT_INVOLVED: (
        "the event's unit is not the unit its dossier code names (opening events), or not a "
        "unit the dossier involves (later events); see decision 0017"
    ),
    RejectReason.KEY_NOT_DOSSIER_CODE: (
        "a Kafka record's key is not its event's dossier code: per-dossier order depends on it"
    ),
    RejectReason.UNPROCESSABLE: (
        "a well-formed event the hub could not process; the error is logged with the "
        "dossier code, and the event kept in the rejects"
    ),
    RejectReason.LINE_TOO_LONG: "a line of an ingested file is longer than the hub reads",
    RejectReason.EVENT_ID_REUSED: (
        "the `event_id` is already stored for this dossier with other content"
    ),
}
