"""RFC 9162 hashing and proofs: the transparency-dev conformance vectors, and properties over
random tree sizes (generated proofs verify; any mutation is rejected)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minsheng.ledger import merkle
from minsheng.ledger.merkle import Hasher, ProofError

REPO = Path(__file__).resolve().parents[3]
VECTORS = Path(
    os.environ.get(
        "MINSHENG_TESTVECTORS", REPO.parent / "shared" / "testvectors" / "rfc6962-transparency-dev-merkle"
    )
)
SHA = Hasher("sha256")

# The classic 8-leaf Certificate Transparency tree and its roots (SOURCE.md of the vectors).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _vector_files(kind: str) -> list[Path]:
    directory = VECTORS / kind
    if not directory.is_dir():
        pytest.fail(
            f"RFC 6962 test vectors not found at {directory}: set MINSHENG_TESTVECTORS to the "
            "rfc6962-transparency-dev-merkle directory (these conformance tests must not be skipped)"
        )
    files = sorted(directory.rglob("*.json"))
    if not files:
        pytest.fail(f"no test vectors in {directory}")
    return files


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def test_inclusion_vectors_are_all_decided_as_expected() -> None:
    files = _vector_files("inclusion")
    wrong = []
    for path in files:
        v = json.loads(path.read_text())
        try:
            merkle.verify_inclusion(
                SHA, v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v["proof"]), _b64(v["root"])
            )
            accepted = True
        except ProofError:
            accepted = False
        if accepted == v["wantErr"]:
            wrong.append(str(path.relative_to(VECTORS)))
    assert len(files) >= 90
    assert wrong == []


def test_consistency_vectors_are_all_decided_as_expected() -> None:
    files = _vector_files("consistency")
    wrong = []
    for path in files:
        v = json.loads(path.read_text())
        try:
            merkle.verify_consistency(
                SHA, v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v["proof"])
            )
            accepted = True
        except ProofError:
            accepted = False
        if accepted == v["wantErr"]:
            wrong.append(str(path.relative_to(VECTORS)))
    assert len(files) >= 90
    assert wrong == []


def test_happy_path_vectors_match_proofs_we_generate() -> None:
    """Our proof *generation* reproduces the published proofs for the CT tree."""
    reader = _reader([SHA.leaf(d) for d in CT_LEAVES])
    for path in _vector_files("inclusion"):
        v = json.loads(path.read_text())
        if v["wantErr"] or path.parent.name == "single-entry":
            continue
        assert merkle.inclusion_proof(SHA, v["leafIdx"], v["treeSize"], reader) == _proof(v["proof"])
    for path in _vector_files("consistency"):
        v = json.loads(path.read_text())
        if v["wantErr"] or path.parent.name == "additional":
            continue
        assert merkle.consistency_proof(SHA, v["size1"], v["size2"], reader) == _proof(v["proof"])


def test_roots_of_the_ct_tree() -> None:
    for n in range(1, 9):
        assert merkle.mth(SHA, CT_LEAVES[:n]).hex() == CT_ROOTS[n - 1]
        assert (
            merkle.root_from_leaf_hashes(SHA, [SHA.leaf(d) for d in CT_LEAVES[:n]]).hex() == CT_ROOTS[n - 1]
        )
    assert merkle.mth(SHA, []) == SHA.empty_root()


def test_sm3_hasher_uses_the_same_domain_separation() -> None:
    sm3 = Hasher("sm3")
    assert sm3.leaf(b"abc") == __import__("hashlib").new("sm3", b"\x00abc").digest()
    assert (
        sm3.node(b"a" * 32, b"b" * 32)
        == __import__("hashlib").new("sm3", b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


def _reader(leaf_hashes: list[bytes], hasher: Hasher = SHA):
    """A NodeReader over an in-memory tree: every perfect node, computed once."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([hasher.node(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])

    def read(nodes):
        return {(lv, i): levels[lv][i] for lv, i in nodes}

    return read


def _tree(n: int) -> list[bytes]:
    return [SHA.leaf(i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))
)
def test_generated_inclusion_proofs_verify_and_mutations_fail(case: tuple[int, int]) -> None:
    n, m = case
    leaves = _tree(n)
    read = _reader(leaves)
    root = merkle.root(SHA, n, read)
    assert root == merkle.root_from_leaf_hashes(SHA, leaves)
    proof = merkle.inclusion_proof(SHA, m, n, read)
    merkle.verify_inclusion(SHA, m, n, leaves[m], proof, root)
    bad = [
        (m, n, leaves[(m + 1) % n] if n > 1 else SHA.leaf(b"x"), proof, root),
        (m, n, leaves[m], [*proof, root], root),
        (m, n, leaves[m], proof[:-1], root) if proof else (m, n, leaves[m], [root], root),
        (m, n, leaves[m], proof, SHA.leaf(b"other")),
    ]
    if n > 1:
        bad.append(((m + 1) % n, n, leaves[m], proof, root))
    # A different tree size verifies only if it has the same path shape; otherwise it must fail.
    for other in (n - 1, n + 1, 2 * n):
        if other > m and len(merkle.inclusion_ranges(m, other)) != len(proof):
            bad.append((m, other, leaves[m], proof, root))
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 1]) + flipped[i][1:]
        bad.append((m, n, leaves[m], flipped, root))
    for args in bad:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(SHA, *args)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_generated_consistency_proofs_verify_and_mutations_fail(case: tuple[int, int]) -> None:
    m, n = case
    leaves = _tree(n)
    read = _reader(leaves)
    r1, r2 = merkle.root(SHA, m, read), merkle.root(SHA, n, read)
    proof = merkle.consistency_proof(SHA, m, n, read)
    merkle.verify_consistency(SHA, m, n, r1, r2, proof)
    bad = [
        (m, n, r2 if m != n else SHA.leaf(b"x"), r2, proof),
        (m, n, r1, SHA.leaf(b"x"), proof),
        (m, n, r1, r2, [*proof, r1]),
        (0, n, r1, r2, proof),
    ]
    if proof:
        bad.append((m, n, r1, r2, proof[:-1]))
    for other in (n + 1, 2 * n):
        if len(merkle.consistency_ranges(m, other)) != len(proof):
            bad.append((m, other, r1, r2, proof))
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 0x80]) + flipped[i][1:]
        bad.append((m, n, r1, r2, flipped))
    for args in bad:
        with pytest.raises(ProofError):
            merkle.verify_consistency(SHA, *args)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2000))
def test_compact_range_completes_exactly_the_perfect_nodes(n: int) -> None:
    cr = merkle.CompactRange(SHA)
    completed = []
    leaves = _tree(n)
    for h in leaves:
        completed.extend(cr.append(h))
    assert cr.root() == merkle.root_from_leaf_hashes(SHA, leaves) if n else cr.root() == SHA.empty_root()
    expected = {(lv, i) for lv in range(1, max(n, 1).bit_length() + 1) for i in range(n >> lv)}
    assert {(lv, i) for lv, i, _h in completed} == expected
    read = _reader(leaves)
    assert all(h == read([(lv, i)])[(lv, i)] for lv, i, h in completed)
    assert cr.nodes() == merkle.perfect_nodes(0, n)
    assert len(cr.hashes) == bin(n).count("1")


def test_proof_reads_are_logarithmic() -> None:
    seen: list[int] = []
    leaves = _tree(1000)
    base = _reader(leaves)

    def read(nodes):
        seen.append(len(nodes))
        return base(nodes)

    merkle.inclusion_proof(SHA, 517, 1000, read)
    merkle.consistency_proof(SHA, 377, 1000, read)
    merkle.root(SHA, 1000, read)
    assert all(k <= 2 * 10 for k in seen) and len(seen) == 3
