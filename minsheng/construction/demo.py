"""Supervision and monitoring data for the demo city's essay projects, written through the services.

- Rural drinking water (CASES['water']): recent inspections confirm what was reported, a closed
  rectification order, daily logs; household meters (one leaking), the village district meter (high
  night flow) and a water-quality probe with a day of readings.
- The village representative `village_rep` is placed in a village the water project serves, assigned
  to it, with one observation.
- The elderly home (CASES['elderly']): the one inspection, months old, saw about half of what was
  reported, so the gap is flagged; an open rectification order; site sensors with night work.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from minsheng.accounts.models import User
from minsheng.construction import services
from minsheng.demo.city import CASES
from minsheng.projects.models import MemberRole, Project
from minsheng.telemetry import simulate
from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Device
from minsheng.telemetry.services import device_register

SH = ZoneInfo("Asia/Shanghai")


@dataclass
class Made:
    inspections: int = 0
    logs: int = 0
    rectifications: int = 0
    devices: int = 0
    readings: int = 0
    observations: int = 0


def _member(project: Project, role: str) -> User:
    return User.objects.filter(memberships__project=project, memberships__role=role).order_by("pk").first()


def _leaves(project: Project) -> list:
    return [i for i in project.wbs_items.prefetch_related("children").order_by("code") if not i.children.all()]


def _supervise(project: Project, *, as_of: dt.date, fraction: Decimal, age_days: int, made: Made,
               close_order: bool) -> None:
    supervisor, contractor = _member(project, MemberRole.SUPERVISOR), _member(project, MemberRole.CONTRACTOR)
    at = dt.datetime.combine(as_of - dt.timedelta(days=age_days), dt.time(10), tzinfo=SH)
    confirmed = {i.pk: str((i.progress * fraction).quantize(Decimal("0.1"))) for i in _leaves(project)
                 if i.progress > 0}
    services.inspection_record(actor=supervisor, project=project, inspected_at=at, passed=True,
                               checklist={"安全防护": "ok", "材料进场验收": "ok", "隐蔽工程记录": "ok"},
                               confirmed=confirmed, latitude=project.latitude, longitude=project.longitude,
                               village_representative="村民代表 张守义" if close_order else "",
                               notes="按责任清单逐项核实形象进度。")
    made.inspections += 1
    for day in range(1, 6):
        services.log_record(actor=supervisor, project=project, date=as_of - dt.timedelta(days=age_days + day),
                            weather="sunny", work_done="按计划施工，监理旁站。", workers=18 + day,
                            quantities=[{"item": "管道敷设", "quantity": str(120 * day), "unit": "m"}])
        made.logs += 1
    if contractor is None:
        return
    defect_at = dt.datetime.combine(as_of - dt.timedelta(days=2), dt.time(9), tzinfo=SH)
    failed = services.inspection_record(actor=supervisor, project=project, inspected_at=defect_at, passed=False,
                                        checklist={"临边防护": "defect", "安全防护": "ok"},
                                        notes="临边防护缺失，已下达整改通知。")
    order = services.rectification_issue(actor=supervisor, project=project, defect="临边防护缺失，须三日内整改",
                                         contractor=contractor, deadline=max(as_of, timezone.localdate()),
                                         inspection=failed)
    made.inspections += 1
    made.rectifications += 1
    if close_order:
        recheck = services.inspection_record(actor=supervisor, project=project, passed=True,
                                             inspected_at=timezone.now(), checklist={"临边防护": "ok"},
                                             notes="复查合格。")
        services.rectification_close(actor=supervisor, order=order, reinspection=recheck)
        made.inspections += 1


def _sensors(project: Project, case: str, *, seed: int, made: Made, hours: int = 24) -> None:
    rng = random.Random(seed)  # noqa: S311 - simulated data, not security
    fleet = []
    for spec in simulate.PLAN[case]:
        device_id = spec.device_id.format(case=case)
        if Device.objects.filter(device_id=device_id).exists():
            continue
        device, raw = device_register(actor=None, project=project, device_id=device_id, kind=spec.kind,
                                      name=spec.name, household=spec.household, latitude=project.latitude,
                                      longitude=project.longitude)
        fleet.append((spec, device, raw))
        made.devices += 1
    now = timezone.now().replace(second=0, microsecond=0)
    for step in range(hours * 4, 0, -1):
        at = timezone.localtime(now - dt.timedelta(minutes=15 * step))
        messages = [{"device": d.device_id, "token": raw, "readings": simulate.readings_for(spec, at, rng)}
                    for spec, d, raw in fleet]
        made.readings += ingest([m for m in messages if m["readings"]], now=now).accepted


def _village_rep(project: Project, *, made: Made) -> None:
    """The demo account `village_rep` (村民代表) speaks for the first villagers' committee of the
    water project's county; the county-wide project serves it, so he is assigned to it, and has
    recorded one observation."""
    from minsheng.core.models import Division, DivisionLevel
    from minsheng.projects import services as project_services

    rep = User.objects.filter(username="village_rep").first()
    village = (Division.objects.filter(level=DivisionLevel.VILLAGE, path__startswith=project.division_path,
                                       code__regex=r"2\d\d$").order_by("code").first())
    if rep is None or village is None:
        return
    rep.division = village
    rep.save(update_fields=["division"])
    project_services.member_add(actor=project.responsible_person, project=project, user=rep,
                                role=MemberRole.INSPECTOR)
    services.observation_record(actor=rep, project=project, kind="water", concern=True,
                                text=f"{village.name}东头李秀英家水表夜里一直在走，屋里没人用水，请派人看看。")
    made.observations += 1


def generate_supervision(*, as_of: dt.date, seed: int) -> Made:
    made = Made()
    water = Project.objects.get(code=CASES["water"])
    elderly = Project.objects.get(code=CASES["elderly"])
    _supervise(water, as_of=as_of, fraction=Decimal(1), age_days=5, made=made, close_order=True)
    _supervise(elderly, as_of=as_of, fraction=Decimal("0.5"), age_days=70, made=made, close_order=False)
    _sensors(water, "water", seed=seed, made=made)
    _sensors(elderly, "elderly", seed=seed + 1, made=made)
    _village_rep(water, made=made)
    return made
