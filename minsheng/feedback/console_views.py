"""Console pages for handling units: the queue, one request with its actions, the hotline operator's
quick entry with caller history, and the metrics page. Parse → call → render; scoped selectors only."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.roles import Cap
from minsheng.console.errors import console_view, form_errors
from minsheng.core.errors import PermissionDenied
from minsheng.feedback import forms, selectors, services
from minsheng.feedback.models import Channel, Status

DETAIL = "feedback/console_detail.html"


@console_view
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    qs = selectors.requests_visible(request.user)
    if status == "open":
        qs = qs.exclude(status=Status.CLOSED)
    elif status in Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-created_at", "-id"), settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, r.phone if selectors.sees_phone(request.user, r) else r.masked_phone) for r in page.object_list]
    return render(request, "feedback/console_queue.html",
                  {"page": page, "rows": rows, "status": status, "statuses": Status.choices})


def _detail_context(request: HttpRequest, req: Any, **forms_: Any) -> dict[str, Any]:
    return {
        "req": req,
        "phone": req.phone if selectors.sees_phone(request.user, req) else req.masked_phone,
        "events": selectors.timeline(req, public_only=False),
        "clocks": services.clocks_for(req),
        "transfer": selectors.transfer_open(req),
        "note_form": forms_.get("note_form") or forms.NoteForm(),
        "reply_form": forms_.get("reply_form") or forms.ReplyForm(),
        "visit_form": forms_.get("visit_form") or forms.VisitForm(),
        "transfer_form": forms_.get("transfer_form") or forms.TransferForm(),
        "decide_form": forms_.get("decide_form") or forms.DecideForm(),
    }


@console_view
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.request_get(request.user, pk=pk)
    return render(request, DETAIL, _detail_context(request, req))


# Each action: (form class or None, context key, service call taking (actor, request, cleaned data)).
ACTIONS: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "accept": (None, "", lambda u, r, cd: services.request_accept(actor=u, request=r)),
    "contact": (forms.NoteForm, "note_form", lambda u, r, cd: services.request_contact(actor=u, request=r,
                                                                                    note=cd["note"])),
    "wait": (forms.NoteForm, "note_form", lambda u, r, cd: services.request_wait(actor=u, request=r, waiting=True,
                                                                              note=cd["note"])),
    "resume": (None, "", lambda u, r, cd: services.request_wait(actor=u, request=r, waiting=False)),
    "reply": (forms.ReplyForm, "reply_form", lambda u, r, cd: services.request_reply(actor=u, request=r,
                                                                                  text=cd["text"])),
    "visit": (forms.VisitForm, "visit_form", lambda u, r, cd: services.request_return_visit(
        actor=u, request=r, resolved=cd["resolved"], satisfaction=cd["satisfaction"], comment=cd["comment"])),
    "close": (None, "", lambda u, r, cd: services.request_close(actor=u, request=r)),
    "transfer": (forms.TransferForm, "transfer_form", lambda u, r, cd: services.transfer_request(
        actor=u, request=r, to_unit=cd["to_unit"], reason=cd["reason"])),
    "transfer_accept": (None, "", lambda u, r, cd: services.transfer_accept(actor=u, request=r)),
    "transfer_dispute": (forms.NoteForm, "note_form", lambda u, r, cd: services.transfer_dispute(
        actor=u, request=r, reason=cd["note"])),
    "decide": (forms.DecideForm, "decide_form", lambda u, r, cd: services.transfer_decide(actor=u, request=r,
                                                                                       unit=cd["unit"])),
}


@require_POST
@console_view
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    req = selectors.request_get(request.user, pk=pk)
    form_class, key, call = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is None or form.is_valid():
        with form_errors(form) if form is not None else nullcontext():
            call(request.user, req, form.cleaned_data if form else {})
            messages.success(request, _("已保存。"))
            return redirect("feedback_console:detail", pk=req.pk)
    return render(request, DETAIL, _detail_context(request, req, **{key: form}), status=400)


@console_view
def hotline(request: HttpRequest) -> HttpResponse:
    """The operator types while the caller talks; the caller's earlier requests show beside the form."""
    if not request.user.can(Cap.FEEDBACK_INTAKE):
        raise PermissionDenied(_("只有政府部门工作人员可以登记群众来电来访。"))
    form = forms.HotlineForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        with form_errors(form):
            req = services.request_submit(actor=request.user, data=services.Submission(
                kind=cd["kind"], category=cd["category"], description=cd["description"], division=cd["division"],
                urgency=cd["urgency"], channel=Channel.HOTLINE, address=cd["address"], name=cd["name"],
                phone=cd["phone"]))
            messages.success(request, _("已登记，受理编号 %(code)s。") % {"code": req.receipt_code})
            return redirect("feedback_console:hotline")
    phone = (request.POST.get("phone") or request.GET.get("phone") or "").strip()
    history = selectors.caller_history(request.user, phone)
    return render(request, "feedback/console_hotline.html", {"form": form, "history": history, "phone": phone},
                  status=400 if form.errors else 200)


@console_view
def metrics_page(request: HttpRequest) -> HttpResponse:
    from minsheng.feedback import metrics

    form = forms.MetricsForm(request.GET)
    group = form.cleaned_data["group"] if form.is_valid() and form.cleaned_data["group"] else "department"
    rows = metrics.metrics_for(request.user, group)
    chart_rows = [{k: (str(v) if v is not None else None) for k, v in r.items() if k != "key"} for r in rows]
    return render(request, "feedback/console_metrics.html",
                  {"form": form, "rows": rows, "group": group, "chart_rows": chart_rows,
                   "columns": [str(c) for _k, c in metrics.COLUMNS]})


@console_view
def metrics_xlsx(request: HttpRequest) -> HttpResponse:
    """The same numbers as the page, as a workbook. Aggregates only: no personal data."""
    import io

    from openpyxl import Workbook

    from minsheng.feedback import metrics

    form = forms.MetricsForm(request.GET)
    group = form.cleaned_data["group"] if form.is_valid() and form.cleaned_data["group"] else "department"
    rows = metrics.metrics_for(request.user, group)
    wb = Workbook()
    ws = wb.active
    ws.title = _("诉求统计")
    ws.append([str(label) for _key, label in metrics.COLUMNS])
    for row in rows:
        ws.append([float(v) if isinstance(v, metrics.Decimal) else v for v in (row[k] for k, _l in metrics.COLUMNS)])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="feedback-metrics-{group}.xlsx"'
    return response
