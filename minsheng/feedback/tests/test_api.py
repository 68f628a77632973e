"""The citizen-request API: scoped, phone masked outside the handling unit, translated errors."""

from __future__ import annotations

from django.test import Client

from minsheng.feedback.models import Status
from minsheng.feedback.tests.helpers import submit


def _client(org, who):
    c = Client()
    c.force_login(org.user(who))
    return c


def test_list_and_detail_mask_the_phone_outside_the_unit(org):
    req = submit(org)
    submit(org, division=org.town_b)
    rows = _client(org, "a_housing").get("/api/v1/citizen-requests").json()
    assert [r["receipt_code"] for r in rows] == [req.receipt_code] and rows[0]["phone"] == "13800001234"
    leader = _client(org, "a_leader").get(f"/api/v1/citizen-requests/{req.pk}").json()
    assert leader["phone"] == "138****1234"


def test_accept_and_reply(org):
    req = submit(org)
    c = _client(org, "a_housing")
    assert c.post(f"/api/v1/citizen-requests/{req.pk}/accept").json()["status"] == Status.ACCEPTED
    bad = c.post(f"/api/v1/citizen-requests/{req.pk}/reply", data={"text": ""}, content_type="application/json")
    assert bad.status_code == 400 and "text" in bad.json()["error"]["fields"]
    ok = c.post(f"/api/v1/citizen-requests/{req.pk}/reply", data={"text": "已安排物业本周内处理"},
                content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == Status.REPLIED
    again = c.post(f"/api/v1/citizen-requests/{req.pk}/accept")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_bad_list_filters_are_400(org):
    c = _client(org, "a_housing")
    assert c.get("/api/v1/citizen-requests?status=nope").status_code == 400
    assert c.get("/api/v1/citizen-requests?page=0").status_code == 400
    assert c.get("/api/v1/citizen-requests?status=all&page=2").json() == []
