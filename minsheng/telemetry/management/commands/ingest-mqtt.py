"""minsheng ingest-mqtt — store telemetry published to minsheng/v1/telemetry/{device_id}."""

from __future__ import annotations

import signal
import socket
import threading
from typing import Any

from django.core.management.base import BaseCommand

from minsheng.telemetry.mqtt_ingest import Ingestor


class Command(BaseCommand):
    help = "从 MQTT 接收设备数据并入库（共享订阅，入库提交后才确认）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--client-id", default=f"minsheng-ingest-{socket.gethostname()}",
                            help="持久会话的客户端标识；重启后用同一标识可收回未确认的消息")
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        ingestor = Ingestor(client_id=opts["client_id"], host=opts["host"], port=opts["port"],
                            batch_size=opts["batch_size"])
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        ingestor.start()
        self.stdout.write(f"ingest-mqtt: {ingestor.topic} @ {ingestor.host}:{ingestor.port}")
        try:
            ingestor.run(stop=stop)
        finally:
            ingestor.stop()
            s = ingestor.stats
            self.stdout.write(f"messages={s.messages} accepted={s.accepted} rejected={dict(s.rejected)}")
