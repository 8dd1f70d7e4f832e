"""Keyed hashing of applicants' identity numbers.

Agency systems hash the identity number (CCCD, tax code...) with the province's identity
key before an event leaves them, so the number itself is never on the bus or in the store,
while equal numbers still give equal hashes (needed to find a citizen's earlier dossiers).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def applicant_id_hash(key: bytes, identity_number: str) -> str:
    """HMAC-SHA256 of the normalised identity number, as 64 lowercase hex digits."""
    if len(key) < 16:
        raise ValueError("the identity key must be at least 16 bytes long")
    normalised = unicodedata.normalize("NFKC", identity_number).strip().upper()
    if not normalised:
        raise ValueError("the identity number is empty")
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
