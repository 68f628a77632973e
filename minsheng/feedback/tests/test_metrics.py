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
