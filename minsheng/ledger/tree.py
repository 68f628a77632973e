"""The Merkle tree on the database: appends under the head lock, node reads for roots and proofs.

An append reads one row (the head, locked) and writes the leaf, the perfect nodes it completes
(amortised one) and the head. A root or proof for any size ≤ head reads O(log n) stored nodes.
Concurrent appenders from any number of processes queue on the head lock — `SELECT … FOR UPDATE`
on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the database's single write lock —
so indices are assigned without gaps or duplicates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from minsheng.ledger import canonical, merkle
from minsheng.ledger.merkle import Hasher, Node
from minsheng.ledger.models import ActorSalt, Leaf, Log

log = logging.getLogger(__name__)

LEAF_FIELDS = ("id", "log_id", "index", "data", "leaf_hash", "kind", "project_code", "record_model", "record_id",
               "digest", "created_at")
assert tuple(f.attname for f in Leaf._meta.concrete_fields) == LEAF_FIELDS, "Leaf fields changed: update _append"


def hasher_for(log: Log) -> Hasher:
    return Hasher(log.hash_alg)


def edge_hashes(log: Log, hasher: Hasher) -> list[bytes]:
    edge = bytes(log.edge)
    return [edge[i : i + hasher.size] for i in range(0, len(edge), hasher.size)]


@dataclass
class Pending:
    """One statement to append, with the salt behind its actor commitment. Built only by
    `services._pending`, which has validated the statement (an append does not validate it again)."""

    statement: canonical.Statement
    salt: bytes | None = None
    actor_id: int | None = None


SQLITE_LOCK_RETRIES = 5


def append(log_id: int, items: list[Pending]) -> list[Leaf]:
    """Append statements in one transaction; a statement already in the log (same type, record and
    digest) is not appended again — its existing leaf is returned in its place.

    On SQLite, several processes appending big batches can keep a writer waiting past the busy
    timeout ("database is locked", raised at BEGIN IMMEDIATE or inside a transaction that is then
    rolled back whole). When this call owns the transaction it is retried: nothing was written."""
    outermost = not connection.in_atomic_block
    for attempt in range(SQLITE_LOCK_RETRIES + 1):
        try:
            return _append(log_id, items)
        except OperationalError as exc:
            retry = (outermost and connection.vendor == "sqlite" and "locked" in str(exc)
                     and attempt < SQLITE_LOCK_RETRIES)
            if not retry:
                raise
            log.warning("ledger: SQLite write lock busy, retrying append (%d)", attempt + 1)
    raise AssertionError("unreachable")


def _append(log_id: int, items: list[Pending]) -> list[Leaf]:
    with transaction.atomic():
        log = Log.objects.select_for_update().get(pk=log_id)
        hasher = hasher_for(log)
        # Checked under the lock, so two processes anchoring the same evidence cannot both append it.
        keys = {
            (p.statement.kind, p.statement.record_model, p.statement.record_id, p.statement.digest)
            for p in items
        }
        existing: dict[tuple[str, str, str, str], Leaf] = {}
        ordered = sorted(keys)
        if connection.vendor == "postgresql" and ordered:
            # Four array parameters instead of 4 × n placeholders: psycopg spends longer converting a
            # long VALUES list than PostgreSQL spends on the join. A LATERAL probe per key, so the plan is
            # one unique-index lookup per statement whatever the statistics say: without a recent
            # ANALYZE the planner hashed the whole log instead (0.8 s per batch at 400,000 leaves).
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT f.id FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
                    "AS v(kind, record_model, record_id, digest) CROSS JOIN LATERAL (SELECT l.id FROM ledger_leaf l "
                    "WHERE l.log_id = %s AND l.record_model = v.record_model AND l.record_id = v.record_id "
                    "AND l.kind = v.kind AND l.digest = v.digest LIMIT 1) f",
                    [[k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered],
                     [k[3] for k in ordered], log.pk],
                )
                ids = [row[0] for row in cur.fetchall()]
            for leaf in Leaf.objects.filter(pk__in=ids) if ids else ():
                existing[(leaf.kind, leaf.record_model, leaf.record_id, leaf.digest)] = leaf
            ordered = []
        for start in range(0, len(ordered), 400):
            chunk = ordered[start : start + 400]
            # An equality join on the full unique key: one index probe per statement, whatever the
            # planner's statistics say (an IN list on record ids degraded to scans on PostgreSQL).
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            sql = (
                "WITH v(kind, record_model, record_id, digest) AS (VALUES " + values + ") "  # noqa: S608
                "SELECT l.id FROM ledger_leaf l JOIN v ON l.log_id = %s AND l.kind = v.kind "
                "AND l.record_model = v.record_model AND l.record_id = v.record_id AND l.digest = v.digest"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [x for key in chunk for x in key] + [log.pk])
                ids = [row[0] for row in cur.fetchall()]
            for leaf in Leaf.objects.filter(pk__in=ids) if ids else ():
                existing[(leaf.kind, leaf.record_model, leaf.record_id, leaf.digest)] = leaf
        cr = merkle.CompactRange(hasher, log.size, edge_hashes(log, hasher))
        now = timezone.now()
        new_leaves: list[Leaf] = []
        nodes: list[tuple[int, int, int, bytes]] = []
        salts: list[ActorSalt] = []
        out: list[Leaf] = []
        for p in items:
            s = p.statement
            key = (s.kind, s.record_model, s.record_id, s.digest)
            if key in existing:
                out.append(existing[key])
                continue
            data = canonical.statement_json(s.as_dict())
            leaf_hash = hasher.leaf(data)
            # Positional, in LEAF_FIELDS order: keyword construction cost more than the database insert.
            leaf = Leaf(None, log.pk, cr.size, data, leaf_hash, s.kind, s.project_code, s.record_model, s.record_id,
                        s.digest, now)
            for level, index, h in cr.append(leaf_hash):
                nodes.append((log.pk, level, index, h))
            existing[key] = leaf
            new_leaves.append(leaf)
            out.append(leaf)
            if p.salt is not None:
                salts.append(ActorSalt(leaf=leaf, salt=p.salt, actor_id=p.actor_id))
        if not new_leaves:
            return out
        created = connection.ops.adapt_datetimefield_value(now)
        if connection.vendor == "postgresql":
            _copy_rows(log.pk, new_leaves, nodes, created)
        else:
            _insert_rows(log.pk, new_leaves, nodes, created)
        ids = dict(
            Leaf.objects.filter(log_id=log.pk, index__gte=new_leaves[0].index)
            .order_by()
            .values_list("index", "pk")
        )
        for leaf in new_leaves:
            leaf.pk = ids[leaf.index]
            leaf._state.adding = False
        if salts:
            for salt in salts:
                salt.leaf_id = salt.leaf.pk
            ActorSalt.objects.bulk_create(salts, batch_size=2000)
        Log.objects.filter(pk=log.pk).update(
            size=cr.size, root=cr.root(), edge=b"".join(cr.hashes), updated_at=now
        )
        return out


def _insert_rows(log_id: int, new_leaves: list[Leaf], nodes: list[tuple[int, int, int, bytes]], created) -> None:
    # Plain executemany: the ORM's bulk_create spends more time preparing values than the
    # database spends inserting them (see docs/performance.md).
    with connection.cursor() as cur:
        cur.executemany(
            'INSERT INTO ledger_leaf (log_id, "index", data, leaf_hash, kind, project_code, '
            "record_model, record_id, digest, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    log_id,
                    leaf.index,
                    leaf.data,
                    leaf.leaf_hash,
                    leaf.kind,
                    leaf.project_code,
                    leaf.record_model,
                    leaf.record_id,
                    leaf.digest,
                    created,
                )
                for leaf in new_leaves
            ],
        )
        if nodes:
            cur.executemany(
                'INSERT INTO ledger_node (log_id, level, "index", hash) VALUES (%s, %s, %s, %s)', nodes
            )


def _copy_rows(log_id: int, new_leaves: list[Leaf], nodes: list[tuple[int, int, int, bytes]], created) -> None:
    """PostgreSQL: COPY the rows in, several times faster than a pipelined executemany of INSERTs."""
    with connection.cursor() as cur:
        raw = cur.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(
            'COPY ledger_leaf (log_id, "index", data, leaf_hash, kind, project_code, record_model, record_id, '
            "digest, created_at) FROM STDIN"
        ) as copy:
            for leaf in new_leaves:
                copy.write_row((log_id, leaf.index, leaf.data, leaf.leaf_hash, leaf.kind, leaf.project_code,
                                leaf.record_model, leaf.record_id, leaf.digest, created))
        if nodes:
            with raw.copy('COPY ledger_node (log_id, level, "index", hash) FROM STDIN') as copy:
                for row in nodes:
                    copy.write_row(row)


def read_nodes(log: Log, nodes: list[Node]) -> dict[Node, bytes]:
    """Stored hashes of perfect nodes in one round trip (level 0 from the leaves): array joins on
    PostgreSQL, a UNION ALL of index probes on SQLite."""
    if not nodes:
        return {}
    if connection.vendor == "postgresql":
        # Two array lookups plan in a fraction of the time a long UNION ALL takes on PostgreSQL.
        levels = [lv for lv, _i in nodes if lv]
        indices = [i for lv, i in nodes if lv]
        leaves = [i for lv, i in nodes if lv == 0]
        with connection.cursor() as cur:
            cur.execute(
                'SELECT n.level, n."index", n.hash FROM ledger_node n '
                "JOIN unnest(%s::int[], %s::bigint[]) AS k(level, idx) "
                'ON n.log_id = %s AND n.level = k.level AND n."index" = k.idx '
                'UNION ALL SELECT 0, l."index", l.leaf_hash FROM ledger_leaf l '
                'WHERE l.log_id = %s AND l."index" = ANY(%s::bigint[])',
                [levels, indices, log.pk, log.pk, leaves],
            )
            return {(level, index): bytes(h) for level, index, h in cur.fetchall()}
    parts, params = [], []
    for level, index in nodes:
        if level == 0:
            parts.append('SELECT 0, "index", leaf_hash FROM ledger_leaf WHERE log_id = %s AND "index" = %s')
            params += [log.pk, index]
        else:
            parts.append(
                'SELECT level, "index", hash FROM ledger_node WHERE log_id = %s AND level = %s '
                'AND "index" = %s'
            )
            params += [log.pk, level, index]
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(parts), params)
        return {(level, index): bytes(h) for level, index, h in cur.fetchall()}


def node_reader(log: Log):
    """A `merkle.NodeReader` over the stored leaves and nodes of `log`."""

    def read(nodes: list[Node]) -> dict[Node, bytes]:
        return read_nodes(log, nodes)

    return read


def _prefetching_reader(log: Log, ranges: list[tuple[int, int]]):
    """Read every node the given ranges need in one query, then serve from memory."""
    wanted = sorted({n for a, b in ranges for n in merkle.perfect_nodes(a, b)})
    got = read_nodes(log, wanted)

    def read(nodes: list[Node]) -> dict[Node, bytes]:
        missing = [n for n in nodes if n not in got]
        if missing:
            got.update(read_nodes(log, missing))
        return {n: got[n] for n in nodes if n in got}

    return read


def inclusion_with_root(log: Log, index: int, size: int) -> tuple[list[bytes], bytes, bytes | None]:
    """An inclusion proof, the root it leads to and the leaf's own hash (None if it is missing),
    from one database round trip."""
    hasher = hasher_for(log)
    read = _prefetching_reader(log, [*merkle.inclusion_ranges(index, size), (0, size), (index, index + 1)])
    leaf = read([(0, index)]).get((0, index))
    return merkle.inclusion_proof(hasher, index, size, read), merkle.root(hasher, size, read), leaf


def consistency_with_roots(log: Log, first: int, second: int) -> tuple[list[bytes], bytes, bytes]:
    """A consistency proof and both roots, from one database round trip."""
    hasher = hasher_for(log)
    read = _prefetching_reader(log, [*merkle.consistency_ranges(first, second), (0, first), (0, second)])
    return (
        merkle.consistency_proof(hasher, first, second, read),
        merkle.root(hasher, first, read),
        merkle.root(hasher, second, read),
    )


def root_at(log: Log, size: int) -> bytes:
    return merkle.root(hasher_for(log), size, node_reader(log))


def inclusion_proof(log: Log, index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(hasher_for(log), index, size, node_reader(log))


def consistency_proof(log: Log, first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(hasher_for(log), first, second, node_reader(log))
