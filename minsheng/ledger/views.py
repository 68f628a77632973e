"""Console pages for the ledger: log health, and a project's evidence timeline with verification
status. Parse → call a selector → render; data only through scoped selectors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minsheng.accounts.roles import Cap, Role
from minsheng.console.errors import console_view
from minsheng.core.errors import PermissionDenied
from minsheng.ledger import selectors
from minsheng.ledger.models import Checkpoint, Witness
from minsheng.projects.selectors import project_get


@console_view
def health(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.role == Role.SYSADMIN or user.can(Cap.AUDIT_VIEW)):
        raise PermissionDenied()
    head = selectors.head()
    checkpoint = Checkpoint.objects.filter(log=head).order_by("-size").first()
    witnesses = [
        {
            "witness": w,
            "last": w.cosignatures.order_by("-checkpoint__size").select_related("checkpoint").first(),
        }
        for w in Witness.objects.all()
    ]
    return render(
        request,
        "ledger/health.html",
        {
            "head": head,
            "checkpoint": checkpoint,
            "witnesses": witnesses,
            "verification": selectors.verification_latest(head),
            "keys": selectors.public_keys(head),
        },
    )


@console_view
def project_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(request.user, pk=pk)
    return render(
        request, "ledger/timeline.html", {"project": project, "entries": selectors.timeline(project.code)}
    )
