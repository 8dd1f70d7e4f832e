"""The sealer: follows the store's log as the projections do, appends a seal per event in
log order (:mod:`hub.audit.seals`), and at intervals signs a checkpoint (tree size, root,
time) of the Merkle tree over them and publishes it.

An event stored and changed before the sealer reads it would be sealed as changed: the
sealer runs beside the ingest path and normally seals within a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import structlog

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.audit.checkpoints import SignedCheckpoint, Signer
from hub.audit.heads import Head, HeadsKeeper
from hub.audit.heads import current as current_heads
from hub.audit.heads import save as save_heads
from hub.audit.merkle import RootAccumulator
from hub.audit.seals import CHECKPOINTS, SEALS, SealGapError, prepare
from hub.audit.stored import StoredEvent
from verifier.dvchub_verify import CHAIN_START, chain_hash

logger = structlog.get_logger("hub.audit.sealer")

_LOCK = "audit_sealer"
_HEADS_KEPT = 2_000_000  # dossiers whose chain heads the sealer keeps in memory


def _chain_heads(db: ReadModelDatabase, originators: list[str]) -> dict[str, tuple[int, bytes]]:
    """Each dossier's last sealed version and chain hash."""
    heads: dict[str, tuple[int, bytes]] = {}
    for start in range(0, len(originators), 500):
        chunk = originators[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.query(
            f"SELECT s.originator_id, s.version, s.chain_hash FROM {SEALS} s JOIN "
            f"(SELECT originator_id, MAX(version) AS v FROM {SEALS} WHERE originator_id IN "
            f"({marks}) GROUP BY originator_id) m ON s.originator_id = m.originator_id "
            "AND s.version = m.v",
            chunk,
        )
        for originator, version, chain in rows:
            heads[originator] = (int(version), bytes(chain))
    return heads


class SealerBusyError(RuntimeError):
    """Another process is the store's sealer."""


class Sealer:
    """Seals new events and signs checkpoints; one at a time per store (a named lock)."""

    def __init__(
        self,
        db: ReadModelDatabase,
        store: DossierStore,
        signer: Signer,
        publish: Callable[[SignedCheckpoint], None] | None = None,
        page: int = 5_000,
    ) -> None:
        self.db, self.store, self.signer, self.page = db, store, signer, page
        self.publish = publish
        self._heads: dict[str, tuple[int, bytes]] = {}  # dossier -> last sealed version, chain
        self._size, self._last = -1, 0  # sealed count and last position; -1: read them
        self._map: HeadsKeeper | None = None  # the map of heads, once a checkpoint read it
        prepare(db)

    def run_once(self) -> SignedCheckpoint | None:
        """Seal what is new and sign a checkpoint of it: ``dvchub audit seal``. Raises
        :class:`SealerBusyError` while another sealer holds the store."""
        if not self.lock():
            raise SealerBusyError("another sealer is running (dvchub serve or projections run)")
        self.seal()
        return self.checkpoint()

    def seal(self) -> int:
        """Seal every event stored since the last seal; how many were sealed. Only one
        sealer may run against a store at a time (:meth:`lock`)."""
        total = 0
        while True:
            with self.db.transaction():
                size, last = self._tail()
                rows = self.store.recorder.select_notifications(start=last + 1, limit=self.page)
                if not rows:
                    return total
                originators = {str(r.originator_id) for r in rows}
                missing = sorted(o for o in originators if o not in self._heads)
                heads = {**_chain_heads(self.db, missing)} if missing else {}
                out = []
                latest: dict[str, Head] = {}
                for index, row in enumerate(rows, start=size):
                    event = StoredEvent(
                        row.id, row.originator_id, row.originator_version, row.topic, row.state
                    )
                    leaf, slow = event.sealed_leaf()
                    key = str(row.originator_id)
                    version, previous = heads.get(key) or self._heads.get(key, (0, CHAIN_START))
                    if event.version != version + 1:
                        logger.warning(
                            "audit.seal_version_gap",
                            dossier_code=event.dossier_code(),
                            version=event.version,
                            after=version,
                        )
                    chain = chain_hash(previous, leaf)
                    heads[key] = (event.version, chain)
                    code = event.dossier_code()
                    latest[key] = Head(code, key, event.version, index, chain)
                    out.append(
                        (
                            index,
                            row.id,
                            key,
                            event.version,
                            code,
                            leaf,
                            chain,
                            int(slow),
                        )
                    )
                self.db.copy_in(
                    SEALS,
                    (
                        "leaf_index",
                        "position",
                        "originator_id",
                        "version",
                        "dossier_code",
                        "leaf_hash",
                        "chain_hash",
                        "slow_canonical",
                    ),
                    out,
                )
                save_heads(self.db, latest.values())
            # Committed: only now do the dossiers' new chain heads count.
            if len(self._heads) > _HEADS_KEPT:
                self._heads.clear()
            self._heads.update(heads)
            if self._map is not None:
                self._map.update(latest.values())
            self._size, self._last = size + len(rows), rows[-1].id
            total += len(rows)
            if len(rows) < self.page:
                return total

    def _tail(self) -> tuple[int, int]:
        """How many events are sealed, and the position of the last."""
        if self._size < 0:
            # One past the last leaf, not a count: a seal removed from the middle must not
            # make the next event take a leaf index already used.
            (last_leaf, position) = self.db.query(
                f"SELECT MAX(leaf_index), COALESCE(MAX(position), 0) FROM {SEALS}"
            )[0]
            self._size = 0 if last_leaf is None else int(last_leaf) + 1
            self._last = int(position)
        return self._size, self._last

    def lock(self) -> bool:
        """Become the store's one sealer, for as long as this connection lives; forget what
        was cached, as another sealer may have sealed meanwhile."""
        if not self.db.try_lock(_LOCK):
            return False
        self.forget()
        return True

    def forget(self) -> None:
        self._heads.clear()
        self._map = None
        self._size, self._last = -1, 0

    def checkpoint(self, at: datetime | None = None) -> SignedCheckpoint | None:
        """Sign a checkpoint of everything sealed, if the log grew since the last one."""
        with self.db.transaction():
            last = self.db.query(
                f"SELECT tree_size, frontier FROM {CHECKPOINTS} ORDER BY tree_size DESC LIMIT 1"
            )
            size, frontier = (int(last[0][0]), orjson.loads(last[0][1])) if last else (0, [])
            accumulator = RootAccumulator.resume(size, [bytes.fromhex(h) for h in frontier])
            fresh = self.db.query(
                f"SELECT leaf_index, leaf_hash FROM {SEALS} WHERE leaf_index >= ? "
                "ORDER BY leaf_index",
                (size,),
            )
            if not fresh and last:
                return None
            for index, leaf in fresh:
                if index != accumulator.size:  # never sign a tree with a leaf left out
                    raise SealGapError(
                        f"the seal of leaf {accumulator.size} is missing: no checkpoint can "
                        "be signed (dvchub audit verify names what is wrong)"
                    )
                accumulator.append(bytes(leaf))
            # The map of heads as of this size: the sealer seals and signs in turn, so the
            # kept heads are those of every sealed event.
            if self._map is None:
                self._map = HeadsKeeper(current_heads(self.db))
            signed = self.signer.sign(
                accumulator.size,
                accumulator.root(),
                at or datetime.now(UTC),
                heads=self._map.signed(),
            )
            self.db.execute(
                f"INSERT INTO {CHECKPOINTS} (tree_size, root_hash, signed_at, note, frontier) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    signed.size,
                    signed.root.hex(),
                    signed.signed_at.isoformat(),
                    signed.note,
                    orjson.dumps([h.hex() for h in accumulator.frontier]).decode(),
                ),
            )
        logger.info("audit.checkpoint", tree_size=signed.size, root=signed.root.hex())
        if self.publish is not None:
            self.publish(signed)
        return signed
