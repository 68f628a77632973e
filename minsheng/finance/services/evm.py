"""Earned value from the database: baseline, progress and payments in, an EvmSnapshot per project per day out,
and a warning to the responsible person when a project's health worsens. The arithmetic is `finance.evm`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.core.services import notify
from minsheng.finance import evm
from minsheng.finance.models import BudgetKind, BudgetStatus, BudgetVersion, EvmSnapshot, PaymentRequest, PaymentStatus
from minsheng.procurement.models import ContractMilestone, ContractStatus
from minsheng.projects import wbs
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Project, WbsItem

ZERO = Decimal(0)
# Stages in which a project spends against its 概算 and so has earned value worth watching.
TRACKED_STAGES = [Stage.PROCUREMENT, Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.SUSPENDED]


@dataclass(frozen=True)
class ProjectEvm:
    measures: evm.Measures
    health: evm.Health
    baseline: str  # "milestones" | "wbs" | ""
    start: dt.date
    approved_design: Decimal | None


def bac_for(project: Project) -> Decimal | None:
    """BAC = the approved 概算."""
    version = BudgetVersion.objects.filter(project=project, kind=BudgetKind.DESIGN,
                                           status=BudgetStatus.APPROVED).only("total").first()
    if version is not None:
        return version.total
    return project.design_estimate_amount


def _start(project: Project) -> dt.date:
    return project.planned_start or project.actual_start or timezone.localtime(project.created_at).date()


def baseline_for(project: Project) -> tuple[str, list[evm.Segment]]:
    """Contract milestones' amounts and dates when the project has contracts; else the WBS items' weights and
    due dates spread from the project's planned start; else a straight line from planned start to end."""
    start = _start(project)
    milestones = list(ContractMilestone.objects.filter(
        contract__project=project, contract__status__in=[ContractStatus.ACTIVE, ContractStatus.COMPLETED],
        amount__gt=0).values_list("due_date", "amount"))
    if milestones:
        return "milestones", evm.milestone_segments(start, milestones)
    items = list(WbsItem.objects.filter(project=project).values_list("id", "parent_id", "due_date", "weight"))
    parents = {p for _i, p, _d, _w in items if p}
    leaves = [(d, w) for i, _p, d, w in items if i not in parents]
    if leaves:
        return "wbs", evm.wbs_segments(start, leaves)
    if project.planned_end:
        return "plan", [evm.Segment(start, max(start, project.planned_end), Decimal(1))]
    return "", []


def progress_for(project: Project) -> Decimal:
    """Measured progress: the WBS roll-up (the same one the project page shows), else the project's figure."""
    nodes = [wbs.Node(i, p, w, g) for i, p, w, g in WbsItem.objects.filter(project=project).values_list(
        "id", "parent_id", "weight", "progress")]
    if nodes:
        return wbs.rollup(nodes)[0]
    return project.progress


def paid_for(project: Project, as_of: dt.date | None = None) -> Decimal:
    qs = PaymentRequest.objects.filter(project=project, status=PaymentStatus.PAID)
    if as_of is not None:
        qs = qs.filter(paid_on__lte=as_of)
    return qs.aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]


def project_evm(project: Project, as_of: dt.date | None = None) -> ProjectEvm | None:
    """None when the project has no approved 概算 yet (no BAC)."""
    as_of = as_of or timezone.localdate()
    bac = bac_for(project)
    if not bac:
        return None
    source, segments = baseline_for(project)
    start = _start(project)
    m = evm.compute(bac=bac, segments=segments, start=start, progress_percent=progress_for(project),
                    paid=paid_for(project, as_of), as_of=as_of)
    return ProjectEvm(m, evm.health(m, approved_design=bac), source, start, bac)


def _previous_health(project: Project, as_of: dt.date) -> str | None:
    return EvmSnapshot.objects.filter(project=project, as_of__lt=as_of).order_by("-as_of").values_list(
        "health", flat=True).first()


REASON_TEXT = {
    "spi_amber": gettext_lazy("进度绩效指数低于 0.95"),
    "spi_red": gettext_lazy("进度绩效指数低于 0.90"),
    "cpi_amber": gettext_lazy("费用绩效指数低于 0.95"),
    "cpi_red": gettext_lazy("费用绩效指数低于 0.90"),
    "tcpi_gap": gettext_lazy("完工尚需绩效指数比费用绩效指数高出 0.10 以上"),
    "eac_over_design": gettext_lazy("完工估算超过批准概算"),
    "spent_nothing_earned": gettext_lazy("已付款但尚无挣值"),
}


@transaction.atomic
def evm_snapshot_take(*, project: Project, as_of: dt.date | None = None) -> EvmSnapshot | None:
    """Store the day's snapshot (once per project per day; a re-run replaces it) and warn the responsible
    person when health is worse than at the last earlier snapshot. Idempotent: the notice is deduplicated."""
    as_of = as_of or timezone.localdate()
    result = project_evm(project, as_of)
    if result is None:
        return None
    m, h = result.measures, result.health
    snapshot, _created = EvmSnapshot.objects.update_or_create(
        project=project, as_of=as_of,
        defaults={
            "bac": m.bac, "pv": m.pv, "ev": m.ev, "ac": m.ac, "spi": m.spi, "cpi": m.cpi, "eac": m.eac,
            "tcpi": m.tcpi, "spi_t": m.spi_t, "slip_days": m.slip_days, "health": h.level, "reasons": h.reasons,
            "department_id_snapshot": project.lead_department_id, "division_path": project.division_path,
        })
    if evm.worse(h.level, _previous_health(project, as_of)):
        label = str(EvmSnapshot.Health(h.level).label)
        why = _("；").join(str(REASON_TEXT[r]) for r in h.reasons if r in REASON_TEXT)
        text = _("挣值%(h)s：%(p)s（%(w)s）") % {"h": label, "p": project.name, "w": why}
        notify(recipient=project.responsible_person, kind="evm.health", text=text,
               link=reverse("finance:evm", args=[project.pk]), dedupe_key=f"evm:{project.pk}:{as_of}:{h.level}")
    return snapshot


def evm_snapshot_all(*, as_of: dt.date | None = None) -> int:
    """The daily job: one snapshot for every tracked project with an approved 概算."""
    as_of = as_of or timezone.localdate()
    done = 0
    projects = Project.objects.filter(stage__in=TRACKED_STAGES).select_related("responsible_person")
    for project in projects.iterator(chunk_size=500):
        if evm_snapshot_take(project=project, as_of=as_of) is not None:
            done += 1
    return done
