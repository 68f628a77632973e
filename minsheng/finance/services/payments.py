"""Disbursements: a request against a contract milestone with its evidence; the supervisor it names confirms the
measured quantities himself; then department then finance approval; limits (milestone, contract value plus
approved variations, approved budget), duplicate invoices, the ledger anchors and the `finance.payment_approved`
event. Above procurement in the layering (decision 0004)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.money import parse_yuan
from minsheng.core.services import notify
from minsheng.finance.models import PaymentDecision, PaymentRequest, PaymentStatus
from minsheng.finance.selectors.budgets import LIVE_PAYMENTS, approved_cap
from minsheng.finance.services.budgets import check_currency
from minsheng.ledger.events import anchor_on_commit
from minsheng.procurement.models import Contract, ContractMilestone, ContractStatus, Variation
from minsheng.projects import services as project_services
from minsheng.projects.models import Document, MemberRole, Project, ProjectMember
from minsheng.projects.selectors import projects_visible

ZERO = Decimal(0)
EVENT_APPROVED = "finance.payment_approved"
# The ledger kind of a supervisor's confirmation of the measured quantities (the finance approval is a
# "disbursement").
SIGNOFF_KIND = "measurement_signoff"


def _visible(user: User, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def can_request(user: User, project: Project) -> bool:
    return user.can(Cap.PAYMENT_REQUEST) and project_services.can_manage(user, project)


def _on_line(user: User, project: Project) -> bool:
    return user.division_id is not None and project.division_path.startswith(user.division.path)


def _is_project_supervisor(user: User, project_id: int) -> bool:
    return ProjectMember.objects.filter(project_id=project_id, user=user, role=MemberRole.SUPERVISOR).exists()


def can_signoff(user: User, req: PaymentRequest) -> bool:
    """Only the supervisor the request names, still a supervisor of the project, and never the requester."""
    return (req.status == PaymentStatus.AWAITING_SIGNOFF and user.is_active and user.pk == req.supervisor_signoff_id
            and user.pk != req.requested_by_id and _is_project_supervisor(user, req.project_id))


def can_approve_department(user: User, req: PaymentRequest) -> bool:
    """The project's 主管部门 (its lead department's kind, on the project's line), never the requester."""
    if not user.is_active or user.pk == req.requested_by_id or not user.can(Cap.PAYMENT_APPROVE_DEPT):
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    project = req.project
    return (user.role == Role.DEPT_OFFICER and user.department_id is not None and _on_line(user, project)
            and user.department.kind == project.lead_department.kind)


def can_approve_finance(user: User, req: PaymentRequest) -> bool:
    """A finance officer on the project's line who neither requested nor approved it for the department."""
    if not user.is_active or user.pk == req.requested_by_id or not user.can(Cap.PAYMENT_APPROVE_FINANCE):
        return False
    dept = next((d for d in req.decisions.all() if d.step == PaymentDecision.Step.DEPARTMENT), None)
    if dept is not None and dept.decided_by_id == user.pk:
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    return user.role == Role.FINANCE_OFFICER and _on_line(user, req.project)


def can_decide(user: User, req: PaymentRequest) -> bool:
    if req.status == PaymentStatus.SUBMITTED:
        return can_approve_department(user, req)
    if req.status == PaymentStatus.DEPT_APPROVED:
        return can_approve_finance(user, req)
    return False


def can_mark_paid(user: User, req: PaymentRequest) -> bool:
    return req.status == PaymentStatus.APPROVED and user.is_active and user.can(Cap.PAYMENT_APPROVE_FINANCE) and (
        user.is_superuser or user.role == Role.SYSADMIN or _on_line(user, req.project))


# --- input -----------------------------------------------------------------------------------------------

def _clean_quantities(raw: Any, errors: dict[str, list[Any]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if not isinstance(raw, list) or not raw:
        errors.setdefault("measured_quantities", []).append(_("请填写监理计量的工程量。"))
        return out
    for row in raw:
        if not isinstance(row, dict):
            errors.setdefault("measured_quantities", []).append(_("工程量格式有误。"))
            return out
        item = str(row.get("item") or "").strip()
        unit = str(row.get("unit") or "").strip()
        try:
            qty = Decimal(str(row.get("quantity")).strip())
            ok = qty.is_finite() and qty > 0
        except ArithmeticError:
            ok = False
        if not item or not unit or not ok:
            errors.setdefault("measured_quantities", []).append(
                _("每项工程量须有名称、单位和大于零的数量。"))
            return out
        out.append({"item": item[:128], "quantity": str(qty), "unit": unit[:16]})
    return out


def _day(value: Any, field: str, errors: dict[str, list[Any]]) -> dt.date | None:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            errors.setdefault(field, []).append(_("日期格式应为 YYYY-MM-DD。"))
            return None
    if day > timezone.localdate():
        errors.setdefault(field, []).append(_("日期不能晚于今天。"))
        return None
    return day


def _money(value: Any, field: str, errors: dict[str, list[Any]]) -> Decimal | None:
    try:
        return parse_yuan(value, field=field, allow_zero=False)
    except ValidationFailed as exc:
        for k, v in exc.fields.items():
            errors.setdefault(k, []).extend(v)
        return None


def _sum(qs: Any, field: str = "amount") -> Decimal:
    return qs.aggregate(s=Coalesce(Sum(field), ZERO))["s"]


def contract_ceiling(contract: Contract) -> Decimal:
    """The contract value plus its approved variations (a decrease is negative)."""
    return contract.value + _sum(Variation.objects.filter(contract=contract, status=Variation.Status.APPROVED))


# --- create ----------------------------------------------------------------------------------------------

@transaction.atomic
def payment_request_create(*, actor: User, milestone: ContractMilestone, amount: Any, invoice_number: str,
                           invoice_amount: Any, invoice_date: Any, measured_quantities: Any,
                           supervisor: User | None, documents: list[int] | None = None, currency: str = "CNY",
                           idempotency_key: str | None = None) -> tuple[PaymentRequest, bool]:
    """Request payment for a contract milestone. Returns (request, created); a repeated idempotency key returns
    the first request unchanged. Refused with every reason — and nothing written — when evidence is missing,
    the invoice repeats, or the payment would pass the milestone, the contract or the approved budget."""
    contract = milestone.contract
    project = Project.objects.select_related("division", "lead_department").get(pk=contract.project_id)
    _visible(actor, project)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 64:
            raise ValidationFailed(fields={"idempotency_key": [_("幂等键不能超过 64 个字符。")]})
        existing = PaymentRequest.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.requested_by_id != actor.pk or existing.project_id != project.pk:
                raise Conflict(_("该幂等键已被另一笔申请使用。"))
            return existing, False
    if not can_request(actor, project):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    value = _money(amount, "amount", errors)
    inv_amount = _money(invoice_amount, "invoice_amount", errors)
    inv_date = _day(invoice_date, "invoice_date", errors)
    number = str(invoice_number or "").strip()
    if not number:
        errors.setdefault("invoice_number", []).append(_("请填写发票号码。"))
    elif len(number) > 32:
        errors.setdefault("invoice_number", []).append(_("发票号码不能超过 32 个字符。"))
    try:
        currency = check_currency(currency)
        if currency != contract.currency:
            errors.setdefault("currency", []).append(_("币种须与合同一致（%(c)s）。") % {"c": contract.currency})
    except ValidationFailed as exc:
        errors.update(exc.fields)
    quantities = _clean_quantities(measured_quantities, errors)
    if supervisor is None or not _is_project_supervisor(supervisor, project.pk):
        errors.setdefault("supervisor", []).append(_("须由本项目的监理签认计量结果。"))
    elif supervisor.pk == actor.pk:
        errors.setdefault("supervisor", []).append(_("申请人不能自己签认计量结果。"))
    doc_ids = sorted({int(d) for d in documents or []})
    docs = list(Document.objects.filter(project=project, pk__in=doc_ids))
    if not doc_ids:
        errors.setdefault("documents", []).append(_("请附上计量单、验收记录等证明材料。"))
    elif len(docs) != len(doc_ids):
        errors.setdefault("documents", []).append(_("证明材料须是本项目已上传的文件。"))
    if value is not None and inv_amount is not None and value > inv_amount:
        errors.setdefault("amount", []).append(_("申请金额不能超过发票金额。"))
    if errors:
        raise ValidationFailed(fields=errors)
    # Serialise requests against one contract so two cannot both pass the cumulative limits.
    contract = Contract.objects.select_for_update().select_related("supplier").get(pk=contract.pk)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(_("合同不在履行中，不能申请拨付。"))
    _check_duplicate_invoice(contract, number, inv_amount, inv_date)
    _check_limits(project, contract, milestone, value)
    req = PaymentRequest(
        project=project, contract=contract, milestone=milestone, amount=value, currency=currency,
        invoice_number=number, invoice_amount=inv_amount, invoice_date=inv_date, measured_quantities=quantities,
        supervisor_signoff=supervisor, status=PaymentStatus.AWAITING_SIGNOFF, requested_by=actor,
        idempotency_key=key)
    try:
        with transaction.atomic():
            req.save()
    except IntegrityError:
        # The same key raced in from a retry: answer with the request that won.
        existing = PaymentRequest.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    req.evidence.set(docs)
    audit.record(actor=actor, action="payment.request", obj=req, after=audit.snapshot(req),
                 project_code=project.code, division_path=project.division_path)
    send_on_commit("finance.payment_requested", payment_id=req.pk)
    text = _("拨付申请待您确认计量：%(p)s，%(a)s 元（发票 %(i)s）") % {
        "p": project.name, "a": f"{value:,.2f}", "i": number}
    link = reverse("finance:payment", args=[req.pk])
    transaction.on_commit(lambda: notify(recipient=supervisor, kind="payment.signoff", text=str(text), link=link,
                                         dedupe_key=f"payment-signoff:{req.pk}"))
    return req, True


def _check_duplicate_invoice(contract: Contract, number: str, amount: Decimal, day: dt.date) -> None:
    same_supplier = PaymentRequest.objects.filter(contract__supplier_id=contract.supplier_id).exclude(
        status=PaymentStatus.REJECTED)
    if same_supplier.filter(Q(invoice_number=number) | Q(invoice_amount=amount, invoice_date=day)).exists():
        raise ValidationFailed(_("发票重复：同一供应商已有相同号码，或相同金额和日期的发票在申请或已拨付。"),
                               fields={"invoice_number": [_("发票重复。")]}, code="duplicate_invoice")


def _check_limits(project: Project, contract: Contract, milestone: ContractMilestone, value: Decimal) -> None:
    live = PaymentRequest.objects.filter(status__in=LIVE_PAYMENTS)
    reasons: dict[str, list[Any]] = {}
    ms_total = _sum(live.filter(milestone=milestone)) + value
    if ms_total > milestone.amount:
        reasons.setdefault("amount", []).append(
            _("累计申请 %(t)s 元将超过该节点的付款额 %(c)s 元。") % {"t": f"{ms_total:,.2f}",
                                                          "c": f"{milestone.amount:,.2f}"})
    ceiling = contract_ceiling(contract)
    c_total = _sum(live.filter(contract=contract)) + value
    if c_total > ceiling:
        reasons.setdefault("amount", []).append(
            _("累计拨付 %(t)s 元将超过合同金额（含已批准变更）%(c)s 元。") % {"t": f"{c_total:,.2f}",
                                                                "c": f"{ceiling:,.2f}"})
    cap = approved_cap(project)
    p_total = _sum(live.filter(project=project)) + value
    if cap is None:
        reasons.setdefault("amount", []).append(_("项目没有已批准的概算或预算，不能拨付。"))
    elif p_total > cap.total:
        reasons.setdefault("amount", []).append(
            _("项目累计拨付 %(t)s 元将超过已批准的%(k)s %(c)s 元。") % {
                "t": f"{p_total:,.2f}", "k": cap.get_kind_display(), "c": f"{cap.total:,.2f}"})
    if reasons:
        raise ValidationFailed(_("超出拨付限额，未提交。"), fields=reasons, code="over_limit")


# --- decisions -------------------------------------------------------------------------------------------

def _locked(req: PaymentRequest) -> PaymentRequest:
    return PaymentRequest.objects.select_for_update(of=("self",)).select_related(
        "project", "project__division", "project__lead_department", "contract", "contract__supplier",
        "milestone", "requested_by").get(pk=req.pk)


@transaction.atomic
def payment_signoff(*, actor: User, request: PaymentRequest, confirm: bool, comment: str = "") -> PaymentRequest:
    """The supervisor the request names confirms the measured quantities himself — the request then goes to the
    department — or rejects them with a reason, which ends the request. A confirmation sets `signed_off_at` and
    is anchored in the evidence ledger with the quantities it confirmed."""
    _visible(actor, request.project)
    req = _locked(request)
    if req.status != PaymentStatus.AWAITING_SIGNOFF:
        raise Conflict(_("该申请不在待监理确认状态（%(s)s）。") % {"s": PaymentStatus(req.status).label})
    if not can_signoff(actor, req):
        raise PermissionDenied(_("只有申请中指定的本项目监理本人才能确认计量结果。"))
    comment = str(comment or "").strip()
    if not confirm and not comment:
        raise ValidationFailed(fields={"comment": [_("退回时请写明理由。")]})
    now = timezone.now()
    try:
        with transaction.atomic():
            decision = PaymentDecision.objects.create(request=req, step=PaymentDecision.Step.SUPERVISOR,
                                                      decided_by=actor, approve=confirm, comment=comment, at=now)
    except IntegrityError:
        raise Conflict(_("该申请已由监理处理，请刷新。")) from None
    changes: dict[str, Any] = {"status": PaymentStatus.SUBMITTED if confirm else PaymentStatus.REJECTED}
    if confirm:
        changes["signed_off_at"] = now
    changed = PaymentRequest.objects.filter(pk=req.pk, status=req.status).update(**changes)
    if changed != 1:
        raise Conflict(_("该申请已被他人处理，请刷新。"))
    before = {"status": req.status, "signed_off_at": None}
    for key, value in changes.items():
        setattr(req, key, value)
    audit.record(actor=actor, action="payment.signoff_confirm" if confirm else "payment.signoff_reject", obj=req,
                 before=before, after={"status": req.status, "signed_off_at": req.signed_off_at, "comment": comment},
                 project_code=req.project.code, division_path=req.project.division_path)
    if confirm:
        anchor_on_commit(kind=SIGNOFF_KIND, project_code=req.project.code, record=decision, actor=actor)
    else:
        text = _("监理退回了拨付申请：%(p)s，%(a)s 元（%(c)s）") % {
            "p": req.project.name, "a": f"{req.amount:,.2f}", "c": comment}
        link = reverse("finance:payment", args=[req.pk])
        requester = req.requested_by
        transaction.on_commit(lambda: notify(recipient=requester, kind="payment.signoff_rejected", text=str(text),
                                             link=link))
    return req


_DECISION_ACTIONS = {
    (PaymentDecision.Step.DEPARTMENT, True): "payment.department_approve",
    (PaymentDecision.Step.DEPARTMENT, False): "payment.department_reject",
    (PaymentDecision.Step.FINANCE, True): "payment.finance_approve",
    (PaymentDecision.Step.FINANCE, False): "payment.finance_reject",
}


@transaction.atomic
def payment_decide(*, actor: User, request: PaymentRequest, approve: bool, comment: str = "") -> PaymentRequest:
    """The department step, then the finance step. The finance approval anchors the disbursement in the
    evidence ledger and sends `finance.payment_approved` after commit."""
    _visible(actor, request.project)
    req = _locked(request)
    if req.status == PaymentStatus.AWAITING_SIGNOFF:
        raise Conflict(_("监理尚未确认计量结果，不能审核。"))
    if req.status not in (PaymentStatus.SUBMITTED, PaymentStatus.DEPT_APPROVED):
        raise Conflict(_("该申请已处理（%(s)s）。") % {"s": PaymentStatus(req.status).label})
    if not can_decide(actor, req):
        raise PermissionDenied(_("您不能审核这笔拨付：申请人不能审核自己的申请，部门审核与财政审核须由不同的人办理。"))
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationFailed(fields={"comment": [_("退回时请写明理由。")]})
    step = PaymentDecision.Step.DEPARTMENT if req.status == PaymentStatus.SUBMITTED else PaymentDecision.Step.FINANCE
    try:
        with transaction.atomic():
            decision = PaymentDecision.objects.create(request=req, step=step, decided_by=actor, approve=approve,
                                                      comment=comment)
    except IntegrityError:
        raise Conflict(_("该审核环节已由他人处理，请刷新。")) from None
    if not approve:
        new_status = PaymentStatus.REJECTED
    elif step == PaymentDecision.Step.DEPARTMENT:
        new_status = PaymentStatus.DEPT_APPROVED
    else:
        new_status = PaymentStatus.APPROVED
    changed = PaymentRequest.objects.filter(pk=req.pk, status=req.status).update(status=new_status)
    if changed != 1:
        raise Conflict(_("该申请已被他人处理，请刷新。"))
    before = {"status": req.status}
    req.status = new_status
    audit.record(actor=actor, action=_DECISION_ACTIONS[(step, approve)], obj=req,
                 before=before, after={"status": new_status, "comment": comment},
                 project_code=req.project.code, division_path=req.project.division_path)
    if new_status == PaymentStatus.APPROVED:
        anchor_on_commit(kind="disbursement", project_code=req.project.code, record=decision, actor=actor)
        send_on_commit(EVENT_APPROVED, payment_id=req.pk)
    return req


@transaction.atomic
def payment_mark_paid(*, actor: User, request: PaymentRequest, voucher: str, paid_on: Any) -> PaymentRequest:
    _visible(actor, request.project)
    req = _locked(request)
    if req.status != PaymentStatus.APPROVED:
        raise Conflict(_("只有已批准的拨付可以登记支付。"))
    if not can_mark_paid(actor, req):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    voucher = str(voucher or "").strip()
    if not voucher:
        errors["payment_voucher"] = [_("请填写支付凭证号。")]
    day = _day(paid_on, "paid_on", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    PaymentRequest.objects.filter(pk=req.pk).update(status=PaymentStatus.PAID, payment_voucher=voucher[:64],
                                                    paid_on=day)
    req.refresh_from_db()
    audit.record(actor=actor, action="payment.paid", obj=req, before={"status": PaymentStatus.APPROVED},
                 after={"status": req.status, "voucher": req.payment_voucher, "paid_on": day},
                 project_code=req.project.code, division_path=req.project.division_path)
    send_on_commit("finance.payment_paid", payment_id=req.pk)
    return req
