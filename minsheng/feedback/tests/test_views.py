"""Citizen pages and console pages, through the test client."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from minsheng.feedback import sms
from minsheng.feedback.models import CitizenRequest, Status
from minsheng.feedback.tests.helpers import register_intake, submit
from minsheng.testing.factories import project_in


@pytest.fixture(autouse=True)
def _fresh(db):
    cache.clear()  # rate-limit counters (the database cache: rolled back with the test anyway)
    sms.outbox.clear()


def _form(org, **kw):
    return {"kind": "suggestion", "category": "housing", "division": org.town_a.pk,
            "description": "建议在小区门口增设无障碍坡道", "urgency": "normal", "action": "submit"} | kw


def test_anonymous_suggestion_gets_a_receipt_code(org, client):
    response = client.post("/feedback/", _form(org))
    assert response.status_code == 303 and response["Location"] == "/feedback/receipt/"  # Post/Redirect/Get
    receipt = client.get("/feedback/receipt/")
    assert register_intake() == 1
    req = CitizenRequest.objects.get()
    assert receipt.status_code == 200 and req.receipt_code in receipt.content.decode() and req.phone == ""
    assert req.receipt_code not in response["Location"]  # never in a URL (server logs)
    assert req.owner.name in client.get("/feedback/receipt/").content.decode()  # reloading: the unit, once known
    assert Client().get("/feedback/receipt/").url == "/feedback/lookup/"  # another browser has no receipt


def test_submit_page_sends_codes_by_plain_buttons_and_offers_elderly_mode(org, client):
    page = client.get("/feedback/").content.decode()
    assert 'name="action" value="send_code"' in page and 'rel="manifest"' in page
    assert "/feedback/elderly/?on=1" in page
    response = client.get("/feedback/elderly/?on=1&next=/feedback/")
    assert response.status_code == 302 and response.cookies["ms_elderly"].value == "1"
    assert 'class="citizen elderly"' in client.get("/feedback/").content.decode()
    assert client.get("/feedback/elderly/?on=1&next=https://evil.example/").url == "/feedback/"


def test_bad_submission_shows_translated_errors_and_writes_nothing(org, client):
    response = client.post("/feedback/", _form(org, description="", category="nope"))
    assert response.status_code == 400
    assert "请选择一个有效的选项" in response.content.decode() or "有效" in response.content.decode()
    assert CitizenRequest.objects.count() == 0


def test_complaint_flow_with_sms_code_on_one_page(org, client, django_capture_on_commit_callbacks):
    data = _form(org, kind="complaint", phone="13800001234", description="施工夜间噪音扰民，严重影响休息")
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/feedback/", data | {"action": "send_code"})
    assert sent.status_code == 200 and "验证码已发送" in sent.content.decode()
    assert "施工夜间噪音扰民" in sent.content.decode()  # what was typed is kept
    code = sms.outbox[-1].text.split("验证码是 ")[1][:6]
    wrong = client.post("/feedback/", data | {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and CitizenRequest.objects.count() == 0
    ok = client.post("/feedback/", data | {"code": code})
    assert ok.status_code == 303
    register_intake()
    assert CitizenRequest.objects.get().phone_verified


def test_submission_is_rate_limited_per_ip(org, client, settings):
    from minsheng.feedback import views

    limit = int(views.SUBMIT_RATE.split("/")[0])
    for _ in range(limit):
        assert client.post("/feedback/", _form(org)).status_code == 303
    response = client.post("/feedback/", _form(org))
    assert response.status_code == 429 and "过于频繁" in response.content.decode()
    assert register_intake() == limit
    assert CitizenRequest.objects.count() == limit


def test_lookup_needs_the_matching_phone_and_shows_public_timeline_only(org, client):
    req = submit(org)
    client_ = Client()
    miss = client_.post("/feedback/lookup/", {"receipt_code": req.receipt_code, "phone": "13900000000"})
    assert miss.status_code == 400 and "未找到" in miss.content.decode()
    from minsheng.feedback import services

    services.request_contact(actor=org.user("a_housing"), request=req, note="内部备注：已电话联系张先生")
    hit = client_.post("/feedback/lookup/", {"receipt_code": req.receipt_code.lower(), "phone": "13800001234"})
    page = hit.content.decode()
    assert hit.status_code == 200 and "承办单位已与您联系" in page and "内部备注" not in page


def test_public_project_page_has_a_feedback_button(org, client):
    project = project_in(org)
    page = client.get(f"/projects/{project.code}/").content.decode()
    assert f"/feedback/?project={project.code}" in page
    response = client.post(f"/feedback/?project={project.code}", _form(org, category="project", division=""))
    assert response.status_code == 303
    register_intake()
    req = CitizenRequest.objects.get()
    assert req.project == project and req.channel == "project" and req.owner == project.lead_department


def test_console_queue_is_scoped_and_phone_masked_outside_the_unit(org):
    req = submit(org)
    other = submit(org, division=org.town_b)
    c = Client()
    c.force_login(org.user("a_housing"))
    page = c.get("/console/feedback/").content.decode()
    assert req.receipt_code in page and other.receipt_code not in page and "13800001234" in page
    assert c.get(f"/console/feedback/{other.pk}/").status_code == 404
    leader = Client()
    leader.force_login(org.user("a_leader"))
    page = leader.get(f"/console/feedback/{req.pk}/").content.decode()
    assert "138****1234" in page and "13800001234" not in page
    b = Client()
    b.force_login(org.user("b_housing"))
    assert req.receipt_code not in b.get("/console/feedback/").content.decode()


def test_console_actions_accept_and_reply(org):
    req = submit(org)
    c = Client()
    c.force_login(org.user("a_housing"))
    assert c.post(f"/console/feedback/{req.pk}/accept/").status_code == 302
    bad = c.post(f"/console/feedback/{req.pk}/reply/", {"text": ""})
    assert bad.status_code == 400
    assert c.post(f"/console/feedback/{req.pk}/reply/", {"text": "已安排维修，本周内完成"}).status_code == 302
    req.refresh_from_db()
    assert req.status == Status.REPLIED
    leader = Client()
    leader.force_login(org.user("a_leader"))
    assert leader.post(f"/console/feedback/{req.pk}/visit/", {"resolved": "1", "satisfaction": "5"}).status_code == 403
    assert c.post(f"/console/feedback/{req.pk}/nonsense/").status_code == 404


def test_hotline_entry_and_caller_history(org):
    c = Client()
    c.force_login(org.user("a_housing"))
    data = {"kind": "complaint", "category": "housing", "division": org.town_a.pk, "urgency": "normal",
            "description": "物业长期不维修电梯，老人上下楼困难", "phone": "13700001111"}
    assert c.post("/console/feedback/hotline/", data).status_code == 302
    req = CitizenRequest.objects.get()
    assert req.channel == "hotline" and req.phone_verified
    page = c.get("/console/feedback/hotline/?phone=13700001111").content.decode()
    assert req.receipt_code in page
    b = Client()
    b.force_login(org.user("b_housing"))
    assert req.receipt_code not in b.get("/console/feedback/hotline/?phone=13700001111").content.decode()


def test_reopen_from_the_portal_and_its_errors(org, client):
    from minsheng.feedback import services

    req = submit(org)
    u = org.user("a_housing")
    services.request_reply(actor=u, request=req, text="已安排维修，本周内完成")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=4)
    services.request_close(actor=u, request=req)
    short = client.post("/feedback/reopen/", {"receipt_code": req.receipt_code, "phone": "13800001234", "reason": "坏"})
    assert short.status_code == 400 and "至少 5 个字" in short.content.decode()
    ok = client.post("/feedback/reopen/", {"receipt_code": req.receipt_code, "phone": "13800001234",
                                           "reason": "灯又坏了，请再来看看"})
    assert ok.status_code == 200 and "已申请重新办理" in ok.content.decode()
    req.refresh_from_db()
    assert req.status == "in_progress" and req.reopen_count == 1


@pytest.mark.parametrize(
    ("role", "sees"),
    [("leader", True), ("township_inspector", True), ("auditor", True), ("village_rep", False),
     ("contractor", False), ("supervisor", False), ("evaluator", False), ("expert", False)],
)
def test_only_overseeing_roles_read_every_request_of_their_division(org, role, sees):
    from minsheng.feedback.selectors import requests_visible
    from minsheng.testing.factories import UserFactory

    req = submit(org)
    viewer = UserFactory(username=f"viewer_{role}", role=role, division=req.division)
    assert requests_visible(viewer).filter(pk=req.pk).exists() is sees
