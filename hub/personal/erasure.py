"""Erasing an applicant: their data key, and their details in the embedded rejects files."""

from __future__ import annotations

import structlog

from hub.bus.rejects import purge_applicant
from hub.personal.keys import ApplicantKeys
from hub.settings import HubSettings

logger = structlog.get_logger("hub.personal.erasure")


def erase_applicant(settings: HubSettings, applicant_hash: str, by: str, reason: str) -> bool:
    """Erase the applicant's data key (recorded) and blank the rejected events that carry
    their details; whether there was a key."""
    keys = ApplicantKeys(settings)
    try:
        had = keys.erase(applicant_hash, by, reason)
    finally:
        keys.close()
    rejects = settings.data_dir / "rejects"
    blanked = purge_applicant(rejects, applicant_hash) if rejects.is_dir() else 0
    logger.info("applicant.erased", had_key=had, rejects_blanked=blanked)
    return had
