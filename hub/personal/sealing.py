"""Encrypt and decrypt applicant details with the applicant's own key (AES-256-GCM).

The nonce is derived from the key, the event's id and the details (HMAC-SHA256), so the
same event sent twice is sealed to the same bytes and is still recognised as a duplicate;
a nonce repeats only for the very same plaintext under the same key, which reveals nothing
but that equality. The event id is the associated data: sealed details cannot be moved to
another event unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.models import ApplicantDetails, SealedApplicantDetails


class UnreadableDetailsError(Exception):
    """The sealed details do not open with the key given (wrong key or altered bytes)."""


def seal(
    details: ApplicantDetails, key: bytes, applicant_hash: str, event_id: UUID
) -> SealedApplicantDetails:
    plaintext = orjson.dumps(details.model_dump(exclude_none=True), option=orjson.OPT_SORT_KEYS)
    nonce = hmac.new(key, event_id.bytes + plaintext, hashlib.sha256).digest()[:12]
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, event_id.bytes)
    return SealedApplicantDetails(
        key=applicant_hash,
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
    )


def unseal(sealed: SealedApplicantDetails, key: bytes, event_id: UUID) -> ApplicantDetails:
    try:
        plaintext = AESGCM(key).decrypt(
            base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), event_id.bytes
        )
    except (InvalidTag, ValueError) as error:
        raise UnreadableDetailsError("the applicant's details do not open with this key") from error
    return ApplicantDetails.model_validate_json(plaintext)
