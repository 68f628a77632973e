"""Storing telemetry: one call for a batch of messages from MQTT or HTTP.

Validation is in `validation.py`; here the devices are loaded in one query, accepted readings are
inserted in one statement that ignores rows already stored (the unique key (device, time, metric)
makes redelivery harmless), rejections are counted, and devices' last-seen times move forward."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from minsheng.telemetry import alarms, validation
from minsheng.telemetry.models import Device, Reading, RejectCount, hash_credential


@dataclass
class Result:
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    rows: list[validation.Row] = field(default_factory=list)


def _count_rejects(rejected: dict[tuple[str, str], int], day: dt.date) -> None:
    for (reason, device_id), n in sorted(rejected.items()):
        updated = RejectCount.objects.filter(day=day, reason=reason, device_id=device_id).update(
            count=F("count") + n)
        if not updated:
            try:
                with transaction.atomic():
                    RejectCount.objects.create(day=day, reason=reason, device_id=device_id, count=n)
            except IntegrityError:  # another ingest process created it meanwhile
                RejectCount.objects.filter(day=day, reason=reason, device_id=device_id).update(
                    count=F("count") + n)


def ingest(messages: list[Any], *, now: dt.datetime | None = None) -> Result:
    """Validate and store a batch; returns what was accepted and rejected. Never raises on bad input."""
    now = now or timezone.now()
    ids = {str(m.get("device", ""))[:64] for m in messages if isinstance(m, dict)}
    devices = {d.device_id: d for d in Device.objects.filter(device_id__in=ids)}
    checked = validation.check(
        messages, devices, hash_credential, now=now,
        max_skew=dt.timedelta(seconds=settings.TELEMETRY_MAX_CLOCK_SKEW_SECONDS),
        max_backfill=dt.timedelta(days=settings.TELEMETRY_MAX_BACKFILL_DAYS),
    )
    seen = {row.device_pk for row in checked.rows}
    with transaction.atomic():
        if checked.rows:
            Reading.objects.bulk_create(
                [Reading(device_id=r.device_pk, time=r.time, metric=r.metric, value=r.value, received_at=now)
                 for r in checked.rows],
                ignore_conflicts=True, batch_size=2000,
            )
        if seen:
            # Received now: the device is alive even if it sent buffered, older readings.
            Device.objects.filter(pk__in=seen).update(last_seen_at=now)
        if checked.rejected:
            _count_rejects(checked.rejected, timezone.localdate(now))
        # Rules run in the same transaction: an alarm exists exactly when its readings do, and an MQTT
        # message is acknowledged only after both committed.
        alarms.evaluate(checked.rows, now=now)
    rejected: dict[str, int] = defaultdict(int)
    for (reason, _device), n in checked.rejected.items():
        rejected[reason] += n
    return Result(accepted=len(checked.rows), rejected=dict(rejected), rows=checked.rows)
