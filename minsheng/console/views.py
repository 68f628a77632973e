"""Staff console pages. Each view parses, calls a selector or service, renders.
Domain errors are mapped in `errors.py`; data comes only from scoped selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts import selectors as account_selectors
from minsheng.accounts.roles import Cap, Role
from minsheng.console import forms
from minsheng.console.errors import console_view, form_errors
from minsheng.core import services as core_services
from minsheng.core.errors import NotFound, PermissionDenied
from minsheng.projects import selectors, services, wbs
from minsheng.projects.lifecycle import PathKind
from minsheng.projects.models import Project

DETAIL = "console/project_detail.html"


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out, and have the browser drop what it kept for this user: its HTTP cache (Clear-Site-Data)
    and, on the login page it lands on, the offline inspection caches (minsheng/signed-out.js)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache"'
        return response


@console_view
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "console/home.html",
        {
            "projects": selectors.my_projects(user).order_by("-updated_at", "-id")[:20],
            "overdue": selectors.my_overdue_items(user)[:20],
            "gates": selectors.gates_waiting_for(user),
            "notifications": account_selectors.notifications_unread(user)[:10],
            "unread_count": account_selectors.notifications_unread(user).count(),
        },
    )


@console_view
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's own notifications, unread first; "unread" shows only those."""
    unread_only = request.GET.get("show") == "unread"
    qs = account_selectors.notifications_for(request.user, unread_only=unread_only)
    page = Paginator(qs, settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "console/notifications.html", {"page": page, "unread_only": unread_only,
                                                          "unread": account_selectors.notifications_unread(
                                                              request.user).count()})


@console_view
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read (only the user's own; only links within the site)."""
    note = account_selectors.notifications_for(request.user).filter(pk=pk).first()
    if note is None:
        raise NotFound(_("未找到该通知。"))
    core_services.notifications_mark_read(actor=request.user, ids=[note.pk])
    target = note.link if note.link and url_has_allowed_host_and_scheme(
        note.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()) else reverse(
        "console:notifications")
    return redirect(target)


@console_view
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark read: the notification posted as `id`, or all unread ones (`all`)."""
    ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    n = core_services.notifications_mark_read(actor=request.user, ids=ids)
    if ids is None:
        messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("console:notifications")
    return redirect(target)


@console_view
def project_list(request: HttpRequest) -> HttpResponse:
    form = forms.ProjectFilterForm(request.GET, user=request.user)
    projects = selectors.project_list(request.user, selectors.ProjectFilters())
    if form.is_valid():
        cd = form.cleaned_data
        filters = selectors.ProjectFilters(
            division=cd["division"].pk if cd["division"] else None,
            domain=cd["domain"] or None,
            stage=cd["stage"] or None,
            overdue=cd["overdue"],
            q=cd["q"],
        )
        projects = selectors.project_list(request.user, filters)
    else:
        projects = projects.none()
    page = Paginator(projects, settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    overdue = selectors.project_overdue_counts(list(page.object_list))
    rows = [(p, overdue.get(p.pk, 0)) for p in page.object_list]
    template = "console/project_list.html#results" if request.htmx else "console/project_list.html"
    return render(
        request,
        template,
        {"form": form, "page": page, "rows": rows, "can_create": request.user.can(Cap.PROJECT_CREATE)},
    )


@console_view
def project_create(request: HttpRequest) -> HttpResponse:
    if not request.user.can(Cap.PROJECT_CREATE):
        raise PermissionDenied(_("您没有登记项目的权限。"))
    form = forms.ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            project = services.project_create(
                actor=request.user,
                data=form.service_data(),
                partners=list(form.cleaned_data["partner_departments"]),
            )
            messages.success(request, _("项目已登记，项目代码 %(code)s。") % {"code": project.code_display})
            return redirect("console:project", pk=project.pk)
    status = 400 if form.errors else 200
    return render(request, "console/project_form.html", {"form": form, "project": None}, status=status)


@console_view
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk=pk)
    if not (request.user.can(Cap.PROJECT_EDIT) and services.can_manage(request.user, project)):
        raise PermissionDenied(_("您没有修改该项目的权限。"))
    form = forms.ProjectForm(request.POST or None, user=request.user, project=project)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.project_update(actor=request.user, project=project, data=form.service_data())
            messages.success(request, _("项目信息已保存。"))
            return redirect("console:project", pk=project.pk)
    status = 400 if form.errors else 200
    return render(request, "console/project_form.html", {"form": form, "project": project}, status=status)


@console_view
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk=pk)
    return render(request, DETAIL, _detail_context(request, project))


@console_view
@require_POST
def gate_request(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk=pk)
    form = forms.GateRequestForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            cd = form.cleaned_data
            services.gate_request(
                actor=request.user,
                project=project,
                to_stage=cd["to_stage"],
                path=cd["path"] or None,
                reason=cd["reason"],
            )
            return _after_action(request, pk, "gates", _("阶段转换申请已提交。"))
    return _action_invalid(request, project, "gates", gate_form=form)


@console_view
@require_POST
def gate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    gate = selectors.gate_request_get(request.user, pk=pk)
    form = forms.GateDecisionForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.gate_decide(
                actor=request.user,
                request=gate,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
            )
            return _after_action(request, gate.project_id, "gates", _("审批意见已提交。"))
    return _action_invalid(request, gate.project, "gates", decision_form=form)


@console_view
@require_POST
def gate_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    gate = selectors.gate_request_get(request.user, pk=pk)
    services.gate_withdraw(actor=request.user, request=gate)
    return _after_action(request, gate.project_id, "gates", _("申请已撤回。"))


@console_view
@require_POST
def wbs_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk=pk)
    form = forms.WbsItemForm(request.POST, user=request.user, items=selectors.wbs_for_project(project))
    if form.is_valid():
        with form_errors(form):
            services.wbs_item_create(actor=request.user, project=project, data=form.cleaned_data)
            return _after_action(request, pk, "wbs", _("子项已添加。"))
    return _action_invalid(request, project, "wbs", wbs_form=form)


@console_view
@require_POST
def wbs_progress(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.wbs_item_get(request.user, pk=pk)
    form = forms.ProgressForm(request.POST, prefix=f"item{item.pk}")
    if form.is_valid():
        with form_errors(form):
            services.wbs_progress(actor=request.user, item=item, progress=form.cleaned_data["progress"])
            return _after_action(request, item.project_id, "wbs", _("进度已更新。"))
    return _action_invalid(request, item.project, "wbs", progress_forms={item.pk: form})


@console_view
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk=pk)
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        with form_errors(form):
            upload = form.cleaned_data["file"]
            services.document_upload(
                actor=request.user,
                project=project,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                fileobj=upload,
                filename=upload.name,
            )
            return _after_action(request, pk, "documents", _("文件已上传。"))
    return _action_invalid(request, project, "documents", document_form=form)


@console_view
def overdue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.overdue_items(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "console/overdue.html",
        {
            "page": page,
            "by_person": selectors.overdue_by_person(request.user),
            "by_department": selectors.overdue_by_department(request.user),
        },
    )


# ---------------------------------------------------------------------------------------------
# the project page and its in-page updates


def _after_action(request: HttpRequest, pk: int, section: str, message: str) -> HttpResponse:
    """After a write: htmx gets the changed section (plus what it affects, out of band); a plain
    form post is redirected back to the project page with a message."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(reverse("console:project", kwargs={"pk": pk}) + f"#{section}")
    project = selectors.project_get(request.user, pk=pk)
    context = _detail_context(request, project) | {"flash": message}
    return render(request, f"{DETAIL}#update_{section}", context)


def _action_invalid(request: HttpRequest, project: Project, section: str, **forms_: Any) -> HttpResponse:
    context = _detail_context(request, project, **forms_)
    template = f"{DETAIL}#{section}" if request.htmx else DETAIL
    return render(request, template, context, status=400)


def _detail_context(request: HttpRequest, project: Project, **bound: Any) -> dict[str, Any]:
    user = request.user
    manage = services.can_manage(user, project)
    items = list(selectors.wbs_for_project(project))
    return {
        "project": project,
        "manage": manage,
        "can_edit": manage and user.can(Cap.PROJECT_EDIT),
        "timeline": selectors.stage_timeline(project),
        **_gates_context(user, project, manage, bound),
        "wbs_rows": _wbs_rows(user, items, bound.get("progress_forms", {})),
        "wbs_form": bound.get("wbs_form")
        or (
            forms.WbsItemForm(user=user, items=selectors.wbs_for_project(project))
            if manage and user.can(Cap.WBS_MANAGE)
            else None
        ),
        "documents": selectors.project_documents(project),
        "document_form": bound.get("document_form")
        or (
            forms.DocumentForm()
            if user.can(Cap.DOCUMENT_UPLOAD)
            and (manage or user.role == Role.FINANCE_OFFICER or selectors.is_member(user, project))
            else None
        ),
        "targets": project.targets.all(),
        "history": selectors.project_history(user, project, limit=50)
        if user.can(Cap.AUDIT_VIEW) or manage
        else None,
    }


def _gates_context(user: Any, project: Project, manage: bool, bound: dict[str, Any]) -> dict[str, Any]:
    pending = selectors.gate_requests_pending(user).filter(project=project).first()
    leader_paths = {PathKind.SUSPEND, PathKind.RESUME, PathKind.CANCEL}
    options = services.gate_options(project)
    for option in options:
        option["can_request"] = (
            pending is None
            and user.can(Cap.GATE_REQUEST)
            and (manage or (option["path"] in leader_paths and user.role == Role.LEADER))
        )
    approvals = {a.slot: a for a in pending.approvals.all()} if pending else {}
    return {
        "gate_options": options,
        "gate_form": bound.get("gate_form"),
        "pending": pending,
        "pending_slots": [{"slot": s, "approval": approvals.get(s)} for s in pending.required_slots]
        if pending
        else [],
        "open_slots": services.open_slots_for(user, pending) if pending else [],
        "decision_form": bound.get("decision_form") or forms.GateDecisionForm(),
        "can_withdraw": pending is not None and (pending.requested_by_id == user.pk or manage),
    }


def _wbs_rows(user: Any, items: list[Any], bound: dict[int, Any]) -> list[dict[str, Any]]:
    """Rows in tree order with rolled-up progress for parents (stored progress is for leaves)."""
    _total, rolled = wbs.rollup([wbs.Node(i.pk, i.parent_id, i.weight, i.progress) for i in items])
    children: dict[int | None, list[Any]] = {}
    ids = {i.pk for i in items}
    for item in items:
        children.setdefault(item.parent_id if item.parent_id in ids else None, []).append(item)
    today = timezone.localdate()
    rows: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for item in children.get(parent, []):
            leaf = item.pk not in children
            progress = rolled.get(item.pk, item.progress)
            rows.append(
                {
                    "item": item,
                    "depth": depth,
                    "leaf": leaf,
                    "progress": progress,
                    "overdue": progress < 100 and item.due_date < today,
                    "form": bound.get(item.pk)
                    or (
                        forms.ProgressForm(prefix=f"item{item.pk}", initial={"progress": item.progress})
                        if leaf and services.can_report_progress(user, item)
                        else None
                    ),
                }
            )
            walk(item.pk, depth + 1)

    walk(None, 0)
    return rows
