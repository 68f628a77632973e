"""Console page for supervision of one project. Parse → call → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from minsheng.console.errors import console_view, form_errors
from minsheng.construction import checklists, forms, selectors, services
from minsheng.construction.progress import GAP, NO_EVIDENCE, STALE_EVIDENCE
from minsheng.projects.models import Project
from minsheng.projects.selectors import project_get
from minsheng.telemetry.selectors import water_projects

PAGE = "construction/supervision.html"
REASON_LABELS = {
    GAP: gettext_lazy("上报进度与核实进度差距超过阈值"),
    NO_EVIDENCE: gettext_lazy("有上报进度没有任何现场证据"),
    STALE_EVIDENCE: gettext_lazy("证据早于上报周期"),
}


def _context(request: HttpRequest, project: Project, **forms_: Any) -> dict[str, Any]:
    gap = selectors.progress_gap(project)
    user = request.user
    return {
        "project": project,
        "gap": gap,
        "reasons": [REASON_LABELS[r] for r in gap.reasons],
        "logs": selectors.logs_for(project)[:30],
        "inspections": selectors.inspections_for(project)[:30],
        "rectifications": selectors.rectifications_for(project),
        "passed_inspections": [i for i in selectors.inspections_for(project)[:30] if i.passed],
        "can_log": services.can_log(user, project),
        "can_inspect": services.inspector_kind_for(user, project) is not None,
        "observation_count": project.village_observations.count(),
        "observations": selectors.observations_for(project)[:10],
        "has_water": bool(water_projects([project])),
        "log_form": forms_.get("log_form") or forms.LogForm(),
        "inspection_form": forms_.get("inspection_form") or forms.InspectionForm(),
        "rect_form": forms_.get("rect_form") or forms.RectificationForm(),
    }


@console_view
def supervision(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    return render(request, PAGE, _context(request, project))


@console_view
@require_POST
def log_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = forms.LogForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.log_record(actor=request.user, project=project, **form.cleaned_data)
            messages.success(request, _("监理日志已保存。"))
            return redirect("construction:supervision", pk=pk)
    return render(request, PAGE, _context(request, project, log_form=form), status=400)


@console_view
@require_POST
def inspection_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = forms.InspectionForm(request.POST, request.FILES)
    if form.is_valid():
        cd = form.cleaned_data
        photos = []
        if cd["photo"]:
            photos.append({"file": cd["photo"], "name": cd["photo"].name, "taken_at": cd["photo_taken_at"],
                           "latitude": cd["photo_latitude"], "longitude": cd["photo_longitude"]})
        with form_errors(form):
            services.inspection_record(actor=request.user, project=project, inspected_at=cd["inspected_at"],
                                       checklist=cd["checklist"], passed=cd["passed"], notes=cd["notes"],
                                       village_representative=cd["village_representative"], photos=photos)
            messages.success(request, _("检查记录已保存并存证。"))
            return redirect("construction:supervision", pk=pk)
    return render(request, PAGE, _context(request, project, inspection_form=form), status=400)


@console_view
@require_POST
def rectification_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    form = forms.RectificationForm(request.POST)
    if form.is_valid():
        with form_errors(form):
            services.rectification_issue(actor=request.user, project=project, **form.cleaned_data)
            messages.success(request, _("整改通知已下达。"))
            return redirect("construction:supervision", pk=pk)
    return render(request, PAGE, _context(request, project, rect_form=form), status=400)


@console_view
@require_POST
def rectification_close(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.rectification_get(request.user, pk=pk)
    form = forms.CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择复查记录。"))
        return redirect("construction:supervision", pk=order.project_id)
    reinspection = selectors.inspection_get(request.user, pk=form.cleaned_data["reinspection"])
    services.rectification_close(actor=request.user, order=order, reinspection=reinspection)
    messages.success(request, _("整改已复查销号。"))
    return redirect("construction:supervision", pk=order.project_id)


def offline_key(user: Any) -> str:
    """The key of what the phone keeps for this user (the service worker's cache, the drafts
    database): another user of the same phone never opens them. A keyed hash, not the user id."""
    from django.utils.crypto import salted_hmac

    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    return salted_hmac("minsheng.construction.offline", str(user.pk)).hexdigest()[:20]


@console_view
def inspect(request: HttpRequest) -> HttpResponse:
    """The phone page for site inspections: works offline, keeps drafts on the phone, syncs later."""
    projects = selectors.inspectable_projects(request.user)
    lists = {p.domain: checklists.checklist_for(p.domain) for p in projects}
    lists[""] = checklists.checklist_for("")
    return render(request, "construction/inspect.html", {"projects": projects, "checklists": lists,
                                                         "offline_key": offline_key(request.user)})


def inspect_sw(request: HttpRequest) -> HttpResponse:
    """The service worker, per user: its cache is named after the user's offline key, so a new user on
    the same phone gets a new worker that drops the previous user's cache when it takes over."""
    from django.templatetags.static import static
    from django.urls import reverse

    response = render(request, "construction/inspect_sw.js", {
        "cache": f"ms-inspect-v2-{offline_key(request.user)}",
        "page": reverse("construction:inspect"), "css": static("vendor/tabler.min.css"),
        "app_css": static("minsheng/minsheng.css"), "own_css": static("minsheng/supervision.css"),
        "js": static("minsheng/inspect.js"), "htmx": static("vendor/htmx.min.js"),
        "console_js": static("minsheng/console.js"),
    }, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Vary"] = "Cookie"
    return response


OBSERVATIONS = "construction/observations.html"


def _observation_context(request: HttpRequest, project: Project, form: Any = None) -> dict[str, Any]:
    return {"project": project, "observations": selectors.observations_for(project)[:100],
            "can_observe": services.can_observe(request.user, project),
            "form": form or forms.ObservationForm()}


@console_view
def observations(request: HttpRequest, pk: int) -> HttpResponse:
    """村民代表监督: the observations on one project; the form for a representative of its village."""
    project = project_get(request.user, pk=pk)
    if request.method == "POST":
        form = forms.ObservationForm(request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["photos"] = [{"file": f, "name": f.name} for f in data.pop("photos")]
            with form_errors(form):
                services.observation_record(actor=request.user, project=project, **data)
                messages.success(request, _("已记录，监理和项目负责人会看到。"))
                return redirect("construction:observations", pk=pk)
        return render(request, OBSERVATIONS, _observation_context(request, project, form), status=400)
    return render(request, OBSERVATIONS, _observation_context(request, project))


@console_view
def observation_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A village representative's photo (stored without EXIF), for those who can see the project."""
    photo = selectors.observation_photo_get(request.user, pk=pk)
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@console_view
def village(request: HttpRequest) -> HttpResponse:
    """A village representative's start page: the projects of their village, in plain words."""
    from minsheng.projects.selectors import projects_visible

    projects = list(projects_visible(request.user).select_related("division").order_by("-stage_changed_at", "id")[:50])
    water = set(water_projects(projects))
    return render(request, "construction/village.html", {
        "village": services.village_of(request.user),
        "projects": [{"project": p, "water": p.pk in water} for p in projects]})
