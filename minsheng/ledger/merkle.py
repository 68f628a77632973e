"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification. Pure: no ORM, no Django.

Nodes are addressed as (level, index): level 0 are the leaves, node (l, i) covers leaves
[i·2^l, (i+1)·2^l). Only *perfect* (complete) subtrees are addressed this way; every subtree a
proof or a root needs is either perfect or the right edge of the tree, and the right edge of a
range [a, b) decomposes into at most log2(b-a) perfect subtrees. So storage only has to keep
perfect nodes, and a root or a proof costs O(log n) node reads (`NodeReader`).

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step, plus
the two edge cases the RFC leaves to the caller and the transparency-dev conformance vectors pin:
equal sizes (proof must be empty, roots equal) and a first size of 0 (meaningless, refused).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Node = tuple[int, int]  # (level, index)
NodeReader = Callable[[list[Node]], dict[Node, bytes]]

ALGORITHMS = ("sha256", "sm3")


class ProofError(ValueError):
    """A proof, or the parameters it was asked for, do not verify."""


class Hasher:
    """RFC 9162 §2.1.1: leaf = H(0x00‖data), node = H(0x01‖left‖right), empty = H()."""

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown hash algorithm {algorithm!r}")
        self.algorithm = algorithm
        if algorithm == "sha256":
            self._new = hashlib.sha256
        else:
            hashlib.new("sm3")  # fail here, not on first use, when OpenSSL lacks SM3

            def _sm3(data: bytes = b"") -> hashlib._Hash:
                return hashlib.new("sm3", data)

            self._new = _sm3
        self.size = self._new().digest_size

    def digest(self, data: bytes) -> bytes:
        return self._new(data).digest()

    def empty_root(self) -> bytes:
        return self._new(b"").digest()

    def leaf(self, data: bytes) -> bytes:
        return self._new(b"\x00" + data).digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        return self._new(b"\x01" + left + right).digest()


# ---------------------------------------------------------------------------------------------
# tree shape


def _largest_pow2_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_nodes(start: int, end: int) -> list[Node]:
    """Decompose leaves [start, end) into aligned perfect subtrees, left to right.

    For the ranges a Merkle tree uses (a node's range clipped at the tree size) the sizes strictly
    decrease, so folding them right to left with `Hasher.node` gives MTH(D[start:end])."""
    out: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else 64
        while start + (1 << level) > end:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def _fold(hasher: Hasher, hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hasher.node(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[0:n]) as leaf ranges, in proof order (leaf side first)."""
    if not 0 <= index < size:
        raise ProofError("index out of range")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_pow2_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) as leaf ranges, in order."""
    if not 0 < first <= second:
        raise ProofError("sizes out of range")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _largest_pow2_below(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def _hashes_for_ranges(hasher: Hasher, ranges: list[tuple[int, int]], read: NodeReader) -> list[bytes]:
    plans = [perfect_nodes(a, b) for a, b in ranges]
    wanted = sorted({node for plan in plans for node in plan})
    got = read(wanted) if wanted else {}
    missing = [n for n in wanted if n not in got]
    if missing:
        raise LookupError(f"nodes not stored: {missing[:5]}")
    return [_fold(hasher, [got[n] for n in plan]) for plan in plans]


def root(hasher: Hasher, size: int, read: NodeReader) -> bytes:
    """MTH of the first `size` leaves, from at most log2(size)+1 stored perfect nodes."""
    if size == 0:
        return hasher.empty_root()
    return _hashes_for_ranges(hasher, [(0, size)], read)[0]


def inclusion_proof(hasher: Hasher, index: int, size: int, read: NodeReader) -> list[bytes]:
    return _hashes_for_ranges(hasher, inclusion_ranges(index, size), read)


def consistency_proof(hasher: Hasher, first: int, second: int, read: NodeReader) -> list[bytes]:
    return _hashes_for_ranges(hasher, consistency_ranges(first, second), read)


# ---------------------------------------------------------------------------------------------
# building from leaves (verification, tests, benchmarks)


class CompactRange:
    """The right edge of a tree: the perfect subtrees covering [0, size), left to right.

    `append` adds one leaf hash and returns the perfect nodes it completed (level ≥ 1), which is
    what storage persists; `root` folds the edge. Amortised O(1) hashing per append."""

    def __init__(self, hasher: Hasher, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("compact range does not match the tree size")
        self.hasher = hasher
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        completed: list[tuple[int, int, bytes]] = []
        h = leaf_hash
        index = self.size
        level = 0
        while index & 1:
            h = self.hasher.node(self.hashes.pop(), h)
            index >>= 1
            level += 1
            completed.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return self.hasher.empty_root()
        return _fold(self.hasher, self.hashes)

    def nodes(self) -> list[Node]:
        return perfect_nodes(0, self.size)


def root_from_leaf_hashes(hasher: Hasher, leaf_hashes: Iterable[bytes]) -> bytes:
    cr = CompactRange(hasher)
    for h in leaf_hashes:
        cr.append(h)
    return cr.root()


def mth(hasher: Hasher, leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 MTH(D[n]) by its recursive definition, over leaf *data* (reference for tests)."""
    n = len(leaves)
    if n == 0:
        return hasher.empty_root()
    if n == 1:
        return hasher.leaf(leaves[0])
    k = _largest_pow2_below(n)
    return hasher.node(mth(hasher, leaves[:k]), mth(hasher, leaves[k:]))


# ---------------------------------------------------------------------------------------------
# verification


def _check_hash(hasher: Hasher, value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != hasher.size:
        raise ProofError(f"{what} is not a {hasher.size}-byte hash")


def root_from_inclusion_proof(
    hasher: Hasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1–5, returning r (the caller compares it with the root)."""
    if size <= 0 or not 0 <= index < size:  # step 1
        raise ProofError("index is not below the tree size")
    _check_hash(hasher, leaf_hash, "leaf hash")
    for p in proof:
        _check_hash(hasher, p, "proof element")
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:  # 4b
            r = hasher.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        raise ProofError("proof is shorter than the path")
    return r


def verify_inclusion(
    hasher: Hasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Raise ProofError unless `proof` proves leaf `index` in the tree of `size` with `root_hash`."""
    _check_hash(hasher, root_hash, "root")
    r = root_from_inclusion_proof(hasher, index, size, leaf_hash, proof)
    if r != root_hash:
        raise ProofError("calculated root differs from the expected root")


def verify_consistency(
    hasher: Hasher, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless `proof` shows the tree of size `first` is a prefix of `second`."""
    if first <= 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if second < first:
        raise ProofError("second size is smaller than the first")
    if first == second:
        # Same tree: nothing to prove but equal roots (RFC 9162 §2.1.4.1 gives the empty proof).
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        if bytes(first_root) != bytes(second_root):
            raise ProofError("sizes are equal but the roots differ")
        return
    _check_hash(hasher, first_root, "first root")
    _check_hash(hasher, second_root, "second root")
    for c in proof:
        _check_hash(hasher, c, "proof element")
    if not proof:  # step 1
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: first is an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:  # 6b
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # step 7
    if sn != 0:
        raise ProofError("proof is shorter than the path")
    if fr != first_root:
        raise ProofError("calculated first root differs from the expected one")
    if sr != second_root:
        raise ProofError("calculated second root differs from the expected one")
