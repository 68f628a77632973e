"""The finance API: one error shape, Idempotency-Key, amounts as strings."""

from __future__ import annotations

import json
from decimal import Decimal

from django.test import Client

from minsheng.core.models import AuditEvent
from minsheng.finance.models import BudgetLine, BudgetVersion, PaymentRequest
from minsheng.finance.services import payments as pay_svc
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
    assert first.json()["status"] == "awaiting_signoff" and first.json()["signed_off_at"] is None
    r = _post(_client(money.approver), f"/api/v1/payment-requests/{first.json()['id']}/approve", {})
    assert r.status_code == 409  # the supervisor has not confirmed the quantities yet
    r = _post(_client(money.org.user("a_supervisor")), f"/api/v1/payment-requests/{first.json()['id']}/signoff",
              {"confirm": True})
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["signed_off_at"]
    assert [d["step"] for d in r.json()["decisions"]] == ["supervisor"]
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


def test_supervisor_signoff_endpoint(money):
    req, _created = pay_svc.payment_request_create(actor=money.org.user("a_housing"),
                                                   **f.payment_args(money.org, money.m1, money.doc))
    url = f"/api/v1/payment-requests/{req.pk}/signoff"
    sup = _client(money.org.user("a_supervisor"))
    r = _post(_client(money.approver), url, {"confirm": True})
    assert r.status_code == 403 and r.json()["error"]["code"]
    r = _post(_client(money.org.user("b_housing")), url, {"confirm": True})
    assert r.status_code == 404
    r = _post(sup, url, {"confirm": False})
    assert r.status_code == 400 and "comment" in r.json()["error"]["fields"]
    assert PaymentRequest.objects.get(pk=req.pk).status == "awaiting_signoff"
    r = _post(sup, url, {"confirm": False, "comment": "计量与现场不符"})
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["signed_off_at"] is None
    r = _post(sup, url, {"confirm": True})
    assert r.status_code == 409


def test_budget_lines_of_a_draft_are_added_changed_and_removed(money):
    c = _client(money.org.user("a_housing"))
    r = _post(c, f"/api/v1/projects/{money.project.pk}/budgets", {"kind": "budget", "lines": [f.line()]})
    version = r.json()
    line_id = version["lines"][0]["id"]
    r = _post(c, f"/api/v1/budgets/{version['id']}/lines", f.line(quantity="10", unit_cost="300"))
    assert r.status_code == 201 and r.json()["total"] == "105600.00" and len(r.json()["lines"]) == 2
    r = c.patch(f"/api/v1/budget-lines/{line_id}", data=json.dumps({"unit_cost": "80"}),
                content_type="application/json")
    assert r.status_code == 200 and r.json()["total"] == "99000.00"
    assert AuditEvent.objects.filter(action__in=["budget.line_add", "budget.line_update"]).count() == 2
    # bad amounts: the translated error, the field named, nothing written
    before = (list(BudgetLine.objects.values_list("pk", "quantity", "unit_cost", "amount")),
              AuditEvent.objects.count())
    for body in ({"unit_cost": "-1"}, {"unit_cost": "1.234"}, {"quantity": "abc"}, {"category": "nonsense"},
                 {"justification": " "}, {"standard": ""}, {"funding_source": "lottery"}):
        r = c.patch(f"/api/v1/budget-lines/{line_id}", data=json.dumps(body), content_type="application/json")
        assert r.status_code == 400 and set(r.json()["error"]["fields"]) == set(body), body
    r = _post(c, f"/api/v1/budgets/{version['id']}/lines", f.line(unit_cost="12.345"))
    assert r.status_code == 400 and r.json()["error"]["fields"]["unit_cost"] == ["金额最多保留两位小数。"]
    assert (list(BudgetLine.objects.values_list("pk", "quantity", "unit_cost", "amount")),
            AuditEvent.objects.count()) == before
    assert BudgetVersion.objects.get(pk=version["id"]).total == Decimal("99000.00")
    r = c.delete(f"/api/v1/budget-lines/{line_id}")
    assert r.status_code == 200 and r.json()["total"] == "3000.00" and len(r.json()["lines"]) == 1
    # submitted: the lines are frozen
    c.post(f"/api/v1/budgets/{version['id']}/submit")
    other = r.json()["lines"][0]["id"]
    assert _post(c, f"/api/v1/budgets/{version['id']}/lines", f.line()).status_code == 409
    r = c.patch(f"/api/v1/budget-lines/{other}", data=json.dumps({"quantity": "1"}), content_type="application/json")
    assert r.status_code == 409
    assert c.delete(f"/api/v1/budget-lines/{other}").status_code == 409
    assert BudgetVersion.objects.get(pk=version["id"]).total == Decimal("3000.00")
