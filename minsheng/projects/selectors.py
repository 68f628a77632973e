"""Reads. Every query that reaches project data starts from `projects_visible(user)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.scoping import Scope, scope_for
from minsheng.core.errors import NotFound, ValidationFailed
from minsheng.core.models import AuditEvent, Division
from minsheng.projects.lifecycle import ORDER, Stage
from minsheng.projects.models import (
    Document,
    Domain,
    GateRequest,
    GateStatus,
    Project,
    ProjectMember,
    WbsItem,
)


def _project_filter(scope: Scope) -> Q | None:
    """The rows a scope may see, as one Q (None: everything)."""
    if scope.everything:
        return None
    uid = scope.user_id
    # Uncorrelated `pk IN (…)` rather than EXISTS: SQLite evaluates each set once instead of probing
    # it for every project row (bench/projects_bench.py: the county officer's list at 10,000 projects).
    personal = (
        Q(responsible_person_id=uid)
        | Q(pk__in=ProjectMember.objects.filter(user_id=uid).values("project_id"))
        | Q(pk__in=WbsItem.objects.filter(responsible_id=uid).values("project_id"))
    )
    if scope.assigned_only or scope.division_path is None:
        return personal
    area = Q(division_path__startswith=scope.division_path)
    if scope.department_kind:
        area &= Q(lead_department__kind=scope.department_kind) | Q(
            pk__in=Project.partner_departments.through.objects.filter(
                department__kind=scope.department_kind
            ).values("project_id")
        )
    return area | personal


def projects_visible(user: Any) -> QuerySet[Project]:
    scope = scope_for(user)
    if scope.nothing:
        return Project.objects.none()
    flt = _project_filter(scope)
    qs = Project.objects.all()
    return qs if flt is None else qs.filter(flt)


def project_get(user: Any, *, pk: int | None = None, code: str | None = None) -> Project:
    qs = projects_visible(user).select_related(
        "division", "lead_department", "lead_department__division", "responsible_person"
    )
    try:
        if code is not None:
            return qs.get(code=code.replace("-", ""))
        return qs.get(pk=pk)
    except (Project.DoesNotExist, ValueError):
        raise NotFound() from None


@dataclass
class ProjectFilters:
    division: int | None = None
    domain: str | None = None
    stage: str | None = None
    overdue: bool = False
    q: str = ""


def project_list(user: Any, filters: ProjectFilters) -> QuerySet[Project]:
    """The project list: filtered, newest first, with what the list shows loaded in fixed queries."""
    errors: dict[str, list[Any]] = {}
    qs = projects_visible(user)
    if filters.division is not None:
        division = Division.objects.filter(pk=filters.division).only("path").first()
        if division is None:
            errors["division"] = [_("区划不存在。")]
        else:
            qs = qs.filter(division_path__startswith=division.path)
    if filters.domain:
        if filters.domain not in Domain.values:
            errors["domain"] = [_("领域无效。")]
        qs = qs.filter(domain=filters.domain)
    if filters.stage:
        if filters.stage not in Stage.values:
            errors["stage"] = [_("阶段无效。")]
        qs = qs.filter(stage=filters.stage)
    if errors:
        raise ValidationFailed(fields=errors)
    if filters.overdue:
        today = timezone.localdate()
        qs = qs.filter(Exists(WbsItem.objects.filter(project=OuterRef("pk"), due_date__lt=today, progress__lt=100)))
    text = filters.q.strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__startswith=text.replace("-", "")))
    return qs.select_related("division", "lead_department", "responsible_person").order_by("-updated_at", "-id")


def project_overdue_counts(projects: list[Project]) -> dict[int, int]:
    today = timezone.localdate()
    rows = (
        WbsItem.objects.filter(project__in=projects, due_date__lt=today, progress__lt=100)
        .values("project_id").annotate(n=Count("id"))
    )
    return {r["project_id"]: r["n"] for r in rows}


def wbs_for_project(project: Project) -> QuerySet[WbsItem]:
    return project.wbs_items.select_related("responsible", "department").order_by("code", "id")


def overdue_items(user: Any) -> QuerySet[WbsItem]:
    today = timezone.localdate()
    return (
        WbsItem.objects.filter(project__in=projects_visible(user), due_date__lt=today, progress__lt=100)
        .select_related("project", "responsible", "department")
        .order_by("due_date", "id")
    )


def overdue_by_person(user: Any) -> list[dict[str, Any]]:
    rows = (
        overdue_items(user).order_by()
        .values("responsible_id", "responsible__full_name", "responsible__username")
        .annotate(n=Count("id")).order_by("-n")
    )
    return [
        {"user_id": r["responsible_id"], "name": r["responsible__full_name"] or r["responsible__username"],
         "count": r["n"]}
        for r in rows
    ]


def overdue_by_department(user: Any) -> list[dict[str, Any]]:
    """Overdue items per responsible department: the item's own 责任部门, else the project's lead."""
    rows = (
        overdue_items(user).order_by()
        .annotate(dept_id=Coalesce("department_id", "project__lead_department_id"),
                  dept_name=Coalesce("department__name", "project__lead_department__name"))
        .values("dept_id", "dept_name")
        .annotate(n=Count("id")).order_by("-n", "dept_id")
    )
    return [{"department_id": r["dept_id"], "name": r["dept_name"], "count": r["n"]} for r in rows]


def my_overdue_items(user: Any) -> QuerySet[WbsItem]:
    return overdue_items(user).filter(responsible=user)


def my_projects(user: Any) -> QuerySet[Project]:
    mine = Q(responsible_person=user)
    if user.department_id:
        mine |= Q(lead_department_id=user.department_id)
    return projects_visible(user).filter(mine).select_related("division", "lead_department")


def gate_requests_pending(user: Any) -> QuerySet[GateRequest]:
    return (
        GateRequest.objects.filter(status=GateStatus.PENDING, project__in=projects_visible(user))
        .select_related("project", "project__division", "project__lead_department", "requested_by")
        .prefetch_related("approvals")
    )


def gates_waiting_for(user: Any) -> list[GateRequest]:
    """Pending gate requests with a slot this user could fill now."""
    from minsheng.projects.services import open_slots_for

    return [r for r in gate_requests_pending(user) if open_slots_for(user, r)]


def project_history(user: Any, project: Project, *, limit: int = 100) -> QuerySet[AuditEvent]:
    """The audit trail of one project (the caller has already checked it may see the project)."""
    return AuditEvent.objects.filter(project_code=project.code).order_by("-at", "-id")[:limit]


def stage_timeline(project: Project) -> list[dict[str, Any]]:
    """The ten stages with when each was entered, for the project page's timeline."""
    entered: dict[str, Any] = {}
    for t in project.transitions.all().order_by("at"):
        entered.setdefault(t.to_stage, t.at)
    current = project.previous_stage if project.stage == Stage.SUSPENDED else project.stage
    idx = ORDER.index(current) if current in ORDER else -1
    return [
        {"stage": s, "label": Stage(s).label, "entered_at": entered.get(s),
         "state": "done" if i < idx else "current" if i == idx else "todo"}
        for i, s in enumerate(ORDER)
    ]


def is_member(user: Any, project: Project, role: str | None = None) -> bool:
    qs = ProjectMember.objects.filter(project=project, user=user)
    return qs.filter(role=role).exists() if role else qs.exists()



def wbs_item_get(user: Any, *, pk: int) -> WbsItem:
    """One sub-item of a project the user may see (404 otherwise)."""
    item = (
        WbsItem.objects.filter(pk=pk, project__in=projects_visible(user))
        .select_related("project", "project__division", "project__lead_department", "responsible", "department")
        .first()
    )
    if item is None:
        raise NotFound()
    return item


def gate_request_get(user: Any, *, pk: int) -> GateRequest:
    """One gate request of a project the user may see (404 otherwise)."""
    req = (
        GateRequest.objects.filter(pk=pk, project__in=projects_visible(user))
        .select_related("project", "project__division", "project__lead_department", "requested_by")
        .prefetch_related("approvals")
        .first()
    )
    if req is None:
        raise NotFound()
    return req


def project_documents(project: Project) -> QuerySet[Document]:
    return project.documents.select_related("uploaded_by").order_by("-uploaded_at", "-id")
