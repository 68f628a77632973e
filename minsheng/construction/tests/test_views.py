"""The supervision console page: the gap flag, and forms that write through the services."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from minsheng.construction.models import Rectification, RectificationStatus, SiteInspection, SupervisionLog
from minsheng.construction.tests.conftest import jpeg_with_exif
from minsheng.projects import services as project_services


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _url(site, suffix=""):
    return f"/console/projects/{site.project.pk}/supervision/{suffix}"


def test_page_flags_unevidenced_progress(site):
    project_services.wbs_progress(actor=site.contractor, item=site.item, progress="90")
    response = _client(site.org.user("a_leader")).get(_url(site))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="gap-flag"' in body and "有上报进度没有任何现场证据" in body
    assert "记录现场检查" not in body  # a leader does not inspect


def test_foreign_staff_get_404(site):
    assert _client(site.org.user("b_housing")).get(_url(site)).status_code == 404


def test_supervisor_logs_inspects_with_photo_and_closes_an_order(site, django_capture_on_commit_callbacks):
    c = _client(site.supervisor)
    today = timezone.localdate().isoformat()
    r = c.post(_url(site, "logs/"), {"date": today, "weather": "sunny", "work_done": "砌体", "workers": "9"})
    assert r.status_code == 302 and SupervisionLog.objects.count() == 1
    bad = c.post(_url(site, "logs/"), {"date": today, "weather": "sunny", "work_done": "砌体", "workers": "9"})
    assert bad.status_code == 400 and "当天的监理日志已填写" in bad.content.decode()
    assert SupervisionLog.objects.count() == 1
    order = c.post(_url(site, "rectifications/"), {"defect": "临边防护缺失",
                                                   "deadline": (timezone.localdate() + dt.timedelta(days=2))})
    assert order.status_code == 302
    rect = Rectification.objects.get()
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    photo = SimpleUploadedFile("site.jpg", jpeg_with_exif(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(_url(site, "inspections/"), {
            "inspected_at": now, "checklist": "临边防护=合格\n安全帽=合格", "passed": "on",
            "photo": photo, "photo_taken_at": now, "photo_latitude": "30.05", "photo_longitude": "119.6"})
    assert r.status_code == 302, r.content.decode()
    inspection = SiteInspection.objects.get()
    assert inspection.photos.count() == 1 and inspection.checklist == {"临边防护": "ok", "安全帽": "ok"}
    closed = c.post(f"/console/rectifications/{rect.pk}/close/", {"reinspection": inspection.pk})
    assert closed.status_code == 302
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.CLOSED


def test_unreadable_checklist_is_a_form_error_and_writes_nothing(site):
    r = _client(site.supervisor).post(_url(site, "inspections/"), {
        "inspected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "checklist": "随便写写"})
    assert r.status_code == 400 and "无法识别" in r.content.decode()
    assert not SiteInspection.objects.exists()
