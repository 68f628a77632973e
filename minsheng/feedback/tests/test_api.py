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


# ---------------------------------------------------------------------------------------------
# The handling workflow over the API: the same services as the console, the same refusals.


def _post(c, url, body=None, **extra):
    return c.post(url, data=body or {}, content_type="application/json", **extra)


def test_whole_workflow_over_the_api(org):
    from minsheng.feedback.models import CitizenRequest

    req = submit(org)
    c = _client(org, "a_housing")
    base = f"/api/v1/citizen-requests/{req.pk}"
    assert _post(c, f"{base}/accept").json()["status"] == Status.ACCEPTED
    assert _post(c, f"{base}/contact", {"note": "已电话联系群众"}).json()["status"] == Status.IN_PROGRESS
    waiting = _post(c, f"{base}/wait", {"waiting": True, "note": "请补充现场照片"})
    assert waiting.status_code == 200 and CitizenRequest.objects.get(pk=req.pk).waiting_since is not None
    assert _post(c, f"{base}/wait", {"waiting": False}).status_code == 200
    assert _post(c, f"{base}/reply", {"text": "已安排物业本周内处理"}).json()["status"] == Status.REPLIED
    visit = _post(c, f"{base}/return-visit", {"resolved": True, "satisfaction": 4, "comment": "满意"})
    assert visit.status_code == 200 and visit.json()["status"] == Status.RETURN_VISIT
    closed = _post(c, f"{base}/close")
    assert closed.status_code == 200 and closed.json()["status"] == Status.CLOSED
    got = CitizenRequest.objects.get(pk=req.pk)
    assert got.satisfaction == 4 and got.resolved is True and got.closed_at is not None
    # The citizen reopens without a login, with the receipt code and the phone given with it.
    reopened = _post(Client(), "/api/v1/citizen-requests/reopen",
                     {"receipt_code": req.receipt_code, "phone": "13800001234", "reason": "楼道灯又坏了"})
    assert reopened.status_code == 200 and reopened.json() == {
        "receipt_code": req.receipt_code, "status": Status.IN_PROGRESS, "reopen_count": 1}


def test_transfer_accept_refuse_and_coordination_over_the_api(org):
    from minsheng.feedback.models import CitizenRequest, Transfer, TransferStatus
    from minsheng.feedback.tests.helpers import add_coordinator

    office = add_coordinator(org)
    req = submit(org)
    housing, civil = _client(org, "a_housing"), _client(org, "a_civil")
    base = f"/api/v1/citizen-requests/{req.pk}"
    made = _post(housing, f"{base}/transfer", {"to_unit": org.depts["a.civil"].pk, "reason": "属于民政救助范围"})
    assert made.status_code == 201 and made.json()["status"] == TransferStatus.PENDING
    assert made.json()["to_unit"] == org.depts["a.civil"].pk and made.json()["deadline"]
    # Only the receiving unit answers; a refusal needs a reason and goes to the coordinating office.
    assert _post(housing, f"{base}/transfer/accept").status_code == 403
    short = _post(civil, f"{base}/transfer/refuse", {"reason": "不"})
    assert short.status_code == 400 and "reason" in short.json()["error"]["fields"]
    refused = _post(civil, f"{base}/transfer/refuse", {"reason": "不属于民政救助范围"})
    assert refused.status_code == 200 and refused.json()["status"] == TransferStatus.DISPUTED
    assert refused.json()["coordinator"] == office.pk and refused.json()["coordinator_deadline"]
    coordinator = _client(org, "coordinator")
    # The refusing unit no longer sees the request; the first unit sees it but cannot decide.
    assert _post(civil, f"{base}/transfer/decide", {"unit": org.depts["a.civil"].pk}).status_code == 404
    assert _post(housing, f"{base}/transfer/decide", {"unit": org.depts["a.civil"].pk}).status_code == 403
    decided = _post(coordinator, f"{base}/transfer/decide", {"unit": org.depts["a.civil"].pk})
    assert decided.status_code == 200 and decided.json()["owner"] == org.depts["a.civil"].pk
    assert CitizenRequest.objects.get(pk=req.pk).first_responder == org.depts["a.housing"]
    assert Transfer.objects.get().status == TransferStatus.RESOLVED


def test_transfer_accepted_by_the_receiving_unit(org):
    req = submit(org)
    base = f"/api/v1/citizen-requests/{req.pk}"
    body = {"to_unit": org.depts["a.civil"].pk, "reason": "属于民政救助范围"}
    assert _post(_client(org, "a_housing"), f"{base}/transfer", body).status_code == 201
    ok = _post(_client(org, "a_civil"), f"{base}/transfer/accept")
    assert ok.status_code == 200 and ok.json()["owner"] == org.depts["a.civil"].pk


def test_bad_transfers_are_400_translated_and_write_nothing(org):
    from minsheng.core.models import AuditEvent
    from minsheng.feedback.models import Transfer

    req = submit(org)
    c = _client(org, "a_housing")
    url = f"/api/v1/citizen-requests/{req.pk}/transfer"
    audit_before = AuditEvent.objects.count()
    outside = _post(c, url, {"to_unit": org.depts["b.civil"].pk, "reason": "属于民政救助范围"})
    assert outside.status_code == 400
    assert outside.json()["error"]["fields"]["to_unit"] == ["只能转给诉求所在地区或其上下级的单位。"]
    unknown = _post(c, url, {"to_unit": 999999, "reason": "属于民政救助范围"})
    assert unknown.status_code == 400 and unknown.json()["error"]["fields"]["to_unit"] == ["没有这个单位。"]
    no_reason = _post(c, url, {"to_unit": org.depts["a.civil"].pk, "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    missing = _post(c, url, {"reason": "属于民政救助范围"})
    assert missing.status_code == 400 and "to_unit" in missing.json()["error"]["fields"]
    # The same refusal in English for an English client.
    english = _post(c, url, {"to_unit": org.depts["b.civil"].pk, "reason": "属于民政救助范围"},
                    HTTP_ACCEPT_LANGUAGE="en")
    message = english.json()["error"]["fields"]["to_unit"][0]
    assert english.status_code == 400 and message.isascii() and "division" in message
    assert Transfer.objects.count() == 0 and AuditEvent.objects.count() == audit_before


def test_bad_return_visit_and_close_write_nothing(org):
    from minsheng.feedback.models import CitizenRequest

    req = submit(org)
    c = _client(org, "a_housing")
    base = f"/api/v1/citizen-requests/{req.pk}"
    _post(c, f"{base}/reply", {"text": "已安排物业本周内处理"})
    for body in ({"resolved": True, "satisfaction": 7}, {"resolved": True, "satisfaction": 0},
                 {"resolved": True, "satisfaction": 5, "comment": "长" * 501}, {"satisfaction": 5},
                 {"resolved": "maybe", "satisfaction": 5}):
        bad = _post(c, f"{base}/return-visit", body)
        assert bad.status_code == 400, body
        assert bad.json()["error"]["fields"], body
    early = _post(c, f"{base}/close")
    assert early.status_code == 409
    got = CitizenRequest.objects.get(pk=req.pk)
    assert got.status == Status.REPLIED and got.satisfaction is None and got.closed_at is None
    # Another unit cannot record the visit.
    assert _post(_client(org, "a_civil"), f"{base}/return-visit", {"resolved": True, "satisfaction": 5}
                 ).status_code == 404


def test_reopen_refusals(org, settings):
    from minsheng.feedback import services

    req = submit(org)
    anon = Client()
    url = "/api/v1/citizen-requests/reopen"
    body = {"receipt_code": req.receipt_code, "phone": "13800001234", "reason": "问题仍未解决"}
    assert _post(anon, url, body | {"phone": "13900000000"}).status_code == 404
    assert _post(anon, url, body).status_code == 409  # not closed yet
    u = org.user("a_housing")
    services.request_reply(actor=u, request=req, text="已安排物业本周内处理")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)
    services.request_close(actor=u, request=req)
    short = _post(anon, url, body | {"reason": "不"})
    assert short.status_code == 400 and "reason" in short.json()["error"]["fields"]
    assert _post(anon, url, {"receipt_code": req.receipt_code}).status_code == 400


def test_reopen_is_rate_limited_per_address(org, settings):
    from django.core.cache import cache

    from minsheng.feedback import api

    cache.clear()
    settings.FEEDBACK_SUBMIT_RATE = "2/h"
    body = {"receipt_code": "NOPE", "phone": "13800001234", "reason": "问题仍未解决"}
    codes = [_post(Client(), "/api/v1/citizen-requests/reopen", body).status_code for _i in range(3)]
    assert codes == [404, 404, 429] and api.Throttled.status == 429
