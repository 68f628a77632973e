"""The 三率 and more, by department, division or month, computed by the database.

- 响应率 response rate: requests with a first contact / requests received;
- 按时办结率 on-time completion rate: closed within the closure budget / closed;
- 解决率 resolution rate: resolved at the return visit / return visits;
- 满意率 satisfaction rate: satisfaction 4 or 5 / return visits with a score;
- median hours to first contact and to closure (exact: PERCENTILE_CONT on PostgreSQL; on SQLite, which
  has no ordered-set aggregates, the exact median of the same durations is taken per group in Python).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from minsheng.feedback.models import CitizenRequest

TZ = ZoneInfo("Asia/Shanghai")
GROUPS = {
    "department": ("owner_id", "owner__name"),
    "division": ("division_id", "division__name"),
    "month": ("month", "month"),
}


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _span(end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F("created_at"), output_field=DurationField())


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def _hours(value: dt.timedelta | float | None) -> Decimal | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return Decimal(seconds / 3600).quantize(Decimal("0.1"))


def metrics(qs: QuerySet[CitizenRequest], group: str) -> list[dict[str, Any]]:
    """One row per group with counts, rates (percent, 1 decimal) and medians (hours, 1 decimal)."""
    key, label = GROUPS[group]
    base = qs.filter(merged_into__isnull=True).order_by()  # a merged duplicate counts once, as its case
    if group == "month":
        base = base.annotate(month=TruncMonth("created_at", tzinfo=TZ))
    values = [key] if key == label else [key, label]
    counts = base.values(*values).annotate(
        total=Count("id"),
        responded=Count("id", filter=Q(first_contact_at__isnull=False)),
        closed=Count("id", filter=Q(closed_at__isnull=False)),
        on_time=Count("id", filter=Q(closed_on_time=True)),
        visited=Count("id", filter=Q(resolved__isnull=False)),
        resolved_n=Count("id", filter=Q(resolved=True)),
        scored=Count("id", filter=Q(satisfaction__isnull=False)),
        satisfied=Count("id", filter=Q(satisfaction__gte=4)),
    )
    medians: dict[Any, dict[str, Any]] = defaultdict(dict)
    if connection.vendor == "postgresql":
        for phase, end in (("contact", "first_contact_at"), ("closure", "closed_at")):
            for row in base.filter(**{f"{end}__isnull": False}).values(key).annotate(m=Median(_span(end))):
                medians[row[key]][phase] = row["m"]
    else:
        for phase, end in (("contact", "first_contact_at"), ("closure", "closed_at")):
            spans: dict[Any, list[float]] = defaultdict(list)
            for k, start, stop in base.filter(**{f"{end}__isnull": False}).values_list(key, "created_at", end):
                spans[k].append((stop - start).total_seconds())
            for k, values_ in spans.items():
                medians[k][phase] = statistics.median(values_)
    rows = []
    for r in counts:
        k = r[key]
        rows.append({
            "key": k,
            "label": k.astimezone(TZ).strftime("%Y-%m") if group == "month" and k else r[label],
            "total": r["total"],
            "response_rate": _rate(r["responded"], r["total"]),
            "on_time_rate": _rate(r["on_time"], r["closed"]),
            "resolution_rate": _rate(r["resolved_n"], r["visited"]),
            "satisfaction_rate": _rate(r["satisfied"], r["scored"]),
            "median_contact_hours": _hours(medians[k].get("contact")),
            "median_closure_hours": _hours(medians[k].get("closure")),
        })
    return sorted(rows, key=lambda row: str(row["label"]))


COLUMNS = [
    ("label", _("分组")), ("total", _("受理量")), ("response_rate", _("响应率（%）")),
    ("on_time_rate", _("按时办结率（%）")),
    ("resolution_rate", _("解决率（%）")), ("satisfaction_rate", _("满意率（%）")),
    ("median_contact_hours", _("首次联系用时中位数（小时）")),
    ("median_closure_hours", _("办结用时中位数（小时）")),
]
