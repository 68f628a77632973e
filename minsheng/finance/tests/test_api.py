"""The finance API: one error shape, Idempotency-Key, amounts as strings."""

from __future__ import annotations

import json

from django.test import Client

from minsheng.finance.models import BudgetVersion, PaymentRequest
from minsheng.finance.tests import factories as f


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c, url, body, **headers):
    return c.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_budget_create_refuses_bad_amounts_with_the_error_shape(money):
    c = _client(money.org.user("a_housing"))
    url = f"/api/v1/projects/{money.project.pk}/budgets"
    r = _post(c, url, {"kind": "budget", "lines": [f.line(unit_cost="1.234")]})
    assert r.status_code == 400 and r.json()["error"]["fields"]["lines.0.unit_cost"] == ["金额最多保留两位小数。"]
    r = _post(c, url, {"kind": "budget", "lines": [f.line()], "currency": "JPY"})
    assert r.status_code == 400 and "currency" in r.json()["error"]["fields"]
    assert not BudgetVersion.objects.filter(kind="budget").exists()
    r = _post(c, url, {"kind": "budget", "lines": [f.line()]})
    assert r.status_code == 201 and r.json()["total"] == "102600.00" and len(r.json()["lines"]) == 1
    r = c.post(f"/api/v1/budgets/{r.json()['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"


def test_payment_create_is_idempotent_on_the_header(money):
    c = _client(money.org.user("a_housing"))
    url = f"/api/v1/projects/{money.project.pk}/payment-requests"
    body = {"milestone": money.m1.pk, "amount": "1000", "invoice_number": "API-1", "invoice_amount": "1000",
            "invoice_date": "2026-01-02", "measured_quantities": [{"item": "管网", "quantity": "10", "unit": "m"}],
            "supervisor": money.org.user("a_supervisor").pk, "documents": [money.doc.pk]}
    first = _post(c, url, body, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = _post(c, url, body, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    dup = _post(c, url, body, HTTP_IDEMPOTENCY_KEY="retry-2")
    assert dup.status_code == 400 and dup.json()["error"]["code"] == "duplicate_invoice"
    assert PaymentRequest.objects.count() == 1
    r = _post(_client(money.approver), f"/api/v1/payment-requests/{first.json()['id']}/approve", {})
    assert r.status_code == 200 and r.json()["status"] == "dept_approved"
    r = _post(_client(money.org.user("a_finance")), f"/api/v1/payment-requests/{first.json()['id']}/reject", {})
    assert r.status_code == 400 and "comment" in r.json()["error"]["fields"]


def test_evm_endpoints(money):
    c = _client(money.org.user("a_leader"))
    r = c.get(f"/api/v1/projects/{money.project.pk}/evm")
    assert r.status_code == 200 and r.json()["bac"] == "3000000.00" and r.json()["baseline"] == "milestones"
    r = c.get("/api/v1/evm/rollup?group=nonsense")
    assert r.status_code == 400
    assert c.get("/api/v1/evm/rollup?group=division").json() == {"as_of": None, "group": "division", "rows": []}
