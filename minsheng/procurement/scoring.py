"""Bid evaluation arithmetic, with no ORM: price score, total, ranking.

Rated criteria (综合评估法): the lowest valid price earns the full price points,
price_score = price_weight × lowest / price; the technical score is the mean of the experts' scores
(out of 100 − price_weight); total = price + technical; rank by total, then by price, then by who
submitted first. Price only (经评审的最低投标价法): rank by price, then by submission.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

TWO = Decimal("0.01")


@dataclass
class Entry:
    bid_id: int
    price: Decimal
    submitted_at: dt.datetime
    technical_scores: list[Decimal] = field(default_factory=list)
    price_score: Decimal | None = None
    technical_score: Decimal | None = None
    total_score: Decimal | None = None
    rank: int | None = None


def price_score(price: Decimal, lowest: Decimal, weight: int) -> Decimal:
    return (Decimal(weight) * lowest / price).quantize(TWO, rounding=ROUND_HALF_UP)


def mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(TWO, rounding=ROUND_HALF_UP)


def rank(entries: list[Entry], *, criteria: str, price_weight: int) -> list[Entry]:
    """Fill in scores and ranks of the valid entries; returns them best first."""
    if not entries:
        return []
    if criteria == "priceOnly":
        ordered = sorted(entries, key=lambda e: (e.price, e.submitted_at, e.bid_id))
    else:
        lowest = min(e.price for e in entries)
        for e in entries:
            e.price_score = price_score(e.price, lowest, price_weight)
            e.technical_score = mean(e.technical_scores) if e.technical_scores else Decimal("0.00")
            e.total_score = e.price_score + e.technical_score
        ordered = sorted(entries, key=lambda e: (-e.total_score, e.price, e.submitted_at, e.bid_id))  # type: ignore[operator]
    for i, e in enumerate(ordered, start=1):
        e.rank = i
    return ordered
