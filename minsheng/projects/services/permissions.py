"""Who may manage a project, fill an approval slot or report progress."""

from __future__ import annotations

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core.errors import NotFound, PermissionDenied
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import DepartmentKind
from minsheng.projects.lifecycle import Slot
from minsheng.projects.models import (
    GateRequest,
    Project,
)
from minsheng.projects.selectors import projects_visible


def can_manage(user: User, project: Project) -> bool:
    """May edit the project, its checklist and documents, and request its gates."""
    if not user.is_active:
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    if project.responsible_person_id == user.pk:
        return True
    if user.role != Role.DEPT_OFFICER or user.department_id is None or user.division_id is None:
        return False
    if not project.division_path.startswith(user.division.path):
        return False
    return user.department.kind in {project.lead_department.kind, DepartmentKind.DRC}


def _require_visible(user: User, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def _require_manage(user: User, project: Project, cap: str) -> None:
    _require_visible(user, project)
    if not user.can(cap) or not can_manage(user, project):
        raise PermissionDenied()


def _effective_level(project: Project, required_level: int | None) -> int | None:
    if required_level is None:
        return None
    # A project that sits above the tier's level (e.g. a city project under a county tier) is
    # approved at its own level: there is no county above it.
    return min(required_level, project.division.level)


def can_fill_slot(user: User, slot: str, project: Project, required_level: int | None) -> bool:
    if not user.is_active or user.division_id is None or not user.can(Cap.GATE_APPROVE):
        return False
    if not project.division_path.startswith(user.division.path):
        return False
    level = _effective_level(project, required_level)
    if level is not None and user.division.level != level:
        return False
    kind = user.department.kind if user.department_id else None
    if slot == Slot.INVESTMENT:
        return user.role == Role.DEPT_OFFICER and kind == DepartmentKind.DRC
    if slot == Slot.LEAD_DEPARTMENT:
        # The project's own 主管部门, not any department of the same kind on the chain (a city
        # housing officer does not sign for the county housing bureau's project).
        return user.role == Role.DEPT_OFFICER and user.department_id == project.lead_department_id
    if slot == Slot.FINANCE:
        return user.role == Role.FINANCE_OFFICER or (user.role == Role.DEPT_OFFICER and kind == DepartmentKind.FINANCE)
    if slot == Slot.LEADER:
        return user.role == Role.LEADER
    return False


def open_slots_for(user: User, request: GateRequest) -> list[str]:
    """The slots `user` may fill now. Where the jurisdiction separates duties, whoever asked for the
    gate may not approve it."""
    if request.requested_by_id == user.pk and rule_for("lifecycle.separation_of_duties",
                                                        request.project.division).value:
        return []
    filled = {a.slot for a in request.approvals.all()}
    return [
        s for s in request.required_slots
        if s not in filled and can_fill_slot(user, s, request.project, request.required_level)
    ]
