"""The SLA scan: warnings, step-by-step escalation, idempotence, overdue transfers."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from minsheng.core.models import AuditEvent, Notification
from minsheng.feedback import services, sla
from minsheng.feedback.models import CitizenRequest, SlaClock, Transfer, TransferStatus
from minsheng.feedback.tests.helpers import add_coordinator, submit

# A working morning (Tuesday 10:00 in Beijing): an urgent request's same-day reply clock is far from due
# two hours later, so only the first-contact clock escalates, whatever the hour the suite runs at.
MORNING = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)


def test_breach_escalates_unit_then_leaders_then_coordinator_once(org):
    office = add_coordinator(org)
    req = submit(org, urgency="urgent", now=MORNING)
    now = req.created_at + dt.timedelta(hours=1, minutes=10)  # first contact (1 h) breached
    counts = services.sla_scan(now=now)
    assert counts["escalations"] >= 1
    req.refresh_from_db()
    assert req.escalation["first_contact"] == 1
    assert Notification.objects.filter(recipient=org.user("a_housing"), kind="feedback.sla_breach").count() == 1
    again = services.sla_scan(now=now)
    assert again["escalations"] == 0
    assert Notification.objects.filter(kind="feedback.sla_breach").count() == 1
    services.sla_scan(now=req.created_at + dt.timedelta(hours=2, minutes=1))
    req.refresh_from_db()
    assert req.escalation["first_contact"] == 3
    assert Notification.objects.filter(recipient=org.user("a_leader"), kind="feedback.sla_breach").exists()
    assert Notification.objects.filter(recipient=org.user("coordinator"), kind="feedback.sla_breach").exists()
    assert office.pk == org.user("coordinator").department_id
    assert AuditEvent.objects.filter(action="feedback.escalate", object_id=str(req.pk)).count() == 3


def test_warning_at_three_quarters_is_sent_once(org):
    req = submit(org, urgency="urgent", now=MORNING)
    now = req.created_at + dt.timedelta(minutes=50)
    assert services.sla_scan(now=now)["warnings"] >= 1
    services.sla_scan(now=now)
    assert Notification.objects.filter(kind="feedback.sla_warning", recipient=org.user("a_housing")).count() == 1
    req.refresh_from_db()
    assert req.escalation == {}


def test_contacted_request_stops_the_first_contact_clock(org):
    req = submit(org, urgency="urgent", now=MORNING)
    services.request_contact(actor=org.user("a_housing"), request=req, note="已电话联系")
    services.sla_scan(now=req.created_at + dt.timedelta(hours=1, minutes=30))
    req.refresh_from_db()
    assert "first_contact" not in req.escalation


def test_transfer_not_answered_in_time_counts_as_accepted(org):
    req = submit(org)
    t = services.transfer_request(actor=org.user("a_housing"), request=req, to_unit=org.depts["a.civil"],
                                  reason="属于民政救助范围")
    assert services.sla_scan(now=t.deadline - dt.timedelta(minutes=1))["auto_accepted"] == 0
    assert services.sla_scan(now=t.deadline + dt.timedelta(minutes=1))["auto_accepted"] == 1
    req = CitizenRequest.objects.get(pk=req.pk)
    assert req.owner == org.depts["a.civil"]
    assert Transfer.objects.get(pk=t.pk).status == TransferStatus.ACCEPTED


def test_closed_requests_are_not_scanned(org):
    req = submit(org, urgency="urgent", now=MORNING)
    CitizenRequest.objects.filter(pk=req.pk).update(status="closed", closed_at=timezone.now())
    assert services.sla_scan(now=req.created_at + dt.timedelta(days=30))["escalations"] == 0


def _clock(req, phase="first_contact"):
    return SlaClock.objects.get(request=req, phase=phase)


def test_scan_reads_only_clocks_whose_next_threshold_has_come(org):
    req = submit(org, urgency="urgent", now=MORNING)
    clock = _clock(req)
    assert clock.next_at == req.created_at + dt.timedelta(minutes=45)  # 75 % of the 1 h contact budget
    assert (clock.warn_at, clock.due_at, clock.step2_at, clock.step3_at) == tuple(
        req.created_at + dt.timedelta(minutes=m) for m in (45, 60, 90, 120))
    early = req.created_at + dt.timedelta(minutes=30)
    assert services.sla_scan(now=early) == {"warnings": 0, "escalations": 0, "auto_accepted": 0}
    # A stale instant in the future hides the clock from the scan: the scan trusts the index.
    SlaClock.objects.filter(request=req).update(next_at=req.created_at + dt.timedelta(days=9))
    assert services.sla_scan(now=req.created_at + dt.timedelta(hours=3))["escalations"] == 0
    SlaClock.objects.filter(pk=clock.pk).update(next_at=req.created_at)
    assert services.sla_scan(now=req.created_at + dt.timedelta(minutes=70))["escalations"] == 1
    clock.refresh_from_db()
    assert clock.next_at == req.created_at + dt.timedelta(minutes=90) and clock.level == 2  # 150 %: the next step


def test_waiting_pauses_the_clocks_and_resuming_pushes_them_out(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_accept(actor=u, request=req)
    before = {c.phase: c for c in SlaClock.objects.filter(request=req)}
    start = timezone.now()
    req = services.request_wait(actor=u, request=req, waiting=True, note="请补充照片")
    assert list(SlaClock.objects.filter(request=req).values_list("next_at", flat=True)) == [None] * 3
    CitizenRequest.objects.filter(pk=req.pk).update(waiting_since=start - dt.timedelta(days=3))
    req = services.request_wait(actor=u, request=CitizenRequest.objects.get(pk=req.pk), waiting=False)
    assert req.paused_seconds > 0
    after = {c.phase: c for c in SlaClock.objects.filter(request=req)}
    calendar = services._calendar(req.division)
    for phase, clock in after.items():
        budget = sla.Budget.parse(services.budget_text(req, phase))
        expected = sla.threshold_instants(calendar, budget=budget, received=req.created_at,
                                          paused_seconds=req.paused_seconds)
        assert [clock.warn_at, clock.due_at, clock.step2_at, clock.step3_at] == expected
        assert clock.due_at > before[phase].due_at and clock.next_at == clock.warn_at


def test_contact_stops_one_clock_and_closing_stops_them_all(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_contact(actor=u, request=req, note="已电话联系")
    assert set(SlaClock.objects.filter(request=req).values_list("phase", flat=True)) == {"reply", "closure"}
    services.request_reply(actor=u, request=req, text="已处理完毕，谢谢")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)
    services.request_close(actor=u, request=req)
    assert not SlaClock.objects.filter(request=req).exists()


def test_a_reopened_case_restarts_its_clocks_above_the_steps_taken(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_reply(actor=u, request=req, text="已处理完毕，谢谢")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)
    req = services.request_close(actor=u, request=req)
    CitizenRequest.objects.filter(pk=req.pk).update(escalation={"closure": 2})
    services.request_reopen(receipt_code=req.receipt_code, phone=req.phone, reason="问题还是没有解决")
    assert _clock(req, "closure").level == 3 and _clock(req, "reply").level == 0


def test_rerun_and_many_requests_in_chunks_notify_nobody_twice(org):
    add_coordinator(org)
    reqs = [submit(org, urgency="urgent") for _ in range(7)]
    now = reqs[-1].created_at + dt.timedelta(days=40)
    from minsheng.feedback import clocks

    counts = clocks.scan(now=now, chunk=2)  # four chunks; every clock of every request is at 200 %
    assert counts["escalations"] == 7 * 3 * 3 and counts["warnings"] == 0
    n = Notification.objects.count()
    assert clocks.scan(now=now) == {"warnings": 0, "escalations": 0}
    # Clocks and levels rewound (a restored backup): the notifications' dedupe keys still hold.
    SlaClock.objects.update(level=0, next_at=reqs[0].created_at)
    CitizenRequest.objects.update(escalation={})
    clocks.scan(now=now)
    assert Notification.objects.count() == n
    for r in reqs:
        r.refresh_from_db()
        assert r.escalation == {"first_contact": 3, "reply": 3, "closure": 3}
