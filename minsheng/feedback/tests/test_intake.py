"""The portal's intake: a submission is received in one INSERT with its receipt code, then registered by
the worker as a request with the same code and the submission's own time (intake.py, decision 0006)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from minsheng.core.errors import Conflict, ValidationFailed
from minsheng.core.models import AuditEvent, Notification
from minsheng.feedback import intake, services, sms
from minsheng.feedback.models import (
    CitizenNotice,
    CitizenRequest,
    Intake,
    IntakeStatus,
    RequestEvent,
    SlaClock,
)
from minsheng.feedback.tests.helpers import add_coordinator, register_intake


@pytest.fixture(autouse=True)
def _fresh(db):
    cache.clear()
    sms.outbox.clear()


def _form(org, **kw):
    return {"kind": "suggestion", "category": "housing", "division": org.town_a.pk,
            "description": "建议在小区门口增设无障碍坡道", "urgency": "normal", "action": "submit"} | kw


def _data(org, **kw) -> services.Submission:
    return services.Submission(**({"kind": "help", "category": "housing", "description": "楼道灯坏了很久没人修",
                                   "division": org.town_a} | kw))


def test_a_portal_submission_is_received_at_once_and_registered_by_the_worker(org):
    page = Client().post("/feedback/", _form(org, phone="13800001234", name="王女士"), follow=True)
    assert page.status_code == 200 and page.redirect_chain == [("/feedback/receipt/", 303)]
    item = Intake.objects.get()
    assert item.status == IntakeStatus.PENDING and item.receipt_code in page.content.decode()
    assert "正在分派" in page.content.decode()
    # Nothing is registered yet: no request, no officer told.
    assert not CitizenRequest.objects.exists() and not Notification.objects.exists()

    assert intake.register_pending(now=item.created_at + dt.timedelta(seconds=5)) == {"registered": 1, "failed": 0}
    req = CitizenRequest.objects.get()
    unit = org.depts["a.housing"]
    assert (req.receipt_code, req.created_at, req.owner, req.first_responder) == (
        item.receipt_code, item.created_at, unit, unit)
    assert (req.phone, req.name, req.channel) == ("13800001234", "王女士", "portal")
    assert SlaClock.objects.filter(request=req).count() == 3
    assert RequestEvent.objects.filter(request=req, action="received", at=item.created_at).exists()
    assert AuditEvent.objects.filter(action="feedback.submit", object_id=str(req.pk)).exists()
    assert Notification.objects.filter(recipient=org.user("a_housing"), kind="feedback.new").exists()
    assert CitizenNotice.objects.filter(request=req, kind="receipt").exists()
    assert any(m.phone == "13800001234" and req.receipt_code in m.text for m in sms.outbox)
    # The row keeps the receipt, not the personal data (the request holds it now).
    item.refresh_from_db()
    assert item.status == IntakeStatus.REGISTERED and item.request == req and item.registered_at is not None
    assert (item.phone, item.name, item.description, item.phone_key != "") == ("", "", "", True)
    assert intake.register_pending() == {"registered": 0, "failed": 0}  # nothing twice
    assert CitizenRequest.objects.count() == 1


def test_the_clocks_run_from_the_submission_not_from_its_registration(org):
    sent = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Beijing
    item = intake.intake_submit(data=_data(org, urgency="urgent"), now=sent)
    intake.register_pending(now=sent + dt.timedelta(hours=2))  # the worker was down for two hours
    req = CitizenRequest.objects.get(receipt_code=item.receipt_code)
    contact = SlaClock.objects.get(request=req, phase="first_contact")
    assert req.created_at == sent and contact.due_at == sent + dt.timedelta(hours=1)
    counts = services.sla_scan(now=sent + dt.timedelta(hours=2, seconds=1))
    assert counts["escalations"] >= 1  # already breached: escalated on the next scan


def test_the_same_form_sent_twice_is_one_submission(org):
    c = Client()
    key = "a1b2c3d4" * 4
    first = c.post("/feedback/", _form(org, submission_key=key), follow=True)
    again = Client().post("/feedback/", _form(org, submission_key=key), follow=True)  # e.g. the offline queue
    item = Intake.objects.get()
    assert first.status_code == again.status_code == 200
    assert item.receipt_code in first.content.decode() and item.receipt_code in again.content.decode()
    other = c.post("/feedback/", _form(org, submission_key="f" * 32))
    assert other.status_code == 303 and Intake.objects.count() == 2
    assert register_intake() == 2 and CitizenRequest.objects.count() == 2


def test_the_form_carries_a_fresh_key_each_time_it_is_shown(org):
    import re

    keys = {re.search(r'name="submission_key" value="([0-9a-f]{32})"', Client().get("/feedback/").content.decode())
            .group(1) for _ in range(2)}
    assert len(keys) == 2


def test_a_complaint_sent_again_after_its_code_was_used_gets_the_first_receipt(org, django_capture_on_commit_callbacks):
    phone = "13800005678"
    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(phone=phone)
    code = sms.outbox[-1].text.split("验证码是 ")[1][:6]
    data = _data(org, kind="complaint", phone=phone, code=code, description="夜间施工噪音扰民，影响休息")
    first = intake.intake_submit(data=data, idempotency_key="k" * 20)
    again = intake.intake_submit(data=data, idempotency_key="k" * 20)  # the code is spent; the key answers
    assert again.pk == first.pk and Intake.objects.count() == 1 and first.phone_verified
    with pytest.raises(ValidationFailed) as exc:
        intake.intake_submit(data=data, idempotency_key="other-key")
    assert "code" in exc.value.fields and Intake.objects.count() == 1


def test_lookup_of_a_submission_not_yet_registered(org):
    item = intake.intake_submit(data=_data(org, phone="13800001234"))
    c = Client()
    page = c.post("/feedback/lookup/", {"receipt_code": item.receipt_code.lower(), "phone": "13800001234"})
    assert page.status_code == 200 and "正在分派承办单位" in page.content.decode()
    assert "楼道灯坏了很久没人修" in page.content.decode()
    miss = c.post("/feedback/lookup/", {"receipt_code": item.receipt_code, "phone": "13900000000"})
    assert miss.status_code == 400 and "未找到" in miss.content.decode()
    with pytest.raises(Conflict):
        services.request_reopen(receipt_code=item.receipt_code, phone="13800001234", reason="问题还没有解决")
    register_intake()
    assert services.request_lookup(receipt_code=item.receipt_code, phone="13800001234").receipt_code == \
        item.receipt_code


def test_bad_input_writes_no_intake(org):
    response = Client().post("/feedback/", _form(org, description="短", category="nope", latitude="95"))
    assert response.status_code == 400 and not Intake.objects.exists()
    with pytest.raises(ValidationFailed) as exc:
        intake.intake_submit(data=_data(org, kind="complaint", phone="13800001234", code="123456"))
    assert "code" in exc.value.fields and not Intake.objects.exists()


def test_the_phone_limit_counts_submissions_received_in_the_hour(org):
    now = timezone.now()
    for _ in range(services.REQUESTS_PER_PHONE_HOUR):
        intake.intake_submit(data=_data(org, phone="13800001234"), now=now)
    with pytest.raises(ValidationFailed) as exc:
        intake.intake_submit(data=_data(org, phone="138-0000-1234"), now=now)
    assert "phone" in exc.value.fields and Intake.objects.count() == services.REQUESTS_PER_PHONE_HOUR
    register_intake()  # registered rows still count: the limit is on what was sent
    with pytest.raises(ValidationFailed):
        intake.intake_submit(data=_data(org, phone="13800001234"), now=now + dt.timedelta(minutes=30))
    assert intake.intake_submit(data=_data(org, phone="13800001234"), now=now + dt.timedelta(hours=1, seconds=1))


def test_a_registration_that_fails_is_retried_and_reported(org):
    # "roads" goes to a transport bureau, or else to the coordinating office: this world has neither.
    item = intake.intake_submit(data=_data(org, category="roads"))
    t = item.created_at
    assert intake.register_pending(now=t) == {"registered": 0, "failed": 1}
    item.refresh_from_db()
    assert (item.status, item.attempts) == (IntakeStatus.PENDING, 1) and "受理单位" in item.error
    assert item.retry_at == t + dt.timedelta(seconds=30)
    assert intake.register_pending(now=t + dt.timedelta(seconds=10)) == {"registered": 0, "failed": 0}  # not yet
    intake.register_pending(now=t + dt.timedelta(seconds=31))
    intake.register_pending(now=t + dt.timedelta(seconds=100))
    item.refresh_from_db()
    assert (item.status, item.attempts) == (IntakeStatus.FAILED, 3)
    told = Notification.objects.filter(kind="feedback.intake_failed")
    assert list(told.values_list("recipient__username", flat=True)) == ["admin"]
    # Still retried: once the office exists, the submission is registered with its own time.
    add_coordinator(org)
    assert intake.register_pending(now=t + dt.timedelta(hours=2))["registered"] == 1
    req = CitizenRequest.objects.get()
    assert req.owner.kind == "govoffice" and req.created_at == t and told.count() == 1
    assert intake.counts()["waiting"] == 0


def test_nothing_is_lost_when_registration_dies_half_way(org, monkeypatch):
    item = intake.intake_submit(data=_data(org))

    def boom(*a, **k):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_notify_unit", boom)  # after the request row was written
    assert intake.register_pending()["failed"] == 1
    assert not CitizenRequest.objects.exists() and not SlaClock.objects.exists()  # rolled back whole
    monkeypatch.undo()
    Intake.objects.filter(pk=item.pk).update(retry_at=None)
    assert register_intake() == 1 and CitizenRequest.objects.get().receipt_code == item.receipt_code


def test_two_workers_register_each_submission_exactly_once(live_db, org):
    items = [intake.intake_submit(data=_data(org, description=f"第 {i} 条：小区路灯不亮")) for i in range(40)]
    results: list[dict] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(intake.register_pending(batch=7, budget_seconds=None))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r["registered"] for r in results) == len(items)
    assert CitizenRequest.objects.count() == len(items)
    assert set(CitizenRequest.objects.values_list("receipt_code", flat=True)) == {i.receipt_code for i in items}
    assert SlaClock.objects.count() == 3 * len(items)


def test_purge_keeps_waiting_rows_and_drops_old_registered_ones(org):
    now = timezone.now()
    old = intake.intake_submit(data=_data(org), now=now - dt.timedelta(days=intake.KEEP_DAYS + 1))
    register_intake()
    waiting_old = intake.intake_submit(data=_data(org, category="roads"), now=now - dt.timedelta(days=40))
    recent = intake.intake_submit(data=_data(org), now=now)
    register_intake()
    assert intake.purge(now=now) == 1
    assert set(Intake.objects.values_list("pk", flat=True)) == {waiting_old.pk, recent.pk}
    assert CitizenRequest.objects.filter(receipt_code=old.receipt_code).exists()  # the request stays


def test_the_scheduler_queues_registration_only_when_something_waits(org):
    from minsheng.core import scheduler

    job = next(j for j in scheduler.JOBS if j.id == "feedback-intake")
    assert job.cron == {"second": "*/5"}
    assert scheduler.enqueue(job.task, job.only_if) is False
    item = intake.intake_submit(data=_data(org))
    assert scheduler.enqueue(job.task, job.only_if) is True  # (the test task backend runs it at once)
    assert CitizenRequest.objects.get().receipt_code == item.receipt_code
    assert scheduler.enqueue(job.task, job.only_if) is False


def test_the_inbox_is_a_signed_cookie_of_receipt_codes(org, django_capture_on_commit_callbacks):
    c = Client()
    c.post("/feedback/", _form(org))
    assert "ms_inbox" in c.cookies and "sessionid" not in c.cookies  # no session row for a citizen
    with django_capture_on_commit_callbacks(execute=True):
        register_intake()
    req = CitizenRequest.objects.get()
    page = c.get("/feedback/inbox/").content.decode()
    assert req.receipt_code in page and "已受理" in page
    forged = Client()
    forged.cookies["ms_inbox"] = req.receipt_code  # not signed by the server
    assert req.receipt_code not in forged.get("/feedback/inbox/").content.decode()


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "99999999999999999999999", "1e3"])
def test_the_division_field_refuses_what_is_not_a_division_id(org, value):
    from minsheng.feedback.forms import SubmitForm

    form = SubmitForm(_form(org, division=value))
    assert form.is_valid() == (value == "")  # empty: the project's division, or the service asks for one
    assert value == "" or "division" in form.errors


def test_the_division_field_accepts_exactly_the_divisions_it_lists(org):
    from minsheng.core.models import Division
    from minsheng.feedback.forms import SubmitForm

    listed = {d.pk for d in SubmitForm().fields["division"].queryset}
    for d in Division.objects.all():
        form = SubmitForm(_form(org, division=d.pk))
        assert form.is_valid() == (d.pk in listed), d
        if d.pk in listed:
            assert form.cleaned_data["division"] == d
    assert org.town_a.pk in listed and org.city.pk not in listed


def test_the_intake_command_shows_and_clears_the_backlog(org):
    from io import StringIO

    from django.core.management import call_command

    for _ in range(3):
        intake.intake_submit(data=_data(org))
    out = StringIO()
    call_command("intake", "status", stdout=out)
    assert out.getvalue().startswith("waiting=3 failed=0 oldest=")
    out = StringIO()
    call_command("intake", "register", stdout=out)
    assert out.getvalue().strip() == "registered=3 failed=0" and CitizenRequest.objects.count() == 3
    out = StringIO()
    call_command("intake", "status", stdout=out)
    assert out.getvalue().strip() == "waiting=0 failed=0 oldest=-"


def test_an_administrator_sees_the_queue_and_asks_for_a_retry(org, client):
    item = intake.intake_submit(data=_data(org, category="roads"))
    intake.register_pending(now=item.created_at)  # fails: no unit for roads here
    client.force_login(org.user("admin"))
    page = client.get("/admin/feedback/intake/")
    assert page.status_code == 200 and item.receipt_code in page.content.decode()
    response = client.post("/admin/feedback/intake/", {"action": "retry_now", "_selected_action": [item.pk]})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.retry_at is None and item.attempts == 1
    client.force_login(org.user("a_housing"))  # not staff: no admin
    assert client.get("/admin/feedback/intake/").status_code == 302
