"""Applicants' data keys: one random AES-256 key per applicant (by identity hash), kept
wrapped (AES-256-GCM) under the hub's personal-data key, and erasable.

Erasing an applicant's key deletes it and records the erasure (who, when, why; never the
data): from then on their sealed details cannot be opened by anyone, while the stored
events, their hashes and the reports stay as they were (crypto-shredding). An erased
applicant who sends details again gets a new key: what came after the erasure is readable,
what came before is not.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg
import stamina
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.adapters.key_files import create_once
from hub.adapters.sql import ReadModelDatabase
from hub.settings import HubSettings

KEYS = "personal_data_keys"
ERASURES = "personal_data_erasures"


def create_statements() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {KEYS} (applicant_hash TEXT PRIMARY KEY, "
        "wrapped_key TEXT NOT NULL, created_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {ERASURES} (applicant_hash TEXT NOT NULL, "
        "erased_at TEXT NOT NULL, erased_by TEXT NOT NULL, reason TEXT NOT NULL)",
    ]


def master_key(settings: HubSettings) -> bytes:
    """The key that wraps applicants' keys: ``DVCHUB_PERSONAL_DATA_KEY`` (base64 of 32
    bytes), else ``<data_dir>/personal-data.key``, made (mode 0600) on first use."""
    if settings.personal_data_key is not None:
        key = base64.b64decode(settings.personal_data_key.get_secret_value())
    else:
        path = settings.data_dir / "personal-data.key"
        fresh = base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n"
        create_once(path, fresh)
        key = base64.b64decode(path.read_text().strip())
    if len(key) != 32:
        raise ValueError("the personal-data key must be 32 bytes (base64)")
    return key


class ApplicantKeys:
    def __init__(self, settings: HubSettings, db: ReadModelDatabase | None = None) -> None:
        self.db = db or ReadModelDatabase(settings)
        self._wrap = AESGCM(master_key(settings))
        self.db.create(create_statements())

    def _wrapped(self, applicant_hash: str, key: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._wrap.encrypt(nonce, key, applicant_hash.encode())
        return base64.b64encode(nonce + sealed).decode()

    def _unwrapped(self, applicant_hash: str, wrapped: str) -> bytes:
        raw = base64.b64decode(wrapped)
        return self._wrap.decrypt(raw[:12], raw[12:], applicant_hash.encode())

    def get(self, applicant_hash: str) -> bytes | None:
        """The applicant's key; ``None`` if they have none (erased, or never had details)."""
        rows = self.db.query(
            f"SELECT wrapped_key FROM {KEYS} WHERE applicant_hash = ?", (applicant_hash,)
        )
        return self._unwrapped(applicant_hash, rows[0][0]) if rows else None

    def get_or_create(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """The keys of these applicants, made for those who have none. Two processes making
        one applicant's key at once: the loser reads the winner's."""
        wanted = sorted(set(hashes))
        for attempt in stamina.retry_context(
            on=(sqlite3.IntegrityError, psycopg.errors.UniqueViolation), attempts=5
        ):
            with attempt:
                return self._get_or_create(wanted)
        raise AssertionError("unreachable: stamina re-raises after the last attempt")

    def _get_or_create(self, wanted: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self.db.transaction():
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for applicant, wrapped in self.db.query(
                    f"SELECT applicant_hash, wrapped_key FROM {KEYS} "
                    f"WHERE applicant_hash IN ({marks})",
                    chunk,
                ):
                    found[applicant] = self._unwrapped(applicant, wrapped)
            now = datetime.now(UTC).isoformat()
            fresh = {h: AESGCM.generate_key(bit_length=256) for h in wanted if h not in found}
            self.db.executemany(
                f"INSERT INTO {KEYS} (applicant_hash, wrapped_key, created_at) VALUES (?, ?, ?)",
                [(h, self._wrapped(h, key), now) for h, key in fresh.items()],
            )
        return {**found, **fresh}

    def erase(self, applicant_hash: str, erased_by: str, reason: str) -> bool:
        """Delete the applicant's key for good; whether there was one."""
        with self.db.transaction():
            had = bool(
                self.db.query(f"SELECT 1 FROM {KEYS} WHERE applicant_hash = ?", (applicant_hash,))
            )
            self.db.execute(f"DELETE FROM {KEYS} WHERE applicant_hash = ?", (applicant_hash,))
            self.db.execute(
                f"INSERT INTO {ERASURES} (applicant_hash, erased_at, erased_by, reason) "
                "VALUES (?, ?, ?, ?)",
                (applicant_hash, datetime.now(UTC).isoformat(), erased_by, reason),
            )
        return had

    def erasures(self, applicant_hash: str) -> list[tuple[datetime, str, str]]:
        return [
            (datetime.fromisoformat(at), by, reason)
            for at, by, reason in self.db.query(
                f"SELECT erased_at, erased_by, reason FROM {ERASURES} WHERE applicant_hash = ? "
                "ORDER BY erased_at",
                (applicant_hash,),
            )
        ]

    def close(self) -> None:
        self.db.close()
