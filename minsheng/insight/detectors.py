"""Red-flag detectors as pure functions over plain values (no ORM): each returns the findings it sees.

Thresholds arrive as a `Rules` built from the jurisdiction rules `insight.redflags`, `procurement.must_tender_from`,
`procurement.min_submission_days` and `procurement.variation_share`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from minsheng.insight.models import FlagKind, Severity

BENFORD = [math.log10(1 + 1 / d) for d in range(1, 10)]


@dataclass(frozen=True)
class Rules:
    min_submission_days: dict[str, int]
    close_to_winner_ratio: Decimal
    heavy_discount_ratio: Decimal
    award_contract_change_ratio: Decimal
    variation_warn: Decimal
    variation_high: Decimal
    must_tender: dict[str, Decimal]
    split_low: Decimal
    split_high: Decimal
    split_nearby_days: int
    benford_min_count: int
    benford_bands: tuple[Decimal, Decimal, Decimal]

    @classmethod
    def from_values(cls, flags: dict[str, Any], must_tender: dict[str, Any], min_days: dict[str, Any],
                    variation: dict[str, Any]) -> Rules:
        low, high = flags["split_band"]
        bands = flags["benford_bands"]
        return cls(
            min_submission_days={k: int(v) for k, v in min_days.items()},
            close_to_winner_ratio=Decimal(str(flags["close_to_winner_ratio"])),
            heavy_discount_ratio=Decimal(str(flags["heavy_discount_ratio"])),
            award_contract_change_ratio=Decimal(str(flags["award_contract_change_ratio"])),
            variation_warn=Decimal(str(variation["warn"])),
            variation_high=Decimal(str(variation["higher_approval"])),
            must_tender={k: Decimal(str(v)) for k, v in must_tender.items()},
            split_low=Decimal(str(low)),
            split_high=Decimal(str(high)),
            split_nearby_days=int(flags["split_nearby_days"]),
            benford_min_count=int(flags["benford_min_count"]),
            benford_bands=(Decimal(str(bands[0])), Decimal(str(bands[1])), Decimal(str(bands[2]))),
        )


@dataclass
class Finding:
    kind: str
    severity: str
    subject_type: str
    subject_id: int
    figures: dict[str, Any] = field(default_factory=dict)


def _pct(x: Decimal | float) -> str:
    return f"{Decimal(str(x)) * 100:.1f}"


def _money(x: Decimal | None) -> str:
    return f"{x:,.2f}" if x is not None else "-"


# ---- tenders -------------------------------------------------------------------------------------------------------


@dataclass
class BidRow:
    id: int
    supplier: str
    price: Decimal | None
    status: str
    submitted_at: dt.datetime


@dataclass
class TenderRow:
    id: int
    method: str
    award_criteria: str
    value: Decimal
    published_at: dt.datetime | None
    submission_start: dt.datetime | None
    submission_deadline: dt.datetime | None
    opened: bool
    winner_bid_id: int | None


LIVE_EXCLUDED = {"withdrawn"}
OUT = {"disqualified", "tampered"}


def tender_findings(t: TenderRow, bids: Sequence[BidRow], rules: Rules) -> list[Finding]:
    found: list[Finding] = []
    subject = ("procurement.tender", t.id)

    def add(kind: str, severity: str, **figures: Any) -> None:
        found.append(Finding(kind, severity, *subject, figures))

    start = t.submission_start or t.published_at
    minimum = rules.min_submission_days.get(t.method, 0)
    if start and t.submission_deadline and minimum:
        days = (t.submission_deadline - start).total_seconds() / 86400
        if days < minimum:
            add(FlagKind.SHORT_PERIOD, Severity.HIGH if days < minimum / 2 else Severity.MEDIUM,
                days=round(days, 1), minimum=minimum)

    for b in bids:
        if b.status == "tampered":
            found.append(Finding(FlagKind.TAMPERED_BID, Severity.HIGH, "procurement.bid", b.id,
                                 {"supplier": b.supplier, "tender_id": t.id}))
    if not t.opened:
        return found
    live = [b for b in bids if b.status not in LIVE_EXCLUDED]
    if len(live) == 1 and t.method != "single_source":
        add(FlagKind.SINGLE_BID, Severity.HIGH if t.method == "open" else Severity.MEDIUM, supplier=live[0].supplier)

    priced = [b for b in live if b.price is not None and b.status != "tampered"]
    by_price: dict[Decimal, list[BidRow]] = defaultdict(list)
    for b in priced:
        by_price[b.price].append(b)
    same = {p: g for p, g in by_price.items() if len(g) > 1}
    if same:
        price, group = max(same.items(), key=lambda kv: len(kv[1]))
        add(FlagKind.IDENTICAL_PRICES, Severity.HIGH, price=_money(price), count=len(group),
            suppliers="、".join(b.supplier for b in group))

    winner = next((b for b in bids if b.id == t.winner_bid_id), None)
    if winner is not None and winner.price:
        close = [b for b in priced if b.id != winner.id and b.price != winner.price
                 and abs(b.price - winner.price) / winner.price <= rules.close_to_winner_ratio]
        if close:
            nearest = min(close, key=lambda b: abs(b.price - winner.price))
            add(FlagKind.CLOSE_TO_WINNER, Severity.MEDIUM if len(close) > 1 else Severity.LOW,
                count=len(close), winner=_money(winner.price), nearest=_money(nearest.price),
                gap=_pct(abs(nearest.price - winner.price) / winner.price), limit=_pct(rules.close_to_winner_ratio))
    if winner is not None and t.submission_deadline and winner.submitted_at > t.submission_deadline:
        late = (winner.submitted_at - t.submission_deadline).total_seconds() / 60
        add(FlagKind.LATE_BID_WON, Severity.HIGH, supplier=winner.supplier, minutes=round(late))
    if winner is not None:
        others = [b for b in live if b.id != winner.id]
        if len(others) >= 1 and all(b.status in OUT for b in others):
            add(FlagKind.OTHERS_DISQUALIFIED, Severity.HIGH, count=len(others), supplier=winner.supplier)
    if t.award_criteria == "priceOnly":
        candidates = [b for b in bids if b.status not in LIVE_EXCLUDED and b.price is not None]
        if candidates:
            lowest = min(candidates, key=lambda b: (b.price, b.id))
            if lowest.status == "disqualified":
                add(FlagKind.LOWEST_DISQUALIFIED, Severity.MEDIUM, supplier=lowest.supplier,
                    price=_money(lowest.price), winner=_money(winner.price if winner else None))
    if t.value:
        cheap = [b for b in priced if (t.value - b.price) / t.value > rules.heavy_discount_ratio]
        if cheap:
            deepest = min(cheap, key=lambda b: b.price)
            won = winner is not None and any(b.id == winner.id for b in cheap)
            add(FlagKind.HEAVY_DISCOUNT, Severity.MEDIUM if won else Severity.LOW, count=len(cheap),
                price=_money(deepest.price), cap=_money(t.value), discount=_pct((t.value - deepest.price) / t.value),
                limit=_pct(rules.heavy_discount_ratio), winner=won)
    return found


# ---- contracts -----------------------------------------------------------------------------------------------------


@dataclass
class ContractRow:
    id: int
    number: str
    value: Decimal
    award_value: Decimal | None
    variation_count: int = 0
    variation_total: Decimal = Decimal(0)  # approved change orders, net


def contract_findings(c: ContractRow, rules: Rules) -> list[Finding]:
    found: list[Finding] = []
    if c.award_value:
        change = (c.value - c.award_value) / c.award_value
        if abs(change) > rules.award_contract_change_ratio:
            severity = Severity.HIGH if abs(change) > 2 * rules.award_contract_change_ratio else Severity.MEDIUM
            found.append(Finding(FlagKind.AWARD_CONTRACT_CHANGE, severity, "procurement.contract", c.id,
                                 {"award": _money(c.award_value), "contract": _money(c.value), "change": _pct(change),
                                  "limit": _pct(rules.award_contract_change_ratio)}))
    if c.variation_count:
        total = c.variation_total
        share = abs(total) / c.value if c.value else Decimal(0)
        severity = (Severity.HIGH if share > rules.variation_high else
                    Severity.MEDIUM if share > rules.variation_warn else Severity.LOW)
        found.append(Finding(FlagKind.CHANGE_ORDERS, severity, "procurement.contract", c.id,
                             {"count": c.variation_count, "total": _money(total), "share": _pct(share)}))
    return found


@dataclass
class PurchaseRow:
    """A contract signed without competition (no tender, or negotiation / single source)."""

    id: int
    number: str
    supplier_id: int
    supplier: str
    buyer_id: int
    category: str  # "" when unknown (no tender)
    value: Decimal
    signed_on: dt.date


def _threshold_near(p: PurchaseRow, rules: Rules) -> tuple[str, Decimal] | None:
    cats = [p.category] if p.category in rules.must_tender else list(rules.must_tender)
    for cat in cats:
        limit = rules.must_tender[cat]
        if limit * rules.split_low <= p.value < limit * rules.split_high:
            return cat, limit
    return None


def _below(p: PurchaseRow, rules: Rules) -> Decimal | None:
    """The must-tender threshold this purchase stays under (the category's, or the smallest above it)."""
    if p.category in rules.must_tender:
        limit = rules.must_tender[p.category]
        return limit if p.value < limit else None
    above = [v for v in rules.must_tender.values() if p.value < v]
    return min(above) if above else None


_NUMBER = re.compile(r"^(.*?)(\d+)$")


def split_findings(purchases: Iterable[PurchaseRow], rules: Rules) -> list[Finding]:
    """化整为零: near-threshold amounts; the same supplier and buyer on nearby days adding up past a threshold;
    consecutive contract numbers in one category and buyer adding up past a threshold."""
    rows = list(purchases)
    found: list[Finding] = []
    for p in rows:
        near = _threshold_near(p, rules)
        if near:
            cat, limit = near
            found.append(Finding(FlagKind.SPLIT_NEAR_THRESHOLD, Severity.MEDIUM, "procurement.contract", p.id,
                                 {"value": _money(p.value), "threshold": _money(limit), "share": _pct(p.value / limit),
                                  "category": cat}))
    # Same supplier and buyer within `split_nearby_days`: a sliding window over each pair's purchases by date.
    groups: dict[tuple[int, int], list[PurchaseRow]] = defaultdict(list)
    for p in rows:
        if _below(p, rules) is not None:
            groups[(p.supplier_id, p.buyer_id)].append(p)
    window = dt.timedelta(days=rules.split_nearby_days)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda p: (p.signed_on, p.id))
        for p in group:
            near = [q for q in group if abs(q.signed_on - p.signed_on) <= window]
            total = sum((q.value for q in near), Decimal(0))
            limit = min(_below(q, rules) or Decimal(0) for q in near)
            if len(near) > 1 and total >= limit:
                found.append(Finding(FlagKind.SPLIT_SAME_SUPPLIER, Severity.HIGH, "procurement.contract", p.id,
                                     {"supplier": p.supplier, "count": len(near), "total": _money(total),
                                      "threshold": _money(limit), "days": rules.split_nearby_days,
                                      "numbers": "、".join(q.number for q in near)}))
    # Consecutive numbers (same prefix, numeric suffix +1) in one category and buyer.
    series: dict[tuple[int, str, str], list[tuple[int, PurchaseRow]]] = defaultdict(list)
    for p in rows:
        m = _NUMBER.match(p.number)
        if m and _below(p, rules) is not None:
            series[(p.buyer_id, p.category, m.group(1))].append((int(m.group(2)), p))
    for items in series.values():
        items.sort(key=lambda x: x[0])
        run: list[tuple[int, PurchaseRow]] = []
        for item in [*items, (None, None)]:
            if run and item[0] is not None and item[0] == run[-1][0] + 1:
                run.append(item)
                continue
            if len(run) > 1:
                members = [p for _, p in run]
                total = sum((p.value for p in members), Decimal(0))
                limit = min(_below(p, rules) or Decimal(0) for p in members)
                if total >= limit:
                    for p in members:
                        found.append(Finding(FlagKind.SPLIT_SEQUENTIAL, Severity.MEDIUM, "procurement.contract", p.id,
                                             {"count": len(members), "total": _money(total),
                                              "threshold": _money(limit),
                                              "numbers": "、".join(q.number for q in members)}))
            run = [item] if item[0] is not None else []
    return found


# ---- Benford -------------------------------------------------------------------------------------------------------


def benford_mad(counts: dict[int, int]) -> tuple[float, int]:
    """Mean absolute deviation of first-digit shares from Benford's law, and the number of amounts."""
    n = sum(counts.get(d, 0) for d in range(1, 10))
    if n == 0:
        return 0.0, 0
    mad = sum(abs(counts.get(d, 0) / n - BENFORD[d - 1]) for d in range(1, 10)) / 9
    return mad, n


def benford_band(mad: float, rules: Rules) -> str:
    close, acceptable, marginal = (float(b) for b in rules.benford_bands)
    if mad < close:
        return "close"
    if mad < acceptable:
        return "acceptable"
    if mad <= marginal:
        return "marginal"
    return "nonconforming"


def benford_finding(kind: str, subject_type: str, subject_id: int, counts: dict[int, int],
                    rules: Rules) -> Finding | None:
    mad, n = benford_mad(counts)
    if n < rules.benford_min_count:
        return None
    band = benford_band(mad, rules)
    if band not in ("marginal", "nonconforming"):
        return None
    severity = Severity.MEDIUM if band == "nonconforming" else Severity.LOW
    shares = {str(d): round(counts.get(d, 0) / n, 4) for d in range(1, 10)}
    return Finding(kind, severity, subject_type, subject_id,
                   {"n": n, "mad": f"{mad:.4f}", "band": band, "shares": shares})
