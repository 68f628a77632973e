"""Finance API: budgets, payment requests, earned value. Parse → call a service/selector → return."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router
from ninja.responses import Status

from minsheng.accounts.models import User
from minsheng.core.errors import NotFound, ValidationFailed
from minsheng.core.models import Division
from minsheng.finance.schemas import (
    BudgetIn,
    BudgetLineIn,
    BudgetLinePatch,
    BudgetOut,
    CommentIn,
    DecisionIn,
    EvmOut,
    PaymentIn,
    PaymentOut,
    RollupOut,
    SignoffIn,
)
from minsheng.finance.selectors import budgets as budget_sel
from minsheng.finance.selectors import evm as evm_sel
from minsheng.finance.selectors import payments as pay_sel
from minsheng.finance.services import budgets as budget_svc
from minsheng.finance.services import evm as evm_svc
from minsheng.finance.services import payments as pay_svc
from minsheng.projects.selectors import project_get

router = Router(tags=["finance"])


@router.get("/projects/{int:project_id}/budgets", response=list[BudgetOut], summary="A project's budget versions")
def budget_list(request: HttpRequest, project_id: int):
    project = project_get(request.user, pk=project_id)
    return list(budget_sel.budget_versions(request.user, project).prefetch_related("lines"))


@router.post("/projects/{int:project_id}/budgets", response={201: BudgetOut},
             summary="Create a budget version from zero-based lines (a draft)")
def budget_create(request: HttpRequest, project_id: int, payload: BudgetIn):
    project = project_get(request.user, pk=project_id)
    data = payload.dict()
    version = budget_svc.budget_version_create(actor=request.user, project=project, kind=data["kind"],
                                               lines=data["lines"], note=data["note"], currency=data["currency"])
    return Status(201, budget_sel.budget_version_get(request.user, pk=version.pk))


@router.post("/budgets/{int:budget_id}/submit", response=BudgetOut, summary="Submit a draft for approval")
def budget_submit(request: HttpRequest, budget_id: int):
    version = budget_sel.budget_version_get(request.user, pk=budget_id)
    budget_svc.budget_submit(actor=request.user, version=version)
    return budget_sel.budget_version_get(request.user, pk=budget_id)


@router.post("/budgets/{int:budget_id}/decision", response=BudgetOut,
             summary="Approve or return a submitted version (the approver named for its total)")
def budget_decide(request: HttpRequest, budget_id: int, payload: DecisionIn):
    version = budget_sel.budget_version_get(request.user, pk=budget_id)
    budget_svc.budget_decide(actor=request.user, version=version, approve=payload.approve, comment=payload.comment)
    return budget_sel.budget_version_get(request.user, pk=budget_id)


@router.post("/budgets/{int:budget_id}/lines", response={201: BudgetOut},
             summary="Add a line to a draft (or returned) version; the total is recomputed")
def budget_line_add(request: HttpRequest, budget_id: int, payload: BudgetLineIn):
    version = budget_sel.budget_version_get(request.user, pk=budget_id)
    budget_svc.budget_line_add(actor=request.user, version=version, data=payload.dict())
    return Status(201, budget_sel.budget_version_get(request.user, pk=budget_id))


@router.patch("/budget-lines/{int:line_id}", response=BudgetOut,
              summary="Change a draft version's line (the fields sent); returns the version with its new total")
def budget_line_update(request: HttpRequest, line_id: int, payload: BudgetLinePatch):
    line = budget_sel.budget_line_get(request.user, pk=line_id)
    budget_svc.budget_line_update(actor=request.user, line=line, data=payload.dict(exclude_unset=True))
    return budget_sel.budget_version_get(request.user, pk=line.version_id)


@router.delete("/budget-lines/{int:line_id}", response=BudgetOut,
               summary="Remove a draft version's line; returns the version with its new total")
def budget_line_remove(request: HttpRequest, line_id: int):
    line = budget_sel.budget_line_get(request.user, pk=line_id)
    budget_svc.budget_line_remove(actor=request.user, line=line)
    return budget_sel.budget_version_get(request.user, pk=line.version_id)


@router.get("/projects/{int:project_id}/payment-requests", response=list[PaymentOut])
def payment_list(request: HttpRequest, project_id: int):
    project = project_get(request.user, pk=project_id)
    return list(pay_sel.payments_for(request.user, project).prefetch_related("decisions"))


@router.post("/projects/{int:project_id}/payment-requests", response={200: PaymentOut, 201: PaymentOut},
             summary="Request payment for a contract milestone (idempotent on the Idempotency-Key header)")
def payment_create(request: HttpRequest, project_id: int, payload: PaymentIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    project = project_get(request.user, pk=project_id)
    milestone = pay_sel.milestones_open(project).filter(pk=payload.milestone).first()
    if milestone is None:
        raise ValidationFailed(fields={"milestone": [_("该付款节点不属于本项目履行中的合同。")]})
    supervisor = User.objects.filter(pk=payload.supervisor).first() if payload.supervisor else None
    data = payload.dict()
    req, created = pay_svc.payment_request_create(
        actor=request.user, milestone=milestone, amount=data["amount"], invoice_number=data["invoice_number"],
        invoice_amount=data["invoice_amount"], invoice_date=data["invoice_date"],
        measured_quantities=data["measured_quantities"], supervisor=supervisor, documents=data["documents"],
        currency=data["currency"], idempotency_key=idempotency_key)
    return Status(201 if created else 200, pay_sel.payment_get(request.user, pk=req.pk))


@router.post("/payment-requests/{int:payment_id}/signoff", response=PaymentOut,
             summary="The supervisor the request names confirms the measured quantities, or rejects them")
def payment_signoff(request: HttpRequest, payment_id: int, payload: SignoffIn):
    req = pay_sel.payment_get(request.user, pk=payment_id)
    pay_svc.payment_signoff(actor=request.user, request=req, confirm=payload.confirm, comment=payload.comment)
    return pay_sel.payment_get(request.user, pk=payment_id)


def _decide(request: HttpRequest, payment_id: int, approve: bool, comment: str):
    req = pay_sel.payment_get(request.user, pk=payment_id)
    pay_svc.payment_decide(actor=request.user, request=req, approve=approve, comment=comment)
    return pay_sel.payment_get(request.user, pk=payment_id)


@router.post("/payment-requests/{int:payment_id}/approve", response=PaymentOut,
             summary="Approve the current step (department, then finance)")
def payment_approve(request: HttpRequest, payment_id: int, payload: CommentIn):
    return _decide(request, payment_id, True, payload.comment)


@router.post("/payment-requests/{int:payment_id}/reject", response=PaymentOut, summary="Return with a reason")
def payment_reject(request: HttpRequest, payment_id: int, payload: CommentIn):
    return _decide(request, payment_id, False, payload.comment)


@router.get("/projects/{int:project_id}/evm", response=EvmOut, summary="Earned value of a project today")
def project_evm(request: HttpRequest, project_id: int):
    project = project_get(request.user, pk=project_id)
    result = evm_svc.project_evm(project)
    if result is None:
        raise NotFound(_("该项目还没有批准的概算，无法计算挣值。"))
    m = result.measures
    return {"project": project.pk, "as_of": timezone.localdate(), "bac": m.bac, "pv": m.pv, "ev": m.ev, "ac": m.ac,
            "spi": m.spi, "spi_t": m.spi_t, "cpi": m.cpi, "eac": m.eac, "tcpi": m.tcpi, "slip_days": m.slip_days,
            "health": result.health.level, "reasons": result.health.reasons, "baseline": result.baseline}


@router.get("/evm/rollup", response=RollupOut,
            summary="Earned value rolled up by department or by division (the latest daily snapshots)")
def evm_rollup(request: HttpRequest, group: str = "department", division: int | None = None):
    if group not in ("department", "division"):
        raise ValidationFailed(fields={"group": [_("汇总方式只能是 department 或 division。")]})
    as_of = evm_sel.latest_date(request.user)
    rows = []
    if as_of is not None:
        if group == "department":
            rows = evm_sel.rollup_by_department(request.user, as_of=as_of)
        else:
            parent = Division.objects.filter(pk=division or request.user.division_id or 0).first()
            if parent is None:
                raise ValidationFailed(fields={"division": [_("请指定区划。")]})
            rows = evm_sel.rollup_by_division(request.user, as_of=as_of, parent=parent)
    return {"as_of": as_of, "group": group, "rows": [
        {**r.__dict__, "spi": r.spi, "cpi": r.cpi} for r in rows]}
