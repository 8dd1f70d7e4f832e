"""What the hub publishes on ``dvc.dossier-events.v1``, and what it says about rejects.

Each record on the events topic is keyed by the dossier code; its value is a
:class:`PublishedEvent` as JSON; records of one dossier are in the order the hub stored them.
Rejected actions go to ``dvc.dossier-actions.rejected.v1`` with their original bytes as the
value and the reason in the headers named below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.enums import DossierStatus
from events.models import DossierEvent

#: Headers of a record on the rejects topic.
REJECT_REASON_HEADER = "dvc-reason"
REJECT_MESSAGE_HEADER = "dvc-message"
REJECT_FIELD_HEADER = "dvc-field"
REJECT_SOURCE_HEADER = "dvc-source"  # "kafka:<topic>/<partition>/<offset>" or "http:<request id>"
#: Header naming the position of a published event (also in the value).
POSITION_HEADER = "dvc-position"
EVENT_TYPE_HEADER = "dvc-event-type"
#: Header carrying a publisher's credential on the actions topic: ``Bearer <API key>``.
AUTHORIZATION_HEADER = "authorization"


class Transition(BaseModel):
    """What the event did to its dossier."""

    model_config = ConfigDict(frozen=True)

    status_before: DossierStatus | None
    status_after: DossierStatus
    due_before: datetime | None
    due_after: datetime | None
    counted_due_after: datetime | None = Field(
        description="The due date lateness is counted against (apology slips do not move it)"
    )


class PublishedEvent(BaseModel):
    """An accepted event as the hub publishes it."""

    model_config = ConfigDict(frozen=True)

    position: int = Field(ge=1, description="Position in the hub's log; increases with time")
    record: Annotated[DossierEvent, Field(discriminator="event_type")]
    transition: Transition
