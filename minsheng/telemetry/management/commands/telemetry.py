"""minsheng telemetry partitions [--create] [--ahead N] | retention — readings storage upkeep."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minsheng.telemetry import storage


class Command(BaseCommand):
    help = "遥测数据存储维护：列出或预建月分区（PostgreSQL），执行保留期清理。"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parts = sub.add_parser("partitions", help="列出读数表的月分区；--create 预建本月及之后若干月的分区")
        parts.add_argument("--create", action="store_true")
        parts.add_argument("--ahead", type=int, default=None)
        sub.add_parser("retention", help="按保留期删除过期读数与汇总")
        bg = sub.add_parser("background", help="把一台扬尘监测设备登记为区县背景站（PM10 扣除背景）")
        bg.add_argument("--division", required=True, help="区县统计代码")
        bg.add_argument("--device", required=True, help="设备编号")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "background":
            self._background(opts["division"], opts["device"])
            return
        if opts["action"] == "partitions":
            if not storage.is_partitioned():
                raise CommandError("readings are not partitioned on this database (PostgreSQL only)")
            if opts["create"]:
                ahead = settings.TELEMETRY_PARTITIONS_AHEAD if opts["ahead"] is None else opts["ahead"]
                if not 0 <= ahead <= 60:
                    raise CommandError("--ahead must be between 0 and 60")
                for name in storage.ensure_partitions(ahead=ahead):
                    self.stdout.write(f"created {name}")
            for name, month, rows in storage.partitions():
                self.stdout.write(f"{name}\t{month:%Y-%m}\t~{rows} rows")
            return
        now = timezone.now()
        keep_hours = dt.timedelta(days=settings.MINSHENG_TELEMETRY_HOUR_ROLLUP_RETENTION_DAYS)
        out = storage.purge(before=now - dt.timedelta(days=settings.MINSHENG_TELEMETRY_RETENTION_DAYS),
                            hours_before=now - keep_hours)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in out.items()))

    def _background(self, division_code: str, device_id: str) -> None:
        from minsheng.core.errors import MinshengError
        from minsheng.core.models import Division
        from minsheng.telemetry.models import Device
        from minsheng.telemetry.services import background_designate

        division = Division.objects.filter(code=division_code).first()
        device = Device.objects.filter(device_id=device_id).first()
        if division is None or device is None:
            raise CommandError("no such division or device")
        try:
            station = background_designate(actor=None, division=division, device=device)
        except MinshengError as exc:
            reasons = [str(m) for msgs in exc.fields.values() for m in msgs] or [str(exc.message)]
            raise CommandError("; ".join(reasons)) from None
        self.stdout.write(f"registered {station}")
