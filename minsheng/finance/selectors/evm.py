"""Reads of earned value: a project's snapshots for the S-curve and the roll-up by department or division."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.scoping import scope_for
from minsheng.core.errors import NotFound, ValidationFailed
from minsheng.core.models import Department, Division
from minsheng.finance.models import EvmSnapshot
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

Q4 = Decimal("0.0001")


def snapshots_for(user: Any, project: Project, *, limit: int = 400) -> QuerySet[EvmSnapshot]:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()
    return EvmSnapshot.objects.filter(project=project).order_by("as_of")[:limit]


@dataclass(frozen=True)
class RollupRow:
    key: int
    label: str
    projects: int
    red: int
    amber: int
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal

    @property
    def spi(self) -> Decimal | None:
        return (self.ev / self.pv).quantize(Q4, ROUND_HALF_UP) if self.pv else None

    @property
    def cpi(self) -> Decimal | None:
        return (self.ev / self.ac).quantize(Q4, ROUND_HALF_UP) if self.ac else None


def _snapshots(user: Any) -> QuerySet[EvmSnapshot]:
    scope = scope_for(user)
    qs = EvmSnapshot.objects.all()
    if scope.nothing:
        return qs.none()
    if scope.everything:
        return qs
    if scope.division_path is not None and scope.department_kind is None:
        # The common case (leaders, finance, audit): the denormalised path alone, no join. Projects the user
        # is personally named on outside that subtree are added by id.
        personal = projects_visible(user).exclude(division_path__startswith=scope.division_path).values("pk")
        return qs.filter(Q(division_path__startswith=scope.division_path) | Q(project_id__in=personal))
    return qs.filter(project_id__in=projects_visible(user).values("pk"))


def latest_date(user: Any, on: dt.date | None = None) -> dt.date | None:
    qs = _snapshots(user)
    if on is not None:
        qs = qs.filter(as_of__lte=on)
    return qs.aggregate(m=Max("as_of"))["m"]


_AGG = {"projects": Count("id"), "red": Count("id", filter=Q(health="red")),
        "amber": Count("id", filter=Q(health="amber")), "bac": Sum("bac"), "pv": Sum("pv"), "ev": Sum("ev"),
        "ac": Sum("ac")}


def _row(key: int, label: str, r: dict[str, Any]) -> RollupRow:
    z = Decimal(0)
    return RollupRow(key, label, r["projects"], r["red"], r["amber"], r["bac"] or z, r["pv"] or z, r["ev"] or z,
                     r["ac"] or z)


def rollup_by_department(user: Any, *, as_of: dt.date) -> list[RollupRow]:
    """One aggregate query over the day's snapshots, grouped by the lead department."""
    rows = list(_snapshots(user).filter(as_of=as_of).values("department_id_snapshot").annotate(**_AGG)
                .order_by("department_id_snapshot"))
    names = dict(Department.objects.filter(pk__in=[r["department_id_snapshot"] for r in rows])
                 .values_list("pk", "name"))
    out = [_row(r["department_id_snapshot"] or 0, names.get(r["department_id_snapshot"], "—"), r) for r in rows]
    return sorted(out, key=lambda r: (-r.red, -r.amber, r.label))


def rollup_by_division(user: Any, *, as_of: dt.date, parent: Division) -> list[RollupRow]:
    """One aggregate query grouped by the projects' division path, folded into `parent`'s children (projects
    of `parent` itself form their own row)."""
    if not parent.path:
        raise ValidationFailed(fields={"division": [_("区划无效。")]})
    rows = _snapshots(user).filter(as_of=as_of, division_path__startswith=parent.path).values(
        "division_path").annotate(**_AGG).order_by("division_path")
    folded: dict[int, dict[str, Any]] = {}
    depth = len(parent.path.strip("/").split("/"))
    for r in rows:
        ids = [int(p) for p in r["division_path"].strip("/").split("/") if p]
        child = ids[depth] if len(ids) > depth else parent.pk
        acc = folded.setdefault(child, {k: 0 for k in _AGG})
        for k in _AGG:
            acc[k] = (acc[k] or 0) + (r[k] or 0)
    names = dict(Division.objects.filter(pk__in=list(folded)).values_list("pk", "name"))
    out = [_row(k, names.get(k, "—"), v) for k, v in folded.items()]
    return sorted(out, key=lambda r: (-r.red, -r.amber, r.label))

