"""Public pages. No login, no personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.portal import selectors
from minsheng.portal.forms import NearForm
from minsheng.projects.lifecycle import ORDER, Stage

ELDERLY_COOKIE = "ms_elderly"  # the citizen pages' elderly mode (feedback.views) applies here too


def _elderly(request: HttpRequest) -> bool:
    return request.COOKIES.get(ELDERLY_COOKIE) == "1"


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/index.html", {"stages": [Stage(s).label for s in ORDER]})


def project(request: HttpRequest, code: str) -> HttpResponse:
    """A project's public facts — stage, progress, budget, contractor, milestones, photos, the citizens'
    requests about it and their answers — and its anchored evidence, each with a receipt and a QR code."""
    from minsheng.core.errors import NotFound
    from minsheng.ledger.selectors import public_evidence
    from minsheng.projects.models import Project

    found = (
        Project.objects.select_related("division", "lead_department")
        .filter(code=code.replace("-", ""))
        .first()
    )
    if found is None:
        return render(request, "portal/project.html", {"error": NotFound().message, "elderly": _elderly(request)},
                      status=404)
    evidence = public_evidence(
        found.code, receipt_url=lambda i: request.build_absolute_uri(f"/ledger/v1/receipts/{i}")
    )
    return render(request, "portal/project.html", {"project": found, "evidence": evidence,
                                                   "facts": selectors.project_facts(found),
                                                   "elderly": _elderly(request)})


def progress(request: HttpRequest) -> HttpResponse:
    """进度查询: projects near a point (the phone's location) or in a chosen community or village.
    A plain GET form, so it works without JavaScript (choose the division)."""
    form = NearForm(request.GET or None)
    results, searched, status = None, None, 200
    if request.GET and form.is_valid():
        cd = form.cleaned_data
        if cd["division"] is not None:
            results = selectors.projects_in(cd["division"])
            searched = "division"
        elif cd["lat"] is not None:
            radius = int(cd["radius"] or 3000)
            results = selectors.projects_near(float(cd["lat"]), float(cd["lng"]), radius)
            searched = "near"
    elif request.GET:
        status = 400
    return render(request, "portal/progress.html", {"form": form, "results": results, "searched": searched,
                                                    "elderly": _elderly(request)}, status=status)
