"""Signed checkpoints of the log's Merkle tree: made, signed, published and read back.

A checkpoint is a C2SP ``tlog-checkpoint`` (origin, tree size, root hash, and a ``time``
extension line) in a C2SP ``signed-note`` signed with the hub's Ed25519 key. The hub
publishes each one as a file (``<size>.checkpoint`` and ``latest.checkpoint``) and, with
Kafka, on the checkpoints topic; anyone who keeps one can later prove the log was not
rewritten before it (``dvchub audit verify --checkpoint FILE``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.adapters.key_files import create_once
from verifier.dvchub_verify import ED25519, HEADS_LINE, Checkpoint, VerifierKey, note_key_id

__all__ = ["Checkpoint", "SignedCheckpoint", "Signer", "load_signer", "read_published"]


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    signed_at: datetime
    note: str


class Signer:
    """Signs checkpoint bodies as a signed note under ``name``."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        self.name = name
        self._key = key
        self.public_key = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = note_key_id(name, self.public_key)

    @property
    def verifier_key(self) -> str:
        """The C2SP verifier key auditors use: ``name+id+base64(0x01 || key)``."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifier(self) -> VerifierKey:
        return VerifierKey.parse(self.verifier_key)

    def sign(
        self, size: int, root: bytes, at: datetime, heads: tuple[int, bytes] | None = None
    ) -> SignedCheckpoint:
        """A checkpoint of the log of ``size`` events with ``root``, signed at ``at``; with
        ``heads``, committing to the map of dossier heads (its size and root)."""
        at = at.astimezone(UTC).replace(microsecond=0)
        mapped = ""
        if heads is not None:
            mapped = f"{HEADS_LINE} {heads[0]} {base64.b64encode(heads[1]).decode()}\n"
        body = (
            f"{self.name}\n{size}\n{base64.b64encode(root).decode()}\n{mapped}"
            f"time {at.isoformat().replace('+00:00', 'Z')}\n"
        )
        signature = base64.b64encode(self.key_id + self._key.sign(body.encode())).decode()
        return SignedCheckpoint(size, root, at, f"{body}\n\u2014 {self.name} {signature}\n")


def load_signer(name: str, path: Path, create: bool = True) -> Signer:
    """The signing key in ``path`` (PEM, PKCS#8); made there (mode 0600) if absent."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"no checkpoint signing key at {path}")
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_once(path, pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return Signer(name, key)


def publish_file(directory: Path, checkpoint: SignedCheckpoint) -> Path:
    """Write ``<size>.checkpoint`` and replace ``latest.checkpoint`` atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{checkpoint.size}.checkpoint"
    for path in (target, directory / "latest.checkpoint"):
        scratch = path.with_suffix(".tmp")
        scratch.write_text(checkpoint.note, encoding="utf-8")
        scratch.replace(path)
    return target


def read_published(directory: Path) -> dict[Path, str]:
    """Every published checkpoint file in ``directory``, by path."""
    if not directory.is_dir():
        return {}
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(directory.glob("*.checkpoint"))
        if path.name != "latest.checkpoint"
    }


def signed_time(checkpoint: Checkpoint) -> datetime | None:
    for line in checkpoint.extensions:
        if line.startswith("time "):
            return datetime.fromisoformat(line[5:].replace("Z", "+00:00"))
    return None
