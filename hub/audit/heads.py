"""The map of dossier heads: each dossier's latest sealed event (its version, leaf in the log
and chain hash), committed to by every signed checkpoint, so that a dossier's history can be
shown complete as of a checkpoint (decision 0024).

The map is an RFC 9162 tree over the heads in the byte order of the dossiers' codes (leaf
data: :func:`verifier.dvchub_verify.head_leaf`); a head is shown to be its code's only one
by the leaves beside it. The sealer keeps the heads in ``audit_heads`` as it seals, and each
checkpoint signs the map's root and size on a ``dvchub-heads`` line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.adapters.sql import ReadModelDatabase
from hub.audit.merkle import MerkleTree, RootAccumulator
from verifier.dvchub_verify import DOSSIER_NAMESPACE, HEAD_PREFIX

HEADS = "audit_heads"
_NAMESPACE = DOSSIER_NAMESPACE.bytes
_sha256 = hashlib.sha256


def _originator_bytes(originator: str) -> bytes:
    return bytes.fromhex(originator.replace("-", ""))


def head_leaf_hash(
    code: str, originator: str, version: int, leaf_index: int, chain: bytes
) -> bytes:
    """The leaf hash of a head in the map: ``H(0x00 || head_leaf(...))`` as the verifier
    defines it (:func:`verifier.dvchub_verify.head_leaf`), made without its UUID objects:
    the sealer hashes every dossier's head at each checkpoint."""
    return _sha256(
        b"\x00"
        + HEAD_PREFIX
        + code.encode()
        + b"\n"
        + _originator_bytes(originator)
        + version.to_bytes(8, "big")
        + leaf_index.to_bytes(8, "big")
        + chain
    ).digest()


def is_dossier(code: str, originator: str) -> bool:
    """Whether ``originator`` is the id of dossier ``code`` (UUID version 5 of the code, as
    :func:`hub.domain.dossier.dossier_id`), computed without UUID objects."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE + code.encode(), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    try:
        return bytes(digest) == _originator_bytes(originator)
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Head:
    dossier_code: str
    originator_id: str
    version: int
    leaf_index: int
    chain_hash: bytes

    def leaf(self) -> bytes:
        return head_leaf_hash(
            self.dossier_code, self.originator_id, self.version, self.leaf_index, self.chain_hash
        )

    def document(self, index: int, proof: list[bytes]) -> dict[str, object]:
        """As a proof bundle holds it."""
        return {
            "dossier_code": self.dossier_code,
            "originator_id": self.originator_id,
            "version": self.version,
            "leaf_index": self.leaf_index,
            "chain": self.chain_hash.hex(),
            "index": index,
            "inclusion": [h.hex() for h in proof],
        }


class HeadsMap:
    """The map over a set of heads (one per dossier). Rows of the log that are no dossier's
    (written behind the hub's back: their id is not their code's) have no place in it."""

    def __init__(self, heads: Iterable[Head]) -> None:
        dossiers = (h for h in heads if is_dossier(h.dossier_code, h.originator_id))
        # UTF-8 keeps code points' order: sorting the strings sorts their bytes.
        self.heads = sorted(dossiers, key=lambda h: h.dossier_code)
        self._tree = MerkleTree(h.leaf() for h in self.heads)
        self._index = {h.dossier_code: i for i, h in enumerate(self.heads)}

    @property
    def size(self) -> int:
        return len(self.heads)

    def root(self) -> bytes:
        return self._tree.root()

    def proof(self, code: str) -> dict[str, object] | None:
        """The head of ``code`` with its inclusion proof and its neighbours' (what the
        verifier needs to see it is the code's only one); None if the map has no such
        dossier."""
        index = self._index.get(code)
        if index is None:
            return None

        def at(i: int) -> dict[str, object] | None:
            if not 0 <= i < self.size:
                return None
            return self.heads[i].document(i, self._tree.inclusion_proof(i))

        return {
            "count": self.size,
            "head": at(index),
            "before": at(index - 1),
            "after": at(index + 1),
        }


def create_statements(db: ReadModelDatabase) -> list[str]:
    binary = "BYTEA" if db.postgres else "BLOB"
    return [
        f"CREATE TABLE IF NOT EXISTS {HEADS} (originator_id TEXT PRIMARY KEY, "
        "dossier_code TEXT NOT NULL, version INTEGER NOT NULL, leaf_index BIGINT NOT NULL, "
        f"chain_hash {binary} NOT NULL)"
    ]


_COLUMNS = ("originator_id", "dossier_code", "version", "leaf_index", "chain_hash")
_TYPES = ("text", "text", "int4", "int8", "bytea")
_UPSERT = (
    "ON CONFLICT (originator_id) DO UPDATE SET dossier_code = excluded.dossier_code, "
    "version = excluded.version, leaf_index = excluded.leaf_index, "
    "chain_hash = excluded.chain_hash"
)


def save(db: ReadModelDatabase, heads: Iterable[Head]) -> None:
    """Record ``heads`` as their dossiers' latest (in the open transaction). On PostgreSQL
    the batch is staged with a binary COPY and upserted in one statement: one upsert per
    dossier made sealing a province's log several times slower."""
    rows = [(h.originator_id, h.dossier_code, h.version, h.leaf_index, h.chain_hash) for h in heads]
    if not rows:
        return
    names = ", ".join(_COLUMNS)
    if db.postgres:
        stage = f"stage_{HEADS}"
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {HEADS}) ON COMMIT DELETE ROWS")
        db.execute(f"DELETE FROM {stage}")
        db.copy_in(stage, _COLUMNS, rows, _TYPES)
        db.execute(f"INSERT INTO {HEADS} ({names}) SELECT {names} FROM {stage} {_UPSERT}")
        return
    db.executemany(f"INSERT INTO {HEADS} ({names}) VALUES (?, ?, ?, ?, ?) {_UPSERT}", rows)


def _head(row: tuple[Any, ...]) -> Head:
    code, originator, version, leaf_index, chain = row
    return Head(str(code), str(originator), int(version), int(leaf_index), bytes(chain))


def current(db: ReadModelDatabase) -> list[Head]:
    """The heads as the sealer keeps them (every dossier's latest sealed event)."""
    return [
        _head(row)
        for row in db.query(
            f"SELECT dossier_code, originator_id, version, leaf_index, chain_hash FROM {HEADS}"
        )
    ]


def as_of(db: ReadModelDatabase, size: int) -> list[Head]:
    """The heads as they were when the log had ``size`` sealed events: the kept heads, those
    sealed since taken back to the dossier's last seal before ``size``."""
    found = []
    for head in current(db):
        if head.leaf_index < size:
            found.append(head)
            continue
        rows = db.query(
            "SELECT dossier_code, originator_id, version, leaf_index, chain_hash FROM "
            "audit_seals WHERE originator_id = ? AND leaf_index < ? ORDER BY version DESC "
            "LIMIT 1",
            (head.originator_id, size),
        )
        if rows:
            found.append(_head(rows[0]))
    return found


class HeadsKeeper:
    """The sealer's map of heads between checkpoints: each dossier's leaf hash, loaded once
    and updated as events are sealed, so that a checkpoint costs a sort and the tree's
    hashes, not a read and a hash of every dossier's head."""

    def __init__(self, heads: Iterable[Head]) -> None:
        self._leaves: dict[str, tuple[str, bytes]] = {}
        self.update(heads)

    def update(self, heads: Iterable[Head]) -> None:
        for head in heads:
            if is_dossier(head.dossier_code, head.originator_id):
                self._leaves[head.originator_id] = (head.dossier_code, head.leaf())

    def signed(self) -> tuple[int, bytes]:
        """The map's size and root, as a checkpoint signs them."""
        accumulator = RootAccumulator()
        for _, leaf in sorted(self._leaves.values()):
            accumulator.append(leaf)
        return accumulator.size, accumulator.root()
