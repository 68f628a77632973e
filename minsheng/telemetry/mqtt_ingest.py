"""`minsheng ingest-mqtt`: the MQTT side of ingest.

Subscribes to `$share/<group>/minsheng/v1/telemetry/+` at QoS 1 with a persistent session, so several
processes split the load and a restarted process gets back what it had not acknowledged. Messages
are acknowledged by hand, and only after the batch they belong to has committed: a process killed
at any moment loses nothing (unacknowledged messages are delivered again) and stores nothing twice
(readings are unique on device, time and metric)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import close_old_connections
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from minsheng.telemetry import ingest

log = logging.getLogger(__name__)
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600  # a stopped ingest process gets its backlog for a week
# Deliveries the broker may have outstanding to us. High, because what the broker cannot send it
# queues, and past its queue limit (Mosquitto: max_queued_messages, 1000) it drops QoS 1 messages.
# Unacknowledged deliveries stay in the session and come back after a crash.
RECEIVE_MAXIMUM = 65535
IDLE_GAP_SECONDS = 0.02  # a batch closes when nothing more arrives for this long


@dataclass(frozen=True)
class Incoming:
    mid: int
    qos: int
    topic: str
    payload: bytes


@dataclass
class Stats:
    messages: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)


def parse(item: Incoming, prefix: str) -> dict[str, Any] | None:
    """The message of one publish, or None when it is not JSON or names another device than its topic."""
    try:
        msg = json.loads(item.payload)
    except (ValueError, UnicodeDecodeError):
        return None
    device = item.topic.removeprefix(prefix.rstrip("/") + "/")
    if not isinstance(msg, dict) or "/" in device or str(msg.get("device", device)) != device:
        return None
    msg.setdefault("device", device)
    return msg


class Ingestor:
    def __init__(self, *, client_id: str, host: str | None = None, port: int | None = None,
                 batch_size: int | None = None, batch_seconds: float | None = None, group: str | None = None):
        self.prefix = settings.MQTT_TOPIC_PREFIX
        self.topic = f"$share/{group or settings.MQTT_SHARE_GROUP}/{self.prefix}/+"
        self.batch_size = batch_size or settings.TELEMETRY_BATCH_SIZE
        self.batch_seconds = batch_seconds if batch_seconds is not None else settings.TELEMETRY_BATCH_SECONDS
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self.stats = Stats()
        self.cache = ingest.DeviceCache()
        self.subscribed = threading.Event()
        self._barriers: dict[int, threading.Event] = {}  # SUBSCRIBE mid -> set on its SUBACK
        self._barrier_lock = threading.Lock()  # a SUBACK can come back before subscribe() has returned
        # MQTT 5: the session outlives the connection (Session Expiry Interval) and, unlike 3.1.1 where
        # the broker caps unacknowledged deliveries per client (Mosquitto: max_inflight_messages 20),
        # the client states how many it can hold unacknowledged (Receive Maximum).
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.manual_ack_set(True)
        if settings.MQTT_USERNAME:
            self.client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD or None)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.host = host or settings.MQTT_HOST
        self.port = port or settings.MQTT_PORT

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self.subscribed.set()
        with self._barrier_lock:
            barrier = self._barriers.pop(mid, None)
        if barrier is not None:
            barrier.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Incoming(msg.mid, msg.qos, msg.topic, msg.payload))

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the broker has handled every acknowledgement sent so far. MQTT does not answer a
        PUBACK, but a broker handles one connection's packets in order, so the SUBACK of a SUBSCRIBE sent
        after them (to the filter we already hold: nothing changes) proves they arrived. Without it, a
        disconnect straight after the acknowledgements can lose them: the client closes its socket at
        once, and with unread bytes in its receive buffer the close is a reset that discards what the
        broker had not yet read, so the broker delivers the batch again to the next process."""
        barrier = threading.Event()
        with self._barrier_lock:
            rc, mid = self.client.subscribe(self.topic, qos=1)
            if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
                return False
            self._barriers[mid] = barrier
        if barrier.wait(timeout):
            return True
        with self._barrier_lock:
            self._barriers.pop(mid, None)
        return False

    def stop(self) -> None:
        """Disconnect cleanly: the acknowledgements first (see flush), then DISCONNECT. The session
        stays on the broker (Session Expiry Interval) with whatever was not acknowledged."""
        if self.client.is_connected() and not self.flush():
            log.warning("MQTT: the broker did not confirm the last acknowledgements before disconnect")
        self.client.disconnect()
        self.client.loop_stop()

    def take_batch(self, timeout: float) -> list[Incoming]:
        """Up to batch_size messages: what has arrived, plus what arrives until the batch is
        batch_seconds old or nothing came for IDLE_GAP_SECONDS (so a quiet stream is stored at once
        and a busy one in large batches, never later than batch_seconds after its first message)."""
        batch: list[Incoming] = []
        try:
            batch.append(self.inbox.get(timeout=timeout))
        except queue.Empty:
            return batch
        deadline = time.monotonic() + self.batch_seconds
        get_nowait = self.inbox.get_nowait
        while len(batch) < self.batch_size:
            try:
                batch.append(get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=min(remaining, IDLE_GAP_SECONDS)))
            except queue.Empty:
                break
        return batch

    def store(self, batch: list[Incoming]) -> ingest.Result:
        """Validate and store one batch (committed when this returns)."""
        messages = []
        malformed = 0
        for item in batch:
            msg = parse(item, self.prefix)
            if msg is None:
                malformed += 1
                messages.append({"malformed": True})  # counted as malformed by validation
            else:
                messages.append(msg)
        result = ingest.ingest(messages, cache=self.cache)
        self.stats.messages += len(batch)
        self.stats.accepted += result.accepted
        self.stats.rejected.update(result.rejected)
        return result

    def ack(self, batch: list[Incoming]) -> None:
        for item in batch:
            if item.qos > 0:
                self.client.ack(item.mid, item.qos)

    def run(self, *, stop: threading.Event, idle_timeout: float = 1.0) -> None:
        while not stop.is_set():
            batch = self.take_batch(idle_timeout)
            if not batch:
                continue
            close_old_connections()  # a long-running loop: drop connections the database has closed
            self.store(batch)
            self.ack(batch)  # only now: the batch has committed
