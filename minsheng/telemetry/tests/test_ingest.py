"""Validation and idempotent storage of telemetry batches (shared by MQTT and HTTP)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Reading, RejectCount
from minsheng.telemetry.tests.conftest import make_device, reading

NOW = timezone.now().replace(microsecond=0)


def test_valid_readings_are_stored_once_even_when_redelivered(noise):
    device, token = noise
    msg = {"device": device.device_id, "token": token,
           "readings": [reading(at=NOW), reading("lmax", 80.5, at=NOW)]}
    assert ingest([msg], now=NOW).accepted == 2
    assert ingest([msg, msg], now=NOW).accepted == 4  # accepted, but the unique key stores nothing new
    assert Reading.objects.filter(device=device).count() == 2
    device.refresh_from_db()
    assert device.last_seen_at == NOW


def test_every_kind_of_bad_input_is_rejected_and_counted_never_raised(noise, project):
    device, token = noise
    dust, dust_token = make_device(project, kind="dust")
    messages = [
        "not a dict",
        {"device": device.device_id, "token": token, "readings": "nope"},
        {"device": "ghost", "token": token, "readings": [reading()]},
        {"device": device.device_id, "token": "wrong", "readings": [reading(), reading()]},
        {"device": device.device_id, "token": token, "readings": [
            reading("pm10", 50, "ug/m3", at=NOW),  # not a noise metric
            reading("laeq", 62, "dB", at=NOW),  # wrong unit
            reading("laeq", 400, at=NOW),  # impossible
            reading("laeq", float("nan"), at=NOW),
            reading("laeq", 60, at=NOW + dt.timedelta(hours=1)),  # clock ahead
            reading("laeq", 60, at=NOW - dt.timedelta(days=30)),  # far too old
            {"t": "yesterday", "metric": "laeq", "value": 1, "unit": "dB(A)"},
            {"t": "2026-01-01T00:00:00", "metric": "laeq", "value": 1, "unit": "dB(A)"},  # naive time
            reading("laeq", 58, at=NOW),  # the one good reading
        ]},
        {"device": dust.device_id, "token": dust_token, "readings": [reading("pm10", True, "ug/m3", at=NOW)]},
    ]
    result = ingest(messages, now=NOW)
    assert result.accepted == 1
    assert result.rejected == {"malformed": 6, "unknown_device": 1, "bad_credential": 2, "unknown_metric": 1,
                               "wrong_unit": 1, "out_of_range": 1, "clock_skew": 2}
    assert Reading.objects.count() == 1
    counts = {(r.reason, r.device_id): r.count for r in RejectCount.objects.all()}
    assert counts[("bad_credential", device.device_id)] == 2
    ingest(messages, now=NOW)
    assert RejectCount.objects.get(reason="bad_credential", device_id=device.device_id).count == 4


def test_an_inactive_device_is_refused(noise):
    device, token = noise
    device.active = False
    device.save()
    result = ingest([{"device": device.device_id, "token": token, "readings": [reading(at=NOW)]}], now=NOW)
    assert result.accepted == 0 and result.rejected == {"unknown_device": 1}
