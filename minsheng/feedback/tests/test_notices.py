"""Citizen notices: receipt, each status change, the reply and the return-visit request, from translated
templates, by SMS, e-mail and the in-app inbox (pluggable channels)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from minsheng.feedback import notices, services, sms
from minsheng.feedback.models import CitizenNotice
from minsheng.feedback.tests.helpers import submit


@pytest.fixture(autouse=True)
def _clear():
    sms.outbox.clear()


def _walk(org, req):
    u = org.user("a_housing")
    services.request_accept(actor=u, request=req)
    services.request_contact(actor=u, request=req, note="电话联系了群众")
    services.transfer_request(actor=u, request=req, to_unit=org.depts["a.civil"], reason="属于民政救助范围")
    services.transfer_accept(actor=org.user("a_civil"), request=req)
    services.request_reply(actor=org.user("a_civil"), request=req, text="已核实并安排救助")
    services.request_return_visit(actor=org.user("a_civil"), request=req, resolved=False, satisfaction=2)


def test_every_step_tells_the_citizen_by_sms(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org)
        _walk(org, req)
    texts = [m.text for m in sms.outbox]
    assert all(m.phone == "13800001234" for m in sms.outbox)
    assert len(texts) == 7 and all(req.receipt_code in t for t in texts)
    assert "已受理" in texts[0] and "签收" in texts[1] and "正在办理" in texts[2]
    assert org.depts["a.civil"].name in texts[3]
    assert "已答复" in texts[4] and "满意" in texts[5] and "退回重新办理" in texts[6]


def test_every_step_tells_the_citizen_by_email(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org, email="citizen@example.org")
        _walk(org, req)
    assert len(mail.outbox) == 7
    assert all(m.to == ["citizen@example.org"] and req.receipt_code in m.subject for m in mail.outbox)
    assert "已受理" in mail.outbox[0].body and "回访" in mail.outbox[5].body


def test_no_email_without_an_address_and_a_bad_address_is_refused(org, django_capture_on_commit_callbacks):
    from minsheng.core.errors import ValidationFailed
    from minsheng.feedback.models import CitizenRequest

    with django_capture_on_commit_callbacks(execute=True):
        submit(org)
    assert mail.outbox == []
    with pytest.raises(ValidationFailed) as exc:
        submit(org, email="not-an-address")
    assert "email" in exc.value.fields and CitizenRequest.objects.count() == 1


def test_every_step_lands_in_the_in_app_inbox(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org, phone="", kind="suggestion")
        services.request_accept(actor=org.user("a_housing"), request=req)
        services.request_reply(actor=org.user("a_housing"), request=req, text="已采纳您的建议，下月实施")
        services.request_return_visit(actor=org.user("a_housing"), request=req, resolved=True, satisfaction=5)
        services.request_close(actor=org.user("a_housing"), request=req)
    # No phone: no SMS, but the inbox has every notice, newest first.
    assert sms.outbox == []
    kinds = list(CitizenNotice.objects.filter(request=req).values_list("kind", flat=True))
    assert kinds == ["closed", "visited", "visit_request", "replied", "accepted", "receipt"]


def test_the_citizen_reads_the_inbox_on_the_lookup_page(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org)
        services.request_accept(actor=org.user("a_housing"), request=req)
    c = Client()
    page = c.post("/feedback/lookup/", {"receipt_code": req.receipt_code, "phone": "13800001234"}).content.decode()
    assert "我的消息" in page and "已由" in page
    # The inbox is remembered for this browser session; without a lookup nobody reads it.
    inbox = c.get("/feedback/inbox/").content.decode()
    assert req.receipt_code in inbox and "签收办理" in inbox
    assert CitizenNotice.objects.filter(request=req, read_at__isnull=True).count() == 0
    assert req.receipt_code not in Client().get("/feedback/inbox/").content.decode()


def test_a_failing_channel_does_not_stop_the_others(org, settings, django_capture_on_commit_callbacks):
    settings.MINSHENG_NOTICE_CHANNELS = {"broken": "minsheng.feedback.tests.test_notices.Broken",
                                         "sms": "minsheng.feedback.notices.SmsChannel"}
    with django_capture_on_commit_callbacks(execute=True):
        submit(org)
    assert len(sms.outbox) == 1


class Broken:
    def send(self, notice):
        raise ConnectionError("carrier down")


def test_anonymous_requests_get_no_sms(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(org, phone="", kind="suggestion")
    assert sms.outbox == []


def test_notices_go_out_in_the_site_language_whatever_the_request_language():
    from django.utils import translation

    with translation.override("en"):
        text = notices.render("closed", code="ABC")
    assert text.startswith("【民生】") and "ABC" in text


def test_notices_are_queued_with_the_change_and_sent_by_the_worker(org, settings):
    """The outbox: a notice is a task row written in the same transaction as the change, so a submission
    that fails leaves no notice behind and the web request never waits for the SMS gateway."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    req = submit(org)
    queued = DBTaskResult.objects.filter(task_path="minsheng.feedback.tasks.deliver_notice")
    assert queued.count() == 1 and sms.outbox == [] and not CitizenNotice.objects.exists()
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(org, description="另一件事：路面塌陷需要尽快修补")
        raise RuntimeError("the change failed after the notice was queued")
    assert queued.count() == 1  # rolled back with the change
    row = queued.get()  # what the worker does with it (its command closes the test's connection)
    row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    assert [m.phone for m in sms.outbox] == ["13800001234"] and req.receipt_code in sms.outbox[0].text
    assert CitizenNotice.objects.filter(request=req, kind="receipt").exists()
