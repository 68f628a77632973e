"""Public reads for the portal: what anyone may see of a project, and projects near a citizen. No
personal data: no phone, no name, no staff person; a complaint's or report's text is never shown
(it may name people), only that it was answered."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from minsheng.core.models import Division
from minsheng.projects.lifecycle import Stage

# Projects the public follows: every project but those withdrawn.
HIDDEN_STAGES = (Stage.CANCELLED,)
MAX_NEAR = 50


def public_projects() -> QuerySet:
    from minsheng.projects.models import Project

    return Project.objects.exclude(stage__in=HIDDEN_STAGES).select_related("division", "lead_department")


@dataclass
class Near:
    project: Any
    distance_m: float | None = None


def projects_near(lat: float, lng: float, radius_m: float) -> list[Near]:
    """Projects within `radius_m` of the point, nearest first (a bounding-box query, then haversine)."""
    from minsheng.feedback.services import distance_m

    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    qs = public_projects().filter(latitude__gte=lat - dlat, latitude__lte=lat + dlat,
                                  longitude__gte=lng - dlng, longitude__lte=lng + dlng)
    found = [Near(p, distance_m(lat, lng, float(p.latitude), float(p.longitude))) for p in qs[:2000]]
    return sorted((n for n in found if n.distance_m is not None and n.distance_m <= radius_m),
                  key=lambda n: n.distance_m or 0)[:MAX_NEAR]


def projects_in(division: Division) -> list[Near]:
    qs = public_projects().filter(division_path__startswith=division.path).order_by("-updated_at", "-id")
    return [Near(p) for p in qs[:MAX_NEAR]]


@dataclass
class PublicIssue:
    kind: str
    category: str
    status: str
    is_open: bool
    created_at: Any
    text: str
    reply: str
    replied_at: Any


@dataclass
class ProjectFacts:
    budget: Decimal | None
    contractors: list[str]
    milestones: list[Any]
    photos: list[Any]
    issues: list[PublicIssue] = field(default_factory=list)
    open_issues: int = 0

    @property
    def budget_display(self) -> str:
        """Yuan with thousands separators, as the public reads budgets (12,345,678.90)."""
        return f"{self.budget:,.2f}" if self.budget is not None else ""


def project_facts(project: Any) -> ProjectFacts:
    """What the public project page shows beside the stage and progress."""
    from minsheng.construction.models import InspectionPhoto
    from minsheng.feedback.models import VERIFIED_KINDS, CitizenRequest
    from minsheng.projects.models import MemberRole, ProjectMember, WbsItem

    contractors = sorted({m.user.organisation for m in ProjectMember.objects.filter(
        project=project, role=MemberRole.CONTRACTOR).select_related("user") if m.user.organisation})
    milestones = list(WbsItem.objects.filter(project=project, parent__isnull=True).order_by("due_date", "code"))
    photos = list(InspectionPhoto.objects.filter(inspection__project=project).order_by("-taken_at")[:6])
    requests = list(CitizenRequest.objects.filter(project=project, merged_into__isnull=True)
                    .order_by("-created_at")[:20])
    issues = []
    for r in requests:
        private = r.kind in VERIFIED_KINDS or r.personal_data_erased_at is not None
        issues.append(PublicIssue(
            kind=str(r.get_kind_display()), category=str(r.get_category_display()),
            status=str(r.get_status_display()), is_open=r.is_open, created_at=r.created_at,
            text="" if private else r.description, reply="" if private else r.reply, replied_at=r.replied_at))
    return ProjectFacts(budget=project.total_investment, contractors=contractors, milestones=milestones,
                        photos=photos, issues=issues,
                        open_issues=CitizenRequest.objects.filter(project=project, merged_into__isnull=True)
                        .exclude(status="closed").count())
