"""Retention: personal data leaves closed requests after the period; statistics stay."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.utils import timezone

from minsheng.core.models import AuditEvent
from minsheng.feedback import metrics, services
from minsheng.feedback.models import CitizenRequest, RequestEvent
from minsheng.feedback.tests.helpers import submit
from minsheng.feedback.tests.test_services import _full_cycle, _jpeg_with_gps


def test_old_closed_requests_lose_personal_data_and_keep_statistics(org):
    raw = _jpeg_with_gps()
    old = _full_cycle(org, submit(org, name="李四", address="青溪路 8 号", latitude="30.123456",
                                  longitude="120.654321", photo=io.BytesIO(raw), photo_size=len(raw)))
    recent = _full_cycle(org, submit(org, phone="13900009999", description="另一个问题需要处理一下"))
    open_one = submit(org, phone="13700007777", description="还在办理中的问题")
    photo_name = old.photo.name
    storage = old.photo.storage
    now = timezone.now() + dt.timedelta(days=30 * 24 + 1)
    CitizenRequest.objects.filter(pk=recent.pk).update(closed_at=now - dt.timedelta(days=10))
    before = metrics.metrics(CitizenRequest.objects.all(), "department")
    assert services.personal_data_erase(now=now, months=24) == 1
    old.refresh_from_db()
    assert old.phone == "" and old.name == "" and old.address == "" and not old.photo
    assert old.description == services.ERASED and old.latitude == Decimal("30.12")
    assert not storage.exists(photo_name)
    assert not RequestEvent.objects.filter(request=old, public=False).exclude(text=services.ERASED).exists()
    assert CitizenRequest.objects.get(pk=recent.pk).phone == "13900009999"
    assert CitizenRequest.objects.get(pk=open_one.pk).phone == "13700007777"
    assert AuditEvent.objects.filter(action="feedback.erase_personal_data", object_id=str(old.pk)).exists()
    assert metrics.metrics(CitizenRequest.objects.all(), "department") == before
    assert services.personal_data_erase(now=now, months=24) == 0  # idempotent
