"""Check a DVC Hub proof bundle without the hub: one file, the standard library and
``cryptography`` (for Ed25519).

    python verifier/dvchub_verify.py BUNDLE.json --key "VERIFIER KEY"

A bundle (``dvchub audit prove CODE``) holds a signed checkpoint of the hub's log, a
dossier's stored events as their canonical bytes, an inclusion proof for each, and
optionally an older checkpoint with a consistency proof to the newer one. This program
checks the checkpoints' Ed25519 signatures against the verifier key given on the command line
(never the one in the bundle), recomputes every event's leaf hash from its bytes, checks each
inclusion proof against the checkpoint's root, checks the dossier's hash chain, and checks
that the older checkpoint's tree is a prefix of the newer one's. It exits 0 when all holds.

Formats:
- Merkle tree: RFC 9162 section 2.1 (SHA-256; leaf ``H(0x00 || data)``, node
  ``H(0x01 || left || right)``); proofs and their verification as in sections 2.1.3 and 2.1.4.
- Checkpoint: a C2SP ``tlog-checkpoint`` body (origin, tree size, base64 root hash, then
  extension lines) in a C2SP ``signed-note`` with Ed25519 signatures; keys as C2SP verifier
  keys, ``<name>+<key id hex>+<base64(0x01 || public key)>``.
- Dossier chain: ``chain(v) = SHA-256(chain(v-1) || leaf hash(v))`` with 32 zero bytes
  before version 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
CHAIN_START = bytes(32)
ED25519 = 0x01


class VerificationError(Exception):
    """A proof, signature or bundle that does not hold; the message says which part."""


# --- RFC 9162 hashing ----------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a leaf's inclusion proof leads to (RFC 9162 section 2.1.3.2)."""
    if index >= size or index < 0:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != 32 or any(len(p) != 32 for p in proof):
        raise VerificationError("hashes in an inclusion proof are 32 bytes long")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("the inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is shorter than the tree is high")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise VerificationError(f"leaf {index} is not in the tree of size {size} with that root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """That the tree of ``size1`` leaves is a prefix of the one of ``size2`` (RFC 9162
    section 2.1.4.2)."""
    if size1 < 0 or size2 < size1:
        raise VerificationError(f"a tree of size {size2} cannot follow one of size {size1}")
    if size1 == size2:
        if proof:
            raise VerificationError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise VerificationError(f"two different roots for the tree of size {size1}")
        return
    if size1 == 0:
        if proof:
            raise VerificationError("the empty tree needs an empty consistency proof")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    if any(len(p) != 32 for p in proof):
        raise VerificationError("hashes in a consistency proof are 32 bytes long")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short")
    if fr != root1:
        raise VerificationError(f"the proof does not lead to the root of size {size1}")
    if sr != root2:
        raise VerificationError(f"the proof does not lead to the root of size {size2}")


# --- signed checkpoints ------------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        try:
            name, key_id_hex, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(key_id_hex)
        except ValueError as error:
            raise VerificationError(f"not a verifier key (name+id+key): {error}") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise VerificationError("the verifier key is not an Ed25519 key")
        key = cls(name, key_id, raw[1:])
        if key_id != note_key_id(name, raw[1:]):
            raise VerificationError("the verifier key's id does not match its name and key")
        return key

    def check(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def note_key_id(name: str, public_key: bytes) -> bytes:
    """A signed note's key id: the first four bytes of SHA-256(name, newline, 0x01, key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    body: str

    @classmethod
    def parse_body(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise VerificationError("a checkpoint has an origin, a size and a root, one a line")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise VerificationError(f"the checkpoint's tree size {size_text!r} is not a number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except ValueError:
            raise VerificationError("the checkpoint's root hash is not base64") from None
        if len(root) != 32:
            raise VerificationError("the checkpoint's root hash is not 32 bytes long")
        return cls(origin, int(size_text), root, tuple(extensions), body)


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint in a signed note, once ``key``'s signature on it is found valid."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise VerificationError("the signed note has no signature block")
    body += "\n"
    found = False
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise VerificationError(f"not a signature line: {line!r}")
        name, _, encoded = line[2:].rpartition(" ")
        if name != key.name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise VerificationError("a signature is not base64") from None
        if raw[:4] != key.key_id:
            continue
        if not key.check(body.encode(), raw[4:]):
            raise VerificationError(f"the signature of {key.name} on the checkpoint is invalid")
        found = True
    if not found:
        raise VerificationError(f"the checkpoint is not signed by {key.name}")
    return Checkpoint.parse_body(body)


# --- bundles -------------------------------------------------------------------------------


def _hashes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def verify_bundle(bundle: dict[str, Any], key: VerifierKey) -> list[str]:
    """Check a proof bundle; the lines of a report of what was checked."""
    report: list[str] = []
    checkpoint = open_checkpoint(bundle["checkpoint"], key)
    report.append(
        f"checkpoint: {checkpoint.origin}, {checkpoint.size} events, signed by {key.name}"
    )
    chain = CHAIN_START
    for expected_version, event in enumerate(bundle["events"], start=1):
        data = base64.b64decode(event["canonical"], validate=True)
        content = json.loads(data)
        version = content.get("originator_version")
        if version != expected_version:
            raise VerificationError(
                f"event {expected_version} of the dossier says it is version {version}"
            )
        leaf = leaf_hash(data)
        verify_inclusion(
            event["leaf_index"], checkpoint.size, leaf, _hashes(event["inclusion"]), checkpoint.root
        )
        chain = chain_hash(chain, leaf)
        if event.get("chain") is not None and bytes.fromhex(event["chain"]) != chain:
            raise VerificationError(f"the dossier's hash chain breaks at version {version}")
        record = content.get("state", {}).get("record", {})
        report.append(
            f"  version {version} at leaf {event['leaf_index']}: "
            f"{record.get('event_type')} by {record.get('unit_code')}, "
            f"occurred {record.get('occurred_at')}: included"
        )
    consistency = bundle.get("consistency")
    if consistency is not None:
        older = open_checkpoint(consistency["older_checkpoint"], key)
        if older.origin != checkpoint.origin:
            raise VerificationError("the two checkpoints are of different logs")
        verify_consistency(
            older.size, checkpoint.size, older.root, checkpoint.root, _hashes(consistency["proof"])
        )
        report.append(
            f"consistency: the log of {older.size} events is a prefix of the one of "
            f"{checkpoint.size}"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the JSON file 'dvchub audit prove' wrote")
    parser.add_argument("--key", required=True, help="the hub's verifier key, or @FILE")
    arguments = parser.parse_args(argv)
    key_text = arguments.key
    if key_text.startswith("@"):
        key_text = Path(key_text[1:]).read_text(encoding="utf-8")
    try:
        bundle = json.loads(Path(arguments.bundle).read_text(encoding="utf-8"))
        lines = verify_bundle(bundle, VerifierKey.parse(key_text))
    except (VerificationError, KeyError, ValueError) as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    print("VERIFIED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
