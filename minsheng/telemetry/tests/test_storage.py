"""Roll-ups kept by ingest, monthly partitions (PostgreSQL) and retention, on either database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from minsheng.telemetry import storage
from minsheng.telemetry.ingest import DeviceCache, ingest
from minsheng.telemetry.models import Reading, ReadingHour, ReadingMinute
from minsheng.telemetry.tests.conftest import reading

NOW = timezone.now().replace(second=30, microsecond=0)
PG = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_partition_memory():
    yield
    storage.forget_known_partitions()  # partitions a test created were rolled back with it


def _send(device, token, *values, at=NOW, cache=None):
    readings = [reading(value=v, at=at - dt.timedelta(seconds=i)) for i, v in enumerate(values)]
    return ingest([{"device": device.device_id, "token": token, "readings": readings}], now=NOW, cache=cache)


def test_minute_and_hour_rollups_follow_new_readings_only(noise):
    device, token = noise
    _send(device, token, 50.0, 60.0, 40.0)
    minute = ReadingMinute.objects.get(device=device, metric="laeq")
    assert (minute.count, minute.total, minute.minimum, minute.maximum) == (3, 150.0, 40.0, 60.0)
    assert minute.mean == 50.0 and minute.bucket == NOW.replace(second=0)
    assert ReadingHour.objects.get(device=device).bucket == NOW.replace(minute=0, second=0)
    # Redelivery: the same three readings add nothing, anywhere.
    result = _send(device, token, 50.0, 60.0, 40.0)
    assert result.accepted == 3 and result.new == 0
    assert ReadingMinute.objects.get(device=device).count == 3 and ReadingHour.objects.get(device=device).count == 3
    # A batch half old, half new: only the new half counts.
    result = _send(device, token, 50.0, 60.0, 40.0, 70.0, 30.0)
    assert result.new == 2
    minute = ReadingMinute.objects.get(device=device)
    assert (minute.count, minute.total, minute.minimum, minute.maximum) == (5, 250.0, 30.0, 70.0)
    assert Reading.objects.filter(device=device).count() == 5


def test_a_cached_ingest_sees_a_rotated_credential_only_after_its_ttl(noise):
    from minsheng.telemetry.services import device_rotate_credential

    device, token = noise
    cache = DeviceCache(ttl=3600)
    assert _send(device, token, 50.0, cache=cache).accepted == 1
    new_token = device_rotate_credential(actor=None, device=device)
    assert _send(device, new_token, 51.0, at=NOW - dt.timedelta(minutes=1), cache=cache).rejected == {
        "bad_credential": 1}
    assert _send(device, new_token, 51.0, at=NOW - dt.timedelta(minutes=1), cache=DeviceCache(ttl=0)).accepted == 1


def test_readings_table_is_partitioned_by_month_on_postgresql_only(noise):
    device, token = noise
    _send(device, token, 50.0)
    names = [p[0] for p in storage.partitions()]
    if PG:
        assert storage.is_partitioned()
        month = NOW.astimezone(dt.UTC).date().replace(day=1)
        assert storage.partition_name(month) in names
        assert storage.partition_name(storage.add_months(month, 3)) in names  # created ahead by the migration
    else:
        assert not storage.is_partitioned() and names == []


def test_partitions_are_created_ahead_and_a_missing_one_by_ingest_itself(noise):
    device, token = noise
    if not PG:
        assert storage.ensure_partitions(ahead=6) == []
        return
    future = storage.add_months(NOW.date().replace(day=1), 9)
    assert storage.partition_name(future) not in [p[0] for p in storage.partitions()]
    created = storage.ensure_partitions(ahead=9, today=NOW.date())
    assert storage.partition_name(future) in created
    assert storage.ensure_partitions(ahead=9, today=NOW.date()) == []  # idempotent
    # Drop the current month's partition: the next batch recreates it before inserting.
    month = NOW.astimezone(dt.UTC).date().replace(day=1)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {storage.partition_name(month)}")
    storage.forget_known_partitions()
    assert _send(device, token, 55.0).new == 1
    assert storage.partition_name(month) in [p[0] for p in storage.partitions()]


def test_retention_drops_old_partitions_or_deletes_in_batches(noise, settings):
    device, token = noise
    old = NOW - dt.timedelta(days=500)
    if PG:
        storage.ensure_partitions_for((old, old))  # as if ingest had stored readings then
    for i in range(5):
        Reading.objects.create(device=device, time=old + dt.timedelta(seconds=i), metric="laeq", value=50.0)
    ReadingMinute.objects.create(device=device, metric="laeq", bucket=old.replace(second=0), count=5, total=250,
                                 minimum=50, maximum=50)
    ReadingHour.objects.create(device=device, metric="laeq", bucket=old.replace(minute=0, second=0), count=5,
                               total=250, minimum=50, maximum=50)
    _send(device, token, 50.0, 52.0)
    out = storage.purge(before=NOW - dt.timedelta(days=400), hours_before=None, batch=2)
    assert Reading.objects.filter(device=device).count() == 2  # the recent two
    assert not ReadingMinute.objects.filter(bucket__lt=NOW - dt.timedelta(days=400)).exists()
    assert ReadingHour.objects.filter(bucket__lt=NOW - dt.timedelta(days=400)).count() == 1  # kept longer
    if PG:
        assert out["partitions_dropped"] >= 1
        old_month = old.astimezone(dt.UTC).date().replace(day=1)
        assert storage.partition_name(old_month) not in [p[0] for p in storage.partitions()]
    else:
        assert out["readings_deleted"] == 5
    out = storage.purge(before=NOW - dt.timedelta(days=400), hours_before=NOW - dt.timedelta(days=400))
    assert out["hours_deleted"] == 1 and out["readings_deleted"] == 0


def test_partitions_command_lists_and_creates(db, capsys):
    if not PG:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            call_command("telemetry", "partitions")
        return
    call_command("telemetry", "partitions", "--create", "--ahead", "10")
    out = capsys.readouterr().out
    month = storage.add_months(dt.datetime.now(dt.UTC).date().replace(day=1), 10)
    assert f"created {storage.partition_name(month)}" in out and f"{month:%Y-%m}" in out


def test_charts_read_hour_and_minute_series_from_the_rollups(noise):
    device, token = noise
    hour = NOW.replace(minute=0, second=0)
    readings = [reading(value=v, at=hour + dt.timedelta(minutes=m)) for m, v in ((0, 40.0), (1, 60.0), (2, 50.0))]
    ingest([{"device": device.device_id, "token": token, "readings": readings}],
           now=hour + dt.timedelta(minutes=3))
    series = storage.rollup_series([device.pk], "laeq", since=hour - dt.timedelta(hours=1),
                                   until=hour + dt.timedelta(hours=1))
    assert series == {device.pk: [(hour, 50.0, 40.0, 60.0, 3)]}
    minutes = storage.rollup_series([device.pk], "laeq", since=hour, until=hour + dt.timedelta(minutes=2),
                                    unit="minute")
    assert [(b.minute, mean) for b, mean, *_rest in minutes[device.pk]] == [(0, 40.0), (1, 60.0)]


def test_background_station_command_registers_only_a_dust_device(org, project):
    from django.core.management.base import CommandError

    from minsheng.telemetry.models import BackgroundStation
    from minsheng.telemetry.tests.conftest import make_device

    dust, _ = make_device(project, kind="dust")
    noise, _ = make_device(project)
    with pytest.raises(CommandError):
        call_command("telemetry", "background", "--division", org.county_a.code, "--device", noise.device_id)
    with pytest.raises(CommandError):
        call_command("telemetry", "background", "--division", "000000", "--device", dust.device_id)
    assert not BackgroundStation.objects.exists()
    call_command("telemetry", "background", "--division", org.county_a.code, "--device", dust.device_id)
    assert BackgroundStation.objects.get().division == org.county_a
