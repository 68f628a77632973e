"""Console pages for auditors: red flags (list, detail, decision) and audit samples. Parse → call → render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.roles import Cap
from minsheng.console.errors import console_view, form_errors
from minsheng.core.errors import PermissionDenied
from minsheng.core.models import Department
from minsheng.insight import forms, reasons, selectors, services
from minsheng.insight.models import FlagKind


def _departments(request: HttpRequest):
    ids = selectors.flags_visible(request.user).exclude(department=None).values("department_id").distinct()
    return Department.objects.filter(pk__in=ids).select_related("division")


def _require(request: HttpRequest, cap: str) -> None:
    if not (request.user.is_superuser or request.user.can(cap)):
        raise PermissionDenied()


@console_view
def flag_list(request: HttpRequest) -> HttpResponse:
    form = forms.FlagFilterForm(request.GET or None, departments=_departments(request))
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.FlagFilters(kind=data.get("kind") or "", severity=data.get("severity") or "",
                                    status=data.get("status") or "", department=data.get("department"),
                                    project=data.get("project") or "")
    page = Paginator(selectors.flag_list(request.user, filters), 50).get_page(request.GET.get("page"))
    for flag in page:
        flag.reason_text = reasons.render(flag.kind, flag.figures) or flag.reason
    return render(request, "insight/flag_list.html", {"form": form, "page": page})


def _detail(request: HttpRequest, flag, form=None, status=200) -> HttpResponse:
    flag.reason_text = reasons.render(flag.kind, flag.figures) or flag.reason
    return render(request, "insight/flag_detail.html", {
        "flag": flag, "form": form or forms.DecideForm(initial={"status": flag.status, "comment": flag.comment}),
        "can_decide": request.user.is_superuser or request.user.can(Cap.REDFLAG_VIEW),
        "kind_label": FlagKind(flag.kind).label,
    }, status=status)


@console_view
def flag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.flag_get(request.user, pk))


@console_view
@require_POST
def flag_decide(request: HttpRequest, pk: int) -> HttpResponse:
    flag = selectors.flag_get(request.user, pk)
    form = forms.DecideForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.redflag_decide(actor=request.user, flag=flag, status=form.cleaned_data["status"],
                                    comment=form.cleaned_data["comment"])
            messages.success(request, _("核查结论已保存。"))
            return redirect("insight:flag", pk=flag.pk)
    return _detail(request, flag, form, status=400)


def _samples_page(request: HttpRequest, form=None, status=200) -> HttpResponse:
    departments = Department.objects.filter(
        pk__in=selectors.payments_visible(request.user).values("project__lead_department_id")
    ).select_related("division")
    return render(request, "insight/samples.html", {
        "samples": selectors.samples_visible(request.user).select_related("drawn_by")[:100],
        "form": form or forms.SampleForm(departments=departments),
    }, status=status)


@console_view
def samples(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.AUDIT_SAMPLE)
    if request.method != "POST":
        return _samples_page(request)
    departments = Department.objects.all()
    form = forms.SampleForm(request.POST, departments=departments)
    if form.is_valid():
        with form_errors(form):
            d = form.cleaned_data
            sample = services.sample_draw(actor=request.user, title=d["title"], size=d["size"], seed=d["seed"],
                                          department_id=d["department"], date_from=d["date_from"],
                                          date_to=d["date_to"], stratify=d["stratify"])
            messages.success(request, _("已抽取 %(n)s 笔拨付。") % {"n": sample.size})
            return redirect("insight:sample", pk=sample.pk)
    return _samples_page(request, form, status=400)


@console_view
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.AUDIT_SAMPLE)
    sample = selectors.sample_get(request.user, pk)
    items = sample.items.select_related("payment", "payment__project", "payment__contract__supplier", "checked_by")
    return render(request, "insight/sample_detail.html", {"sample": sample, "items": items,
                                                          "form": forms.FindingForm()})


@console_view
@require_POST
def sample_finding(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.sample_item_get(request.user, pk)
    form = forms.FindingForm(request.POST)
    if form.is_valid():
        services.sample_record_finding(actor=request.user, item=item, result=form.cleaned_data["result"],
                                       finding=form.cleaned_data["finding"])
        messages.success(request, _("检查结论已记录。"))
    else:
        messages.error(request, _("请选择检查结论。"))
    return redirect("insight:sample", pk=item.sample_id)
