"""Enumerations of the contract.

Where the national portal (DVCQG) has a code, the member's value *is* that code, so a
value can be sent to the portal unchanged. Members without a portal code say so.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class DossierStatus(IntEnum):
    """``TrangThaiHoSo``: the portal's dossier status codes."""

    REGISTERED = 1
    RECEIVED = 2
    NOT_RECEIVED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    FINANCIAL_OBLIGATION_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    FINISHED = 9
    RESULT_RETURNED = 10


class Channel(IntEnum):
    """``KenhThucHien``: how the dossier was submitted."""

    WALK_IN = 1
    ONLINE = 2
    POST = 3


class ReturnMethod(IntEnum):
    """``HinhThuc``: how the result is returned.

    ``ONLINE`` (2) has no portal code: the portal knows only direct (0) and post (1);
    the connector sends it as direct.
    """

    DIRECT = 0
    POST = 1
    ONLINE = 2


class ApplicantType(IntEnum):
    """``LoaiDoiTuong``: who submitted the dossier."""

    CITIZEN = 1
    BUSINESS = 2
    STATE_BODY = 3
    OTHER = 4


class OnlineServiceLevel(IntEnum):
    """Online service level of the procedure (Decree 42/2022 and provincial practice).

    4 is "toàn trình" (fully online; formerly level 4), 3 "một phần" (partial; formerly
    level 3), 2 information only.
    """

    INFORMATION_ONLY = 2
    PARTIAL = 3
    FULL = 4


class TimeUnit(StrEnum):
    """How a procedure's processing time is counted."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"


class Decision(StrEnum):
    """Outcome of processing."""

    APPROVED = "approved"
    DENIED = "denied"


class TransferKind(StrEnum):
    """Whether a dossier moves between units or between departments of one unit."""

    UNIT = "unit"
    DEPARTMENT = "department"


class ComplaintSubject(StrEnum):
    """What a citizen's complaint about a dossier is about (phản ánh, kiến nghị). Decision
    766/QĐ-TTg's satisfaction score counts dossiers with a complaint about reception,
    processing or lateness."""

    RECEPTION = "reception"
    PROCESSING = "processing"
    LATENESS = "lateness"
    OTHER = "other"
