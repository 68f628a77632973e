"""Citizen pages: submit a request, look it up, reopen it. No login; work with JavaScript off.

Each view parses, calls a service, renders. Domain errors become form errors. Elderly mode (large
text, high contrast) is a cookie set by a plain link, so it needs no script either."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from minsheng.console.errors import form_errors
from minsheng.core.errors import MinshengError
from minsheng.feedback import selectors, services
from minsheng.feedback.forms import LookupForm, ReopenForm, SubmitForm
from minsheng.feedback.models import Channel

ELDERLY_COOKIE = "ms_elderly"
SUBMIT_RATE = getattr(settings, "FEEDBACK_SUBMIT_RATE", "20/h")


def _ctx(request: HttpRequest, **extra) -> dict:
    return {"elderly": request.COOKIES.get(ELDERLY_COOKIE) == "1", **extra}


def _project(code: str | None):
    from minsheng.projects.models import Project

    if not code:
        return None
    return Project.objects.select_related("division", "lead_department").filter(code=code.replace("-", "")).first()


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def submit(request: HttpRequest) -> HttpResponse:
    project = _project(request.GET.get("project") or request.POST.get("project"))
    form = SubmitForm(request.POST or None, request.FILES or None,
                      initial={"category": "project"} if project else None)
    status = 200
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请稍后再试，或拨打 12345 热线。"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        if request.POST.get("action") == "send_code":
            with form_errors(form):
                services.phone_code_send(phone=cd["phone"])
                return render(request, "feedback/submit.html",
                              _ctx(request, form=form, project=project, code_sent=True))
        else:
            photo = cd.get("photo")
            with form_errors(form):
                req = services.request_submit(actor=None, data=services.Submission(
                    kind=cd["kind"], category=cd["category"], description=cd["description"],
                    division=cd["division"], urgency=cd["urgency"],
                    channel=Channel.PROJECT if project else Channel.PORTAL, address=cd["address"],
                    latitude=cd["latitude"], longitude=cd["longitude"], project=project, name=cd["name"],
                    phone=cd["phone"], code=cd["code"], photo=photo, photo_size=photo.size if photo else 0))
                return render(request, "feedback/submitted.html", _ctx(request, req=req))
    if request.method == "POST" and form.errors:
        status = 429 if status == 429 else 400
    return render(request, "feedback/submit.html", _ctx(request, form=form, project=project), status=status)


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def lookup(request: HttpRequest) -> HttpResponse:
    """Looked up by POST so the phone number never appears in a URL or a server log."""
    form = LookupForm(request.POST or None)
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("查询过于频繁，请稍后再试。"))
        return render(request, "feedback/lookup.html", _ctx(request, form=form), status=429)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.request_lookup(**form.cleaned_data)
        except MinshengError as exc:
            form.add_error(None, str(exc.message))
        else:
            return render(request, "feedback/lookup.html", _ctx(
                request, form=form, req=req, case=req.merged_into or req, events=selectors.case_timeline(req),
                reopen_form=ReopenForm(initial=form.cleaned_data)))
    return render(request, "feedback/lookup.html", _ctx(request, form=form),
                  status=400 if form.errors else 200)


@require_http_methods(["POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def reopen(request: HttpRequest) -> HttpResponse:
    form = ReopenForm(request.POST)
    if getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请稍后再试，或拨打 12345 热线。"))
        return render(request, "feedback/reopen.html", _ctx(request, form=form), status=429)
    if form.is_valid():
        try:
            req = services.request_reopen(**form.cleaned_data)
        except MinshengError as exc:
            for name, msgs in exc.fields.items():
                for m in msgs:
                    form.add_error(name if name in form.fields else None, str(m))
            if not exc.fields:
                form.add_error(None, str(exc.message))
        else:
            return render(request, "feedback/lookup.html", _ctx(
                request, form=LookupForm(initial=form.cleaned_data), req=req, case=req, reopened=True,
                events=selectors.case_timeline(req)))
    return render(request, "feedback/reopen.html", _ctx(request, form=form), status=400)


def elderly(request: HttpRequest) -> HttpResponse:
    """Toggle elderly mode (a plain link; no script needed) and go back."""
    target = request.GET.get("next") or "/feedback/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/feedback/"
    response = HttpResponseRedirect(target)
    if request.GET.get("on") == "1":
        response.set_cookie(ELDERLY_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(ELDERLY_COOKIE)
    return response


def service_worker(request: HttpRequest) -> HttpResponse:
    from django.templatetags.static import static

    return render(request, "feedback/sw.js", {"css": static("vendor/tabler.min.css"),
                                              "app_css": static("minsheng/minsheng.css"),
                                              "js": static("minsheng/feedback.js")},
                  content_type="application/javascript; charset=utf-8")


def manifest(request: HttpRequest) -> HttpResponse:
    from django.templatetags.static import static

    return render(request, "feedback/manifest.webmanifest", {"icon": static("minsheng/feedback-icon.png")},
                  content_type="application/manifest+json; charset=utf-8")
