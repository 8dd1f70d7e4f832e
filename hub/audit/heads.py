"""The map of dossier heads: each dossier's latest sealed event (its version, leaf in the log
and chain hash), committed to by every signed checkpoint, so that a dossier's history can be
shown complete as of a checkpoint (decision 0024).

The map is an RFC 9162 tree over the heads in the byte order of the dossiers' codes (leaf
data: :func:`verifier.dvchub_verify.head_leaf`); a head is shown to be its code's only one
by the leaves beside it. The sealer keeps the heads in ``audit_heads`` as it seals, and each
checkpoint signs the map's root and size on a ``dvchub-heads`` line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from hub.adapters.sql import ReadModelDatabase
from hub.audit.merkle import MerkleTree
from verifier.dvchub_verify import dossier_uuid, head_leaf, leaf_hash

HEADS = "audit_heads"


@dataclass(frozen=True, slots=True)
class Head:
    dossier_code: str
    originator_id: str
    version: int
    leaf_index: int
    chain_hash: bytes

    def leaf(self) -> bytes:
        return leaf_hash(
            head_leaf(
                self.dossier_code,
                UUID(self.originator_id),
                self.version,
                self.leaf_index,
                self.chain_hash,
            )
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
        dossiers = (h for h in heads if h.originator_id == str(dossier_uuid(h.dossier_code)))
        self.heads = sorted(dossiers, key=lambda h: h.dossier_code.encode())
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


def save(db: ReadModelDatabase, heads: Iterable[Head]) -> None:
    """Record ``heads`` as their dossiers' latest (in the open transaction)."""
    db.executemany(
        f"INSERT INTO {HEADS} (dossier_code, originator_id, version, leaf_index, chain_hash) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (originator_id) DO UPDATE SET "
        "dossier_code = excluded.dossier_code, version = excluded.version, "
        "leaf_index = excluded.leaf_index, chain_hash = excluded.chain_hash",
        [(h.dossier_code, h.originator_id, h.version, h.leaf_index, h.chain_hash) for h in heads],
    )


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


def from_seals(rows: Iterable[tuple[str, str, int, int, bytes]], size: int) -> list[Head]:
    """The heads recomputed from seals (dossier code, originator, version, leaf index,
    chain) as of ``size``: for each dossier the seal of its latest version below ``size``."""
    latest: dict[str, Head] = {}
    for code, originator, version, leaf_index, chain in rows:
        if leaf_index >= size:
            continue
        known = latest.get(originator)
        if known is None or version > known.version:
            latest[originator] = Head(code, originator, version, leaf_index, bytes(chain))
    return list(latest.values())
