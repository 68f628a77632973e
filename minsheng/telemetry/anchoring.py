"""Alarm changes are anchored one event at a time (events never change; alarms do)."""

from __future__ import annotations

from typing import Any

from minsheng.ledger import canonical, registry


def event_content(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk,
        "alarm": e.alarm_id,
        "type": e.alarm.alarm_type,
        "device": e.alarm.device.device_id,
        "project": e.alarm.project.code,
        "action": e.action,
        "comment": e.comment,
        "state": {k: str(e.state[k]) for k in sorted(e.state)},
        "at": canonical.format_time(e.at),
    }


def register() -> None:
    registry.register("telemetry.alarmevent", content=event_content, actor_field="actor_id",
                      select_related=("alarm", "alarm__device", "alarm__project"))
