"""Scheduled checks over the roll-ups: windowed rules (PM10 net of the background station, with a
daily allowance of exceeding windows) and the suspect-sensor detectors. Each raises, updates or
clears alarms through `alarms.raise_or_update` / `alarms.clear_if_active`, so every change is an
anchored AlarmEvent like any other. A windowed rule run again over the same window changes nothing;
a detector that finds a sensor still suspect adds one to its open alarm's count."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.telemetry import alarms, detectors
from minsheng.telemetry import rules as rule_logic
from minsheng.telemetry.models import Alarm, BackgroundStation, Device, ReadingHour, ReadingMinute, Severity

STUCK_WINDOW = dt.timedelta(minutes=60)
SPIKE_WINDOW = dt.timedelta(minutes=60)
DRIFT_WINDOW = dt.timedelta(hours=72)


def _floor(at: dt.datetime, minutes: int) -> dt.datetime:
    """The start of the window of `minutes` holding `at`, on local clock boundaries."""
    local = timezone.localtime(at)
    start = local.replace(second=0, microsecond=0) - dt.timedelta(minutes=(local.hour * 60 + local.minute) % minutes)
    return start


def _mean(device_pk: int, metric: str, start: dt.datetime, end: dt.datetime) -> float | None:
    agg = ReadingMinute.objects.filter(device_id=device_pk, metric=metric, bucket__gte=start, bucket__lt=end).aggregate(
        total=Sum("total"), count=Sum("count"))
    return agg["total"] / agg["count"] if agg["count"] else None


def background_for(device: Device, stations: list[BackgroundStation]) -> BackgroundStation | None:
    """The active station whose district holds the device's project; the nearest wins."""
    path = device.project.division_path
    best = None
    for s in stations:
        if s.device_id != device.pk and path.startswith(s.division.path) and (
                best is None or len(s.division.path) > len(best.division.path)):
            best = s
    return best


def _devices(**filters: Any):
    return Device.objects.filter(active=True, **filters).select_related(
        "project", "project__responsible_person", "responsible")


def check_windowed_rules(*, now: dt.datetime | None = None) -> int:
    """Judge the last complete window of each windowed rule for every device it covers. Returns
    alarms raised or updated."""
    now = now or timezone.now()
    specs = [s for s in alarms.rule_specs() if s.window_minutes]
    if not specs:
        return 0
    stations = list(BackgroundStation.objects.filter(active=True).select_related("division"))
    station_devices = {s.device_id for s in stations}
    touched = 0
    for device in _devices(kind__in={s.device_kind for s in specs}).exclude(pk__in=station_devices):
        local_day = timezone.localtime(now).date()
        in_force = rule_logic.rules_in_force(specs, on=local_day, division_path=device.project.division_path)
        for rule in in_force.values():
            if rule.device_kind not in ("", device.kind) or not rule.window_minutes:
                continue
            station = background_for(device, stations) if rule.net_of_background else None
            if rule.net_of_background and station is None:
                continue  # no background station for this district: the rule cannot be judged
            touched += _judge_window(device, rule, station, now)
    return touched


def _net(device: Device, rule: rule_logic.RuleSpec, station: BackgroundStation | None, start: dt.datetime,
         end: dt.datetime) -> float | None:
    site = _mean(device.pk, rule.metric, start, end)
    if site is None:
        return None
    if station is None:
        return site
    background = _mean(station.device_id, rule.metric, start, end)
    return None if background is None else site - background


@transaction.atomic
def _judge_window(device: Device, rule: rule_logic.RuleSpec, station: BackgroundStation | None,
                  now: dt.datetime) -> int:
    minutes = rule.window_minutes
    end = _floor(now, minutes)
    start = end - dt.timedelta(minutes=minutes)
    net = _net(device, rule, station, start, end)
    if net is None:
        return 0
    open_alarm = Alarm.objects.select_for_update().filter(alarm_type=rule.code, device=device, closed=False).first()
    if open_alarm is not None and open_alarm.last_at >= end:
        return 0  # this window was judged already
    touched = 0
    if rule_logic.violated(rule, net):
        message = _("%(device)s：%(metric)s %(minutes)d 分钟均值扣除背景后 %(value)s，"
                    "超过限值 %(limit)s（%(code)s）") % {
            "device": device.name, "metric": rule.metric, "minutes": minutes, "value": f"{net:.1f}",
            "limit": f"{rule.limit:g}", "code": rule.code}
        alarms.raise_or_update(device=device, alarm_type=rule.code, severity=rule.severity, message=message,
                               value=round(net, 3), at=end, rule_id=rule.pk, first_at=start)
        touched += 1
    else:
        touched += alarms.clear_if_active(device=device, alarm_type=rule.code, at=end)
    if rule.daily_allowance is not None:
        touched += _judge_day(device, rule, station, end)
    return touched


def _judge_day(device: Device, rule: rule_logic.RuleSpec, station: BackgroundStation | None,
               end: dt.datetime) -> int:
    """Count today's exceeding windows up to `end`; more than the allowance raises `<code>_daily`
    (updated as the count grows, once per window)."""
    minutes = rule.window_minutes
    day_start = timezone.localtime(end).replace(hour=0, minute=0, second=0, microsecond=0)
    site = _window_means(device.pk, rule.metric, day_start, end, minutes)
    ref = _window_means(station.device_id, rule.metric, day_start, end, minutes) if station else None
    exceeded = sum(1 for w, v in site.items()
                   if (ref is None or w in ref) and rule_logic.violated(rule, v - (ref[w] if ref else 0)))
    if exceeded <= rule.daily_allowance:
        return 0
    code = f"{rule.code}_daily"
    open_alarm = Alarm.objects.filter(alarm_type=code, device=device, closed=False).first()
    if open_alarm is not None and open_alarm.last_at >= end:
        return 0
    message = _("%(device)s：%(metric)s 今日超标 %(n)d 次，超过每日允许的 %(allowed)d 次（%(code)s）") % {
        "device": device.name, "metric": rule.metric, "n": exceeded, "allowed": rule.daily_allowance,
        "code": rule.code}
    alarms.raise_or_update(device=device, alarm_type=code, severity=Severity.MAJOR, message=message,
                           value=float(exceeded), at=end, rule_id=rule.pk, first_at=day_start)
    return 1


def _window_means(device_pk: int, metric: str, start: dt.datetime, end: dt.datetime, minutes: int) -> dict[int, float]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for bucket, total, count in ReadingMinute.objects.filter(
            device_id=device_pk, metric=metric, bucket__gte=start, bucket__lt=end).values_list(
            "bucket", "total", "count"):
        w = int((bucket - start).total_seconds() // (minutes * 60))
        sums[w][0] += total
        sums[w][1] += count
    return {w: t / n for w, (t, n) in sums.items() if n}


# ---------------------------------------------------------------------------------------------
# suspect sensors


def run_detectors(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Stuck and spike over the last hour of minute roll-ups, drift over the last three days of
    hour roll-ups against the median of the same project's other devices of the same kind and
    metric. Raises, updates or clears one alarm per detector and device. Returns alarms raised or
    updated per detector."""
    now = now or timezone.now()
    out = {t: 0 for t in detectors.TYPES}
    minutes: dict[tuple[int, str], list[tuple[float, float, float, int]]] = defaultdict(list)
    for device_id, metric, total, count, low, high in ReadingMinute.objects.filter(
            bucket__gte=now - STUCK_WINDOW, bucket__lt=now).order_by("bucket").values_list(
            "device_id", "metric", "total", "count", "minimum", "maximum"):
        minutes[(device_id, metric)].append((total / count, low, high, count))
    hours: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for device_id, metric, bucket, total, count in ReadingHour.objects.filter(
            bucket__gte=now - DRIFT_WINDOW, bucket__lt=now, metric__in=list(detectors.DRIFT_TOLERANCE)).values_list(
            "device_id", "metric", "bucket", "total", "count"):
        hours[(device_id, metric)][int(bucket.timestamp() // 3600)] = total / count
    pks = {pk for pk, _m in minutes} | {pk for pk, _m in hours}
    devices = {d.pk: d for d in _devices(pk__in=pks)}
    verdicts: dict[tuple[int, str], dict[str, tuple[detectors.Verdict, str]]] = defaultdict(dict)
    for (pk, metric), rows in minutes.items():
        if pk not in devices:
            continue
        if metric in detectors.STUCK_METRICS:
            values = [v for _mean_v, low, high, _n in rows for v in (low, high)]
            n = sum(r[3] for r in rows)
            v = detectors.stuck(values if n >= detectors.STUCK_MIN_READINGS else [])
            verdicts[(pk, detectors.STUCK)][metric] = (v, metric)
        means = [r[0] for r in rows]
        v = detectors.spike(means, [x for r in rows for x in (r[1], r[2])])
        verdicts[(pk, detectors.SPIKE)][metric] = (v, metric)
    by_group: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for (pk, metric) in hours:
        if pk in devices:
            by_group[(devices[pk].project_id, devices[pk].kind, metric)].append(pk)
    for (_project, _kind, metric), members in by_group.items():
        if len(members) < 3:  # a median of one or two neighbours is no reference
            continue
        for pk in members:
            reference = detectors.median_reference([hours[(o, metric)] for o in members if o != pk])
            v = detectors.drift(hours[(pk, metric)], reference, tolerance=detectors.DRIFT_TOLERANCE[metric])
            verdicts[(pk, detectors.DRIFT)][metric] = (v, metric)
    for (pk, kind), per_metric in sorted(verdicts.items()):
        suspect = [(v, m) for v, m in per_metric.values() if v.suspect]
        with transaction.atomic():
            if suspect:
                v, metric = suspect[0]
                alarms.raise_or_update(device=devices[pk], alarm_type=kind, severity=Severity.WARNING,
                                       message=_suspect_message(kind, devices[pk], metric, v), value=v.value, at=now)
                out[kind] += 1
            else:
                alarms.clear_if_active(device=devices[pk], alarm_type=kind, at=now)
    return out


def _suspect_message(kind: str, device: Device, metric: str, v: detectors.Verdict) -> str:
    if kind == detectors.STUCK:
        return _("%(device)s：%(metric)s 一小时内读数恒为 %(value)s，传感器疑似卡滞") % {
            "device": device.name, "metric": metric, "value": f"{v.value:g}"}
    if kind == detectors.SPIKE:
        return _("%(device)s：%(metric)s 出现突跳 %(value)s（稳健 z 值 %(z)s），传感器疑似故障") % {
            "device": device.name, "metric": metric, "value": f"{v.value:g}", "z": v.score}
    return _("%(device)s：%(metric)s 相对同类设备持续漂移 %(value)s（三日内），传感器疑似需要校准") % {
        "device": device.name, "metric": metric, "value": f"{v.value:g}"}
