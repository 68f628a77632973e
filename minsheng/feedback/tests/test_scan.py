"""The SLA scan: warnings, step-by-step escalation, idempotence, overdue transfers."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from minsheng.core.models import AuditEvent, Notification
from minsheng.feedback import services
from minsheng.feedback.models import CitizenRequest, Transfer, TransferStatus
from minsheng.feedback.tests.helpers import add_coordinator, submit


def test_breach_escalates_unit_then_leaders_then_coordinator_once(org):
    office = add_coordinator(org)
    req = submit(org, urgency="urgent")
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
    req = submit(org, urgency="urgent")
    now = req.created_at + dt.timedelta(minutes=50)
    assert services.sla_scan(now=now)["warnings"] >= 1
    services.sla_scan(now=now)
    assert Notification.objects.filter(kind="feedback.sla_warning", recipient=org.user("a_housing")).count() == 1
    req.refresh_from_db()
    assert req.escalation == {}


def test_contacted_request_stops_the_first_contact_clock(org):
    req = submit(org, urgency="urgent")
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
    req = submit(org, urgency="urgent")
    CitizenRequest.objects.filter(pk=req.pk).update(status="closed", closed_at=timezone.now())
    assert services.sla_scan(now=req.created_at + dt.timedelta(days=30))["escalations"] == 0


def test_scan_reads_only_requests_whose_next_check_has_come(org):
    req = submit(org, urgency="urgent")
    assert req.next_check_at == req.created_at + dt.timedelta(minutes=45)  # 75 % of the 1 h contact budget
    early = req.created_at + dt.timedelta(minutes=30)
    assert services.sla_scan(now=early) == {"warnings": 0, "escalations": 0, "auto_accepted": 0}
    # A stale instant in the future hides the request from the scan: the scan trusts the index.
    CitizenRequest.objects.filter(pk=req.pk).update(next_check_at=req.created_at + dt.timedelta(days=9))
    assert services.sla_scan(now=req.created_at + dt.timedelta(hours=3))["escalations"] == 0
    CitizenRequest.objects.filter(pk=req.pk).update(next_check_at=req.created_at)
    assert services.sla_scan(now=req.created_at + dt.timedelta(minutes=70))["escalations"] == 1
    req.refresh_from_db()
    assert req.next_check_at == req.created_at + dt.timedelta(minutes=90)  # 150 %: the next step


def test_waiting_and_closing_clear_the_next_check(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_accept(actor=u, request=req)
    req = services.request_wait(actor=u, request=req, waiting=True, note="请补充照片")
    assert req.next_check_at is None
    req = services.request_wait(actor=u, request=req, waiting=False)
    assert req.next_check_at is not None
    services.request_reply(actor=u, request=req, text="已处理完毕，谢谢")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)
    req = services.request_close(actor=u, request=req)
    assert req.next_check_at is None
