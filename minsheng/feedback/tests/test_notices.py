"""Citizen notices: one SMS per receipt and status change, from translated templates."""

from __future__ import annotations

import pytest

from minsheng.feedback import notices, services, sms
from minsheng.feedback.tests.helpers import submit


@pytest.fixture(autouse=True)
def _clear():
    sms.outbox.clear()


def test_every_step_tells_the_citizen(org, django_capture_on_commit_callbacks):
    u = org.user("a_housing")
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org)
        services.request_accept(actor=u, request=req)
        services.transfer_request(actor=u, request=req, to_unit=org.depts["a.civil"], reason="属于民政救助范围")
        services.transfer_accept(actor=org.user("a_civil"), request=req)
        services.request_reply(actor=org.user("a_civil"), request=req, text="已核实并安排救助")
        services.request_return_visit(actor=org.user("a_civil"), request=req, resolved=False, satisfaction=2)
    texts = [m.text for m in sms.outbox]
    assert all(m.phone == "13800001234" for m in sms.outbox)
    assert len(texts) == 5 and all(req.receipt_code in t for t in texts)
    assert "已受理" in texts[0] and "签收" in texts[1] and org.depts["a.civil"].name in texts[2]
    assert "已答复" in texts[3] and "退回重新办理" in texts[4]


def test_anonymous_requests_get_no_sms(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(org, phone="", kind="suggestion")
    assert sms.outbox == []


def test_sms_go_out_in_the_site_language_whatever_the_request_language():
    from django.utils import translation

    with translation.override("en"):
        text = notices.render("closed", code="ABC")
    assert text.startswith("【民生】") and "ABC" in text
