"""The 三率 and more, by department, division or month.

- 响应率 response rate: requests with a first contact / requests received;
- 按时办结率 on-time completion rate: closed within the closure budget / closed;
- 解决率 resolution rate: resolved at the return visit / return visits;
- 满意率 satisfaction rate: satisfaction 4 or 5 / return visits with a score;
- median hours to first contact and to closure, exact (the middle value, or the mean of the two middle
  values, of the durations in microseconds; rounded to 0.1 h only for display).

Two ways to the same numbers:

- `metrics_for(user, group)`, the console page: for the scopes that cover many requests (everything, a
  division's subtree) it reads the pre-aggregated tables kept by database triggers (migration 0007):
  counts from `RequestTally` (per month, division and owner unit), and each group's median by walking the
  partial index of `RequestSpan` on (group, duration) to the middle rank, which the tally gives — an
  exact order statistic, not a histogram estimate. A department officer's scope (own, first-received,
  transferred and coordinated requests) is small and not expressible in the tally: it is aggregated
  directly.
- `metrics(qs, group)`: any queryset, aggregated directly (counts in SQL, medians in Python).

Why this design, and what it costs, is in docs/performance.md ("Citizen requests").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Role
from minsheng.core.models import Department, Division
from minsheng.feedback.models import CitizenRequest, RequestSpan, RequestTally

TZ = ZoneInfo("Asia/Shanghai")
GROUPS = {
    "department": ("owner_id", "owner__name"),
    "division": ("division_id", "division__name"),
    "month": ("month", "month"),
}
COUNTS = ("total", "responded", "closed", "on_time", "visited", "resolved_n", "scored", "satisfied")
US_PER_HOUR = Decimal(3_600_000_000)
BRANCHES = 200  # SQLite allows 500 terms in a compound SELECT


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def hours(median_us: Decimal | int | float | None) -> Decimal | None:
    """An exact median in microseconds (possibly x.5) → hours, 1 decimal."""
    if median_us is None:
        return None
    return (Decimal(median_us) / US_PER_HOUR).quantize(Decimal("0.1"))


def _us(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _row(k: Any, label: Any, c: dict[str, int], contact: Any, closure: Any) -> dict[str, Any]:
    return {
        "key": k,
        "label": label,
        "total": c["total"],
        "response_rate": _rate(c["responded"], c["total"]),
        "on_time_rate": _rate(c["on_time"], c["closed"]),
        "resolution_rate": _rate(c["resolved_n"], c["visited"]),
        "satisfaction_rate": _rate(c["satisfied"], c["scored"]),
        "median_contact_hours": hours(contact),
        "median_closure_hours": hours(closure),
    }


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
    for phase, end in (("contact", "first_contact_at"), ("closure", "closed_at")):
        spans: dict[Any, list[int]] = defaultdict(list)
        for k, start, stop in base.filter(**{f"{end}__isnull": False}).values_list(key, "created_at", end):
            spans[k].append(_us(stop - start))
        for k, values_ in spans.items():
            medians[k][phase] = statistics.median(values_)
    rows = [_row(r[key], r[key].astimezone(TZ).strftime("%Y-%m") if group == "month" and r[key] else r[label], r,
                 medians[r[key]].get("contact"), medians[r[key]].get("closure")) for r in counts]
    return sorted(rows, key=lambda row: str(row["label"]))


# ---------------------------------------------------------------------------------------------
# From the pre-aggregated tables


def tally_scope(user: Any) -> list[int] | bool | None:
    """The divisions whose tallies make up `user`'s scope (mirrors `selectors.requests_visible`): None for
    everything, a list of division ids for a subtree, False when the scope is not a set of divisions."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser or user.role == Role.SYSADMIN:
        return None
    if user.department_id is not None and user.role == Role.DEPT_OFFICER:
        return False
    from minsheng.feedback.selectors import DIVISION_WIDE_ROLES

    if user.division_id is not None and user.role in DIVISION_WIDE_ROLES:
        ids = list(Division.objects.filter(path__startswith=user.division.path).values_list("pk", flat=True))
        # A subtree holding every division with requests (a city leader's) needs no filter.
        return None if not RequestTally.objects.exclude(division_id__in=ids).exists() else ids
    return []


def metrics_for(user: Any, group: str) -> list[dict[str, Any]]:
    """The console's metrics for `user`: from the tallies when the scope is a set of divisions."""
    divisions = tally_scope(user)
    if divisions is False:
        from minsheng.feedback.selectors import requests_visible

        return metrics(requests_visible(user), group)
    return summary(group, divisions)


def _in(divisions: list[int]) -> str:
    return ", ".join(str(int(d)) for d in divisions) or "NULL"


def _medians(column: str, phase: str, sizes: dict[Any, int], divisions: list[int] | None) -> dict[Any, Decimal]:
    """Each group's exact median of `phase`: one index walk per group to rank (n-1)//2, all groups in a
    few UNION ALL statements."""
    table = RequestSpan._meta.db_table
    field = f"{phase}_us"
    # Grouped by division, the groups are the scope already.
    scope = f" AND division_id IN ({_in(divisions)})" if divisions is not None and column != "division_id" else ""
    groups = [(g, n) for g, n in sizes.items() if n > 0]
    found: dict[Any, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        for i in range(0, len(groups), BRANCHES):
            parts, params = [], []
            for g, n in groups[i:i + BRANCHES]:
                parts.append(f"SELECT %s AS g, v FROM (SELECT {field} AS v FROM {table} WHERE {column} = %s AND "  # noqa: S608
                             f"{field} IS NOT NULL{scope} ORDER BY {field} LIMIT %s OFFSET %s) AS s")
                params += [g, g, 2 - n % 2, (n - 1) // 2]
            cursor.execute(" UNION ALL ".join(parts), params)
            for g, v in cursor.fetchall():
                found[str(g)[:10]].append(v)  # a month comes back as text from SQLite
    out = {}
    for g, n in groups:
        values = sorted(found.get(str(g)[:10], []))
        if len(values) == 2 - n % 2:  # the tally and the spans agree (they are written together)
            out[g] = Decimal(sum(values)) / len(values)
    return out


def _month(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def summary(group: str, divisions: list[int] | None = None) -> list[dict[str, Any]]:
    """`metrics` for every request (divisions=None) or those in `divisions`, from the tallies."""
    column = {"department": "owner_id", "division": "division_id", "month": "month"}[group]
    qs = RequestTally.objects.all()
    if divisions is not None:
        qs = qs.filter(division_id__in=divisions)
    counts = [r for r in qs.values(column).annotate(**{c: Sum(c) for c in COUNTS}).order_by() if r["total"]]
    contact = _medians(column, "contact", {r[column]: r["responded"] for r in counts}, divisions)
    closure = _medians(column, "closure", {r[column]: r["closed"] for r in counts}, divisions)
    if group == "department":
        names = dict(Department.objects.filter(pk__in=[r[column] for r in counts]).values_list("pk", "name"))
    elif group == "division":
        names = dict(Division.objects.filter(pk__in=[r[column] for r in counts]).values_list("pk", "name"))
    rows = []
    for r in counts:
        k = r[column]
        if group == "month":
            month = _month(k)
            key, label = dt.datetime.combine(month, dt.time(), TZ), month.strftime("%Y-%m")
        else:
            key, label = (k or None), names.get(k)
        rows.append(_row(key, label, r, contact.get(k), closure.get(k)))
    return sorted(rows, key=lambda row: str(row["label"]))


COLUMNS = [
    ("label", _("分组")), ("total", _("受理量")), ("response_rate", _("响应率（%）")),
    ("on_time_rate", _("按时办结率（%）")),
    ("resolution_rate", _("解决率（%）")), ("satisfaction_rate", _("满意率（%）")),
    ("median_contact_hours", _("首次联系用时中位数（小时）")),
    ("median_closure_hours", _("办结用时中位数（小时）")),
]
