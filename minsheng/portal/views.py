"""Public pages. No login, no personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.projects.lifecycle import ORDER, Stage


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/index.html", {"stages": [Stage(s).label for s in ORDER]})
