"""Reads for devices and alarms, always through the projects a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from minsheng.core.errors import NotFound
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible
from minsheng.telemetry.models import Alarm, BackgroundStation, Device, Reading


def devices_visible(user: Any) -> QuerySet[Device]:
    return Device.objects.filter(project__in=projects_visible(user)).select_related("project")


def devices_for(project: Project) -> QuerySet[Device]:
    return project.devices.order_by("kind", "device_id")


def alarms_visible(user: Any, *, open_only: bool = False) -> QuerySet[Alarm]:
    qs = Alarm.objects.filter(project__in=projects_visible(user)).select_related("device", "project", "assignee")
    return qs.filter(closed=False) if open_only else qs


def alarms_for(project: Project) -> QuerySet[Alarm]:
    return project.alarms.select_related("device", "assignee").order_by("closed", "-last_at", "-id")


def alarm_get(user: Any, *, pk: int) -> Alarm:
    alarm = alarms_visible(user).select_related("project__division", "project__responsible_person").filter(
        pk=pk).first()
    if alarm is None:
        raise NotFound()
    return alarm


def device_get(user: Any, *, pk: int) -> Device:
    device = devices_visible(user).filter(pk=pk).first()
    if device is None:
        raise NotFound()
    return device


def _managed_path(user: Any) -> str | None:
    """The division subtree whose background stations `user` manages ("" everything, None nothing)."""
    from minsheng.accounts.roles import Role
    from minsheng.telemetry.services import BACKGROUND_KINDS

    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser or user.role == Role.SYSADMIN:
        return ""
    if (user.role == Role.DEPT_OFFICER and user.division_id and user.department_id
            and user.department.kind in BACKGROUND_KINDS):
        return user.division.path
    return None


def background_stations_managed(user: Any) -> QuerySet[BackgroundStation]:
    """The background stations of the divisions `user` looks after (none for anyone else)."""
    path = _managed_path(user)
    if path is None:
        return BackgroundStation.objects.none()
    return (BackgroundStation.objects.filter(division__path__startswith=path)
            .select_related("division", "device", "device__project").order_by("division__code", "pk"))


def background_station_get(user: Any, *, pk: int) -> BackgroundStation:
    station = background_stations_managed(user).filter(pk=pk).first()
    if station is None:
        raise NotFound()
    return station


def background_candidates(user: Any) -> QuerySet[Device]:
    """Dust devices in the divisions `user` looks after, which he may designate as a station."""
    from minsheng.telemetry.metrics import DeviceKind

    path = _managed_path(user)
    if path is None:
        return Device.objects.none()
    return (Device.objects.filter(kind=DeviceKind.DUST, active=True, project__division_path__startswith=path)
            .select_related("project").order_by("project__division_path", "device_id"))


def background_divisions(user: Any) -> QuerySet[Any]:
    """The divisions (down to townships) `user` may give a background station."""
    from minsheng.core.models import Division, DivisionLevel

    path = _managed_path(user)
    if path is None:
        return Division.objects.none()
    return Division.objects.filter(path__startswith=path, level__lte=DivisionLevel.TOWNSHIP).order_by("code")


def background_comparisons(devices: list[Device], *, on: Any = None) -> dict[int, dict[str, Any]]:
    """For each dust device judged net of background (a windowed rule in force for it says so): the
    station it is compared with (None when its district has none, so the rule cannot be judged) and
    the station's latest PM10."""
    from django.utils import timezone

    from minsheng.telemetry import alarms, watch
    from minsheng.telemetry import rules as rule_logic

    dust = [d for d in devices if d.kind == "dust"]
    if not dust:
        return {}
    specs = [s for s in alarms.rule_specs() if s.window_minutes and s.net_of_background]
    stations = list(BackgroundStation.objects.filter(active=True).select_related("division", "device"))
    own = {s.device_id for s in stations}
    day = on or timezone.localdate()
    out: dict[int, dict[str, Any]] = {}
    for device in dust:
        if device.pk in own:
            continue
        rules = rule_logic.rules_in_force(specs, on=day, division_path=device.project.division_path)
        if not any(r.device_kind in ("", device.kind) and r.net_of_background for r in rules.values()):
            continue
        station = watch.background_for(device, stations)
        latest = latest_values([station.device])[station.device_id].get("pm10") if station else None
        out[device.pk] = {"station": station, "value": latest[1] if latest else None,
                          "at": latest[0] if latest else None}
    return out


def latest_readings(device: Device, *, limit: int = 50) -> QuerySet[Reading]:
    return device.readings.order_by("-time")[:limit]


def water_dashboard(project: Project, *, now: Any = None) -> dict[str, Any]:
    """The village water page: each household meter's 24-hour verdict, the district meter's night
    minimum flow last night, and the latest water quality."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from minsheng.core.jurisdiction import rule_for
    from minsheng.telemetry import leaks
    from minsheng.telemetry.metrics import DeviceKind

    now = now or timezone.now()
    since = now - dt.timedelta(hours=48)
    devices = list(project.devices.filter(kind__in=[DeviceKind.WATER_METER, DeviceKind.FLOW_METER,
                                                   DeviceKind.WATER_QUALITY]).order_by("kind", "device_id"))
    series: dict[int, list[tuple[Any, float]]] = {d.pk: [] for d in devices}
    latest: dict[tuple[int, str], float] = {}
    for device_id, metric, at, value in (Reading.objects.filter(device__in=devices, time__gte=since)
                                         .order_by("time").values_list("device_id", "metric", "time", "value")):
        if metric == "flow":
            series[device_id].append((timezone.localtime(at), value))
        latest[(device_id, metric)] = value
    allowance = float(Decimal(str(rule_for("telemetry.night_flow_allowance_m3h", project.division).value)))
    last_night = timezone.localtime(now).date() if timezone.localtime(now).hour >= leaks.NIGHT_TO else (
        timezone.localtime(now).date() - dt.timedelta(days=1))
    households, districts, quality = [], [], []
    for d in devices:
        if d.kind == DeviceKind.WATER_METER:
            households.append({"device": d, "verdict": leaks.no_zero_flow_hour(series[d.pk], timezone.localtime(now))})
        elif d.kind == DeviceKind.FLOW_METER:
            districts.append({"device": d, "mnf": leaks.night_minimum_flow(series[d.pk], last_night,
                                                                           allowance=allowance)})
        else:
            quality.append({"device": d, "turbidity": latest.get((d.pk, "turbidity")),
                            "chlorine": latest.get((d.pk, "chlorine"))})
    return {"households": households, "districts": districts, "quality": quality, "allowance": allowance,
            "alarms": alarms_for(project).filter(closed=False, device__in=devices)}


# ---------------------------------------------------------------------------------------------
# dashboards. Charts read the hour roll-ups (`hourly_series`); the big numbers read each device's
# latest reading per metric (`latest_values`, one indexed row each).

WATER_KINDS = ("water_meter", "flow_meter", "water_quality")
# The metric each kind of device is charted by.
CHART_METRIC = {"noise": "laeq", "dust": "pm10", "crane": "load_moment_pct", "water_meter": "flow",
                "flow_meter": "flow", "water_quality": "turbidity", "bike_dock": "docked"}


def water_projects(projects: Any) -> set[int]:
    """Which of these projects have rural-water devices (a village water page)."""
    return set(Device.objects.filter(project__in=projects, kind__in=WATER_KINDS)
               .values_list("project_id", flat=True).distinct())


def latest_values(devices: list[Device], *, since: Any = None) -> dict[int, dict[str, tuple[Any, float]]]:
    """Each device's latest (time, value) per metric, over the last week."""
    import datetime as dt

    from django.utils import timezone

    from minsheng.telemetry.metrics import METRICS

    since = since or timezone.now() - dt.timedelta(days=7)
    out: dict[int, dict[str, tuple[Any, float]]] = {}
    for device in devices:
        values: dict[str, tuple[Any, float]] = {}
        for metric in METRICS.get(device.kind, {}):
            row = (Reading.objects.filter(device=device, metric=metric, time__gte=since).order_by("-time")
                   .values_list("time", "value").first())
            if row is not None:
                values[metric] = row
        out[device.pk] = values
    return out


def hourly_series(devices: list[Device], metric: str, *, since: Any, until: Any) -> dict[int, list[tuple[Any, float]]]:
    """Hourly means of one metric per device in [since, until), local hours, for charts: read from the
    hour roll-ups that ingest keeps (`storage.rollup_series`), ~24 rows per device and day, never the
    readings themselves."""
    from django.utils import timezone

    from minsheng.telemetry import storage

    series = storage.rollup_series([d.pk for d in devices], metric, since=since, until=until)
    return {pk: [(timezone.localtime(bucket), mean) for bucket, mean, _low, _high, _n in points]
            for pk, points in series.items()}


def _metric_labels() -> dict[str, Any]:
    from django.utils.translation import gettext_lazy as _
    from django.utils.translation import pgettext_lazy

    return {"laeq": _("等效声级"), "lmax": _("最大声级"), "pm10": "PM10", "pm25": "PM2.5",
            "load_moment_pct": _("力矩百分比"), "wind_speed": _("风速"), "flow": pgettext_lazy("water", "流量"),
            "volume": _("累计用水量"), "turbidity": _("浑浊度"), "chlorine": _("游离氯"),
            "docked": _("在桩车辆"), "rentals": _("借车次数"), "snapshots": _("抓拍次数")}


def _points(devices: list[Device], now: Any) -> list[dict[str, Any]]:
    return [{"name": d.name, "kind": str(d.get_kind_display()), "lat": float(d.latitude), "lng": float(d.longitude),
             "offline": d.is_offline(now)} for d in devices if d.latitude is not None and d.longitude is not None]


def _charts(devices: list[Device], kinds: list[str], *, since: Any, until: Any) -> list[dict[str, Any]]:
    from minsheng.telemetry.metrics import METRICS, DeviceKind

    labels = _metric_labels()
    charts = []
    for kind in kinds:
        group = [d for d in devices if d.kind == kind]
        metric = CHART_METRIC.get(kind)
        if not group or not metric:
            continue
        series = hourly_series(group, metric, since=since, until=until)
        charts.append({"id": f"chart-{kind}", "title": f"{DeviceKind(kind).label} · {labels.get(metric, metric)}",
                       "unit": METRICS[kind][metric].unit,
                       "series": [{"name": d.name, "data": [[h.isoformat(), v] for h, v in series[d.pk]]}
                                  for d in group]})
    return charts


def site_dashboard(project: Project, *, now: Any = None) -> dict[str, Any]:
    """A project's live site page: devices with their latest values and online state, open alarms,
    24-hour charts per kind of device, and the devices' positions."""
    import datetime as dt

    from django.utils import timezone

    from minsheng.telemetry.metrics import METRICS

    now = now or timezone.now()
    devices = list(devices_for(project))
    latest = latest_values(devices)
    backgrounds = background_comparisons(devices, on=timezone.localtime(now).date())
    labels = _metric_labels()
    rows = []
    for d in devices:
        units = METRICS.get(d.kind, {})
        rows.append({"device": d, "offline": d.is_offline(now), "background": backgrounds.get(d.pk), "values": [
            {"label": labels.get(m, m), "unit": units[m].unit, "value": v, "at": t}
            for m, (t, v) in latest[d.pk].items()]})
    open_alarms = list(alarms_for(project).filter(closed=False)[:50])
    kinds = sorted({d.kind for d in devices})
    return {
        "now": now, "rows": rows, "alarms": open_alarms,
        "device_count": len(devices), "offline_count": sum(1 for r in rows if r["offline"]),
        "alarm_count": len(open_alarms), "unacknowledged_count": sum(1 for a in open_alarms if not a.acknowledged),
        "chart_data": {"charts": _charts(devices, kinds, since=now - dt.timedelta(hours=24), until=now),
                       "points": _points(devices, now)},
    }


def village_water(project: Project, *, now: Any = None) -> dict[str, Any]:
    """The village water page in plain words: how many places may be leaking today, whether the
    water is fit to drink (no active water-quality alarm and a reading in the last day), meters off
    line; plus the detail of `water_dashboard`, charts and the map."""
    import datetime as dt

    from django.utils import timezone

    from minsheng.telemetry.models import AlarmStatus

    now = now or timezone.now()
    base = water_dashboard(project, now=now)
    devices = [r["device"] for r in base["households"]] + [r["device"] for r in base["districts"]] + [
        r["device"] for r in base["quality"]]
    leaks = [r for r in base["households"] if r["verdict"].suspected] + [
        r for r in base["districts"] if r["mnf"].suspected]
    quality_devices = [r["device"] for r in base["quality"]]
    fresh = any(d.last_seen_at and now - d.last_seen_at <= dt.timedelta(hours=24) for d in quality_devices)
    bad = Alarm.objects.filter(device__in=quality_devices, closed=False, status=AlarmStatus.ACTIVE).exists()
    quality = "none" if not quality_devices or not fresh else ("bad" if bad else "ok")
    return base | {
        "now": now, "leak_count": len(leaks), "leaks": leaks, "quality_verdict": quality,
        "household_count": len(base["households"]),
        "offline_count": sum(1 for d in devices if d.is_offline(now)),
        "devices": devices,
        "chart_data": {"charts": _charts(devices, ["flow_meter", "water_quality"],
                                         since=now - dt.timedelta(hours=48), until=now),
                       "points": _points(devices, now)},
    }
