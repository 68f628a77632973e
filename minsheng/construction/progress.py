"""Reported versus evidenced progress. Pure: no ORM, tested without a database.

Reported progress of a sub-item is the contractor's latest claim; evidenced progress is what a
supervisor or inspector confirmed on site. A project is flagged when the weighted gap exceeds the
jurisdiction's threshold, when claimed progress has no evidence at all, or when the newest evidence
is older than the allowed age at the time of the claim.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

NO_EVIDENCE = "no_evidence"
STALE_EVIDENCE = "stale_evidence"
GAP = "gap"


@dataclass(frozen=True)
class ItemInput:
    item_id: int
    label: str
    weight: Decimal
    reported: Decimal
    reported_on: dt.date | None  # date of the claim (report period end or last update)
    evidenced: Decimal | None  # None: nothing confirmed on site
    evidenced_on: dt.date | None


@dataclass(frozen=True)
class ItemGap:
    item_id: int
    label: str
    reported: Decimal
    evidenced: Decimal
    gap: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ProjectGap:
    reported: Decimal
    evidenced: Decimal
    gap: Decimal
    threshold: Decimal
    flagged: bool
    reasons: tuple[str, ...]
    items: list[ItemGap] = field(default_factory=list)


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"))


def item_gap(item: ItemInput, *, max_age_days: int) -> ItemGap:
    evidenced = item.evidenced if item.evidenced is not None else Decimal(0)
    reasons: list[str] = []
    if item.reported > 0 and item.evidenced is None:
        reasons.append(NO_EVIDENCE)
    elif (
        item.reported > evidenced
        and item.reported_on is not None
        and item.evidenced_on is not None
        and (item.reported_on - item.evidenced_on).days > max_age_days
    ):
        reasons.append(STALE_EVIDENCE)
    gap = max(item.reported - evidenced, Decimal(0))
    return ItemGap(item.item_id, item.label, _q(item.reported), _q(evidenced), _q(gap), tuple(reasons))


def project_gap(items: list[ItemInput], *, threshold: Decimal, max_age_days: int) -> ProjectGap:
    """Weighted project-level gap (percentage points) and why it is flagged."""
    gaps = [item_gap(i, max_age_days=max_age_days) for i in items]
    total = sum((i.weight for i in items), Decimal(0))
    if total <= 0:
        return ProjectGap(Decimal(0), Decimal(0), Decimal(0), threshold, False, (), gaps)
    reported = sum((i.weight * g.reported for i, g in zip(items, gaps, strict=True)), Decimal(0)) / total
    evidenced = sum((i.weight * g.evidenced for i, g in zip(items, gaps, strict=True)), Decimal(0)) / total
    gap = max(reported - evidenced, Decimal(0))
    reasons: list[str] = []
    if gap > threshold:
        reasons.append(GAP)
    for reason in (NO_EVIDENCE, STALE_EVIDENCE):
        if any(reason in g.reasons for g in gaps):
            reasons.append(reason)
    return ProjectGap(_q(reported), _q(evidenced), _q(gap), threshold, bool(reasons), tuple(reasons), gaps)
