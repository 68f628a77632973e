"""Console pages for tenders (publish, Q&A, opening, evaluation, award, complaints) and contracts
(milestones, variations). Parse → call → render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.console.errors import console_view, form_errors
from minsheng.core.errors import NotFound, ValidationFailed
from minsheng.finance.models import BudgetStatus
from minsheng.procurement import forms, selectors, services
from minsheng.procurement.models import (
    AwardStatus,
    Bid,
    BidStatus,
    Clarification,
    Complaint,
    KeyShareHolder,
    Score,
    Supplier,
    Tender,
    TenderStatus,
    Variation,
)
from minsheng.procurement.services.common import NOT_OFFICIALS, may_manage
from minsheng.procurement.services.evaluation import can_score
from minsheng.procurement.services.suppliers import in_use, may_manage_suppliers, require_supplier_manager
from minsheng.procurement.services.tenders import CANCELLABLE, TENDER_BUDGET_KINDS
from minsheng.projects.selectors import project_get, projects_visible

TENDER_PAGE = "procurement/console/tender.html"
CONTRACT_PAGE = "procurement/console/contract.html"


@console_view
def tender_list(request: HttpRequest) -> HttpResponse:
    tenders = selectors.tenders_visible(request.user).select_related("project").order_by("-created_at")[:200]
    return render(request, "procurement/console/tender_list.html", {"tenders": tenders})


def _budgets(project: Any) -> list[Any]:
    return list(project.budget_versions.filter(status=BudgetStatus.APPROVED, kind__in=TENDER_BUDGET_KINDS))


@console_view
def tender_create(request: HttpRequest, project_pk: int) -> HttpResponse:
    project = project_get(request.user, pk=project_pk)
    if not may_manage(request.user, project):
        raise NotFound()
    budgets, suppliers = _budgets(project), Supplier.objects.order_by("name")
    form = forms.TenderForm(request.POST or None, budgets=budgets, suppliers=suppliers)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        with form_errors(form):
            tender = services.tender_create(
                actor=request.user, project=project,
                budget_version=next(b for b in budgets if b.pk == cd["budget_version"]),
                title=cd["title"], category=cd["category"], method=cd["method"], value=cd["value"],
                method_reason=cd["method_reason"], description=cd["description"],
                award_criteria=cd["award_criteria"], price_weight=cd["price_weight"],
                quality_standards=cd["quality_standards"],
                invited_suppliers=list(suppliers.filter(pk__in=cd["invited_suppliers"])))
            messages.success(request, _("招标项目已创建（草稿）。"))
            return redirect("procurement_console:tender", pk=tender.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "procurement/console/tender_form.html",
                  {"project": project, "form": form, "budgets": budgets}, status=status)


def _officials(tender: Tender) -> list[User]:
    users = User.objects.filter(is_active=True).exclude(role__in=NOT_OFFICIALS).order_by("role", "username")
    visible = [u for u in users[:300] if projects_visible(u).filter(pk=tender.project_id).exists()]
    return visible


def _tender_context(request: HttpRequest, tender: Tender, **over: Any) -> dict[str, Any]:
    user = request.user
    manage = may_manage(user, tender.project)
    opened = selectors.is_opened(tender)
    award = tender.awards.exclude(status=AwardStatus.CANCELLED).select_related("supplier").first()
    member = selectors.panel_member(user, tender)
    # Who holds the opening key and who sits on the panel are not for bidders: the panel stays secret until
    # the result is fixed (招标投标法 第三十七条), and a known share holder can be pressed. Those who run
    # the tender, audit it, sit on the panel or hold a share see them.
    insider = manage or member is not None or user.role in (Role.AUDITOR, Role.SYSADMIN) or user.is_superuser
    decided = award is not None and award.status != AwardStatus.STANDSTILL
    ctx: dict[str, Any] = {
        "tender": tender,
        "manage": manage,
        "opened": opened,
        "now": timezone.now(),
        "received": selectors.bids_received(tender),
        "record": selectors.opening_record(tender) if opened else [],
        "clarifications": tender.clarifications.order_by("asked_at"),
        "holders": (KeyShareHolder.objects.filter(tender=tender).select_related("holder").order_by("index")
                    if insider else KeyShareHolder.objects.none()),
        "my_share": KeyShareHolder.objects.filter(tender=tender, holder=user).first(),
        "show_panel": insider or decided,
        "panel": tender.panel.select_related("expert").order_by("-is_chair", "pk"),
        "member": member,
        "award": award,
        "complaints": award.complaints.order_by("filed_at") if award else [],
        "contract": tender.contracts.first(),
        "publish_form": over.get("publish_form") or forms.PublishForm(officials=_officials(tender)
                                                                       if manage and tender.status == "draft" else ()),
        "opening_form": over.get("opening_form") or forms.OpeningForm(count=tender.key_share_count),
        "share_form": over.get("share_form") or forms.ShareForm(),
        "panel_form": forms.PanelForm(experts=User.objects.filter(role=Role.EXPERT, is_active=True)
                                      .exclude(panels__tender=tender).order_by("username")),
        "contract_form": over.get("contract_form") or forms.ContractForm(initial={
            "number": f"HT-{tender.reference}", "title": tender.title, "signed_on": timezone.localdate()}),
        "can_open": manage and tender.status == TenderStatus.PUBLISHED and tender.submission_deadline
        and timezone.now() >= tender.submission_deadline,
        "cancellation": selectors.cancellation_of(tender),
        "can_cancel": manage and tender.status in CANCELLABLE,
        "cancel_form": over.get("cancel_form") or forms.CancelForm(),
    }
    ctx["signable"] = bool(award and award.status == AwardStatus.STANDSTILL and ctx["now"] >= award.standstill_until
                           and not award.complaints.filter(status=Complaint.Status.OPEN).exists())
    return ctx


@console_view
def tender_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    return render(request, TENDER_PAGE, _tender_context(request, tender))


@console_view
@require_POST
def tender_publish(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    officials = _officials(tender)
    form = forms.PublishForm(request.POST, officials=officials)
    if form.is_valid():
        cd = form.cleaned_data
        chosen = [u for u in officials if u.pk in cd["holders"]]
        with form_errors(form):
            published = services.tender_publish(
                actor=request.user, tender=tender, submission_deadline=cd["submission_deadline"], holders=chosen,
                clarification_deadline=cd["clarification_deadline"])
            # Shown once, on this response only: the shares are not stored anywhere.
            response = render(request, "procurement/console/shares.html",
                              {"tender": published.tender, "shares": published.shares})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, TENDER_PAGE, _tender_context(request, tender, publish_form=form), status=400)


@console_view
@require_POST
def tender_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    form = forms.CancelForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.tender_cancel(actor=request.user, tender=tender, reason=form.cleaned_data["reason"])
            messages.success(request, _("招标已终止，终止公告已公开并已通知投标人和评标专家。"))
            return redirect("procurement_console:tender", pk=pk)
    return render(request, TENDER_PAGE, _tender_context(request, tender, cancel_form=form), status=400)


@console_view
@require_POST
def share_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    form = forms.ShareForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.share_confirm(actor=request.user, tender=tender, share_text=form.cleaned_data["share"])
            messages.success(request, _("分片核验无误，请妥善保管至开标。"))
            return redirect("procurement_console:tender", pk=pk)
    return render(request, TENDER_PAGE, _tender_context(request, tender, share_form=form), status=400)


@console_view
@require_POST
def clarification_answer(request: HttpRequest, pk: int) -> HttpResponse:
    item = Clarification.objects.filter(pk=pk, tender__in=selectors.tenders_visible(request.user)).first()
    if item is None:
        raise NotFound()
    form = forms.AnswerForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"answer": [_("请填写答复。")]})
    services.clarification_answer(actor=request.user, clarification=item, answer=form.cleaned_data["answer"])
    messages.success(request, _("答复已公开。"))
    return redirect("procurement_console:tender", pk=item.tender_id)


@console_view
@require_POST
def tender_open(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    form = forms.OpeningForm(request.POST, count=tender.key_share_count)
    if form.is_valid():
        with form_errors(form):
            result = services.tender_open(actor=request.user, tender=tender, shares=form.shares())
            if result.tampered:
                messages.error(request, _("开标完成，但有 %(n)d 份投标校验失败，已通知审计人员。")
                               % {"n": len(result.tampered)})
            else:
                messages.success(request, _("开标完成，全部投标校验一致。"))
            return redirect("procurement_console:tender", pk=pk)
    return render(request, TENDER_PAGE, _tender_context(request, tender, opening_form=form), status=400)


@console_view
@require_POST
def panel_add(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    experts = User.objects.filter(role=Role.EXPERT, is_active=True)
    form = forms.PanelForm(request.POST, experts=experts)
    if not form.is_valid():
        raise ValidationFailed(fields={"expert": [_("请选择评标专家。")]})
    services.panel_add(actor=request.user, tender=tender, expert=experts.get(pk=form.cleaned_data["expert"]),
                       is_chair=form.cleaned_data["is_chair"])
    messages.success(request, _("已加入评标委员会。"))
    return redirect("procurement_console:tender", pk=pk)


@console_view
@require_POST
def bid_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    bid = selectors.bid_get(request.user, pk=pk)
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"reason": [_("请填写否决理由。")]})
    services.bid_disqualify(actor=request.user, bid=bid, reason=form.cleaned_data["reason"])
    messages.success(request, _("已否决该投标。"))
    target = "procurement_console:evaluate" if request.POST.get("next") == "evaluate" else "procurement_console:tender"
    return redirect(target, pk=bid.tender_id)


@console_view
@require_POST
def evaluation_finish(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    ranked = services.evaluation_finish(actor=request.user, tender=tender)
    if ranked:
        messages.success(request, _("评标完成，已排出名次。"))
    else:
        messages.error(request, _("有效投标不足，本次招标流标。"))
    return redirect("procurement_console:tender", pk=pk)


@console_view
@require_POST
def award_make(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    services.award_make(actor=request.user, tender=tender)
    messages.success(request, _("已定标，中标结果进入公示期。"))
    return redirect("procurement_console:tender", pk=pk)


@console_view
@require_POST
def complaint_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = Complaint.objects.filter(pk=pk, award__tender__in=selectors.tenders_visible(request.user)).first()
    if complaint is None:
        raise NotFound()
    form = forms.ResolveForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"resolution": [_("请选择结论并填写处理结果。")]})
    services.complaint_resolve(actor=request.user, complaint=complaint, upheld=form.cleaned_data["upheld"],
                               resolution=form.cleaned_data["resolution"])
    messages.success(request, _("质疑已处理。"))
    return redirect("procurement_console:tender", pk=complaint.award.tender_id)


@console_view
@require_POST
def contract_sign(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    award = tender.awards.exclude(status=AwardStatus.CANCELLED).first()
    if award is None:
        raise NotFound()
    form = forms.ContractForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            contract = services.contract_sign(actor=request.user, award=award, **form.cleaned_data)
            messages.success(request, _("合同已签订，请录入付款节点。"))
            return redirect("procurement_console:contract", pk=contract.pk)
    return render(request, TENDER_PAGE, _tender_context(request, tender, contract_form=form), status=400)


# ---------------------------------------------------------------------------------------------
# the expert's evaluation screen


@console_view
def evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    member = selectors.panel_member(request.user, tender)
    if member is None:
        raise NotFound()
    scoring = can_score(request.user, tender)
    bids = list(selectors.opening_record(tender)) if scoring else []
    mine = {s.bid_id: s for s in Score.objects.filter(bid__in=bids, expert=request.user)}
    return render(request, "procurement/console/evaluate.html", {
        "tender": tender, "member": member, "can_score": scoring, "rows": [(b, mine.get(b.pk)) for b in bids],
        "mine": mine,
        "declaration_form": forms.DeclarationForm(), "max_technical": 100 - tender.price_weight,
        "valid": BidStatus.OPENED})


@console_view
@require_POST
def declare(request: HttpRequest, pk: int) -> HttpResponse:
    tender = selectors.tender_get(request.user, pk=pk)
    form = forms.DeclarationForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"has_conflict": [_("请选择是否存在利害关系。")]})
    member = services.conflict_declare(actor=request.user, tender=tender, **form.cleaned_data)
    if member.has_conflict:
        messages.warning(request, _("您已回避本项目评标。"))
    else:
        messages.success(request, _("声明已记录，现在可以评分。"))
    return redirect("procurement_console:evaluate", pk=pk)


@console_view
@require_POST
def score(request: HttpRequest, pk: int) -> HttpResponse:
    bid = Bid.objects.select_related("tender", "supplier").filter(pk=pk).first()
    if bid is None or selectors.panel_member(request.user, bid.tender) is None:
        raise NotFound()
    form = forms.ScoreForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"technical": [_("请填写技术分。")]})
    services.score_record(actor=request.user, bid=bid, **form.cleaned_data)
    messages.success(request, _("已保存对 %(s)s 的评分。") % {"s": bid.supplier.name})
    return redirect("procurement_console:evaluate", pk=bid.tender_id)


# ---------------------------------------------------------------------------------------------
# contracts


@console_view
def contract_list(request: HttpRequest) -> HttpResponse:
    contracts = selectors.contracts_visible(request.user).select_related("project", "supplier")[:200]
    return render(request, "procurement/console/contract_list.html", {"contracts": contracts})


def _contract_context(request: HttpRequest, contract: Any, **over: Any) -> dict[str, Any]:
    user = request.user
    return {
        "contract": contract,
        "summary": selectors.contract_summary(contract),
        "milestones": contract.milestones.select_related("wbs_item"),
        "variations": contract.variations.select_related("requested_by", "decided_by"),
        "manage": may_manage(user, contract.project, Cap.CONTRACT_MANAGE),
        "can_decide": may_manage(user, contract.project, Cap.CONTRACT_MANAGE) or user.role == Role.LEADER,
        "milestone_form": over.get("milestone_form") or forms.MilestoneForm(items=contract.project.wbs_items.all()),
        "variation_form": over.get("variation_form") or forms.VariationForm(),
        "decision_form": forms.DecisionForm(),
    }


@console_view
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk=pk)
    return render(request, CONTRACT_PAGE, _contract_context(request, contract))


@console_view
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk=pk)
    form = forms.MilestoneForm(request.POST, items=contract.project.wbs_items.all())
    if form.is_valid():
        with form_errors(form):
            services.milestone_add(actor=request.user, contract=contract, **form.cleaned_data)
            messages.success(request, _("付款节点已添加。"))
            return redirect("procurement_console:contract", pk=pk)
    return render(request, CONTRACT_PAGE, _contract_context(request, contract, milestone_form=form), status=400)


@console_view
@require_POST
def variation_propose(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk=pk)
    form = forms.VariationForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.variation_propose(actor=request.user, contract=contract, **form.cleaned_data)
            messages.success(request, _("变更已提出，等待审批。"))
            return redirect("procurement_console:contract", pk=pk)
    return render(request, CONTRACT_PAGE, _contract_context(request, contract, variation_form=form), status=400)


@console_view
@require_POST
def variation_decide(request: HttpRequest, pk: int) -> HttpResponse:
    variation: Variation = selectors.variation_get(request.user, pk=pk)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={"approve": [_("请选择审批结论。")]})
    services.variation_decide(actor=request.user, variation=variation, **form.cleaned_data)
    messages.success(request, _("变更审批已记录。"))
    return redirect("procurement_console:contract", pk=variation.contract_id)


# ---------------------------------------------------------------------------------------------
# suppliers

SUPPLIER_PAGE = "procurement/console/supplier.html"
SUPPLIER_FORM = "procurement/console/supplier_form.html"


@console_view
def supplier_list(request: HttpRequest) -> HttpResponse:
    form = forms.SupplierSearchForm(request.GET)
    valid = form.is_valid()
    q = form.cleaned_data["q"] if valid else ""
    invalid = bool(valid and form.cleaned_data["invalid"])
    page = Paginator(selectors.supplier_search(request.user, q, invalid_code=invalid),
                     settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "procurement/console/supplier_list.html",
                  {"form": form, "page": page, "q": q, "invalid": invalid,
                   "invalid_count": len(selectors.invalid_code_ids(request.user)),
                   "manage": may_manage_suppliers(request.user)})


@console_view
def supplier_create(request: HttpRequest) -> HttpResponse:
    require_supplier_manager(request.user)
    form = forms.SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            supplier = services.supplier_create(actor=request.user, **form.cleaned_data)
            messages.success(request, _("供应商已登记。"))
            return redirect("procurement_console:supplier", pk=supplier.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, SUPPLIER_FORM, {"form": form, "supplier": None}, status=status)


def _frozen_code(supplier: Supplier) -> str | None:
    return supplier.credit_code if in_use(supplier) else None


@console_view
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_get(request.user, pk=pk)
    require_supplier_manager(request.user)
    initial = {f: getattr(supplier, f) for f in ("name", "credit_code", "address", "contact_name", "contact_phone")}
    form = forms.SupplierForm(request.POST or None, initial=initial, frozen_code=_frozen_code(supplier))
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.supplier_update(actor=request.user, supplier=supplier, **form.cleaned_data)
            messages.success(request, _("供应商信息已保存。"))
            return redirect("procurement_console:supplier", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(request, SUPPLIER_FORM, {"form": form, "supplier": supplier}, status=status)


def _contractor_accounts(supplier: Supplier) -> Any:
    return (User.objects.filter(role=Role.CONTRACTOR, is_active=True).exclude(suppliers=supplier)
            .order_by("organisation", "username"))


def _supplier_context(request: HttpRequest, supplier: Supplier, **over: Any) -> dict[str, Any]:
    user = request.user
    manage = may_manage_suppliers(user)
    phone = supplier.contact_phone
    return {
        "supplier": supplier,
        "manage": manage,
        # Personal data: the contact's number in full only for those who keep the registry.
        "phone": phone if manage or len(phone) < 11 else f"{phone[:3]}****{phone[-4:]}",
        "accounts": supplier.users.order_by("username"),
        "bids": selectors.supplier_bids(user, supplier)[:100],
        "awards": selectors.supplier_awards(user, supplier)[:100],
        "contracts": selectors.supplier_contracts(user, supplier)[:100],
        "payments": selectors.supplier_payments(user, supplier)[:100],
        "link_form": over.get("link_form") or (forms.SupplierUserForm(accounts=_contractor_accounts(supplier)[:300])
                                               if manage else None),
    }


@console_view
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_get(request.user, pk=pk)
    return render(request, SUPPLIER_PAGE, _supplier_context(request, supplier))


@console_view
@require_POST
def supplier_link(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_get(request.user, pk=pk)
    require_supplier_manager(request.user)
    accounts = _contractor_accounts(supplier)
    form = forms.SupplierUserForm(request.POST, accounts=accounts)
    if form.is_valid():
        services.supplier_user_link(actor=request.user, supplier=supplier,
                                    user=accounts.get(pk=form.cleaned_data["user"]))
        messages.success(request, _("账号已关联，可代表该供应商投标。"))
        return redirect("procurement_console:supplier", pk=pk)
    return render(request, SUPPLIER_PAGE, _supplier_context(request, supplier, link_form=form), status=400)


@console_view
@require_POST
def supplier_unlink(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    supplier = selectors.supplier_get(request.user, pk=pk)
    require_supplier_manager(request.user)
    account = supplier.users.filter(pk=user_pk).first()
    if account is None:
        raise NotFound()
    services.supplier_user_unlink(actor=request.user, supplier=supplier, user=account)
    messages.success(request, _("已解除该账号与供应商的关联。"))
    return redirect("procurement_console:supplier", pk=pk)
