"""A year of citizen requests for the demo city: a realistic mix of types, categories and urgency,
routed like real ones, with SLA breaches, reopenings, return visits and satisfaction — and the
"7 days → 24 hours" story: before the platform went live (the first half of the year) a request took
about a week to close; after it, about a day.

Written with bulk inserts (no per-row services) so 50,000 requests take seconds; the timeline gets
the public steps a citizen would see."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from minsheng.core.models import Division, DivisionLevel
from minsheng.feedback import clocks, services
from minsheng.feedback.models import CitizenRequest, RequestEvent, Status

KINDS = [("enquiry", 30), ("help", 20), ("complaint", 25), ("report", 5), ("suggestion", 15), ("praise", 5)]
CATEGORIES = [("roads", 18), ("housing", 24), ("water", 12), ("environment", 12), ("welfare", 10),
              ("education", 8), ("health", 8), ("other", 8)]
TEXTS = {
    "roads": ["路口红绿灯时间太短，老人过马路来不及", "人行道砖松动，下雨踩上去溅水", "公交站台没有遮雨棚"],
    "housing": ["老旧小区改造后楼道灯不亮", "加装电梯施工噪音太大", "小区雨水管堵塞，一楼进水"],
    "water": ["自来水发黄，烧开后有沉淀", "村里停水两天了没有通知", "水压太低，五楼用不上水"],
    "environment": ["工地夜间施工扬尘很大", "河道有异味，疑似偷排", "垃圾清运不及时"],
    "welfare": ["咨询高龄津贴怎么申请", "社区食堂价格能否公示", "低保复核材料要准备哪些"],
    "education": ["学校门口接送时段拥堵", "咨询学区划分", "校舍改造什么时候完工"],
    "health": ["卫生院周末没有医生值班", "家庭医生签约怎么办理", "药品目录能否公开"],
    "other": ["建议增设便民服务点", "表扬社区工作人员热心帮助", "咨询办事窗口时间"],
}


@dataclass(frozen=True)
class DemoRequests:
    count: int
    seconds: float


def generate_requests(*, seed: int, count: int = 50_000, as_of: dt.date | None = None) -> DemoRequests:
    import time

    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
    end = timezone.make_aware(dt.datetime.combine(as_of or timezone.localdate(), dt.time(8)))
    start = end - dt.timedelta(days=365)
    go_live = start + dt.timedelta(days=182)
    places = list(Division.objects.filter(level__gte=DivisionLevel.TOWNSHIP)) or list(
        Division.objects.filter(level=DivisionLevel.COUNTY))
    if not places:
        raise RuntimeError("generate the demo city first")
    routes: dict[tuple[str, int], object] = {}
    kinds, kind_w = zip(*KINDS, strict=True)
    cats, cat_w = zip(*CATEGORIES, strict=True)
    rows: list[CitizenRequest] = []
    codes: set[str] = set(CitizenRequest.objects.values_list("receipt_code", flat=True))
    for _i in range(count):
        kind, category = rng.choices(kinds, kind_w)[0], rng.choices(cats, cat_w)[0]
        division = rng.choice(places)
        key = (category, division.pk)
        if key not in routes:
            routes[key] = services.route(category=category, division=division)
        unit = routes[key]
        created = start + dt.timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
        after = created >= go_live
        urgent = rng.random() < 0.05
        # Hours to first contact and to closure: a week before the platform, a day after.
        contact_h = rng.lognormvariate(1.2, 0.8) if after else rng.lognormvariate(3.0, 0.7)
        close_h = max(contact_h + 1, rng.lognormvariate(3.1, 0.6) if after else rng.lognormvariate(5.1, 0.5))
        code = services.new_receipt_code()
        while code in codes:
            code = services.new_receipt_code()
        codes.add(code)
        req = CitizenRequest(
            receipt_code=code, kind=kind, category=category, urgency="urgent" if urgent else "normal",
            channel=rng.choices(["hotline", "portal", "project"], [70, 25, 5])[0],
            description=rng.choice(TEXTS[category]), address=f"{division.name}", division=division,
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if kind in ("complaint", "report") or
            rng.random() < 0.6 else "", phone_verified=kind in ("complaint", "report"),
            first_responder=unit, owner=unit, created_at=created,
            accepted_at=created + dt.timedelta(hours=contact_h / 2),
        )
        contact = created + dt.timedelta(hours=contact_h)
        closed = created + dt.timedelta(hours=close_h)
        if contact < end:
            req.first_contact_at = contact
            req.status = Status.IN_PROGRESS
        if closed < end and rng.random() < 0.97:
            req.replied_at = closed - dt.timedelta(hours=min(12, close_h / 4))
            req.reply = "已核实并处理，感谢您的反映。"
            req.closed_at = closed
            req.status = Status.CLOSED
            req.resolved = rng.random() < (0.93 if after else 0.78)
            weights = [55, 25, 10, 6, 4] if after else [30, 25, 20, 15, 10]
            req.satisfaction = rng.choices([5, 4, 3, 2, 1], weights)[0]
            req.closed_on_time = close_h <= (15 * 24 * 7 / 5) and rng.random() > (0.03 if after else 0.25)
            req.reopen_count = 1 if rng.random() < 0.02 else 0
        elif req.first_contact_at is None:
            req.status = Status.ACCEPTED if rng.random() < 0.5 else Status.RECEIVED
        rows.append(req)
    with transaction.atomic():
        CitizenRequest.objects.bulk_create(rows, batch_size=2000)
        saved = CitizenRequest.objects.filter(receipt_code__in=[r.receipt_code for r in rows]).values_list(
            "pk", "created_at", "closed_at", "owner_id")
        events = []
        for pk, created, closed, owner in saved:
            events.append(RequestEvent(request_id=pk, at=created, action="received", text="诉求已登记。",
                                       unit_id=owner))
            if closed:
                events.append(RequestEvent(request_id=pk, at=closed, action="closed", text="诉求已办结。",
                                           unit_id=owner))
        RequestEvent.objects.bulk_create(events, batch_size=5000)
        # The open ones' SLA clocks, at level 0: the first scan sends every warning and escalation due.
        clocks.rebuild(request_ids=[pk for pk, _c, closed, _o in saved if closed is None])
    return DemoRequests(count=len(rows), seconds=time.perf_counter() - started)
