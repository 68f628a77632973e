"""Ingest through the real Mosquitto on 127.0.0.1:1883. These tests fail (not skip) without it."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

from minsheng.telemetry.models import Reading, RejectCount
from minsheng.telemetry.mqtt_ingest import Ingestor
from minsheng.telemetry.tests.conftest import reading


def _publish(payloads: list[tuple[str, bytes]]) -> None:
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    pub.connect(settings.MQTT_HOST, settings.MQTT_PORT)
    pub.loop_start()
    try:
        for device_id, body in payloads:
            pub.publish(f"{settings.MQTT_TOPIC_PREFIX}/{device_id}", body, qos=1).wait_for_publish(5)
    finally:
        pub.disconnect()
        pub.loop_stop()


def _drain(ingestor: Ingestor, want: int, *, ack: bool = True, timeout: float = 10) -> list:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        batch = ingestor.take_batch(0.5)
        if batch:
            ingestor.store(batch)
            if ack:
                ingestor.ack(batch)
            got.extend(batch)
    return got


def _ingestor(client_id: str, group: str) -> Ingestor:
    ing = Ingestor(client_id=client_id, group=group, batch_seconds=0.3)
    ing.start()
    assert ing.subscribed.wait(5), "no SUBACK from the broker"
    return ing


def _forget_session(client_id: str) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(settings.MQTT_HOST, settings.MQTT_PORT)
    c.disconnect()


@pytest.fixture
def ids(settings):
    # A topic of this test's own: a shared subscription receives every publisher's messages on its
    # topic filter, and other test runs on this machine publish telemetry too.
    settings.MQTT_TOPIC_PREFIX = f"test-{uuid.uuid4().hex[:8]}/minsheng/v1/telemetry"
    client_id, group = f"test-ingest-{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}"
    yield client_id, group
    _forget_session(client_id)


def test_published_readings_are_validated_and_stored(noise, ids):
    device, token = noise
    ing = _ingestor(*ids)
    try:
        good = json.dumps({"device": device.device_id, "token": token, "readings": [reading(value=61.0)]})
        _publish([
            (device.device_id, good.encode()),
            (device.device_id, b"{not json"),
            (device.device_id, json.dumps({"device": device.device_id, "token": "bad",
                                           "readings": [reading()]}).encode()),
            (device.device_id, json.dumps({"device": "someone-else", "token": token,
                                           "readings": [reading()]}).encode()),
        ])
        got = _drain(ing, 4)
    finally:
        ing.stop()
    assert len(got) == 4
    assert list(Reading.objects.filter(device=device).values_list("value", flat=True)) == [61.0]
    assert ing.stats.rejected["malformed"] >= 2 and ing.stats.rejected["bad_credential"] >= 1
    assert RejectCount.objects.filter(reason="bad_credential", device_id=device.device_id).exists()


def test_unacknowledged_messages_come_back_and_are_stored_once(noise, ids):
    """A process that stored a batch but died before acknowledging it: the broker delivers the batch
    again to the restarted process (same persistent session), which stores nothing twice."""
    device, token = noise
    client_id, group = ids
    first = _ingestor(client_id, group)
    body = [(device.device_id, json.dumps({"device": device.device_id, "token": token,
                                           "readings": [reading(value=50.0 + i)]}).encode()) for i in range(5)]
    try:
        _publish(body)
        got = _drain(first, 5, ack=False)
        assert len(got) == 5
        assert Reading.objects.filter(device=device).count() == 5
    finally:
        # Die without DISCONNECT and without acknowledging anything.
        first.client.socket().close()
        first.client.loop_stop()
    second = _ingestor(client_id, group)
    try:
        again = _drain(second, 5)
    finally:
        second.stop()
    assert len(again) == 5
    assert Reading.objects.filter(device=device).count() == 5
    third = _ingestor(client_id, group)
    try:
        assert _drain(third, 1, timeout=2) == []  # everything was acknowledged
    finally:
        third.stop()


def test_flush_waits_for_the_broker_so_a_session_takeover_loses_no_acknowledgement(noise, ids):
    """A new connection with the same client id takes the session over; the broker may handle its CONNECT
    before the bytes still unread on the old connection, and the acknowledgements in them are then lost
    (the batch comes back). After flush() the broker has handled them: nothing comes back."""
    device, token = noise
    client_id, group = ids
    first = _ingestor(client_id, group)
    body = [(device.device_id, json.dumps({"device": device.device_id, "token": token,
                                           "readings": [reading(value=40.0 + i)]}).encode()) for i in range(5)]
    try:
        _publish(body)
        assert len(_drain(first, 5)) == 5
        assert first.flush() is True
    finally:
        first.client.loop_stop()  # the connection stays open and never says goodbye (no reconnect either)
    successor = _ingestor(client_id, group)  # takes the session over
    try:
        assert _drain(successor, 1, timeout=2) == []
    finally:
        successor.stop()


def test_flush_reports_a_broker_that_does_not_answer(ids):
    ing = Ingestor(client_id=ids[0], group=ids[1])  # never connected: nothing can confirm
    assert ing.flush(timeout=0.2) is False
