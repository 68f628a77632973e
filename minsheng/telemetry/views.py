"""Console pages: devices, alarms (acknowledge, clear, comment) and the village water page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from minsheng.console.errors import console_view
from minsheng.core.errors import ValidationFailed
from minsheng.projects.selectors import project_get
from minsheng.telemetry import alarms, selectors
from minsheng.telemetry.forms import AlarmActionForm


@console_view
def device_list(request: HttpRequest) -> HttpResponse:
    devices = selectors.devices_visible(request.user).order_by("project__name", "kind", "device_id")
    page = Paginator(devices, settings.MINSHENG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "telemetry/devices.html", {"page": page})


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
    context = _map({"project": project, **selectors.site_dashboard(project)})
    if request.GET.get("live") == "1":
        return render(request, "telemetry/_site_live.html", context)
    return render(request, "telemetry/site.html", context)
