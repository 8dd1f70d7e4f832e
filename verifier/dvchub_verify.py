"""Check a DVC Hub proof bundle without the hub: one file, the standard library and
``cryptography`` (for Ed25519).

    python verifier/dvchub_verify.py BUNDLE.json --key "VERIFIER KEY" [--origin ORIGIN]

A bundle (``dvchub audit prove CODE``) holds a signed checkpoint of the hub's log, one
dossier's stored events as their canonical bytes with an inclusion proof each, the proof of
the dossier's head in the checkpoint's map of dossier heads, and optionally an older
checkpoint with a consistency proof to the newer one. This program checks:

- the checkpoint: a signed note parsed as C2SP (and Go's ``note.Open``) parse it, signed by
  the verifier key given on the command line (never one in the bundle), of the log named by
  ``--origin`` (default: the key's name);
- that every event is of the dossier the bundle names (its id, derived from the code, and
  the code in its record), versions 1, 2, 3… in log order, each included in the log;
- that the events are the dossier's whole history as of the checkpoint: the checkpoint's
  map of dossier heads holds, for this code, the last version, its leaf and the dossier's
  chain hash, and the events end there and chain to it;
- that the older checkpoint's log is a prefix of the newer one's.

It prints the dossier's code, each event, and "complete as of checkpoint N" or why
completeness is not shown. Exit status: 0 verified and complete; 3 the events are verified
but the checkpoint commits to no map of heads, so completeness is not shown; 1 NOT VERIFIED
(the reason on standard error); 2 the command line is wrong or a file cannot be read.

Formats:
- Merkle trees: RFC 9162 section 2.1 (SHA-256; leaf ``H(0x00 || data)``, node
  ``H(0x01 || left || right)``); proofs and their verification as in sections 2.1.3 and 2.1.4.
- Checkpoint: a C2SP ``tlog-checkpoint`` body (origin, tree size, base64 root hash, then
  extension lines) in a C2SP ``signed-note`` with Ed25519 signatures; keys as C2SP verifier
  keys, ``<name>+<key id hex>+<base64(0x01 || public key)>``. The hub adds the extension line
  ``dvchub-heads <count> <base64 root>``: the map of dossier heads.
- Map of dossier heads: an RFC 9162 tree whose leaves are the dossiers' heads in the byte
  order of their codes, each leaf's data ``"dvchub-head/1\n" || code || "\n" ||
  originator id (16 bytes) || version (8 bytes, big-endian) || leaf index in the log (8
  bytes) || chain hash (32 bytes)``. A head is shown to be the code's only one by the leaves
  beside it: the one before has a smaller code, the one after a larger.
- Dossier chain: ``chain(v) = SHA-256(chain(v-1) || leaf hash(v))`` with 32 zero bytes
  before version 1.
- Dossier id: UUID version 5 of the code in the namespace ``DOSSIER_NAMESPACE``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
CHAIN_START = bytes(32)
ED25519 = 0x01
DOSSIER_NAMESPACE = uuid.UUID("5f0c2a8e-7a4b-5d0e-9c55-2d1e0b6f4a10")
HEADS_LINE = "dvchub-heads"
HEAD_PREFIX = b"dvchub-head/1\n"
#: Exit statuses (see the module's doc).
VERIFIED, NOT_VERIFIED, USAGE, NOT_SHOWN_COMPLETE = 0, 1, 2, 3


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
        if not origin:
            raise VerificationError("the checkpoint names no origin")
        if (
            not size_text.isascii()
            or not size_text.isdigit()
            or (size_text != "0" and size_text.startswith("0"))
        ):
            raise VerificationError(f"the checkpoint's tree size {size_text!r} is not a number")
        root = _base64(root_text, "the checkpoint's root hash")
        if len(root) != 32:
            raise VerificationError("the checkpoint's root hash is not 32 bytes long")
        if any(not line for line in extensions):
            raise VerificationError("the checkpoint has an empty extension line")
        return cls(origin, int(size_text), root, tuple(extensions), body)

    def heads(self) -> tuple[int, bytes] | None:
        """The map of dossier heads the checkpoint commits to: (count, root), or None."""
        found = [line for line in self.extensions if line.split(" ", 1)[0] == HEADS_LINE]
        if not found:
            return None
        if len(found) > 1:
            raise VerificationError("the checkpoint names two maps of dossier heads")
        parts = found[0].split(" ")
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            raise VerificationError(f"the checkpoint's line {found[0]!r} is not a map of heads")
        root = _base64(parts[2], "the map of heads' root")
        if len(root) != 32:
            raise VerificationError("the map of heads' root is not 32 bytes long")
        return int(parts[1]), root


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationError(f"{what} is not base64") from None


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() for c in name) and "+" not in name


def open_checkpoint(note: str, key: VerifierKey, origin: str | None = None) -> Checkpoint:
    """The checkpoint in a signed note, once ``key``'s signature on it is found valid and its
    origin is ``origin`` (default: the key's name). The note is read as C2SP ``signed-note``
    and Go's ``note.Open`` read it: UTF-8 without control characters but newlines, a text
    ending in a newline, a blank line, then signature lines, each ending in a newline."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise VerificationError("the signed note holds control characters")
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("the signed note has no signature block")
    body, signatures = note[: split + 1], note[split + 2 :]
    if not signatures or not signatures.endswith("\n"):
        raise VerificationError("the signed note does not end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > 100:
        raise VerificationError("the signed note has over 100 signatures")
    found = False
    for line in lines:
        if not line.startswith("\u2014 "):
            raise VerificationError(f"not a signature line: {line!r}")
        name, _, encoded = line[2:].partition(" ")
        raw = _base64(encoded, "a signature") if encoded else b""
        if not _valid_name(name) or len(raw) < 5:
            raise VerificationError(f"not a signature line: {line!r}")
        if name != key.name or raw[:4] != key.key_id:
            continue  # another witness's signature: not the one asked for
        if not key.check(body.encode(), raw[4:]):
            raise VerificationError(f"the signature of {key.name} on the checkpoint is invalid")
        found = True
    if not found:
        raise VerificationError(f"the checkpoint is not signed by {key.name}")
    checkpoint = Checkpoint.parse_body(body)
    expected = key.name if origin is None else origin
    if checkpoint.origin != expected:
        raise VerificationError(
            f"the checkpoint is of the log {checkpoint.origin!r}, not {expected!r}"
        )
    return checkpoint


# --- bundles ------------------------------------------------------------------------------


def dossier_uuid(code: str) -> uuid.UUID:
    return uuid.uuid5(DOSSIER_NAMESPACE, code)


def head_leaf(
    code: str, originator: uuid.UUID, version: int, leaf_index: int, chain: bytes
) -> bytes:
    """A leaf's data in the map of dossier heads."""
    return (
        HEAD_PREFIX
        + code.encode()
        + b"\n"
        + originator.bytes
        + version.to_bytes(8, "big")
        + leaf_index.to_bytes(8, "big")
        + chain
    )


def _get(obj: Any, name: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict):
        raise VerificationError(f"{where} is not an object")
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise VerificationError(f"{where} has no {name} ({kind.__name__})")
    return value


def _hashes(values: Any, where: str) -> list[bytes]:
    if not isinstance(values, list):
        raise VerificationError(f"{where} is not a list of hashes")
    try:
        hashes = [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        raise VerificationError(f"{where} holds a hash that is not hex") from None
    if any(len(h) != 32 for h in hashes):
        raise VerificationError(f"{where} holds a hash that is not 32 bytes long")
    return hashes


@dataclass(frozen=True)
class Head:
    code: str
    originator: uuid.UUID
    version: int
    leaf_index: int
    chain: bytes
    index: int  # in the map
    inclusion: list[bytes]

    @classmethod
    def read(cls, obj: Any, where: str) -> Head:
        code = _get(obj, "dossier_code", str, where)
        try:
            originator = uuid.UUID(_get(obj, "originator_id", str, where))
        except ValueError:
            raise VerificationError(f"{where} has an originator id that is not a UUID") from None
        chain = _hashes([_get(obj, "chain", str, where)], where)[0]
        version = _get(obj, "version", int, where)
        leaf_index = _get(obj, "leaf_index", int, where)
        index = _get(obj, "index", int, where)
        if min(version, leaf_index, index) < 0 or max(version, leaf_index) >= 2**63:
            raise VerificationError(f"{where} has a negative or too large number")
        inclusion = _hashes(obj.get("inclusion"), f"{where}'s inclusion proof")
        return cls(code, originator, version, leaf_index, chain, index, inclusion)

    def check(self, count: int, root: bytes) -> None:
        data = head_leaf(self.code, self.originator, self.version, self.leaf_index, self.chain)
        leaf = leaf_hash(data)
        try:
            verify_inclusion(self.index, count, leaf, self.inclusion, root)
        except VerificationError as error:
            raise VerificationError(
                f"the head of {self.code} is not in the checkpoint's map of heads: {error}"
            ) from None


def _check_head(proof: Any, code: str, originator: uuid.UUID, count: int, root: bytes) -> Head:
    """The dossier's head, proven in the map of heads to be the code's one and only."""
    head = Head.read(_get(proof, "head", dict, "the head proof"), "the dossier's head")
    if head.code != code or head.originator != originator:
        raise VerificationError(f"the head proven is of {head.code}, not of {code}")
    head.check(count, root)
    key = code.encode()
    if head.index > 0:
        before = Head.read(proof.get("before"), "the head before it in the map")
        if before.index != head.index - 1 or not before.code.encode() < key:
            raise VerificationError("the head before it in the map is not the one just before")
        before.check(count, root)
    if head.index < count - 1:
        after = Head.read(proof.get("after"), "the head after it in the map")
        if after.index != head.index + 1 or not after.code.encode() > key:
            raise VerificationError("the head after it in the map is not the one just after")
        after.check(count, root)
    return head


def verify_bundle(
    bundle: Any, key: VerifierKey, origin: str | None = None
) -> tuple[list[str], bool]:
    """Check a proof bundle: the lines of a report of what was checked, and whether the
    events were shown to be the dossier's whole history as of the checkpoint."""
    report: list[str] = []
    if _get(bundle, "format", str, "the bundle") != "dvchub-proof/1":
        raise VerificationError(f"the bundle's format {bundle['format']!r} is not dvchub-proof/1")
    code = _get(bundle, "dossier_code", str, "the bundle")
    if not code or not code.isprintable():
        raise VerificationError("the bundle's dossier code is empty or not printable")
    originator = dossier_uuid(code)
    checkpoint = open_checkpoint(_get(bundle, "checkpoint", str, "the bundle"), key, origin)
    report.append(f"dossier: {code}")
    report.append(
        f"checkpoint: {checkpoint.origin}, {checkpoint.size} events, signed by {key.name}"
    )
    events = _get(bundle, "events", list, "the bundle")
    if not events:
        raise VerificationError("the bundle holds no event")
    chain = CHAIN_START
    last_leaf = -1
    leaf_index = -1
    for expected_version, event in enumerate(events, start=1):
        where = f"event {expected_version} of the bundle"
        try:
            data = base64.b64decode(_get(event, "canonical", str, where), validate=True)
            content = json.loads(data)
        except (binascii.Error, ValueError):
            raise VerificationError(f"{where} is not base64 of JSON") from None
        if not isinstance(content, dict):
            raise VerificationError(f"{where} is not an event")
        if content.get("originator_id") != str(originator):
            raise VerificationError(
                f"{where} is of another dossier (id {content.get('originator_id')}, "
                f"not {originator}, the id of {code})"
            )
        version = content.get("originator_version")
        if version != expected_version:
            raise VerificationError(f"{where} says it is version {version}")
        state = content.get("state")
        record = state.get("record") if isinstance(state, dict) else None
        if not isinstance(record, dict) or record.get("dossier_code") != code:
            raise VerificationError(f"{where} does not record dossier {code}")
        leaf_index = _get(event, "leaf_index", int, where)
        if leaf_index <= last_leaf:
            raise VerificationError(f"{where} comes before the one it follows in the log")
        last_leaf = leaf_index
        leaf = leaf_hash(data)
        verify_inclusion(
            leaf_index,
            checkpoint.size,
            leaf,
            _hashes(event.get("inclusion"), f"{where}'s inclusion proof"),
            checkpoint.root,
        )
        chain = chain_hash(chain, leaf)
        given = event.get("chain")
        if given is not None and _hashes([given], where)[0] != chain:
            raise VerificationError(f"the dossier's hash chain breaks at version {version}")
        report.append(
            f"  version {version} at leaf {leaf_index}: "
            f"{record.get('event_type')} by {record.get('unit_code')}, "
            f"occurred {record.get('occurred_at')}: included"
        )
    heads = checkpoint.heads()
    complete = False
    if heads is None:
        report.append(
            f"completeness: not shown: checkpoint {checkpoint.size} commits to no map of "
            "dossier heads"
        )
    else:
        count, root = heads
        head = _check_head(bundle.get("heads"), code, originator, count, root)
        if head.version != len(events):
            raise VerificationError(
                f"the bundle ends at version {len(events)}; as of checkpoint "
                f"{checkpoint.size} the dossier's last version is {head.version}"
            )
        if head.leaf_index != leaf_index or head.chain != chain:
            raise VerificationError(
                f"version {head.version} of the bundle is not the dossier's head in the "
                "checkpoint's map"
            )
        complete = True
        report.append(
            f"complete as of checkpoint {checkpoint.size}: versions 1 to {head.version} are "
            f"the dossier's whole history in the log of {checkpoint.size} events"
        )
    consistency = bundle.get("consistency")
    if consistency is not None:
        older = open_checkpoint(
            _get(consistency, "older_checkpoint", str, "the consistency proof"),
            key,
            checkpoint.origin,
        )
        verify_consistency(
            older.size,
            checkpoint.size,
            older.root,
            checkpoint.root,
            _hashes(consistency.get("proof"), "the consistency proof"),
        )
        report.append(
            f"consistency: the log of {older.size} events is a prefix of the one of "
            f"{checkpoint.size}"
        )
    return report, complete


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the JSON file 'dvchub audit prove' wrote")
    parser.add_argument("--key", required=True, help="the hub's verifier key, or @FILE")
    parser.add_argument(
        "--origin", help="the log the checkpoint must be of (default: the key's name)"
    )
    arguments = parser.parse_args(argv)
    key_text = arguments.key
    try:
        if key_text.startswith("@"):
            key_text = Path(key_text[1:]).read_text(encoding="utf-8")
        text = Path(arguments.bundle).read_bytes()
    except OSError as error:
        print(f"cannot read: {error}", file=sys.stderr)
        return USAGE
    try:
        try:
            bundle = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise VerificationError("the bundle is not JSON in UTF-8") from None
        lines, complete = verify_bundle(bundle, VerifierKey.parse(key_text), arguments.origin)
    except VerificationError as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        return NOT_VERIFIED
    print("\n".join(lines))
    if not complete:
        print("VERIFIED, NOT SHOWN COMPLETE")
        return NOT_SHOWN_COMPLETE
    print("VERIFIED")
    return VERIFIED


if __name__ == "__main__":
    sys.exit(main())
