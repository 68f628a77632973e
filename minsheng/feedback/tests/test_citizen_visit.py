"""The citizen's own return visit (回访) online: on the lookup page, once per reply, through the same
service path as the unit's phone visit, with the channel recorded."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from minsheng.core.errors import Conflict, NotFound, ValidationFailed
from minsheng.core.models import AuditEvent, Notification
from minsheng.feedback import services, sms
from minsheng.feedback.models import RequestEvent, Status, VisitChannel
from minsheng.feedback.tests.helpers import submit

PHONE = "13800001234"


@pytest.fixture(autouse=True)
def _fresh(db):
    cache.clear()
    sms.outbox.clear()


def _replied(org, **kw):
    req = submit(org, **kw)
    services.request_reply(actor=org.user("a_housing"), request=req, text="已安排物业本周更换楼道灯")
    return req


def _answer(req, **kw):
    data = {"receipt_code": req.receipt_code, "phone": PHONE, "resolved": True, "satisfaction": 4,
            "comment": "换好了"} | kw
    return services.request_citizen_visit(**data)


# ---------------------------------------------------------------------------------------------
# service


def test_a_resolved_online_answer_records_the_visit_with_its_channel_and_tells_the_unit(org):
    req = _answer(_replied(org))
    assert (req.status, req.resolved, req.satisfaction, req.visit_comment, req.visit_channel) == (
        Status.RETURN_VISIT, True, 4, "换好了", VisitChannel.ONLINE)
    event = RequestEvent.objects.filter(request=req, action="return_visit").get()
    assert "群众网上评价" in event.text and event.public
    audit = AuditEvent.objects.get(action="feedback.return_visit", object_id=str(req.pk))
    assert audit.actor_id is None and audit.after["visit_channel"] == "online"
    assert Notification.objects.filter(recipient=org.user("a_housing"), kind="feedback.visited_online").exists()
    # The unit closes it as after a phone visit.
    closed = services.request_close(actor=org.user("a_housing"), request=req)
    assert closed.status == Status.CLOSED


def test_an_unresolved_online_answer_sends_the_case_back_to_the_unit(org):
    req = _answer(_replied(org), resolved=False, satisfaction=1, comment="灯还是不亮")
    assert req.status == Status.IN_PROGRESS and req.replied_at is None and req.visit_channel == VisitChannel.ONLINE
    assert RequestEvent.objects.filter(request=req, action="rework").exists()


def test_the_citizen_answers_once_and_not_after_the_unit_phoned(org):
    req = _replied(org)
    _answer(req)
    with pytest.raises(Conflict):
        _answer(req, satisfaction=1)
    req.refresh_from_db()
    assert req.satisfaction == 4
    phoned = _replied(org, description="路口井盖松动，车辆经过很响")
    services.request_return_visit(actor=org.user("a_housing"), request=phoned, resolved=True, satisfaction=5)
    phoned.refresh_from_db()
    assert phoned.visit_channel == VisitChannel.PHONE
    with pytest.raises(Conflict):
        _answer(phoned)


def test_an_online_answer_needs_a_reply_the_right_phone_and_valid_values(org):
    fresh = submit(org)
    with pytest.raises(Conflict):
        _answer(fresh)  # not replied yet
    req = _replied(org, description="路口井盖松动，车辆经过很响")
    with pytest.raises(NotFound):
        _answer(req, phone="13900000000")
    for bad in ({"satisfaction": 0}, {"satisfaction": 6}, {"comment": "长" * 501}, {"resolved": "yes"}):
        with pytest.raises(ValidationFailed):
            _answer(req, **bad)
    req.refresh_from_db()
    assert req.status == Status.REPLIED and req.satisfaction is None and req.visit_channel == ""


# ---------------------------------------------------------------------------------------------
# pages (no JavaScript: plain forms)


def _lookup(client, req):
    return client.post("/feedback/lookup/", {"receipt_code": req.receipt_code, "phone": PHONE})


def test_the_lookup_page_offers_the_visit_form_only_while_awaiting_the_visit(org):
    c = Client()
    req = submit(org)
    assert 'action="/feedback/visit/"' not in _lookup(c, req).content.decode()
    services.request_reply(actor=org.user("a_housing"), request=req, text="已安排物业本周更换楼道灯")
    page = _lookup(c, req).content.decode()
    assert 'action="/feedback/visit/"' in page and 'name="satisfaction"' in page and 'type="radio"' in page
    assert f'name="phone" value="{PHONE}"' in page


def test_answering_on_the_page_records_the_visit_once(org):
    c = Client()
    req = _replied(org)
    form = {"receipt_code": req.receipt_code, "phone": PHONE, "resolved": "1", "satisfaction": "5", "comment": ""}
    done = c.post("/feedback/visit/", form)
    html = done.content.decode()
    assert done.status_code == 200 and "感谢您的评价" in html and 'action="/feedback/visit/"' not in html
    req.refresh_from_db()
    assert (req.status, req.satisfaction, req.visit_channel) == (Status.RETURN_VISIT, 5, "online")
    again = c.post("/feedback/visit/", form | {"satisfaction": "1"})
    assert again.status_code == 400 and "只能评价一次" in again.content.decode()
    req.refresh_from_db()
    assert req.satisfaction == 5


def test_bad_answers_get_translated_errors_and_write_nothing(org):
    c = Client()
    req = _replied(org)
    missing = c.post("/feedback/visit/", {"receipt_code": req.receipt_code, "phone": PHONE})
    assert missing.status_code == 400 and "这个字段是必填项" in missing.content.decode()
    wrong_phone = c.post("/feedback/visit/", {"receipt_code": req.receipt_code, "phone": "13900000000",
                                              "resolved": "1", "satisfaction": "5"})
    assert wrong_phone.status_code == 400 and "未找到该诉求" in wrong_phone.content.decode()
    req.refresh_from_db()
    assert req.status == Status.REPLIED and req.satisfaction is None


def test_the_visit_form_is_rate_limited_per_address(org):
    from minsheng.feedback import views

    req = _replied(org)
    c = Client(REMOTE_ADDR="10.8.0.1")
    limit = int(views.SUBMIT_RATE.split("/")[0])
    bad = {"receipt_code": req.receipt_code, "phone": "13900000000", "resolved": "1", "satisfaction": "5"}
    for _i in range(limit):
        assert c.post("/feedback/visit/", bad).status_code == 400
    limited = c.post("/feedback/visit/", bad | {"phone": PHONE})
    assert limited.status_code == 429 and "过于频繁" in limited.content.decode()
    req.refresh_from_db()
    assert req.status == Status.REPLIED


def test_the_visit_form_works_in_elderly_mode(org):
    c = Client()
    c.cookies["ms_elderly"] = "1"
    req = _replied(org)
    page = _lookup(c, req).content.decode()
    assert 'class="citizen elderly"' in page and 'action="/feedback/visit/"' in page
    done = c.post("/feedback/visit/", {"receipt_code": req.receipt_code, "phone": PHONE, "resolved": "0",
                                       "satisfaction": "2", "comment": "还没修好"})
    assert done.status_code == 200 and "已退回承办单位重新办理" in done.content.decode()
