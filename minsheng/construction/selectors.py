"""Reads for supervision. Every entry point takes a project the caller obtained through
`projects.selectors.project_get` (scoped), or scopes through `projects_visible` itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from minsheng.construction import progress
from minsheng.construction.models import (
    ConfirmedProgress,
    ObservationPhoto,
    ProgressReport,
    Rectification,
    RectificationStatus,
    SiteInspection,
    SupervisionLog,
    VillageObservation,
)
from minsheng.core.errors import NotFound
from minsheng.core.jurisdiction import rule_for
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible


def logs_for(project: Project) -> QuerySet[SupervisionLog]:
    return project.supervision_logs.select_related("supervisor").order_by("-date", "-id")


def inspections_for(project: Project) -> QuerySet[SiteInspection]:
    return (project.inspections.select_related("inspector")
            .prefetch_related("photos", "confirmed").order_by("-inspected_at", "-id"))


def rectifications_for(project: Project) -> QuerySet[Rectification]:
    return project.rectifications.select_related("contractor", "issued_by", "reinspection").order_by(
        "status", "deadline", "id")


def rectification_get(user: Any, *, pk: int) -> Rectification:
    order = (Rectification.objects.filter(pk=pk, project__in=projects_visible(user))
             .select_related("project", "project__division").first())
    if order is None:
        raise NotFound()
    return order


def inspection_get(user: Any, *, pk: int) -> SiteInspection:
    found = SiteInspection.objects.filter(pk=pk, project__in=projects_visible(user)).select_related("project").first()
    if found is None:
        raise NotFound()
    return found


def open_rectifications(project: Project) -> QuerySet[Rectification]:
    return rectifications_for(project).exclude(status=RectificationStatus.CLOSED)


def progress_gap(project: Project) -> progress.ProjectGap:
    """Reported vs evidenced progress of the project's leaf sub-items. The claim is the latest
    progress report of an item, else the progress filled in on the checklist; the evidence is the
    latest progress confirmed on site."""
    items = [i for i in project.wbs_items.prefetch_related("children").order_by("code", "id")
             if not i.children.all()]
    reports: dict[int, ProgressReport] = {}
    for r in ProgressReport.objects.filter(project=project).order_by("period_end", "id"):
        reports[r.wbs_item_id] = r
    confirmed: dict[int, ConfirmedProgress] = {}
    for c in (ConfirmedProgress.objects.filter(inspection__project=project)
              .select_related("inspection").order_by("inspection__inspected_at", "id")):
        confirmed[c.wbs_item_id] = c
    inputs = []
    for item in items:
        report = reports.get(item.pk)
        seen = confirmed.get(item.pk)
        inputs.append(progress.ItemInput(
            item_id=item.pk,
            label=f"{item.code} {item.name}",
            weight=item.weight,
            reported=report.progress if report else item.progress,
            reported_on=report.period_end if report else timezone.localdate(item.updated_at),
            evidenced=seen.progress if seen else None,
            evidenced_on=timezone.localdate(seen.inspection.inspected_at) if seen else None,
        ))
    threshold = Decimal(str(rule_for("construction.progress_gap_points", project.division).value))
    max_age = int(rule_for("construction.evidence_max_age_days", project.division).value)
    return progress.project_gap(inputs, threshold=threshold, max_age_days=max_age)


def observations_for(project: Project) -> QuerySet[VillageObservation]:
    return (project.village_observations.select_related("author", "village").prefetch_related("photos")
            .order_by("-observed_at", "-id"))


def observation_photo_get(user: Any, *, pk: int) -> ObservationPhoto:
    photo = ObservationPhoto.objects.filter(pk=pk, observation__project__in=projects_visible(user)).first()
    if photo is None:
        raise NotFound()
    return photo


def inspectable_projects(user: Any, *, limit: int = 200) -> list[Project]:
    """Projects under construction this user may inspect (the phone page's list)."""
    from minsheng.construction.services import inspector_kind_for
    from minsheng.projects.lifecycle import Stage

    candidates = (projects_visible(user).filter(stage=Stage.CONSTRUCTION).select_related("division")
                  .order_by("name", "id")[:limit])
    return [p for p in candidates if inspector_kind_for(user, p) is not None]
