"""Metrics: exact rates and medians by department, division and month; page and xlsx export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.feedback import metrics
from minsheng.feedback.models import CitizenRequest
from minsheng.feedback.tests.helpers import submit


def _world(org):
    t0 = timezone.make_aware(dt.datetime(2026, 3, 10, 9))
    reqs = [submit(org) for _ in range(4)] + [submit(org, category="welfare")]
    h = dt.timedelta(hours=1)
    # housing: contacts after 1, 2, 4 h (one never); closures after 10 h and 30 h; one on time.
    CitizenRequest.objects.filter(pk=reqs[0].pk).update(created_at=t0, first_contact_at=t0 + h, closed_at=t0 + 10 * h,
                                                        closed_on_time=True, status="closed", resolved=True,
                                                        satisfaction=5)
    CitizenRequest.objects.filter(pk=reqs[1].pk).update(created_at=t0, first_contact_at=t0 + 2 * h,
                                                        closed_at=t0 + 30 * h, closed_on_time=False, status="closed",
                                                        resolved=False, satisfaction=2)
    CitizenRequest.objects.filter(pk=reqs[2].pk).update(created_at=t0, first_contact_at=t0 + 4 * h)
    CitizenRequest.objects.filter(pk=reqs[3].pk).update(created_at=t0 + dt.timedelta(days=31))
    CitizenRequest.objects.filter(pk=reqs[4].pk).update(created_at=t0, first_contact_at=t0 + 3 * h)
    return reqs


def test_rates_and_medians_by_department_are_exact(org):
    _world(org)
    rows = {r["label"]: r for r in metrics.metrics(CitizenRequest.objects.all(), "department")}
    housing = rows[org.depts["a.housing"].name]
    assert housing["total"] == 4
    assert housing["response_rate"] == Decimal("75.0")
    assert housing["on_time_rate"] == Decimal("50.0")
    assert housing["resolution_rate"] == Decimal("50.0")
    assert housing["satisfaction_rate"] == Decimal("50.0")
    assert housing["median_contact_hours"] == Decimal("2.0")
    assert housing["median_closure_hours"] == Decimal("20.0")
    civil = rows[org.depts["a.civil"].name]
    assert civil["total"] == 1 and civil["on_time_rate"] is None and civil["median_contact_hours"] == Decimal("3.0")


def test_by_month_uses_beijing_months(org):
    _world(org)
    rows = {r["label"]: r["total"] for r in metrics.metrics(CitizenRequest.objects.all(), "month")}
    assert rows == {"2026-03": 4, "2026-04": 1}


def test_by_division(org):
    _world(org)
    submit(org, division=org.town_b)
    rows = {r["label"]: r["total"] for r in metrics.metrics(CitizenRequest.objects.all(), "division")}
    assert rows == {org.town_a.name: 5, org.town_b.name: 1}


def test_metrics_page_is_scoped_and_exports_xlsx(org):
    _world(org)
    submit(org, division=org.town_b)
    c = Client()
    c.force_login(org.user("b_housing"))
    page = c.get("/console/feedback/metrics/").content.decode()
    assert org.depts["b.housing"].name in page and org.depts["a.housing"].name not in page
    assert 'id="metrics-data"' in page and "echarts.min.js" in page
    a = Client()
    a.force_login(org.user("a_leader"))
    response = a.get("/console/feedback/metrics.xlsx?group=department")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "分组" and len(rows) == 3
    housing = next(r for r in rows if r[0] == org.depts["a.housing"].name)
    assert housing[1] == 4 and housing[2] == 75.0


# ---------------------------------------------------------------------------------------------
# Exactness of the pre-aggregated path (tallies and spans kept by triggers) against a naive computation.

def _naive(rows, group, divisions=None):
    """Straight from the rows, in Python: counts, rates and exact medians of microsecond durations."""
    import statistics
    from collections import defaultdict

    from minsheng.core.models import Department, Division

    def us(d):
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds

    groups = defaultdict(list)
    for r in rows:
        if r.merged_into_id is None and (divisions is None or r.division_id in divisions):
            k = {"department": r.owner_id, "division": r.division_id,
                 "month": r.created_at.astimezone(metrics.TZ).strftime("%Y-%m")}[group]
            groups[k].append(r)
    names = {**dict(Department.objects.values_list("pk", "name"))} if group == "department" else dict(
        Division.objects.values_list("pk", "name"))
    out = {}
    for k, rs in groups.items():
        contact = [us(r.first_contact_at - r.created_at) for r in rs if r.first_contact_at]
        closure = [us(r.closed_at - r.created_at) for r in rs if r.closed_at]
        visited = [r for r in rs if r.resolved is not None]
        scored = [r for r in rs if r.satisfaction is not None]
        rate = metrics._rate
        out[k if group == "month" else names[k]] = {
            "total": len(rs),
            "response_rate": rate(len(contact), len(rs)),
            "on_time_rate": rate(sum(1 for r in rs if r.closed_on_time), len(closure)),
            "resolution_rate": rate(sum(1 for r in visited if r.resolved), len(visited)),
            "satisfaction_rate": rate(sum(1 for r in scored if r.satisfaction >= 4), len(scored)),
            "median_contact_hours": metrics.hours(statistics.median(contact)) if contact else None,
            "median_closure_hours": metrics.hours(statistics.median(closure)) if closure else None,
        }
    return out


def _by_label(rows):
    return {r["label"]: {k: v for k, v in r.items() if k not in ("key", "label")} for r in rows}


def test_pre_aggregated_metrics_equal_a_naive_computation_on_random_data(org):
    import random

    from minsheng.feedback.tests.helpers import add_coordinator

    add_coordinator(org)
    rng = random.Random(20261125)
    base = submit(org)
    units = [org.depts["a.housing"], org.depts["a.civil"], org.depts["b.housing"]]
    divisions = [org.town_a, org.town_b]
    t0 = timezone.make_aware(dt.datetime(2026, 1, 31, 15, 59, 59))  # a Beijing month boundary
    rows = []
    for i in range(400):
        created = t0 + dt.timedelta(seconds=rng.randrange(90 * 86400), microseconds=rng.randrange(10**6))
        unit = rng.choice(units)
        r = CitizenRequest(receipt_code=f"R{i:09d}", kind="enquiry", category="housing", description="随机数据",
                           division=rng.choice(divisions), first_responder=unit, owner=unit, created_at=created,
                           status="in_progress")
        if rng.random() < 0.8:  # durations with microseconds, many ties in whole hours
            r.first_contact_at = created + (dt.timedelta(hours=rng.randrange(1, 6)) if rng.random() < 0.3 else
                                            dt.timedelta(microseconds=rng.randrange(1, 3 * 86400 * 10**6)))
        if r.first_contact_at and rng.random() < 0.6:
            r.closed_at = r.first_contact_at + dt.timedelta(microseconds=rng.randrange(1, 20 * 86400 * 10**6))
            r.status, r.closed_on_time = "closed", rng.random() < 0.7
            if rng.random() < 0.8:
                r.resolved, r.satisfaction = rng.random() < 0.8, rng.randint(1, 5)
        rows.append(r)
    CitizenRequest.objects.bulk_create(rows)
    saved = list(CitizenRequest.objects.exclude(pk=base.pk).order_by("pk"))
    # Writes behind the services' back: merges, transfers, reopenings, deletions — the triggers follow.
    for r in rng.sample(saved, 30):
        CitizenRequest.objects.filter(pk=r.pk).update(merged_into=base)
    for r in rng.sample(saved, 30):
        CitizenRequest.objects.filter(pk=r.pk).update(owner=rng.choice(units))
    for r in rng.sample([r for r in saved if r.closed_at], 20):
        CitizenRequest.objects.filter(pk=r.pk).update(closed_at=None, status="in_progress", satisfaction=None,
                                                      resolved=None, closed_on_time=None)
    for r in rng.sample(saved, 15):
        CitizenRequest.objects.filter(pk=r.pk).delete()
    everything = list(CitizenRequest.objects.all())
    subtree = [org.town_b.pk]
    for group in ("department", "division", "month"):
        expected = _naive(everything, group)
        assert _by_label(metrics.summary(group)) == expected, group
        assert _by_label(metrics.metrics(CitizenRequest.objects.all(), group)) == expected, group
        assert _by_label(metrics.summary(group, subtree)) == _naive(everything, group, set(subtree)), group


def test_metrics_for_a_user_equal_the_scoped_direct_aggregation(org):
    from minsheng.feedback import selectors

    _world(org)
    submit(org, division=org.town_b)
    from minsheng.accounts.models import User
    from minsheng.accounts.roles import Role
    from minsheng.testing.factories import UserFactory

    UserFactory(username="village_rep", role=Role.VILLAGE_REP, division=org.town_a)  # a division, not division-wide
    for user in User.objects.all():  # every kind of user, so the mirror of the selector cannot drift
        for group in ("department", "division", "month"):
            assert metrics.metrics_for(user, group) == metrics.metrics(selectors.requests_visible(user), group)
