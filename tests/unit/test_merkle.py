"""The Merkle tree and its proofs against the published RFC 6962/9162 test vectors, and
the verifier refusing every corrupted proof (as transparency-dev's own tests probe it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit.merkle import MerkleTree, RootAccumulator, leaf_hash
from verifier.dvchub_verify import (
    EMPTY_ROOT,
    VerificationError,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "rfc9162_vectors.json").read_text()
)
LEAVES = [leaf_hash(bytes.fromhex(leaf)) for leaf in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(root) for root in VECTORS["roots"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _proof(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def test_roots_match_the_published_ones_for_every_size() -> None:
    tree = MerkleTree(LEAVES)
    accumulator = RootAccumulator()
    assert accumulator.root() == ROOTS[0] == EMPTY_ROOT
    for size in range(1, len(LEAVES) + 1):
        accumulator.append(LEAVES[size - 1])
        assert tree.root(size) == ROOTS[size]
        assert accumulator.root() == ROOTS[size]


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: f"{v['index']}-{v['size']}")
def test_inclusion_proofs_match_the_published_ones(vector: dict[str, Any]) -> None:
    index, size, proof = vector["index"], vector["size"], _proof(vector["proof"])
    assert MerkleTree(LEAVES).inclusion_proof(index, size) == proof
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    corrupted = [
        (index + 1, size, LEAVES[index], proof, ROOTS[size]),
        (index, size * 2, LEAVES[index], proof, ROOTS[size]),
        (index, size, SOME_HASH, proof, ROOTS[size]),
        (index, size, LEAVES[index], proof, EMPTY_ROOT),
        (index, size, LEAVES[index], [*proof, ROOTS[size]], ROOTS[size]),
        (index, size, LEAVES[index], [ROOTS[size], *proof], ROOTS[size]),
    ]
    if index > 0:
        corrupted.append((index - 1, size, LEAVES[index], proof, ROOTS[size]))
    if size > 1:
        corrupted.append((index, size // 2, LEAVES[index], proof, ROOTS[size]))
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        corrupted.append((index, size, LEAVES[index], flipped, ROOTS[size]))
    if proof:
        corrupted.append((index, size, LEAVES[index], proof[:-1], ROOTS[size]))
    for args in corrupted:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)


@pytest.mark.parametrize(
    "vector", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_consistency_proofs_match_the_published_ones(vector: dict[str, Any]) -> None:
    size1, size2, proof = vector["size1"], vector["size2"], _proof(vector["proof"])
    root1, root2 = ROOTS[size1], ROOTS[size2]
    assert MerkleTree(LEAVES).consistency_proof(size1, size2) == proof
    verify_consistency(size1, size2, root1, root2, proof)
    if not proof:
        return
    corrupted = [
        (size1 - 1, size2, root1, root2, proof),
        (size1 + 1, size2, root1, root2, proof),
        (size1 ^ 2, size2, root1, root2, proof),
        (size1, size2 * 2, root1, root2, proof),
        (size1, size2 // 2, root1, root2, proof),
        (size1, size2, SOME_HASH, root2, proof),
        (size1, size2, root1, SOME_HASH, proof),
        (size1, size2, root2, root1, proof),
        (size1, size2, root1, root2, []),
        (size1, size2, root1, root2, [*proof, root1]),
        (size1, size2, root1, root2, [root2, *proof]),
        (size1, size2, root1, root2, [proof[0], *proof]),
        (size1, size2, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        corrupted.append((size1, size2, root1, root2, flipped))
    for args in corrupted:
        with pytest.raises(VerificationError):
            verify_consistency(*args)


def test_trivial_consistency_cases() -> None:
    verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    verify_consistency(0, 5, SOME_HASH, ROOTS[5], [])
    for args in [
        (1, 1, ROOTS[1], ROOTS[2], []),
        (2, 1, ROOTS[2], ROOTS[1], []),
        (1, 2, ROOTS[1], ROOTS[2], []),
        (1, 1, ROOTS[1], ROOTS[1], [EMPTY_ROOT]),
        (0, 1, ROOTS[0], ROOTS[1], [EMPTY_ROOT]),
    ]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_every_proof_of_every_shape_verifies(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=0, max_value=size))
    verify_inclusion(index, size, leaves[index], tree.inclusion_proof(index), tree.root())
    verify_consistency(old, size, tree.root(old), tree.root(), tree.consistency_proof(old))
    assert MerkleTree(leaves[:old]).root() == tree.root(old)


def test_the_heads_leaf_and_dossier_check_agree_with_the_verifier_and_the_domain() -> None:
    from hub.audit.heads import head_leaf_hash, is_dossier
    from hub.domain.dossier import dossier_id
    from verifier.dvchub_verify import head_leaf, leaf_hash

    code = "000.00.01.H12-210315-0001"
    originator = dossier_id(code)
    chain = bytes(range(32))
    assert head_leaf_hash(code, str(originator), 3, 7, chain) == leaf_hash(
        head_leaf(code, originator, 3, 7, chain)
    )
    assert is_dossier(code, str(originator))
    assert not is_dossier(code.replace("0001", "0002"), str(originator))
    assert not is_dossier("?", "not-a-uuid")
