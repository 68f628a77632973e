"""Public pages. No login, no personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.projects.lifecycle import ORDER, Stage


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/index.html", {"stages": [Stage(s).label for s in ORDER]})


def project(request: HttpRequest, code: str) -> HttpResponse:
    """A project's public facts and its anchored evidence, each with a receipt and a QR code."""
    from minsheng.core.errors import NotFound
    from minsheng.ledger.selectors import public_evidence
    from minsheng.projects.models import Project

    found = (
        Project.objects.select_related("division", "lead_department")
        .filter(code=code.replace("-", ""))
        .first()
    )
    if found is None:
        return render(request, "portal/project.html", {"error": NotFound().message}, status=404)
    evidence = public_evidence(
        found.code, receipt_url=lambda i: request.build_absolute_uri(f"/ledger/v1/receipts/{i}")
    )
    return render(request, "portal/project.html", {"project": found, "evidence": evidence})
