"""Disbursements: evidence, limits, duplicate invoices, idempotency, the supervisor's own confirmation of the
measured quantities, two-step approval with separation of duties, the ledger anchors and the
`finance.payment_approved` event."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.events import subscribe
from minsheng.core.models import AuditEvent, Notification
from minsheng.finance.models import PaymentDecision, PaymentRequest, PaymentStatus
from minsheng.finance.services import payments as svc
from minsheng.finance.tests import factories as f
from minsheng.ledger.models import Leaf
from minsheng.procurement.models import Variation


def _create(money, who="a_housing", **kw):
    args = f.payment_args(money.org, money.m1, money.doc) | kw
    return svc.payment_request_create(actor=money.org.user(who), **args)[0]


def _count():
    return (PaymentRequest.objects.count(), AuditEvent.objects.count())


def test_request_with_evidence_is_created_and_waits_for_its_supervisor(money):
    req = _create(money)
    assert req.status == PaymentStatus.AWAITING_SIGNOFF and req.supervisor_signoff == money.org.user("a_supervisor")
    assert req.signed_off_at is None and not req.decisions.exists()  # the requester claims no sign-off
    assert list(req.evidence.all()) == [money.doc] and req.measured_quantities[0]["quantity"] == "400"


@pytest.mark.parametrize(("change", "field"), [
    ({"measured_quantities": []}, "measured_quantities"),
    ({"measured_quantities": [{"item": "x", "quantity": "-1", "unit": "m"}]}, "measured_quantities"),
    ({"supervisor": None}, "supervisor"),
    ({"documents": []}, "documents"),
    ({"invoice_number": " "}, "invoice_number"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "10.001"}, "amount"),
    ({"amount": "100001"}, "amount"),  # more than the invoice
    ({"currency": "USD"}, "currency"),
    ({"invoice_date": "2099-01-01"}, "invoice_date"),
])
def test_missing_evidence_or_bad_input_is_refused_and_nothing_written(money, change, field):
    before = _count()
    with pytest.raises(ValidationFailed) as exc:
        _create(money, **change)
    assert field in exc.value.fields
    assert _count() == before


def test_supervisor_must_be_the_projects_supervisor(money):
    with pytest.raises(ValidationFailed) as exc:
        _create(money, supervisor=money.org.user("a_inspector"))
    assert "supervisor" in exc.value.fields


def test_evidence_must_belong_to_the_project(money):
    from minsheng.testing.factories import project_in

    other = project_in(money.org, "a")
    with pytest.raises(ValidationFailed) as exc:
        _create(money, documents=[f.evidence(money.org, other).pk])
    assert "documents" in exc.value.fields


def test_configured_currency_must_still_match_the_contract(money, settings):
    settings.MINSHENG_CURRENCIES = ["CNY", "USD"]
    with pytest.raises(ValidationFailed) as exc:
        _create(money, currency="USD")
    assert "须与合同一致" in str(exc.value.fields["currency"][0])


def test_cumulative_payments_may_not_pass_the_milestone(money):
    _create(money, amount="200000", invoice_amount="200000")
    before = _count()
    with pytest.raises(ValidationFailed) as exc:  # milestone 1 is 300,000
        _create(money, amount="100000.01", invoice_amount="100000.01")
    assert "节点的付款额" in str(exc.value.fields["amount"][0]) and exc.value.code == "over_limit"
    assert _count() == before
    _create(money, amount="100000", invoice_amount="100000")


def test_cumulative_payments_may_not_pass_the_contract_plus_approved_variations(money):
    # Milestones larger than the contract (a data slip) still cannot pay past the contract value.
    money.m2.amount = Decimal("900000")
    money.m2.save()
    _create(money, amount="300000", invoice_amount="300000")
    with pytest.raises(ValidationFailed) as exc:
        _create(money, milestone=money.m2, amount="700000.01", invoice_amount="700000.01")
    assert "合同金额" in str(exc.value.fields["amount"][0])
    Variation.objects.create(contract=money.contract, number=1, reason="增加管网", amount=Decimal("50000"),
                             status=Variation.Status.PROPOSED, requested_by=money.org.user("a_housing"))
    with pytest.raises(ValidationFailed):  # a proposed variation does not count
        _create(money, milestone=money.m2, amount="700000.01", invoice_amount="700000.01")
    Variation.objects.filter(contract=money.contract).update(status=Variation.Status.APPROVED)
    _create(money, milestone=money.m2, amount="750000", invoice_amount="750000")


def test_rejected_requests_do_not_count_against_limits(money):
    req = _create(money, amount="300000", invoice_amount="300000")
    svc.payment_decide(actor=money.approver, request=f.signoff(money.org, req), approve=False, comment="计量有误")
    req = _create(money, amount="300000", invoice_amount="300000")
    svc.payment_signoff(actor=money.org.user("a_supervisor"), request=req, confirm=False, comment="现场未完成")
    _create(money, amount="300000", invoice_amount="300000")


def test_requests_awaiting_the_supervisor_count_against_limits(money):
    _create(money, amount="300000", invoice_amount="300000")  # milestone 1 is 300,000
    with pytest.raises(ValidationFailed) as exc:
        _create(money, amount="1", invoice_amount="1")
    assert exc.value.code == "over_limit"


def test_payments_may_not_pass_the_approved_budget(money):
    from minsheng.finance.models import BudgetKind

    f.approved(money.org, money.project, BudgetKind.BUDGET, "250000")  # the 预算 now caps payments
    with pytest.raises(ValidationFailed) as exc:
        _create(money, amount="250000.01", invoice_amount="250000.01")
    assert "施工图预算" in str(exc.value.fields["amount"][0])
    _create(money, amount="250000", invoice_amount="250000")


def test_no_payment_without_an_approved_budget(money):
    from minsheng.finance.models import BudgetVersion

    BudgetVersion.objects.filter(project=money.project, kind="design").update(status="superseded")
    with pytest.raises(ValidationFailed) as exc:
        _create(money)
    assert "没有已批准的概算" in str(exc.value.fields["amount"][0])


def test_repeated_invoice_is_refused(money):
    first = _create(money, invoice_number="INV-1", invoice_amount="1000", amount="1000", invoice_date="2026-01-05")
    before = _count()
    with pytest.raises(ValidationFailed) as exc:  # same supplier + number
        _create(money, invoice_number="INV-1", invoice_amount="2000", amount="2000")
    assert exc.value.code == "duplicate_invoice"
    with pytest.raises(ValidationFailed):  # same supplier + amount + date, another number
        _create(money, invoice_number="INV-2", invoice_amount="1000", amount="1000", invoice_date="2026-01-05")
    # the same supplier on another project's contract is still the same supplier
    from minsheng.finance.models import BudgetKind
    from minsheng.testing.factories import project_in

    other = project_in(money.org, "a")
    f.approved(money.org, other, BudgetKind.DESIGN, "1000000")
    f.supervise(money.org, other)
    c2 = f.contract(money.org, other, "500000", supplier_obj=money.contract.supplier)
    with pytest.raises(ValidationFailed):
        svc.payment_request_create(actor=money.org.user("a_housing"), **f.payment_args(
            money.org, c2.milestones.first(), f.evidence(money.org, other), invoice_number="INV-1"))
    assert _count()[0] == before[0]
    # another supplier may well use the same number
    c3 = f.contract(money.org, other, "500000")
    svc.payment_request_create(actor=money.org.user("a_housing"), **f.payment_args(
        money.org, c3.milestones.first(), f.evidence(money.org, other), invoice_number="INV-1"))
    assert first.pk


def test_idempotency_key_returns_the_first_request(money):
    first, created = svc.payment_request_create(actor=money.org.user("a_housing"), idempotency_key="k-1",
                                                **f.payment_args(money.org, money.m1, money.doc))
    again, created_again = svc.payment_request_create(actor=money.org.user("a_housing"), idempotency_key="k-1",
                                                      **f.payment_args(money.org, money.m1, money.doc))
    assert created and not created_again and again.pk == first.pk and PaymentRequest.objects.count() == 1
    with pytest.raises(Conflict):
        svc.payment_request_create(actor=money.approver, idempotency_key="k-1",
                                   **f.payment_args(money.org, money.m1, money.doc))


def test_who_may_request(money):
    for who, error in (("a_finance", PermissionDenied), ("a_supervisor", PermissionDenied),
                       ("a_contractor", NotFound), ("b_housing", NotFound), ("a_civil", NotFound)):
        with pytest.raises(error):
            _create(money, who=who)


def _approved(money, req):
    req = svc.payment_decide(actor=money.approver, request=f.signoff(money.org, req), approve=True, comment="同意")
    return svc.payment_decide(actor=money.org.user("a_finance"), request=req, approve=True, comment="同意")


def test_department_then_finance_with_separation_of_duties(money, django_capture_on_commit_callbacks):
    org = money.org
    req = f.signoff(org, _create(money))
    for who, error in (("a_housing", PermissionDenied),  # the requester
                       ("a_finance", PermissionDenied),  # finance before the department
                       ("a_contractor", NotFound), ("a_supervisor", PermissionDenied), ("b_housing", NotFound)):
        with pytest.raises(error):
            svc.payment_decide(actor=org.user(who), request=req, approve=True)
    req = svc.payment_decide(actor=money.approver, request=req, approve=True)
    assert req.status == PaymentStatus.DEPT_APPROVED
    with pytest.raises(PermissionDenied):
        svc.payment_decide(actor=money.approver, request=req, approve=True)  # not both steps
    with pytest.raises(PermissionDenied):
        svc.payment_decide(actor=org.user("a_housing"), request=req, approve=True)
    seen = []
    handler = subscribe("finance.payment_approved")(lambda **kw: seen.append(kw))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            req = svc.payment_decide(actor=org.user("a_finance"), request=req, approve=True)
    finally:
        from minsheng.core import events

        events._handlers["finance.payment_approved"].remove(handler)
    assert req.status == PaymentStatus.APPROVED and seen == [{"payment_id": req.pk}]
    decision = PaymentDecision.objects.get(request=req, step="finance")
    leaf = Leaf.objects.get(record_model="finance.paymentdecision", record_id=str(decision.pk))
    assert leaf.kind == "disbursement" and leaf.project_code == money.project.code
    with pytest.raises(Conflict):
        svc.payment_decide(actor=org.user("a_finance"), request=req, approve=True)


def test_sysadmin_cannot_approve_both_steps(money):
    req = f.signoff(money.org, _create(money))
    admin = money.org.user("admin")
    req = svc.payment_decide(actor=admin, request=req, approve=True)
    with pytest.raises(PermissionDenied):
        svc.payment_decide(actor=admin, request=req, approve=True)


def test_rejection_needs_a_reason_and_sends_nothing(money, django_capture_on_commit_callbacks):
    req = f.signoff(money.org, _create(money))
    with pytest.raises(ValidationFailed):
        svc.payment_decide(actor=money.approver, request=req, approve=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        req = svc.payment_decide(actor=money.approver, request=req, approve=False, comment="发票与计量不符")
    assert req.status == PaymentStatus.REJECTED and callbacks == []
    assert not Leaf.objects.filter(record_model="finance.paymentdecision", kind="disbursement").exists()


def test_mark_paid(money):
    req = _approved(money, _create(money))
    with pytest.raises(PermissionDenied):
        svc.payment_mark_paid(actor=money.approver, request=req, voucher="PZ-9", paid_on=timezone.localdate())
    with pytest.raises(ValidationFailed) as exc:
        svc.payment_mark_paid(actor=money.org.user("a_finance"), request=req, voucher="",
                              paid_on=timezone.localdate() + dt.timedelta(days=1))
    assert set(exc.value.fields) == {"payment_voucher", "paid_on"}
    req = svc.payment_mark_paid(actor=money.org.user("a_finance"), request=req, voucher="PZ-9",
                                paid_on=timezone.localdate())
    assert req.status == PaymentStatus.PAID and req.payment_voucher == "PZ-9"
    with pytest.raises(Conflict):
        svc.payment_mark_paid(actor=money.org.user("a_finance"), request=req, voucher="PZ-9",
                              paid_on=timezone.localdate())


def test_anchored_content_verifies(money):
    from minsheng.ledger import registry

    req = _approved(money, _create(money))
    decision = PaymentDecision.objects.get(request=req, step="finance")
    content = registry.get("finance.paymentdecision").content(decision)
    assert content["amount"] == "100000.00" and content["supplier"] == money.contract.supplier.credit_code


# --- the supervisor's confirmation -------------------------------------------------------------------------------

def test_the_named_supervisor_is_notified_when_a_request_awaits_him(money, django_capture_on_commit_callbacks):
    from django.urls import reverse

    with django_capture_on_commit_callbacks(execute=True):
        req = _create(money)
    note = Notification.objects.get(recipient=money.org.user("a_supervisor"), kind="payment.signoff")
    assert note.link == reverse("finance:payment", args=[req.pk]) and req.invoice_number in note.text
    assert not Notification.objects.filter(kind="payment.signoff").exclude(pk=note.pk).exists()


def test_department_cannot_approve_before_the_supervisor_confirms(money):
    req = _create(money)
    assert not svc.can_decide(money.approver, req)
    with pytest.raises(Conflict):
        svc.payment_decide(actor=money.approver, request=req, approve=True)
    assert PaymentRequest.objects.get(pk=req.pk).status == PaymentStatus.AWAITING_SIGNOFF
    assert not PaymentDecision.objects.exists()


def test_only_the_supervisor_the_request_names_confirms(money):
    from minsheng.accounts.roles import Role
    from minsheng.projects.models import MemberRole, ProjectMember
    from minsheng.testing.factories import UserFactory

    org = money.org
    other = UserFactory(username="a_supervisor2", role=Role.SUPERVISOR, organisation="另一监理公司")
    ProjectMember.objects.create(project=money.project, user=other, role=MemberRole.SUPERVISOR)
    req = _create(money)
    before = (PaymentDecision.objects.count(), AuditEvent.objects.count())
    for actor, error in ((org.user("a_housing"), PermissionDenied),  # the requester
                         (money.approver, PermissionDenied), (org.user("a_finance"), PermissionDenied),
                         (org.user("admin"), PermissionDenied),  # nor the administrator
                         (other, PermissionDenied),  # another supervisor of the project
                         (org.user("b_housing"), NotFound), (org.user("a_contractor"), NotFound)):
        with pytest.raises(error):
            svc.payment_signoff(actor=actor, request=req, confirm=True)
        assert not svc.can_signoff(actor, PaymentRequest.objects.get(pk=req.pk))
    assert (PaymentDecision.objects.count(), AuditEvent.objects.count()) == before
    # no longer the project's supervisor: may not confirm either
    ProjectMember.objects.filter(project=money.project, user=org.user("a_supervisor")).delete()
    with pytest.raises((PermissionDenied, NotFound)):
        svc.payment_signoff(actor=org.user("a_supervisor"), request=req, confirm=True)


def test_confirmation_sets_signed_off_at_is_audited_and_anchored(money, django_capture_on_commit_callbacks):
    from minsheng.ledger import registry

    sup = money.org.user("a_supervisor")
    req = _create(money)
    with django_capture_on_commit_callbacks(execute=True):
        req = svc.payment_signoff(actor=sup, request=req, confirm=True, comment="已核对现场")
    req.refresh_from_db()
    decision = PaymentDecision.objects.get(request=req, step="supervisor")
    assert req.status == PaymentStatus.SUBMITTED and req.signed_off_at == decision.at
    assert decision.decided_by == sup and decision.approve and decision.comment == "已核对现场"
    event = AuditEvent.objects.get(action="payment.signoff_confirm")
    assert event.actor == sup and event.project_code == money.project.code
    assert event.after["status"] == "submitted" and event.after["signed_off_at"]
    leaf = Leaf.objects.get(record_model="finance.paymentdecision", record_id=str(decision.pk))
    assert leaf.kind == svc.SIGNOFF_KIND and leaf.project_code == money.project.code
    content = registry.get("finance.paymentdecision").content(decision)
    assert content["step"] == "supervisor" and content["measured_quantities"] == req.measured_quantities
    assert svc.can_decide(money.approver, req)
    with pytest.raises(Conflict):  # confirmed once
        svc.payment_signoff(actor=sup, request=req, confirm=True)
    # the department and finance steps follow as before
    req = svc.payment_decide(actor=money.approver, request=req, approve=True)
    req = svc.payment_decide(actor=money.org.user("a_finance"), request=req, approve=True)
    assert req.status == PaymentStatus.APPROVED
    assert set(PaymentDecision.objects.filter(request=req).values_list("step", flat=True)) == {
        "supervisor", "department", "finance"}


def test_supervisor_rejection_needs_a_reason_and_ends_the_request(money, django_capture_on_commit_callbacks):
    sup = money.org.user("a_supervisor")
    req = _create(money)
    before = (PaymentDecision.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        svc.payment_signoff(actor=sup, request=req, confirm=False, comment="  ")
    assert "comment" in exc.value.fields
    assert (PaymentDecision.objects.count(), AuditEvent.objects.count()) == before
    assert PaymentRequest.objects.get(pk=req.pk).status == PaymentStatus.AWAITING_SIGNOFF
    with django_capture_on_commit_callbacks(execute=True):
        req = svc.payment_signoff(actor=sup, request=req, confirm=False, comment="外墙保温只完成 300 m²")
    req.refresh_from_db()
    assert req.status == PaymentStatus.REJECTED and req.signed_off_at is None
    assert AuditEvent.objects.filter(action="payment.signoff_reject").count() == 1
    assert not Leaf.objects.filter(record_model="finance.paymentdecision").exists()
    note = Notification.objects.get(recipient=money.org.user("a_housing"), kind="payment.signoff_rejected")
    assert "300 m²" in note.text
    for call in (lambda: svc.payment_signoff(actor=sup, request=req, confirm=True),
                 lambda: svc.payment_decide(actor=money.approver, request=req, approve=True)):
        with pytest.raises(Conflict):
            call()


def test_the_requester_cannot_name_himself_as_supervisor(money):
    from minsheng.projects.models import MemberRole, ProjectMember

    admin = money.org.user("admin")
    ProjectMember.objects.create(project=money.project, user=admin, role=MemberRole.SUPERVISOR)
    with pytest.raises(ValidationFailed) as exc:
        _create(money, who="admin", supervisor=admin)
    assert "supervisor" in exc.value.fields and not PaymentRequest.objects.exists()


@pytest.mark.django_db
def test_both_arms_of_the_duplicate_invoice_check_have_an_index():
    """Payments refuse, and insight flags, an invoice repeating a number or an (amount, date) of the same
    supplier: `invoice_number = …  OR (invoice_amount = … AND invoice_date = …)`. On PostgreSQL each arm is a
    bitmap index scan (BitmapOr), so neither reads the whole table."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PaymentRequest._meta.db_table)
    indexed = [tuple(c["columns"]) for c in constraints.values() if c["index"]]
    assert ("invoice_number",) in indexed
    assert ("invoice_amount", "invoice_date") in indexed
