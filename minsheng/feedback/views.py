"""Citizen pages: submit a request, look it up, reopen it. No login; work with JavaScript off.

Each view parses, calls a service, renders. Domain errors become form errors. Elderly mode (large
text, high contrast) is a cookie set by a plain link, so it needs no script either."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from minsheng.console.errors import form_errors
from minsheng.core.errors import MinshengError
from minsheng.feedback import captcha, intake, location, notices, photos, selectors, services
from minsheng.feedback.forms import CitizenVisitForm, LookupForm, ReopenForm, SubmitForm
from minsheng.feedback.models import Channel, CitizenRequest

ELDERLY_COOKIE = "ms_elderly"
# The receipt codes this browser submitted or looked up (a signed cookie, so no session row is written
# for a citizen): it may read their messages on the inbox page.
INBOX_COOKIE = "ms_inbox"
INBOX_SALT = "minsheng.feedback.inbox"
INBOX_KEEP = 20
INBOX_MAX_AGE = 30 * 24 * 3600
RECEIPT_COOKIE = "ms_receipt"  # the submission just sent, for the receipt page after the redirect
RECEIPT_MAX_AGE = 24 * 3600
SUBMIT_RATE = getattr(settings, "FEEDBACK_SUBMIT_RATE", "20/h")


def _ctx(request: HttpRequest, **extra) -> dict:
    return {"elderly": request.COOKIES.get(ELDERLY_COOKIE) == "1", **extra}


def _project(code: str | None):
    from minsheng.projects.models import Project

    if not code:
        return None
    return Project.objects.select_related("division", "lead_department").filter(code=code.replace("-", "")).first()


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _phone(raw: str | None) -> str:
    return (raw or "").strip().replace(" ", "").replace("-", "")


def _inbox_codes(request: HttpRequest) -> list[str]:
    raw = request.get_signed_cookie(INBOX_COOKIE, default="", salt=INBOX_SALT, max_age=INBOX_MAX_AGE)
    return [c for c in raw.split(",") if c][-INBOX_KEEP:]


def _remember(request: HttpRequest, response: HttpResponse, code: str) -> HttpResponse:
    """This browser may read the messages of `code` from now on (its receipt code, and the phone given
    with it, were shown or entered here)."""
    codes = [c for c in _inbox_codes(request) if c != code]
    response.set_signed_cookie(INBOX_COOKIE, ",".join([*codes, code][-INBOX_KEEP:]), salt=INBOX_SALT,
                               max_age=INBOX_MAX_AGE, httponly=True, samesite="Lax",
                               secure=settings.SESSION_COOKIE_SECURE)
    return response


def _division(request: HttpRequest, form: SubmitForm, project):
    """The division a submission is for (its captcha threshold is that jurisdiction's): the form's
    choice, else the project's; None while not known."""
    from minsheng.core.models import Division

    chosen = getattr(form, "cleaned_data", {}).get("division")
    if chosen is None and str(request.POST.get("division", "")).isdigit():
        chosen = Division.objects.filter(pk=int(request.POST["division"])).first()
    return chosen or (project.division if project else None)


def _submit_page(request: HttpRequest, form: SubmitForm, project, status: int = 200, **extra) -> HttpResponse:
    """The form, with a fresh captcha when this address or phone has passed the threshold."""
    challenge = None
    if captcha.needed(ip=_ip(request), phone=_phone(request.POST.get("phone")),
                      division=_division(request, form, project)):
        challenge = captcha.new()
    text_mode = extra.pop("captcha_text", False) or request.POST.get("captcha_mode") == "text"
    area = location.map_area(project.division if project else None)
    return render(request, "feedback/submit.html", _ctx(
        request, form=form, project=project, captcha=challenge, captcha_text=text_mode,
        map_area=area.as_data(), tile_url=settings.MINSHENG_MAP_TILE_URL,
        tile_attribution=settings.MINSHENG_MAP_ATTRIBUTION, **extra), status=status)


def _too_often(request: HttpRequest, form, template: str) -> HttpResponse:
    """A citizen POST over the address's rate limit: the form as sent, with the reason, nothing done."""
    form.is_valid()
    form.add_error(None, _("提交过于频繁，请稍后再试，或拨打 12345 热线。"))
    return render(request, template, _ctx(request, form=form), status=429)


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def submit(request: HttpRequest) -> HttpResponse:
    project = _project(request.GET.get("project") or request.POST.get("project"))
    form = SubmitForm(request.POST or None, request.FILES or None,
                      initial={"category": "project"} if project else None)
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请稍后再试，或拨打 12345 热线。"))
        return _submit_page(request, form, project, status=429)
    if request.method == "POST" and request.POST.get("action") == "captcha_text":
        # The same form, not yet checked, with the captcha written out as a question.
        keep = {k: v for k, v in request.POST.items() if k in form.fields and k not in SubmitForm.CAPTCHA_FIELDS}
        return _submit_page(request, SubmitForm(initial=keep), project, captcha_text=True)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        ip, phone = _ip(request), _phone(cd["phone"])
        division = cd["division"] or (project.division if project else None)
        limits = captcha.limits(division)
        if captcha.needed(ip=ip, phone=phone, limits_=limits) and not captcha.verify(
                cd["captcha_token"], cd["captcha_answer"]):
            form.add_error("captcha_answer", _("验证码答案不正确或已过期，请看新的题目重新作答。"))
        elif request.POST.get("action") == "send_code":
            with form_errors(form):
                services.phone_code_send(phone=cd["phone"])
                captcha.count(ip=ip, phone=phone, limits_=limits)
                return _submit_page(request, form, project, code_sent=True)
        else:
            photo = cd.get("photo")
            with form_errors(form):
                item = intake.intake_submit(idempotency_key=cd["submission_key"], data=services.Submission(
                    kind=cd["kind"], category=cd["category"], description=cd["description"],
                    division=division, urgency=cd["urgency"],
                    channel=Channel.PROJECT if project else Channel.PORTAL, address=cd["address"],
                    latitude=cd["latitude"], longitude=cd["longitude"], project=project, name=cd["name"],
                    phone=cd["phone"], code=cd["code"], email=cd["email"], photo=photo,
                    photo_size=photo.size if photo else 0))
                captcha.count(ip=ip, phone=phone, limits_=limits)
                # Post/Redirect/Get: the receipt is a page of its own, so reloading it sends nothing again.
                response = HttpResponseRedirect(reverse("feedback:receipt"))
                response.status_code = 303
                response.set_signed_cookie(RECEIPT_COOKIE, item.receipt_code, salt=INBOX_SALT,
                                           max_age=RECEIPT_MAX_AGE, httponly=True, samesite="Lax",
                                           secure=settings.SESSION_COOKIE_SECURE)
                return _remember(request, response, item.receipt_code)
    return _submit_page(request, form, project, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET"])
def receipt(request: HttpRequest) -> HttpResponse:
    """The receipt of the submission this browser has just sent (its code in a signed cookie, never in a
    URL or a server log): code, what was sent, and whether a unit has been assigned yet."""
    code = request.get_signed_cookie(RECEIPT_COOKIE, default="", salt=INBOX_SALT, max_age=RECEIPT_MAX_AGE)
    item = selectors.receipt(code)
    if item is None:
        return HttpResponseRedirect(reverse("feedback:lookup"))
    return render(request, "feedback/submitted.html", _ctx(request, item=item))


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
        except services.Pending as waiting:
            return _remember(request, render(request, "feedback/lookup.html", _ctx(
                request, form=form, pending=waiting.intake)), waiting.intake.receipt_code)
        except MinshengError as exc:
            form.add_error(None, str(exc.message))
        else:
            return _remember(request, render(request, "feedback/lookup.html", _ctx(
                request, form=form, req=req, case=req.merged_into or req, events=selectors.case_timeline(req),
                reopen_form=ReopenForm(initial=form.cleaned_data),
                visit_form=CitizenVisitForm(initial=form.cleaned_data), inbox=notices.inbox([req.pk]))),
                req.receipt_code)
    return render(request, "feedback/lookup.html", _ctx(request, form=form),
                  status=400 if form.errors else 200)


@require_http_methods(["POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def reopen(request: HttpRequest) -> HttpResponse:
    form = ReopenForm(request.POST)
    if getattr(request, "limited", False):
        return _too_often(request, form, "feedback/reopen.html")
    if form.is_valid():
        with form_errors(form, catch=MinshengError):
            req = services.request_reopen(**form.cleaned_data)
            return render(request, "feedback/lookup.html", _ctx(
                request, form=LookupForm(initial=form.cleaned_data), req=req, case=req, reopened=True,
                events=selectors.case_timeline(req)))
    return render(request, "feedback/reopen.html", _ctx(request, form=form), status=400)


@require_http_methods(["POST"])
@ratelimit(key="ip", rate=SUBMIT_RATE, method="POST", block=False)
def visit(request: HttpRequest) -> HttpResponse:
    """The citizen answers the return visit (回访) on the lookup page: resolved, satisfaction, comment."""
    form = CitizenVisitForm(request.POST)
    if getattr(request, "limited", False):
        return _too_often(request, form, "feedback/visit.html")
    if form.is_valid():
        with form_errors(form, catch=MinshengError):
            req = services.request_citizen_visit(**form.cleaned_data)
            lookup_data = {k: form.cleaned_data[k] for k in LookupForm.base_fields}
            return _remember(request, render(request, "feedback/lookup.html", _ctx(
                request, form=LookupForm(initial=lookup_data), req=req, case=req, visited=True,
                events=selectors.case_timeline(req), inbox=notices.inbox([req.pk]))), req.receipt_code)
    return render(request, "feedback/visit.html", _ctx(request, form=form), status=400)


def inbox(request: HttpRequest) -> HttpResponse:
    """The citizen's messages for the requests looked up (or submitted) in this browser session."""
    codes = _inbox_codes(request)
    found = dict(CitizenRequest.objects.filter(receipt_code__in=codes).values_list("receipt_code", "pk"))
    items = notices.inbox([found[c] for c in codes if c in found])
    return render(request, "feedback/inbox.html", _ctx(request, items=items))


def captcha_image(request: HttpRequest, token: str) -> HttpResponse:
    png = captcha.image_png(token)
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


def public_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A request's photo for the public (Open311 media_url): stored without EXIF/GPS (photos.py); only
    for request types whose content is public, and never after personal data was erased."""
    req = selectors.public_photo_request(pk)
    if req is None:
        raise Http404
    response = FileResponse(req.photo.open("rb"), content_type=photos.content_type(req.photo.name))
    response["Cache-Control"] = "public, max-age=3600"
    return response


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
