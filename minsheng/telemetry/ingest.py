"""Storing telemetry: one call for a batch of messages from MQTT or HTTP.

Validation is in `validation.py` (pure), the SQL in `storage.py`. Per batch: devices come from a
cache (a long-running MQTT ingest process keeps one; an HTTP request reads them fresh), each
credential is hashed once per distinct token, accepted readings are deduplicated and inserted in
one statement that ignores rows already stored (the unique key (device, time, metric) makes
redelivery harmless), roll-ups move with them, rejections are counted, devices' last-seen times
move forward, and the rules run in memory over the rows that were new — all in one transaction, so
an MQTT message is acknowledged only after its readings, roll-ups and alarms have committed."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from minsheng.telemetry import alarms, storage, validation
from minsheng.telemetry.models import Device, RejectCount, hash_credential

LAST_SEEN_RESOLUTION = dt.timedelta(seconds=15)  # a cached ingest writes a device's last-seen at most this often


@dataclass
class Result:
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    rows: list[validation.Row] = field(default_factory=list)  # the accepted readings
    new: int = 0  # of which were not stored before


class DeviceInfo(NamedTuple):
    """What ingest and the rules need of a device; satisfies validation.DeviceLike."""

    pk: int
    device_id: str
    kind: str
    credential_hash: str
    active: bool
    division_path: str
    small_supply: bool


def load_devices(ids: set[str]) -> dict[str, DeviceInfo]:
    return {v[1]: DeviceInfo(*v) for v in Device.objects.filter(device_id__in=ids).values_list(
        "pk", "device_id", "kind", "credential_hash", "active", "project__division_path", "small_supply")}


class DeviceCache:
    """Devices and rules for a long-running ingest process. An entry is read again after `ttl`
    seconds, so a rotated credential, a deactivated device or a changed rule takes effect within
    that time (TELEMETRY_DEVICE_CACHE_SECONDS); an unknown device id is remembered as unknown for as
    long, so a flood of bogus ids costs one query per id and period."""

    def __init__(self, ttl: float | None = None):
        self.ttl = settings.TELEMETRY_DEVICE_CACHE_SECONDS if ttl is None else ttl
        self._devices: dict[str, tuple[float, DeviceInfo | None]] = {}
        self._rules: tuple[float, list[Any]] | None = None
        self.last_seen: dict[int, dt.datetime] = {}  # what this process last wrote

    def devices(self, ids: set[str]) -> dict[str, DeviceInfo]:
        now = time.monotonic()
        entries = self._devices
        stale = {i for i in ids if (e := entries.get(i)) is None or now - e[0] > self.ttl}
        if stale:
            found = load_devices(stale)
            for i in stale:
                entries[i] = (now, found.get(i))
        return {i: info for i in ids if (info := entries[i][1]) is not None}

    def rules(self) -> list[Any]:
        now = time.monotonic()
        if self._rules is None or now - self._rules[0] > self.ttl:
            self._rules = (now, alarms.rule_specs())
        return self._rules[1]


@functools.lru_cache(maxsize=65536)
def _hash(token: str) -> str:
    """A credential's hash, computed once per distinct token (not once per message)."""
    return hash_credential(token)


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


def _dedupe(rows: list[validation.Row]) -> list[validation.Row]:
    """One row per (device, time, metric); the first wins (a batch may repeat a message)."""
    seen: dict[tuple[int, dt.datetime, str], validation.Row] = {}
    for r in rows:
        seen.setdefault((r.device_pk, r.time, r.metric), r)
    return list(seen.values()) if len(seen) < len(rows) else rows


def ingest(messages: list[Any], *, now: dt.datetime | None = None, cache: DeviceCache | None = None) -> Result:
    """Validate and store a batch; returns what was accepted and rejected. Never raises on bad input."""
    now = now or timezone.now()
    ids = {str(m.get("device", ""))[:64] for m in messages if isinstance(m, dict)}
    devices = cache.devices(ids) if cache is not None else load_devices(ids)
    checked = validation.check(
        messages, devices, _hash, now=now,
        max_skew=dt.timedelta(seconds=settings.TELEMETRY_MAX_CLOCK_SKEW_SECONDS),
        max_backfill=dt.timedelta(days=settings.TELEMETRY_MAX_BACKFILL_DAYS),
    )
    rows = _dedupe(checked.rows)
    by_pk = {d.pk: d for d in devices.values()}
    seen = {r.device_pk for r in rows}
    if cache is not None:
        # Received now: alive even if it sent buffered, older readings. Written at most every few seconds.
        seen = {pk for pk in seen if now - cache.last_seen.get(pk, dt.datetime.min.replace(tzinfo=dt.UTC))
                >= LAST_SEEN_RESOLUTION}
    with transaction.atomic():
        new = storage.insert(rows, received_at=now)
        if seen:
            Device.objects.filter(pk__in=sorted(seen)).update(last_seen_at=now)
        if checked.rejected:
            _count_rejects(checked.rejected, timezone.localdate(now))
        # Rules run in the same transaction, on the readings that were new: an alarm exists exactly
        # when its readings do, and redelivered readings do not count twice.
        alarms.evaluate(new, now=now, devices=by_pk, specs=cache.rules() if cache is not None else None)
    if cache is not None:
        for pk in seen:
            cache.last_seen[pk] = now
    rejected: dict[str, int] = defaultdict(int)
    for (reason, _device), n in checked.rejected.items():
        rejected[reason] += n
    return Result(accepted=len(checked.rows), rejected=dict(rejected), rows=checked.rows, new=len(new))
