"""The Merkle tree over the store's log, as RFC 9162 section 2.1 defines it: roots at any
size, inclusion and consistency proofs. Verifying them is :mod:`verifier.dvchub_verify`'s
job (the standalone verifier), so that the hub and an auditor check with the same code.

Written here rather than taken from a library: the Python ones seen either keep their own
storage or hash leaves differently from RFC 9162; these few functions are checked against
the published test vectors (tests/unit/test_merkle.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from verifier.dvchub_verify import EMPTY_ROOT, leaf_hash, node_hash

__all__ = ["MerkleTree", "RootAccumulator", "leaf_hash", "node_hash"]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class RootAccumulator:
    """Roots of a growing log, one leaf at a time, in O(log n) memory.

    Keeps the roots of the perfect subtrees the leaves so far make (as a binary counter
    does its carries); the tree's root folds them from the smallest up.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    @classmethod
    def resume(cls, size: int, frontier: list[bytes]) -> RootAccumulator:
        """Carry on from the frontier (:attr:`frontier`) of a log of ``size`` leaves."""
        if len(frontier) != size.bit_count():
            raise ValueError(f"a log of {size} leaves has {size.bit_count()} frontier hashes")
        accumulator = cls()
        accumulator.size, accumulator._stack = size, list(frontier)
        return accumulator

    @property
    def frontier(self) -> list[bytes]:
        """The roots of the perfect subtrees, largest first: all it takes to carry on."""
        return list(self._stack)

    def append(self, leaf: bytes) -> None:
        self._stack.append(leaf)
        self.size += 1
        size = self.size
        while size & 1 == 0:
            right = self._stack.pop()
            self._stack[-1] = node_hash(self._stack[-1], right)
            size >>= 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root


class MerkleTree:
    """A tree over known leaf hashes, with every perfect subtree's hash kept for proofs."""

    def __init__(self, leaves: Iterable[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def root(self, size: int | None = None) -> bytes:
        return self._hash(0, self.size if size is None else self._within(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
        size = self.size if size is None else self._within(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:size]) of RFC 9162 section 2.1.4.1."""
        size = self.size if size is None else self._within(size)
        if not 0 <= old_size <= size:
            raise ValueError(f"a tree of size {old_size} cannot precede one of size {size}")
        if old_size in (0, size):
            return []
        return self._subproof(old_size, 0, size, True)

    def _within(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size

    def _hash(self, start: int, end: int) -> bytes:
        """MTH of leaves start..end-1; ``start`` is aligned to the subtree's split."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self._path(m, start, start + k), self._hash(start + k, end)]
        return [*self._path(m - k, start + k, end), self._hash(start, start + k)]

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._hash(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._hash(start, start + k)]


def root_of(leaves: Sequence[bytes]) -> bytes:
    accumulator = RootAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    return accumulator.root()
