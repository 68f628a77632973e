"""Public procurement pages: tender notices, answered questions, the opening record (开标记录), award notices
(中标公示) and each project's contracts; and the bidder's own pages (contractor login) to ask, bid, withdraw,
complain and keep their receipt. No JavaScript needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms as djforms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.roles import Cap
from minsheng.core.errors import MinshengError, NotFound, ValidationFailed
from minsheng.procurement import forms, selectors, services
from minsheng.procurement.models import AwardStatus, BidStatus, Supplier, Tender, TenderStatus
from minsheng.projects.models import Project

PAGE = "procurement/portal/tender.html"


@contextmanager
def shown_on(form: djforms.Form) -> Iterator[None]:
    """A refusal from a service becomes an error on the form the bidder just sent."""
    try:
        yield
    except ValidationFailed as exc:
        for name, msgs in exc.fields.items():
            for m in msgs:
                form.add_error(name if name in form.fields else None, str(m))
        if not exc.fields:
            form.add_error(None, str(exc.message))
    except MinshengError as exc:
        form.add_error(None, str(exc.message))


def tender_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.public_tenders(), 30).get_page(request.GET.get("page"))
    return render(request, "procurement/portal/tender_list.html", {"page": page})


def _bidder(request: HttpRequest) -> Supplier | None:
    user = request.user
    if not user.is_authenticated or not user.can(Cap.BID_SUBMIT):
        return None
    return Supplier.objects.filter(users=user).order_by("pk").first()


def _context(request: HttpRequest, tender: Tender, **over: Any) -> dict[str, Any]:
    supplier = _bidder(request)
    award = tender.awards.exclude(status=AwardStatus.CANCELLED).select_related("supplier").first()
    now = timezone.now()
    own = list(selectors.own_bids(request.user, tender).order_by("-submitted_at")) if supplier else []
    return {
        "tender": tender,
        "now": now,
        "opened": selectors.is_opened(tender),
        "received": selectors.bids_received(tender),
        "record": selectors.opening_record(tender),
        "clarifications": selectors.clarifications_public(tender),
        "award": award,
        "contract": tender.contracts.first(),
        "supplier": supplier,
        "own_bids": own,
        "live_bid": next((b for b in own if b.status == BidStatus.SEALED), None),
        "accepting": tender.status == TenderStatus.PUBLISHED and tender.submission_deadline
        and now < tender.submission_deadline,
        "asking": tender.status == TenderStatus.PUBLISHED
        and (tender.clarification_deadline is None or now <= tender.clarification_deadline),
        "complaining": bool(award and supplier and award.status == AwardStatus.STANDSTILL
                            and now <= award.standstill_until and any(b.status != BidStatus.WITHDRAWN for b in own)),
        "bid_form": over.get("bid_form") or forms.BidForm(),
        "question_form": over.get("question_form") or forms.QuestionForm(),
        "complaint_form": over.get("complaint_form") or forms.ComplaintForm(),
        "invited": list(tender.invited_suppliers.order_by("name")),
        "cancellation": selectors.cancellation_of(tender),
    }


def _tender(pk: int) -> Tender:
    return selectors.public_tender_get(pk)


def tender_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        tender = _tender(pk)
    except NotFound as exc:
        return render(request, "procurement/portal/missing.html", {"message": exc.message}, status=404)
    return render(request, PAGE, _context(request, tender))


def _login_needed(request: HttpRequest, tender: Tender) -> HttpResponse:
    return redirect_to_login(f"/procurement/tenders/{tender.pk}/", login_url="/console/login/")


@require_POST
def ask(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    if not request.user.is_authenticated:
        return _login_needed(request, tender)
    form = forms.QuestionForm(request.POST)
    if form.is_valid():
        with shown_on(form):
            services.clarification_ask(actor=request.user, tender=tender, question=form.cleaned_data["question"])
            return render(request, "procurement/portal/done.html", {
                "tender": tender, "title": _("问题已提交"),
                "text": _("招标人答复后，问题和答复将在公告页公开（不显示提问单位）。")})
    return render(request, PAGE, _context(request, tender, question_form=form), status=400)


@require_POST
def bid_submit(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    if not request.user.is_authenticated:
        return _login_needed(request, tender)
    form = forms.BidForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        with shown_on(form):
            receipt = services.bid_submit(actor=request.user, tender=tender, price=cd["price"],
                                          technical=cd["technical"], attachments=cd["attachments"])
            response = render(request, "procurement/portal/receipt.html", {"tender": tender, "receipt": receipt})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, PAGE, _context(request, tender, bid_form=form), status=400)


@login_required(login_url="/console/login/")
@require_POST
def bid_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    bid = selectors.own_bids(request.user).filter(pk=pk).first()
    if bid is None:
        return render(request, "procurement/portal/missing.html", {"message": NotFound().message}, status=404)
    form = forms.QuestionForm()  # only carries a refusal back to the page
    with shown_on(form):
        services.bid_withdraw(actor=request.user, bid=bid)
        return render(request, "procurement/portal/done.html", {
            "tender": bid.tender, "title": _("投标已撤回"),
            "text": _("原投标已作废；截止时间前可以重新递交。")})
    return render(request, PAGE, _context(request, bid.tender, question_form=form), status=409)


@require_POST
def complaint_file(request: HttpRequest, pk: int) -> HttpResponse:
    tender = _tender(pk)
    if not request.user.is_authenticated:
        return _login_needed(request, tender)
    award = tender.awards.exclude(status=AwardStatus.CANCELLED).first()
    form = forms.ComplaintForm(request.POST)
    if award is not None and form.is_valid():
        with shown_on(form):
            services.complaint_file(actor=request.user, award=award, text=form.cleaned_data["text"])
            return render(request, "procurement/portal/done.html", {
                "tender": tender, "title": _("质疑已提交"),
                "text": _("质疑处理完毕前暂停签订合同；处理结果将书面答复。")})
    return render(request, PAGE, _context(request, tender, complaint_form=form), status=400)


def project_procurement(request: HttpRequest, code: str) -> HttpResponse:
    project = Project.objects.select_related("division").filter(code=code.replace("-", "")).first()
    if project is None:
        return render(request, "procurement/portal/missing.html", {"message": NotFound().message}, status=404)
    contracts = [(c, selectors.contract_summary(c), list(c.milestones.all()))
                 for c in selectors.public_contracts(project)]
    tenders = selectors.public_tenders().filter(project=project)
    return render(request, "procurement/portal/project.html",
                  {"project": project, "tenders": tenders, "contracts": contracts})
