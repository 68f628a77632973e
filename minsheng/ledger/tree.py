"""The Merkle tree on the database: appends under the head lock, node reads for roots and proofs.

An append reads one row (the head, locked) and writes the leaf, the perfect nodes it completes
(amortised one) and the head. A root or proof for any size ≤ head reads O(log n) stored nodes.
Concurrent appenders from any number of processes queue on the head lock — `SELECT … FOR UPDATE`
on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the database's single write lock —
so indices are assigned without gaps or duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minsheng.ledger import canonical, merkle
from minsheng.ledger.merkle import Hasher, Node
from minsheng.ledger.models import ActorSalt, Leaf, Log
from minsheng.ledger.models import Node as NodeRow


def hasher_for(log: Log) -> Hasher:
    return Hasher(log.hash_alg)


def edge_hashes(log: Log, hasher: Hasher) -> list[bytes]:
    edge = bytes(log.edge)
    return [edge[i:i + hasher.size] for i in range(0, len(edge), hasher.size)]


@dataclass
class Pending:
    """One statement to append, with the salt behind its actor commitment."""

    statement: canonical.Statement
    salt: bytes | None = None
    actor_id: int | None = None


def append(log_id: int, items: list[Pending]) -> list[Leaf]:
    """Append statements in one transaction; a statement already in the log (same type, record and
    digest) is not appended again — its existing leaf is returned in its place."""
    with transaction.atomic():
        log = Log.objects.select_for_update().get(pk=log_id)
        hasher = hasher_for(log)
        # Checked under the lock, so two processes anchoring the same evidence cannot both append it.
        keys = {(p.statement.kind, p.statement.record_model, p.statement.record_id, p.statement.digest)
                for p in items}
        existing: dict[tuple[str, str, str, str], Leaf] = {}
        by_model: dict[str, set[str]] = defaultdict(set)
        for _kind, model, rid, _digest in keys:
            by_model[model].add(rid)
        for model, rids in by_model.items():
            ordered = sorted(rids)
            for start in range(0, len(ordered), 500):
                for leaf in Leaf.objects.filter(log_id=log.pk, record_model=model,
                                                record_id__in=ordered[start:start + 500]):
                    key = (leaf.kind, leaf.record_model, leaf.record_id, leaf.digest)
                    if key in keys:
                        existing[key] = leaf
        cr = merkle.CompactRange(hasher, log.size, edge_hashes(log, hasher))
        now = timezone.now()
        new_leaves: list[Leaf] = []
        nodes: list[NodeRow] = []
        salts: list[ActorSalt] = []
        out: list[Leaf] = []
        for p in items:
            s = p.statement
            key = (s.kind, s.record_model, s.record_id, s.digest)
            if key in existing:
                out.append(existing[key])
                continue
            data = canonical.statement_bytes(s)
            leaf_hash = hasher.leaf(data)
            leaf = Leaf(log_id=log.pk, index=cr.size, data=data, leaf_hash=leaf_hash, kind=s.kind,
                        project_code=s.project_code, record_model=s.record_model, record_id=s.record_id,
                        digest=s.digest, created_at=now)
            for level, index, h in cr.append(leaf_hash):
                nodes.append(NodeRow(log_id=log.pk, level=level, index=index, hash=h))
            existing[key] = leaf
            new_leaves.append(leaf)
            out.append(leaf)
            if p.salt is not None:
                salts.append(ActorSalt(leaf=leaf, salt=p.salt, actor_id=p.actor_id))
        if not new_leaves:
            return out
        Leaf.objects.bulk_create(new_leaves, batch_size=2000)
        NodeRow.objects.bulk_create(nodes, batch_size=2000)
        if salts:
            if new_leaves[0].pk is None:  # backends that do not return ids from bulk inserts
                ids = dict(Leaf.objects.filter(log_id=log.pk, index__gte=new_leaves[0].index)
                           .values_list("index", "pk"))
                for leaf in new_leaves:
                    leaf.pk = ids[leaf.index]
            for salt in salts:
                salt.leaf_id = salt.leaf.pk
            ActorSalt.objects.bulk_create(salts, batch_size=2000)
        Log.objects.filter(pk=log.pk).update(size=cr.size, root=cr.root(), edge=b"".join(cr.hashes),
                                             updated_at=now)
        return out


def node_reader(log: Log):
    """A `merkle.NodeReader` over the stored leaves and nodes of `log` (one query per kind)."""

    def read(nodes: list[Node]) -> dict[Node, bytes]:
        got: dict[Node, bytes] = {}
        leaves = [i for lv, i in nodes if lv == 0]
        if leaves:
            for index, h in Leaf.objects.filter(log_id=log.pk, index__in=leaves).values_list("index",
                                                                                            "leaf_hash"):
                got[(0, index)] = bytes(h)
        by_level: dict[int, list[int]] = defaultdict(list)
        for lv, i in nodes:
            if lv:
                by_level[lv].append(i)
        if by_level:
            flt = Q()
            for lv, idx in by_level.items():
                flt |= Q(level=lv, index__in=idx)
            for lv, index, h in NodeRow.objects.filter(flt, log_id=log.pk).values_list("level", "index", "hash"):
                got[(lv, index)] = bytes(h)
        return got

    return read


def root_at(log: Log, size: int) -> bytes:
    return merkle.root(hasher_for(log), size, node_reader(log))


def inclusion_proof(log: Log, index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(hasher_for(log), index, size, node_reader(log))


def consistency_proof(log: Log, first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(hasher_for(log), first, second, node_reader(log))
