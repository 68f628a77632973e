"""Full verification of a log: recompute the tree from the stored leaves, compare every stored node,
the head and every checkpoint (signature, root, consistency, cosignatures), and re-digest every
referenced record.

The report separates *problems* (what was altered, deleted or reordered, named exactly) from
*consequences* (what no longer matches because of a problem already named: nodes above an altered
leaf, checkpoints covering it), so the first line of the report points at the tampered row.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from minsheng.ledger import canonical, keys, merkle, note, registry, verify_chunks
from minsheng.ledger.merkle import Hasher
from minsheng.ledger.models import Checkpoint, Cosignature, Log, Node, VerificationRun

CHUNK = 20000


@dataclass
class Report:
    origin: str
    size: int = 0
    leaves: int = 0
    records_checked: int = 0
    records_unregistered: int = 0
    checkpoints: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    consequences: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    fast: bool = False  # True when the bulk pass found nothing and the precise pass was not needed

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, what: str, message: str, **ids: Any) -> None:
        self.problems.append({"what": what, "message": message, **ids})

    def consequence(self, what: str, message: str, **ids: Any) -> None:
        self.consequences.append({"what": what, "message": message, **ids})


def _rows(sql: str, params: list[Any], key_pos: int = 0):
    """Stream rows in key order by keyset pagination (constant memory on every backend)."""
    last = -1
    while True:
        with connection.cursor() as cur:
            cur.execute(sql, [*params, last, CHUNK])
            rows = cur.fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][key_pos]
        if len(rows) < CHUNK:
            return


def _statement_fast_ok(data: bytes, parsed: dict[str, Any]) -> bool:
    # For statements (ASCII keys, strings and one small integer) Python's compact sorted JSON is
    # byte-identical to RFC 8785; anything else goes through the full canonicaliser.
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == data


def verify(
    *, log_obj: Log | None = None, records: bool = True, save: bool = True, workers: int | None = None
) -> Report:
    """Verify the whole log. A bulk pass (`_fast_structure`: aggregate reads, leaf and node hashing in
    `workers` processes) checks leaves, nodes, head and actor salts; only when it finds anything off
    does the precise row-by-row pass (`_precise_structure`) run to name what was altered. Checkpoints
    and records are then checked the same way in both cases."""
    from minsheng.ledger.services import log_default

    log_obj = log_obj or log_default()
    head = Log.objects.get(pk=log_obj.pk)
    hasher = Hasher(head.hash_alg)
    report = Report(origin=head.origin, size=head.size)
    run = VerificationRun.objects.create(log=head, size=head.size) if save else None

    fast = _fast_structure(head, hasher, workers=default_workers() if workers is None else workers)
    if fast is not None:
        report.fast = True
        report.leaves = head.size
        levels, by_model = fast
        report.records_unregistered = head.size - sum(len(refs) for refs in by_model.values())
        _check_checkpoints(report, head, hasher, levels, None)
    else:
        levels, bad_leaves, mismatched, by_model, commitments = _precise_structure(report, head, hasher)
        first_bad = min(bad_leaves) if bad_leaves else None
        if mismatched and any(lv == 1 for lv, _i in mismatched):
            first_bad = min([first_bad or 10**18] + [2 * i for lv, i in mismatched if lv == 1])
        _check_checkpoints(report, head, hasher, levels, first_bad)
        _check_salts(report, head, commitments)
    del levels
    if not records:
        report.records_unregistered = 0
    else:
        _check_records(report, head, by_model)

    if run is not None:
        VerificationRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), ok=report.ok, problems=report.problems[:500]
        )
        report.run_id = run.pk
    return report


CHUNK_LEVEL = 15  # bulk pass: leaves in aligned chunks of 2**15; nodes below that level are hashed per chunk


def default_workers() -> int:
    """Worker processes for the bulk pass (0: hash in this process)."""
    return min(4, os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 else 0


class _Level:
    """One tree level as concatenated hashes, indexable like a list."""

    def __init__(self, blob: bytes, width: int) -> None:
        self.blob, self.width = blob, width

    def __len__(self) -> int:
        return len(self.blob) // self.width

    def __getitem__(self, i: int) -> bytes:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.blob[i * self.width : (i + 1) * self.width]


def _chunk_ranges(head: Log):
    step = 1 << CHUNK_LEVEL
    for start in range(0, head.size, step):
        yield start, min(step, head.size - start)


def _check_here(head: Log, start: int, count: int, registered: frozenset[str]) -> verify_chunks.ChunkResult:
    """`verify_chunks.check_range` in this process, on this connection's driver connection (psycopg:
    a plain cursor, since Django's client-side cursor cannot return binary results; both of a chunk's
    queries in one REPEATABLE READ transaction unless inside a transaction already)."""
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            raw = connection.connection
            if connection.vendor == "postgresql":
                import psycopg

                with psycopg.Cursor(raw) as cur:
                    if outermost:
                        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    return verify_chunks.check_range(
                        cur, "postgresql", head.pk, start, count, head.hash_alg, registered
                    )
            return verify_chunks.check_range(raw.cursor(), "sqlite", head.pk, start, count, head.hash_alg, registered)
    except Exception as exc:  # any read failure (e.g. text that is not UTF-8) means "look closer"
        return verify_chunks.ChunkResult(start, False, f"read: {exc}")


def _worker_db() -> dict[str, Any] | None:
    """How worker processes reach the database themselves, when they can see what we see: not inside
    a transaction (uncommitted rows), not an in-memory SQLite database."""
    if connection.in_atomic_block:
        return None
    sd = connection.settings_dict
    if connection.vendor == "postgresql":
        params = {"dbname": sd["NAME"], "user": sd["USER"], "password": sd["PASSWORD"], "host": sd["HOST"],
                  "port": sd["PORT"], "options": (sd.get("OPTIONS") or {}).get("options")}  # e.g. jit=off
        return {"vendor": "postgresql", "params": {k: v for k, v in params.items() if v}}
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return {"vendor": "sqlite", "path": str(sd["NAME"])}
    return None


def _stored_levels(head: Log, width: int) -> dict[int, bytes] | None:
    """level → digest (`verify_chunks.digest`) of the level's stored hashes concatenated in index order,
    one query; None unless every level holds exactly the indices 0 … (size >> level) - 1, once each, and
    only hashes of `width` bytes (as `verify_chunks.check_chunk` asks of the leaves). A count with the
    lowest and highest index alone would let a duplicated index stand in for a missing one; hashes of
    other sizes could concatenate to the same bytes; SQLite could hold an index as a real number."""
    if connection.vendor == "postgresql":
        sql = (
            'SELECT level, count(*), count(DISTINCT "index"), min("index"), max("index"), '
            "bool_and(octet_length(hash) = %s), sha256(string_agg(hash, ''::bytea)) "
            'FROM (SELECT level, "index", hash FROM ledger_node WHERE log_id = %s ORDER BY level, "index") n '
            "GROUP BY level"
        )
    else:
        # Grouped straight off the (log, level, index) index, in its order: from an ordered subquery,
        # SQLite would sort the whole log's nodes again for the GROUP BY.
        sql = (
            'SELECT level, count(*), count(DISTINCT "index"), min("index"), max("index"), '
            "min(length(hash) = %s) AND typeof(sum(\"index\")) = 'integer', CAST(group_concat(hash, '') AS BLOB) "
            "FROM ledger_node WHERE log_id = %s GROUP BY level"
        )
    with connection.cursor() as cur:
        cur.execute(sql, [width, head.pk])
        rows = cur.fetchall()
    out = {}
    for level, count, distinct, lo, hi, sound, hashes in rows:
        n = head.size >> level
        if not sound or (count, distinct, lo, hi) != (n, n, 0, n - 1):
            return None
        out[level] = bytes(hashes) if connection.vendor == "postgresql" else verify_chunks.digest(hashes)
    return out


def _fast_structure(head: Log, hasher: Hasher, *, workers: int):
    """Bulk pass over leaves, salts, nodes and the head: returns (levels, registered record refs by
    model) when everything is exactly as expected, None as soon as anything differs."""
    if head.size == 0:
        return None
    registered = frozenset(registry.registered_labels())
    with connection.cursor() as cur:
        cur.execute(
            'SELECT count(*) FROM ledger_leaf WHERE log_id = %s AND ("index" < 0 OR "index" >= %s)',
            [head.pk, head.size],
        )
        if cur.fetchone()[0]:
            return None
    results: list[verify_chunks.ChunkResult] = []
    db = _worker_db() if workers else None
    if db is None:  # inside a transaction, or asked to: one chunk after the other, here
        for start, count in _chunk_ranges(head):
            results.append(_check_here(head, start, count, registered))
            if not results[-1].ok:
                return None
        return _fast_levels(head, hasher, results, _stored_levels(head, hasher.size))
    # Workers read and check their own chunks in parallel, PostgreSQL inside this transaction's snapshot.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        with transaction.atomic():
            if db["vendor"] == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cur.execute("SELECT pg_export_snapshot()")
                    db["snapshot"] = cur.fetchone()[0]
            futures = [
                pool.submit(verify_chunks.read_and_check, db, head.pk, start, count, head.hash_alg, registered)
                for start, count in _chunk_ranges(head)
            ]
            stored = _stored_levels(head, hasher.size)  # meanwhile, here
            for future in futures:
                results.append(future.result())
                if not results[-1].ok:
                    return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return _fast_levels(head, hasher, results, stored)


def _fast_levels(
    head: Log, hasher: Hasher, results: list[verify_chunks.ChunkResult], stored: dict[int, bytes] | None
):
    """Levels from the chunks' hashes, compared with the stored nodes and the head in bulk."""
    width = hasher.size
    levels: list[_Level] = []
    for level in range(CHUNK_LEVEL + 1):
        blob = b"".join(r.levels[level] for r in results if len(r.levels) > level)
        if not blob:
            break
        levels.append(_Level(blob, width))
    top = levels[-1].blob
    new, one, pair = hasher._new, b"\x01", 2 * width
    while len(top) >= pair:
        top = b"".join([new(one + top[i : i + pair]).digest() for i in range(0, len(top) - pair + 1, pair)])
        levels.append(_Level(top, width))
    if stored is None or set(stored) != set(range(1, len(levels))):
        return None
    if any(stored[level] != verify_chunks.digest(levels[level].blob) for level in range(1, len(levels))):
        return None
    edge = b"".join(levels[lv][i] for lv, i in merkle.perfect_nodes(0, head.size))
    if bytes(head.root) != _root_of(hasher, levels, head.size) or bytes(head.edge) != edge:
        return None
    by_model: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for r in results:
        for model, index, rid, digest in r.refs:
            by_model[model].append((index, rid, digest))
    return levels, by_model


def _precise_structure(report: Report, head: Log, hasher: Hasher):
    """Row by row: every leaf, node and the head, naming each problem exactly."""
    # 1. Leaves: bytes → hash, canonical statement, lookup columns, continuity.
    level0: list[bytes | None] = []
    bad_leaves: set[int] = set()
    by_model: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    commitments: dict[int, tuple[str, str]] = {}
    expected = 0
    sql = (
        'SELECT "index", data, leaf_hash, kind, project_code, record_model, record_id, digest '
        'FROM ledger_leaf WHERE log_id = %s AND "index" > %s ORDER BY "index" LIMIT %s'
    )
    for index, data, leaf_hash, kind, project_code, record_model, record_id, digest in _rows(sql, [head.pk]):
        data, leaf_hash = bytes(data), bytes(leaf_hash)
        report.leaves += 1
        if index >= head.size:
            report.problem(
                "leaf",
                f"leaf #{index} lies beyond the head (size {head.size}): appended outside the log",
                index=index,
            )
            bad_leaves.add(index)
            continue
        while expected < index:
            report.problem("leaf", f"leaf #{expected} is missing (deleted)", index=expected)
            bad_leaves.add(expected)
            level0.append(None)
            expected += 1
        expected = index + 1
        h = hasher.leaf(data)
        level0.append(h)
        if h != leaf_hash:
            report.problem(
                "leaf",
                f"leaf #{index}: its bytes do not hash to the stored leaf hash (leaf bytes "
                "or leaf hash altered)",
                index=index,
            )
            bad_leaves.add(index)
            continue
        try:
            parsed = json.loads(data)
            if not _statement_fast_ok(data, parsed):
                canonical.parse(data)
            s = parsed
            columns_ok = (
                s["type"],
                s["project"],
                s["record"]["model"],
                s["record"]["id"],
                s["digest"]["value"],
            ) == (kind, project_code, record_model, record_id, digest)
        except (ValueError, KeyError, TypeError, canonical.StatementError):
            report.problem("leaf", f"leaf #{index}: not a canonical evidence statement", index=index)
            bad_leaves.add(index)
            continue
        if not columns_ok:
            report.problem("leaf", f"leaf #{index}: lookup columns differ from the statement", index=index)
            bad_leaves.add(index)
        if s["actor"]["commitment"]:
            commitments[index] = (s["actor"]["commitment"], s["record"]["model"])
        by_model[s["record"]["model"]].append((index, s["record"]["id"], s["digest"]["value"]))
    while expected < head.size:
        report.problem("leaf", f"leaf #{expected} is missing (deleted)", index=expected)
        bad_leaves.add(expected)
        level0.append(None)
        expected += 1

    # 2. Recompute every perfect node; compare with the stored ones.
    levels = [level0]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append(
            [
                hasher.node(prev[i], prev[i + 1]) if prev[i] is not None and prev[i + 1] is not None else None
                for i in range(0, len(prev) - 1, 2)
            ]
        )
    mismatched: dict[tuple[int, int], bytes] = {}
    seen_nodes = 0
    node_sql = (
        'SELECT "index", hash FROM ledger_node WHERE log_id = %s AND level = %s AND "index" > %s '
        'ORDER BY "index" LIMIT %s'
    )
    stored_levels = Node.objects.filter(log=head).values_list("level", flat=True).distinct()
    node_rows = (
        (level, index, h)
        for level in sorted(set(stored_levels))
        for index, h in _rows(node_sql, [head.pk, level])
    )
    for level, index, h in node_rows:
        h = bytes(h)
        seen_nodes += 1
        if level >= len(levels) or index >= len(levels[level]) or level == 0:
            report.problem(
                "node",
                f"node ({level}, {index}) should not exist at size {head.size}",
                level=level,
                index=index,
            )
            continue
        want = levels[level][index]
        if want is None:
            report.consequence(
                "node",
                f"node ({level}, {index}) cannot be recomputed (a leaf below is missing)",
                level=level,
                index=index,
            )
        elif want != h:
            mismatched[(level, index)] = h
    expected_nodes = sum(len(lv) for lv in levels[1:])
    if seen_nodes < expected_nodes:
        stored = _stored_node_keys(head)
        for level in range(1, len(levels)):
            for index in range(len(levels[level])):
                if (level, index) not in stored:
                    report.problem(
                        "node", f"node ({level}, {index}) is missing (deleted)", level=level, index=index
                    )
    _explain_nodes(report, hasher, levels, mismatched, bad_leaves)

    # 3. Head.
    root = _root_of(hasher, levels, head.size)
    edge = [levels[lv][i] for lv, i in merkle.perfect_nodes(0, head.size)]
    if root is not None and (bytes(head.root) != root or bytes(head.edge) != b"".join(e for e in edge if e)):
        if bad_leaves or mismatched:
            report.consequence("head", "head root differs from the tree recomputed from the leaves")
        else:
            report.problem(
                "head",
                "head root or right edge differs from the tree recomputed from the leaves (head altered)",
            )

    return levels, bad_leaves, mismatched, by_model, commitments


def _root_of(hasher: Hasher, levels, size: int) -> bytes | None:
    if size == 0:
        return hasher.empty_root()
    hashes = [levels[lv][i] for lv, i in merkle.perfect_nodes(0, size)]
    if any(h is None for h in hashes):
        return None
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hasher.node(h, acc)
    return acc


def _check_checkpoints(report: Report, head: Log, hasher: Hasher, levels, first_bad: int | None) -> None:
    """Signature, body = columns, root = recomputed, consistency with the previous one, cosignatures."""
    # 4. Checkpoints: signature, body = columns, root = recomputed, consistency, cosignatures.
    trusted = keys.trusted(head)
    previous: Checkpoint | None = None
    witnesses = {c.id: c for c in Cosignature.objects.filter(checkpoint__log=head).select_related("witness")}
    cosigs_by_cp: dict[int, list[Cosignature]] = defaultdict(list)
    for c in witnesses.values():
        cosigs_by_cp[c.checkpoint_id].append(c)
    for cp in Checkpoint.objects.filter(log=head).order_by("size"):
        report.checkpoints += 1
        label = f"checkpoint at size {cp.size} (id {cp.pk})"
        try:
            keys.signing_key(trusted, cp.note, cp.created_at, cp.size)
            parsed_note = note.parse_note(cp.note)
            body = note.parse_checkpoint(parsed_note.body)
        except note.NoteError as exc:
            report.problem(
                "checkpoint", f"{label}: signature or body invalid ({exc})", checkpoint=cp.pk, size=cp.size
            )
            continue
        if (body.origin, body.size, body.root) != (head.origin, cp.size, bytes(cp.root)):
            report.problem(
                "checkpoint",
                f"{label}: stored size or root differs from its signed body",
                checkpoint=cp.pk,
                size=cp.size,
            )
            continue
        if cp.size > head.size:
            report.problem(
                "checkpoint",
                f"{label} is larger than the log (size {head.size}): leaves were removed after it was signed",
                checkpoint=cp.pk,
                size=cp.size,
            )
            continue
        want = _root_of(hasher, levels, cp.size)
        if want != body.root:
            if first_bad is not None and first_bad < cp.size:
                report.consequence(
                    "checkpoint",
                    f"{label} no longer matches the recomputed tree",
                    checkpoint=cp.pk,
                    size=cp.size,
                )
            else:
                report.problem(
                    "checkpoint",
                    f"{label}: signed root differs from the recomputed tree",
                    checkpoint=cp.pk,
                    size=cp.size,
                )
            continue
        elif previous is not None and previous.size > 0:
            reader = _level_reader(levels)
            proof = merkle.consistency_proof(hasher, previous.size, cp.size, reader)
            try:
                merkle.verify_consistency(
                    hasher, previous.size, cp.size, bytes(previous.root), body.root, proof
                )
            except merkle.ProofError:
                report.problem(
                    "checkpoint",
                    f"{label} is not consistent with size {previous.size}",
                    checkpoint=cp.pk,
                    size=cp.size,
                )
        for cosig in cosigs_by_cp.get(cp.pk, []):
            try:
                sig = note.parse_note("x\n\n" + cosig.line + "\n").signatures[0]
                note.verify_cosignature(parsed_note.body, note.parse_verifier(cosig.witness.vkey), sig)
            except note.NoteError:
                report.problem(
                    "cosignature",
                    f"{label}: cosignature of {cosig.witness.name} does not verify",
                    checkpoint=cp.pk,
                    size=cp.size,
                    witness=cosig.witness.name,
                )
        previous = cp



def _check_salts(report: Report, head: Log, commitments: dict[int, tuple[str, str]]) -> None:
    """Actor commitments against their (not yet erased) salts."""
    from minsheng.ledger.services import actor_commitment

    # 5. Actor commitments against their (not yet erased) salts.
    salt_sql = (
        'SELECT l."index", s.salt, s.actor_id FROM ledger_actorsalt s JOIN ledger_leaf l ON l.id = s.leaf_id '
        'WHERE l.log_id = %s AND l."index" > %s ORDER BY l."index" LIMIT %s'
    )
    for index, salt, actor_id in _rows(salt_sql, [head.pk]):
        if index in commitments and actor_id is not None:
            if actor_commitment(head.hash_alg, bytes(salt), actor_id) != commitments[index][0]:
                report.problem("salt", f"leaf #{index}: actor salt or actor altered", index=index)



def _check_records(report: Report, head: Log, by_model: dict[str, list[tuple[int, str, str]]]) -> None:
    """Re-digest every referenced record of a registered type."""
    for model, refs in by_model.items():
        rtype = registry.get(model)
        if rtype is None:
            report.records_unregistered += len(refs)
            continue
        for start in range(0, len(refs), 1000):
            chunk = refs[start : start + 1000]
            found = registry.fetch(model, [rid for _i, rid, _d in chunk])
            for index, rid, digest in chunk:
                obj = found.get(rid)
                report.records_checked += 1
                if obj is None:
                    report.problem(
                        "record",
                        f"record {model} #{rid} (leaf #{index}) is missing (deleted)",
                        model=model,
                        id=rid,
                        index=index,
                    )
                    continue
                try:
                    now = registry.digest(obj, head.hash_alg)
                except OSError:
                    report.problem(
                        "record",
                        f"record {model} #{rid} (leaf #{index}): file missing",
                        model=model,
                        id=rid,
                        index=index,
                    )
                    continue
                if now != digest:
                    report.problem(
                        "record",
                        f"record {model} #{rid} (leaf #{index}) was altered after anchoring",
                        model=model,
                        id=rid,
                        index=index,
                    )


def _stored_node_keys(head: Log) -> set[tuple[int, int]]:
    return set(Node.objects.filter(log=head).values_list("level", "index"))


def _level_reader(levels: list[list[bytes | None]]):
    def read(nodes):
        return {(lv, i): levels[lv][i] for lv, i in nodes}

    return read


def _explain_nodes(
    report: Report,
    hasher: Hasher,
    levels: list[list[bytes | None]],
    mismatched: dict[tuple[int, int], bytes],
    bad_leaves: set[int],
) -> None:
    """Name what a node mismatch means: an altered node, two reordered leaves, or a consequence of a
    leaf problem already reported."""
    if not mismatched:
        return
    explained: set[tuple[int, int]] = set()
    # Reordered leaves: exchanging two leaf hashes makes their level-1 nodes match again.
    level1 = sorted(i for lv, i in mismatched if lv == 1)
    candidates = [leaf for i in level1 for leaf in (2 * i, 2 * i + 1) if leaf not in bad_leaves]
    if len(candidates) > 200:  # wholesale damage: pairing leaves up would not name anything useful
        candidates = []
    leaf_hashes = levels[0]
    for x in range(len(candidates)):
        for y in range(x + 1, len(candidates)):
            a, b = candidates[x], candidates[y]
            if (1, a // 2) in explained or (1, b // 2) in explained:
                continue
            swapped = dict.fromkeys((a, b))
            swapped[a], swapped[b] = leaf_hashes[b], leaf_hashes[a]

            def h(i: int, swapped: dict[int, bytes | None] = swapped) -> bytes | None:
                return swapped.get(i, leaf_hashes[i])

            ok = all(hasher.node(h(2 * n), h(2 * n + 1)) == mismatched[(1, n)] for n in {a // 2, b // 2})
            if ok:
                report.problem("leaf", f"leaves #{a} and #{b} were swapped (reordered)", index=a, other=b)
                bad_leaves.update((a, b))
                explained.update({(1, a // 2), (1, b // 2)})
    for (level, index), _h in sorted(mismatched.items()):
        lo, hi = index << level, (index + 1) << level
        if any(lo <= i < hi for i in bad_leaves):
            report.consequence(
                "node",
                f"node ({level}, {index}) differs because of a leaf below it",
                level=level,
                index=index,
            )
            continue
        below = [(level - 1, 2 * index), (level - 1, 2 * index + 1)]
        if level > 1 and any(b in mismatched for b in below):
            report.consequence(
                "node",
                f"node ({level}, {index}) differs because of a node below it",
                level=level,
                index=index,
            )
            continue
        report.problem("node", f"node ({level}, {index}) was altered", level=level, index=index)
