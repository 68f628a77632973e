"""What a user may see. Every selector that returns domain data starts from `Scope`.

- system administrators see everything;
- leaders, finance officers, auditors, township inspectors, and officers of overseeing departments
  (发改, 财政, 审计, 政府办) see every project in their division's subtree;
- other department officers see the projects in their subtree that their kind of department leads
  or partners in;
- supervisors, contractors and evaluators see only the projects they are assigned to;
- anyone sees the projects they are the named responsible person for, or hold a sub-item of.
"""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.accounts.roles import ASSIGNED_ONLY, Role
from minsheng.core.models import OVERSEEING_KINDS


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    everything: bool = False
    division_path: str | None = None  # subtree prefix, e.g. "/1/3/"
    department_kind: str | None = None  # limit to projects this kind of department leads/partners
    assigned_only: bool = False

    @property
    def nothing(self) -> bool:
        return self.user_id is None


NO_ACCESS = Scope(user_id=None)


def scope_for(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    if user.is_superuser or user.role == Role.SYSADMIN:
        return Scope(user_id=user.pk, everything=True)
    if user.role in ASSIGNED_ONLY:
        return Scope(user_id=user.pk, assigned_only=True)
    if user.division_id is None:
        return Scope(user_id=user.pk, assigned_only=True)
    division_path = user.division.path
    if user.role == Role.DEPT_OFFICER and user.department_id is not None:
        kind = user.department.kind
        if kind not in OVERSEEING_KINDS:
            return Scope(user_id=user.pk, division_path=division_path, department_kind=kind)
    return Scope(user_id=user.pk, division_path=division_path)
