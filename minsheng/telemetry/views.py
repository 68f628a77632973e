"""Console pages: devices (list, register), the districts' background stations, alarms (acknowledge,
clear, comment), the site dashboard and the village water page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from minsheng.console.errors import console_view, form_errors
from minsheng.core.errors import PermissionDenied, ValidationFailed
from minsheng.projects.selectors import project_get
from minsheng.projects.services import can_manage
from minsheng.telemetry import alarms, selectors, services
from minsheng.telemetry.forms import AlarmActionForm, BackgroundStationForm, DeviceForm


@console_view
def device_list(request: HttpRequest) -> HttpResponse:
    devices = selectors.devices_visible(request.user).order_by("project__name", "kind", "device_id")
    page = Paginator(devices, settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "telemetry/devices.html", {
        "page": page, "can_manage_stations": selectors.background_divisions(request.user).exists()})


@console_view
def device_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a device on a project; its credential is shown once, on the page after saving."""
    project = project_get(request.user, pk=pk)
    if not can_manage(request.user, project):
        raise PermissionDenied(_("只有项目负责人或主管部门经办人可以登记设备。"))
    form = DeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            device, credential = services.device_register(actor=request.user, project=project, **form.cleaned_data)
            return render(request, "telemetry/device_added.html", {"project": project, "device": device,
                                                                    "credential": credential})
    return render(request, "telemetry/device_form.html", {"project": project, "form": form},
                  status=400 if form.errors else 200)


def _stations_page(request: HttpRequest, form: BackgroundStationForm, status: int = 200) -> HttpResponse:
    stations = list(selectors.background_stations_managed(request.user))
    latest = selectors.latest_values([s.device for s in stations])
    for s in stations:
        s.pm10 = latest[s.device_id].get("pm10")
    return render(request, "telemetry/stations.html", {"stations": stations, "form": form}, status=status)


@console_view
def station_list(request: HttpRequest) -> HttpResponse:
    """背景站: the stations of the officer's divisions; designate a dust device as one."""
    if not selectors.background_divisions(request.user).exists():
        raise PermissionDenied(_("只有生态环境或住建部门的经办人可以管理背景站。"))
    form = BackgroundStationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.background_designate(actor=request.user, **form.cleaned_data)
            messages.success(request, _("背景站已设置。"))
            return redirect("telemetry:stations")
    return _stations_page(request, form, status=400 if form.errors else 200)


@console_view
@require_POST
def station_remove(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.background_station_get(request.user, pk=pk)
    services.background_remove(actor=request.user, station=station)
    messages.success(request, _("背景站已移除。"))
    return redirect("telemetry:stations")


@console_view
def alarm_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    qs = selectors.alarms_visible(request.user, open_only=not show_all).order_by("closed", "-last_at", "-id")
    page = Paginator(qs, settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "telemetry/alarms.html", {"page": page, "show_all": show_all})


ACTION_LABELS = {
    "raise": pgettext_lazy("alarm", "发生"), "reactivate": pgettext_lazy("alarm", "再次发生"),
    "acknowledge": pgettext_lazy("alarm", "确认"), "clear": pgettext_lazy("alarm", "恢复"),
    "assign": pgettext_lazy("alarm", "指派处理人"), "comment": pgettext_lazy("alarm", "备注"),
}


@console_view
def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = selectors.alarm_get(request.user, pk=pk)
    history = list(alarms.alarm_history(alarm))
    for event in history:
        event.label = ACTION_LABELS.get(event.action, event.action)
    return render(request, "telemetry/alarm_detail.html", {
        "alarm": alarm, "history": history, "form": AlarmActionForm(),
        "can_handle": alarms.can_handle(request.user, alarm)})


@console_view
@require_POST
def alarm_action(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = selectors.alarm_get(request.user, pk=pk)
    form = AlarmActionForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(fields={k: list(v) for k, v in form.errors.items()})
    action, comment = form.cleaned_data["action"], form.cleaned_data["comment"]
    if action == "acknowledge":
        alarms.alarm_acknowledge(actor=request.user, alarm=alarm, comment=comment)
        messages.success(request, _("报警已确认。"))
    elif action == "clear":
        alarms.alarm_clear(actor=request.user, alarm=alarm, comment=comment)
        messages.success(request, _("报警已解除。"))
    else:
        alarms.alarm_comment(actor=request.user, alarm=alarm, comment=comment)
        messages.success(request, _("备注已添加。"))
    return redirect("telemetry:alarm", pk=pk)


def _map(context: dict) -> dict:
    return context | {"tile_url": settings.MINSHENG_MAP_TILE_URL,
                      "tile_attribution": getattr(settings, "MINSHENG_MAP_ATTRIBUTION", ""),
                      "poll_seconds": POLL_SECONDS}


POLL_SECONDS = 30


@console_view
def water(request: HttpRequest, pk: int) -> HttpResponse:
    """The village water page, readable by a village representative; its live part refreshes itself."""
    project = project_get(request.user, pk=pk)
    context = _map({"project": project, **selectors.village_water(project)})
    if request.GET.get("live") == "1":
        return render(request, "telemetry/_water_live.html", context)
    return render(request, "telemetry/water.html", context)


@console_view
def site(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's live site dashboard: devices, open alarms, charts and the map."""
    project = project_get(request.user, pk=pk)
    context = _map({"project": project, "can_add_device": can_manage(request.user, project),
                    **selectors.site_dashboard(project)})
    if request.GET.get("live") == "1":
        return render(request, "telemetry/_site_live.html", context)
    return render(request, "telemetry/site.html", context)
