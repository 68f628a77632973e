"""Supervision logs, inspections with photos, rectification orders and progress reports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image

from minsheng.construction import selectors, services
from minsheng.construction.models import (
    InspectionPhoto,
    InspectorKind,
    ProgressReport,
    Rectification,
    RectificationStatus,
    SiteInspection,
    SupervisionLog,
)
from minsheng.construction.progress import GAP, NO_EVIDENCE
from minsheng.construction.tests.conftest import jpeg_with_exif, now, photo
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, JurisdictionSetting, Notification
from minsheng.ledger.models import Leaf
from minsheng.projects import services as project_services
from minsheng.testing.factories import project_in

TODAY = timezone.localdate


def _inspect(site, who=None, **kw):
    args = {"actor": who or site.supervisor, "project": site.project, "inspected_at": now(),
            "checklist": {"安全帽佩戴": "ok", "脚手架": "ok"}, "passed": True} | kw
    return services.inspection_record(**args)


def test_supervisor_logs_the_day_once(site):
    entry = services.log_record(actor=site.supervisor, project=site.project, date=TODAY(), weather="sunny",
                                work_done="二层楼板浇筑", workers=23,
                                quantities=[{"item": "C30 混凝土", "quantity": "86.5", "unit": "m3"}])
    assert entry.quantities == [{"item": "C30 混凝土", "quantity": "86.5", "unit": "m3"}]
    assert AuditEvent.objects.filter(action="supervision_log.create", object_id=str(entry.pk)).exists()
    with pytest.raises(ValidationFailed) as exc:
        services.log_record(actor=site.supervisor, project=site.project, date=TODAY(), weather="sunny",
                            work_done="again", workers=1)
    assert "date" in exc.value.fields
    assert SupervisionLog.objects.count() == 1


def test_bad_log_input_writes_nothing(site):
    with pytest.raises(ValidationFailed) as exc:
        services.log_record(actor=site.supervisor, project=site.project, date=TODAY() + dt.timedelta(days=1),
                            weather="fog", work_done="", workers=-3, quantities=[{"item": "x", "quantity": "-1"}])
    assert set(exc.value.fields) == {"date", "weather", "work_done", "workers", "quantities"}
    assert not SupervisionLog.objects.exists()


def test_only_the_assigned_supervisor_logs(site, org):
    with pytest.raises(PermissionDenied):
        services.log_record(actor=site.contractor, project=site.project, date=TODAY(), weather="rain",
                            work_done="x", workers=1)
    foreign = project_in(org, "b")
    with pytest.raises(NotFound):
        services.log_record(actor=site.supervisor, project=foreign, date=TODAY(), weather="rain",
                            work_done="x", workers=1)


def test_inspection_stores_photo_without_exif_and_is_anchored(site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inspection = _inspect(site, photos=[photo(now() - dt.timedelta(hours=2))],
                              confirmed={site.item.pk: "40"}, latitude="30.05", longitude="119.6",
                              village_representative="张村民")
    assert inspection.inspector_kind == InspectorKind.SUPERVISOR
    stored = InspectionPhoto.objects.get(inspection=inspection)
    with stored.file.open("rb") as fh:
        data = fh.read()
    assert not Image.open(io.BytesIO(data)).getexif()
    assert b"Owner Name" not in data and b"Owner Name" in jpeg_with_exif()
    leaf = Leaf.objects.get(record_model="construction.siteinspection", record_id=str(inspection.pk))
    assert leaf.kind == "site_inspection" and leaf.project_code == site.project.code


def test_inspection_refuses_photos_without_place_or_with_a_wrong_time(site):
    with pytest.raises(ValidationFailed) as exc:
        _inspect(site, photos=[photo(now(), latitude=None), photo(now() - dt.timedelta(days=30)),
                               photo(now(), data=b"%PDF-1.4 not an image")])
    assert set(exc.value.fields) == {"photos.0", "photos.1", "photos.2"}
    assert not SiteInspection.objects.exists() and not InspectionPhoto.objects.exists()


def test_inspection_refuses_defects_marked_passed_and_foreign_items(site, org):
    foreign_item = project_in(org, "a").wbs_items.create(
        code="9", name="x", responsible=org.user("a_housing"), due_date=TODAY())
    with pytest.raises(ValidationFailed) as exc:
        _inspect(site, checklist={"脚手架": "defect"}, passed=True, confirmed={foreign_item.pk: "10"})
    assert set(exc.value.fields) == {"passed", "confirmed"}


def test_contractor_may_not_inspect(site):
    with pytest.raises(PermissionDenied):
        _inspect(site, who=site.contractor)


def test_township_inspector_of_the_area_inspects(site, org):
    inspection = _inspect(site, who=org.user("a_inspector"))
    assert inspection.inspector_kind == InspectorKind.INSPECTOR


def test_rectification_closes_only_after_a_passing_reinspection(site, django_capture_on_commit_callbacks):
    failed = _inspect(site, checklist={"临边防护": "defect"}, passed=False)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.rectification_issue(actor=site.supervisor, project=site.project, defect="临边防护缺失",
                                         contractor=site.contractor, deadline=TODAY() + dt.timedelta(days=3),
                                             inspection=failed)
    assert Notification.objects.filter(recipient=site.contractor, kind="rectification.issued").exists()
    with pytest.raises(ValidationFailed):
        services.rectification_close(actor=site.supervisor, order=order, reinspection=failed)
    recheck = _inspect(site, inspected_at=timezone.now() + dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        closed = services.rectification_close(actor=site.supervisor, order=order, reinspection=recheck)
    assert closed.status == RectificationStatus.CLOSED and closed.closed_by == site.supervisor
    assert Leaf.objects.filter(record_model="construction.rectification", record_id=str(order.pk),
                               kind="rectification_closed").exists()
    with pytest.raises(Conflict):
        services.rectification_close(actor=site.supervisor, order=order, reinspection=recheck)


def test_rectification_goes_to_a_contractor_of_the_project(site, org):
    with pytest.raises(ValidationFailed) as exc:
        services.rectification_issue(actor=site.supervisor, project=site.project, defect="x",
                                     contractor=org.user("a_housing"), deadline=TODAY() - dt.timedelta(days=1))
    assert set(exc.value.fields) == {"contractor", "deadline"}
    assert not Rectification.objects.exists()


def test_overdue_rectifications_escalate_once(site):
    order = services.rectification_issue(actor=site.supervisor, project=site.project, defect="钢筋间距超标",
                                         contractor=site.contractor, deadline=TODAY())
    assert services.rectifications_escalate(today=TODAY()) == 0
    later = TODAY() + dt.timedelta(days=2)
    assert services.rectifications_escalate(today=later) == 1
    order.refresh_from_db()
    assert order.status == RectificationStatus.ESCALATED and order.escalated_at is not None
    assert Notification.objects.filter(recipient=site.project.responsible_person,
                                       kind="rectification.overdue").count() == 1
    assert services.rectifications_escalate(today=later) == 0


def test_grace_days_are_a_jurisdiction_rule(site):
    JurisdictionSetting.objects.create(key="construction.rectification_grace_days", division=site.project.division,
                                       value=5, source="测试", valid_from=TODAY() - dt.timedelta(days=1))
    services.rectification_issue(actor=site.supervisor, project=site.project, defect="x",
                                 contractor=site.contractor, deadline=TODAY())
    assert services.rectifications_escalate(today=TODAY() + dt.timedelta(days=3)) == 0
    assert services.rectifications_escalate(today=TODAY() + dt.timedelta(days=6)) == 1


def test_progress_report_must_cite_evidence_of_the_project(site, org):
    with pytest.raises(ValidationFailed) as exc:
        services.progress_report(actor=site.contractor, project=site.project, wbs_item=site.item,
                                 period_end=TODAY(), progress="50")
    assert "evidence" in exc.value.fields
    other = project_in(org, "a")
    project_services.member_add(actor=org.user("a_housing"), project=other, user=site.supervisor, role="supervisor")
    foreign = services.inspection_record(actor=site.supervisor, project=other, inspected_at=now(),
                                         checklist={"x": "ok"}, passed=True)
    with pytest.raises(ValidationFailed):
        services.progress_report(actor=site.contractor, project=site.project, wbs_item=site.item,
                                 period_end=TODAY(), progress="50", inspections=[foreign])
    own = _inspect(site)
    report = services.progress_report(actor=site.contractor, project=site.project, wbs_item=site.item,
                                      period_end=TODAY(), progress="50", inspections=[own])
    assert list(report.inspections.all()) == [own]
    with pytest.raises(PermissionDenied):
        services.progress_report(actor=site.supervisor, project=site.project, wbs_item=site.item,
                                 period_end=TODAY(), progress="50", inspections=[own])
    assert ProgressReport.objects.count() == 1


def test_gap_compares_claims_with_what_inspections_confirmed(site):
    project_services.wbs_progress(actor=site.contractor, item=site.item, progress="90")
    project_services.wbs_progress(actor=site.contractor, item=site.other_item, progress="90")
    gap = selectors.progress_gap(site.project)
    assert gap.flagged and NO_EVIDENCE in gap.reasons and gap.evidenced == Decimal(0)
    _inspect(site, confirmed={site.item.pk: "85", site.other_item.pk: "40"})
    gap = selectors.progress_gap(site.project)
    assert (gap.reported, gap.evidenced, gap.gap, gap.reasons) == (Decimal("90.0"), Decimal("62.5"),
                                                                   Decimal("27.5"), (GAP,))
    _inspect(site, confirmed={site.other_item.pk: "90"}, inspected_at=timezone.now() + dt.timedelta(seconds=1))
    assert not selectors.progress_gap(site.project).flagged


def test_gap_threshold_is_a_jurisdiction_rule(site):
    project_services.wbs_progress(actor=site.contractor, item=site.item, progress="90")
    _inspect(site, confirmed={site.item.pk: "50", site.other_item.pk: "0"})
    assert selectors.progress_gap(site.project).flagged
    JurisdictionSetting.objects.create(key="construction.progress_gap_points", division=site.project.division,
                                       value="25", source="测试", valid_from=TODAY() - dt.timedelta(days=1))
    assert not selectors.progress_gap(site.project).flagged
