"""What the audit commands and endpoints do, over the store and the seals."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.audit import seals as seal_store
from hub.audit.canonical import canonical_event
from hub.audit.heads import HeadsMap
from hub.audit.heads import as_of as heads_as_of
from hub.audit.history import DossierHistory, history
from hub.audit.merkle import MerkleTree
from hub.domain.dossier import dossier_id
from hub.log_reader import dossier_history as stored_history
from verifier.dvchub_verify import Checkpoint


class NotFoundError(LookupError):
    """No such dossier, or nothing sealed and signed yet."""


def dossier_history(
    store: DossierStore,
    code: str,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> DossierHistory:
    events = stored_history(store, code)
    if not events:
        raise NotFoundError(f"dossier {code} is not in the store")
    stored = [(e.position, e.record, e.transition, e.provenance) for e in events]
    return history(code, stored, as_of, known_at, datetime.now(UTC))


class ProvenEvent(BaseModel):
    version: int
    leaf_index: int
    canonical: str  # base64 of the canonical bytes
    chain: str
    inclusion: list[str]


class Consistency(BaseModel):
    older_checkpoint: str
    proof: list[str]


class ProofBundle(BaseModel):
    """What ``dvchub audit prove`` writes and ``verifier/dvchub_verify.py`` checks."""

    format: str = "dvchub-proof/1"
    dossier_code: str
    checkpoint: str
    events: list[ProvenEvent]
    #: The dossier's head in the checkpoint's map of heads, with the heads beside it
    #: (``None`` for a checkpoint signed before the map was kept).
    heads: dict[str, Any] | None = None
    newer_than_checkpoint: int
    consistency: Consistency | None


def prove(
    store: DossierStore, db: ReadModelDatabase, code: str, since: int | None = None
) -> ProofBundle:
    """Inclusion proofs of a dossier's sealed events in the latest checkpoint, and a
    consistency proof from the checkpoint of size ``since`` (default: the one before)."""
    seal_store.prepare(db)
    signed = seal_store.checkpoints(db)
    if not signed:
        raise NotFoundError("no checkpoint has been signed yet; run 'dvchub audit seal'")
    latest = signed[-1]
    originator = dossier_id(code)
    dossier_seals = seal_store.dossier_seals(db, originator)
    if not dossier_seals:
        raise NotFoundError(f"dossier {code} has no sealed events")
    stored = {e.originator_version: e for e in store.recorder.select_events(originator)}
    leaves = seal_store.leaf_hashes(db, latest.size)
    if len(leaves) != latest.size:
        raise seal_store.SealGapError(
            f"{latest.size - len(leaves)} of the log's first {latest.size} seals are missing: "
            "no proof can be made (dvchub audit verify names them)"
        )
    tree = MerkleTree(leaves)
    proven = []
    for seal in dossier_seals:
        if seal.leaf_index >= latest.size:
            continue
        event = stored.get(seal.version)
        if event is None:
            raise NotFoundError(f"{code} version {seal.version} is sealed but not stored")
        data = canonical_event(originator, seal.version, event.topic, event.state)
        proven.append(
            ProvenEvent(
                version=seal.version,
                leaf_index=seal.leaf_index,
                canonical=base64.b64encode(data).decode(),
                chain=seal.chain_hash.hex(),
                inclusion=[h.hex() for h in tree.inclusion_proof(seal.leaf_index)],
            )
        )
    head_proof = None
    checkpoint = Checkpoint.parse_body(latest.note.partition("\n\n")[0] + "\n")
    committed = checkpoint.heads()
    if committed is not None:
        mapped = HeadsMap(heads_as_of(db, latest.size))
        if (mapped.size, mapped.root()) != committed:
            raise seal_store.SealGapError(
                "the kept heads do not give the map the checkpoint signs: no proof can be "
                "made (dvchub audit verify names what is wrong)"
            )
        head_proof = mapped.proof(code)
    consistency = None
    older = _older(signed, latest.size, since)
    if older is not None:
        consistency = Consistency(
            older_checkpoint=older.note,
            proof=[h.hex() for h in tree.consistency_proof(older.size)],
        )
    return ProofBundle(
        dossier_code=code,
        checkpoint=latest.note,
        events=proven,
        heads=head_proof,
        newer_than_checkpoint=len(dossier_seals) - len(proven),
        consistency=consistency,
    )


def _older(
    signed: list[seal_store.CheckpointRow], latest: int, since: int | None
) -> seal_store.CheckpointRow | None:
    if since is None:
        return signed[-2] if len(signed) > 1 else None
    for row in signed:
        if row.size == since:
            return row
    raise NotFoundError(f"no checkpoint of size {since}; sizes: {[r.size for r in signed]}")
