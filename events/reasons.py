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
    FINANCIAL_OBLIGATION_NOT_REQUESTED = "financial_obligation_not_requested"
    FINANCIAL_OBLIGATION_PENDING = "financial_obligation_pending"
    NOT_STOPPED = "not_stopped"
    PROCESSING_STOPPED = "processing_stopped"
    RESULT_BEFORE_RESOLUTION = "result_before_resolution"
    ALREADY_RESOLVED = "already_resolved"
    DEADLINE_NOT_LATER = "deadline_not_later"
    NO_DEADLINE = "no_deadline"
    OCCURRED_BEFORE_PREVIOUS = "occurred_before_previous"
    # Identity of the event itself.
    EVENT_ID_REUSED = "event_id_reused"
