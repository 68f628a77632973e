"""Console pages for budgets, funding, payments and earned value. Parse → call → render."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.console.errors import console_view, form_errors
from minsheng.core.errors import NotFound
from minsheng.core.models import Division
from minsheng.finance import forms
from minsheng.finance.models import BudgetAdjustment, BudgetStatus, PaymentStatus
from minsheng.finance.selectors import budgets as budget_sel
from minsheng.finance.selectors import evm as evm_sel
from minsheng.finance.selectors import payments as pay_sel
from minsheng.finance.services import budgets as budget_svc
from minsheng.finance.services import evm as evm_svc
from minsheng.finance.services import payments as pay_svc
from minsheng.projects.models import MemberRole, Project
from minsheng.projects.selectors import project_documents, project_get

BUDGET = "finance/budget.html"
PAYMENTS = "finance/payments.html"


# --- budgets ---------------------------------------------------------------------------------------------

def _budget_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    user = request.user
    versions = list(budget_sel.budget_versions(user, project).prefetch_related("lines"))
    pending_adjustments = {a.proposed_id for a in budget_sel.adjustments_for(project)
                           if a.status == BudgetAdjustment.Status.PENDING}
    bound_line = extra.pop("line_form", None)
    line_version = extra.get("line_version")
    bound_edit = extra.pop("edit_form", None)
    edit_line = extra.get("edit_line")
    for v in versions:
        v.editable = v.status in (BudgetStatus.DRAFT, BudgetStatus.REJECTED)
        v.line_rows = list(v.lines.all())
        if v.editable:
            for line in v.line_rows:
                line.edit_form = bound_edit if (bound_edit is not None and edit_line == line.pk) else forms.LineForm(
                    auto_id=f"l{line.pk}-%s", initial={f: getattr(line, f) for f in budget_svc.LINE_FIELDS})
        v.decidable = v.status == BudgetStatus.SUBMITTED and v.pk not in pending_adjustments and \
            budget_svc.can_approve(user, v)
        v.approver_label = budget_svc.approver_label(project, v.total)
        # One form per version, each with its own element ids.
        v.line_form = bound_line if (bound_line is not None and line_version == v.pk) else forms.LineForm(
            auto_id=f"v{v.pk}-%s")
        v.decision_form = forms.DecisionForm(auto_id=f"d{v.pk}-%s")
    adjustments = list(budget_sel.adjustments_for(project))
    for a in adjustments:
        a.decision_form = forms.DecisionForm(auto_id=f"a{a.pk}-%s")
    can_prepare = budget_svc.can_prepare(user, project)
    return {
        "project": project, "versions": versions, "can_prepare": can_prepare,
        "adjustments": adjustments,
        "commitments": budget_sel.commitments_for(project), "summary": budget_sel.funding_summary(project),
        "can_fund": budget_svc.can_record_funding(user, project),
        "version_form": extra.pop("version_form", None) or forms.VersionForm(auto_id="new-%s"),
        "copy_form": forms.CopyForm(),
        "adjust_form": extra.pop("adjust_form", None) or forms.AdjustmentForm(auto_id="adj-%s"),
        "funding_form": extra.pop("funding_form", None) or forms.FundingForm(
            auto_id="fund-%s", initial={"committed_on": timezone.localdate()}),
        "arrival_form": extra.pop("arrival_form", None) or forms.ArrivalForm(
            initial={"arrived_on": timezone.localdate()}),
        **extra,
    }


@console_view
def budget(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    return render(request, BUDGET, _budget_context(request, project))


@console_view
@require_POST
def version_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = forms.VersionForm(request.POST, auto_id="new-%s")
    if form.is_valid():
        with form_errors(form):
            budget_svc.budget_version_create(actor=request.user, project=project, lines=[], **form.cleaned_data)
            messages.success(request, _("已新建预算版本，请逐项填写明细。"))
            return redirect("finance:budget", pk=pk)
    return render(request, BUDGET, _budget_context(request, project, version_form=form), status=400)


@console_view
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    version = budget_sel.budget_version_get(request.user, pk=pk)
    form = forms.LineForm(request.POST, auto_id=f"v{version.pk}-%s")
    if form.is_valid():
        with form_errors(form):
            budget_svc.budget_line_add(actor=request.user, version=version, data=form.cleaned_data)
            messages.success(request, _("明细已添加，合计已重新计算。"))
            return redirect(f"{_budget_url(version.project_id)}#version-{version.pk}")
    return render(request, BUDGET, _budget_context(request, version.project, line_form=form, line_version=version.pk),
                  status=400)


def _budget_url(project_id: int) -> str:
    from django.urls import reverse

    return reverse("finance:budget", args=[project_id])


@console_view
@require_POST
def line_update(request: HttpRequest, pk: int) -> HttpResponse:
    line = budget_sel.budget_line_get(request.user, pk=pk)
    version = line.version
    form = forms.LineForm(request.POST, auto_id=f"l{line.pk}-%s")
    if form.is_valid():
        with form_errors(form):
            budget_svc.budget_line_update(actor=request.user, line=line, data=form.cleaned_data)
            messages.success(request, _("明细已修改，合计已重新计算。"))
            return redirect(f"{_budget_url(version.project_id)}#version-{version.pk}")
    return render(request, BUDGET, _budget_context(request, version.project, edit_form=form, edit_line=line.pk),
                  status=400)


@console_view
@require_POST
def line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    line = budget_sel.budget_line_get(request.user, pk=pk)
    version = line.version
    budget_svc.budget_line_remove(actor=request.user, line=line)
    messages.success(request, _("明细已删除，合计已重新计算。"))
    return redirect(f"{_budget_url(version.project_id)}#version-{version.pk}")


@console_view
@require_POST
def version_submit(request: HttpRequest, pk: int) -> HttpResponse:
    version = budget_sel.budget_version_get(request.user, pk=pk)
    budget_svc.budget_submit(actor=request.user, version=version)
    messages.success(request, _("已提交审批。"))
    return redirect("finance:budget", pk=version.project_id)


@console_view
@require_POST
def version_decide(request: HttpRequest, pk: int) -> HttpResponse:
    version = budget_sel.budget_version_get(request.user, pk=pk)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择同意或退回。"))
        return redirect("finance:budget", pk=version.project_id)
    budget_svc.budget_decide(actor=request.user, version=version, **form.cleaned_data)
    messages.success(request, _("已批准。") if form.cleaned_data["approve"] else _("已退回。"))
    return redirect("finance:budget", pk=version.project_id)


@console_view
@require_POST
def version_copy(request: HttpRequest, pk: int) -> HttpResponse:
    version = budget_sel.budget_version_get(request.user, pk=pk)
    form = forms.CopyForm(request.POST)
    if form.is_valid():
        budget_svc.budget_version_copy(actor=request.user, source=version, kind=form.cleaned_data["kind"])
        messages.success(request, _("已复制为新版本。"))
    return redirect("finance:budget", pk=version.project_id)


@console_view
@require_POST
def adjustment_request(request: HttpRequest, pk: int) -> HttpResponse:
    original = budget_sel.budget_version_get(request.user, pk=pk)
    form = forms.AdjustmentForm(request.POST, auto_id="adj-%s")
    if form.is_valid():
        cd = form.cleaned_data
        kept = [{f: getattr(line, f) for f in budget_svc.LINE_FIELDS} for line in original.lines.all()]
        added = {k: cd[k] for k in budget_svc.LINE_FIELDS}
        with form_errors(form):
            budget_svc.budget_adjustment_request(
                actor=request.user, original=original, lines=[*kept, added], reason=cd["reason"],
                funding_source=cd["adjust_funding_source"], funding_document=cd["funding_document"])
            messages.success(request, _("概算调整已提交原审批人。"))
            return redirect("finance:budget", pk=original.project_id)
    return render(request, BUDGET, _budget_context(request, original.project, adjust_form=form), status=400)


@console_view
@require_POST
def adjustment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    adjustment = budget_sel.adjustment_get(request.user, pk=pk)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择同意或退回。"))
        return redirect("finance:budget", pk=adjustment.project_id)
    budget_svc.budget_adjustment_decide(actor=request.user, adjustment=adjustment, **form.cleaned_data)
    messages.success(request, _("概算调整已处理。"))
    return redirect("finance:budget", pk=adjustment.project_id)


@console_view
@require_POST
def funding_commit(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = forms.FundingForm(request.POST, auto_id="fund-%s")
    if form.is_valid():
        with form_errors(form):
            budget_svc.funding_commit(actor=request.user, project=project, **form.cleaned_data)
            messages.success(request, _("资金计划已登记。"))
            return redirect(f"{_budget_url(pk)}#funding")
    return render(request, BUDGET, _budget_context(request, project, funding_form=form), status=400)


@console_view
@require_POST
def funding_arrive(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = budget_sel.commitment_get(request.user, pk=pk)
    form = forms.ArrivalForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            budget_svc.funding_arrive(actor=request.user, commitment=commitment, **form.cleaned_data)
            messages.success(request, _("到位资金已登记。"))
            return redirect(f"{_budget_url(commitment.project_id)}#funding")
    return render(request, BUDGET, _budget_context(request, commitment.project, arrival_form=form,
                                                   arrival_for=commitment.pk), status=400)


# --- payments --------------------------------------------------------------------------------------------

def _payment_form(project: Project, data: Any = None) -> forms.PaymentForm:
    supervisors = [m.user for m in project.members.filter(role=MemberRole.SUPERVISOR).select_related("user")]
    return forms.PaymentForm(data, milestones=list(pay_sel.milestones_open(project)), supervisors=supervisors,
                             documents=list(project_documents(project)[:50]),
                             initial={"invoice_date": timezone.localdate()})


def _payments_context(request: HttpRequest, project: Project, form: forms.PaymentForm | None = None) -> dict[str, Any]:
    return {"project": project, "payments": pay_sel.payments_for(request.user, project),
            "can_request": pay_svc.can_request(request.user, project), "form": form or _payment_form(project),
            # A retried or double-clicked submission carries the same key and creates one request.
            "idem_key": request.POST.get("idempotency_key") or uuid.uuid4().hex}


@console_view
def project_payments(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    return render(request, PAYMENTS, _payments_context(request, project))


@console_view
@require_POST
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = _payment_form(project, request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        milestone = pay_sel.milestones_open(project).filter(pk=cd["milestone"]).first()
        supervisor = project.members.filter(role=MemberRole.SUPERVISOR, user_id=cd["supervisor"]).first()
        if milestone is None:
            raise NotFound()
        with form_errors(form):
            req, _created = pay_svc.payment_request_create(
                actor=request.user, milestone=milestone, amount=cd["amount"], invoice_number=cd["invoice_number"],
                invoice_amount=cd["invoice_amount"], invoice_date=cd["invoice_date"],
                measured_quantities=form.quantity_rows(), supervisor=supervisor.user if supervisor else None,
                documents=cd["documents"], idempotency_key=request.POST.get("idempotency_key") or None)
            messages.success(request, _("拨付申请已提交，等待监理确认计量。"))
            return redirect("finance:payment", pk=req.pk)
    return render(request, PAYMENTS, _payments_context(request, project, form), status=400)


@console_view
def payment_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = pay_sel.payments_visible(request.user)
    if status in PaymentStatus.values:
        qs = qs.filter(status=status)
    return render(request, "finance/payment_list.html", {"payments": qs[:200], "status": status,
                                                         "statuses": PaymentStatus.choices})


@console_view
def payment_signoffs(request: HttpRequest) -> HttpResponse:
    """The requests waiting for the signed-in supervisor to confirm their measured quantities."""
    return render(request, "finance/payment_signoffs.html",
                  {"payments": pay_sel.payments_awaiting_signoff(request.user)[:200]})


@console_view
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = pay_sel.payment_get(request.user, pk=pk)
    steps = {d.step: d for d in req.decisions.all()}
    return render(request, "finance/payment_detail.html", {
        "req": req, "sup": steps.get("supervisor"), "dept": steps.get("department"), "fin": steps.get("finance"),
        "can_signoff": pay_svc.can_signoff(request.user, req), "signoff_form": forms.SignoffForm(),
        "can_decide": pay_svc.can_decide(request.user, req), "can_pay": pay_svc.can_mark_paid(request.user, req),
        "decision_form": forms.DecisionForm(), "paid_form": forms.PaidForm(initial={"paid_on": timezone.localdate()}),
    })


@console_view
@require_POST
def payment_signoff(request: HttpRequest, pk: int) -> HttpResponse:
    req = pay_sel.payment_get(request.user, pk=pk)
    form = forms.SignoffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择确认或退回。"))
        return redirect("finance:payment", pk=pk)
    pay_svc.payment_signoff(actor=request.user, request=req, **form.cleaned_data)
    messages.success(request, _("已确认计量，申请转主管部门审核。") if form.cleaned_data["confirm"]
                     else _("已退回，申请终止。"))
    return redirect("finance:payment", pk=pk)


@console_view
@require_POST
def payment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = pay_sel.payment_get(request.user, pk=pk)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择同意或退回。"))
        return redirect("finance:payment", pk=pk)
    pay_svc.payment_decide(actor=request.user, request=req, **form.cleaned_data)
    messages.success(request, _("审核意见已保存。"))
    return redirect("finance:payment", pk=pk)


@console_view
@require_POST
def payment_paid(request: HttpRequest, pk: int) -> HttpResponse:
    req = pay_sel.payment_get(request.user, pk=pk)
    form = forms.PaidForm(request.POST)
    if form.is_valid():
        pay_svc.payment_mark_paid(actor=request.user, request=req, **form.cleaned_data)
        messages.success(request, _("已登记支付。"))
    else:
        messages.error(request, _("请填写支付凭证号和支付日期。"))
    return redirect("finance:payment", pk=pk)


# --- earned value ----------------------------------------------------------------------------------------

def _chart_rows(request: HttpRequest, project: Project) -> list[dict[str, str]]:
    return [{"d": s.as_of.isoformat(), "pv": str(s.pv), "ev": str(s.ev), "ac": str(s.ac)}
            for s in evm_sel.snapshots_for(request.user, project)]


@console_view
def evm(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's earned value: the full page, or (for htmx) the panel the project page loads."""
    project = project_get(request.user, pk=pk)
    result = evm_svc.project_evm(project)
    rows = _chart_rows(request, project)
    context = {"project": project, "result": result, "rows": rows, "rows_json": json.dumps(rows),
               "reasons": [evm_svc.REASON_TEXT[r] for r in result.health.reasons] if result else []}
    template = "finance/_evm_panel.html" if getattr(request, "htmx", False) else "finance/evm.html"
    return render(request, template, context)


@console_view
def rollup(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.RollupForm(request.GET or None)
    top = list(Division.objects.filter(pk=user.division_id)) if user.division_id else list(
        Division.objects.filter(level=1))
    below = list(Division.objects.filter(parent__in=top).order_by("code"))
    form.fields["division"].choices = [(d.pk, d.name) for d in top + below]
    group = form.cleaned_data.get("group") if form.is_valid() else "department"
    as_of = evm_sel.latest_date(user)
    rows: list[Any] = []
    parent = None
    if as_of is not None:
        if group == "division":
            wanted = form.cleaned_data.get("division") if form.is_valid() else None
            parent = Division.objects.filter(pk=wanted or user.division_id).first() or Division.objects.filter(
                level=1).first()
            rows = evm_sel.rollup_by_division(user, as_of=as_of, parent=parent) if parent else []
        else:
            rows = evm_sel.rollup_by_department(user, as_of=as_of)
    return render(request, "finance/rollup.html", {"form": form, "rows": rows, "as_of": as_of,
                                                   "group": group or "department", "parent": parent})
