"""Weighted roll-up of a responsibility checklist. Pure: no ORM.

Leaves carry progress (0–100) and a weight; a parent's progress is the weighted mean of its
children; the project's progress is the weighted mean of the top-level items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    weight: Decimal
    progress: Decimal


def rollup(nodes: list[Node]) -> tuple[Decimal, dict[int, Decimal]]:
    """Return (project progress, progress per node id), each rounded to 0.1."""
    children: dict[int | None, list[Node]] = defaultdict(list)
    ids = {n.id for n in nodes}
    for n in nodes:
        # An item whose parent is missing counts as top-level rather than vanishing from the total.
        children[n.parent_id if n.parent_id in ids else None].append(n)
    memo: dict[int, Decimal] = {}

    def value(node: Node) -> Decimal:
        if node.id in memo:
            return memo[node.id]
        kids = children.get(node.id, [])
        memo[node.id] = weighted(kids) if kids else max(Decimal(0), min(HUNDRED, node.progress))
        return memo[node.id]

    def weighted(items: list[Node]) -> Decimal:
        total_w = sum((i.weight for i in items), Decimal(0))
        if total_w <= 0:
            return Decimal(0)
        return sum((i.weight * value(i) for i in items), Decimal(0)) / total_w

    total = weighted(children.get(None, []))
    q = Decimal("0.1")
    return total.quantize(q, ROUND_HALF_UP), {k: v.quantize(q, ROUND_HALF_UP) for k, v in memo.items()}
