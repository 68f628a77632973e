"""进度查询: projects near a point or in a community, and what the public project page shows — stage,
progress, budget, contractor, milestones, photos, the citizens' requests and how they were answered —
with no personal data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from minsheng.construction.models import InspectionPhoto, SiteInspection
from minsheng.feedback import services
from minsheng.feedback.tests.helpers import submit
from minsheng.projects import services as project_services
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import MemberRole
from minsheng.testing.factories import WbsItemFactory, project_in


def _near_far(org):
    # About 550 m and about 5.5 km north of the point (30.0, 120.0).
    near = project_in(org, name="城关老旧小区改造", latitude=Decimal("30.005"), longitude=Decimal("120.0"))
    far = project_in(org, name="东岭水厂扩建", latitude=Decimal("30.05"), longitude=Decimal("120.0"))
    return near, far


def test_projects_near_a_point_nearest_first(client, org):
    near, far = _near_far(org)
    page = client.get("/progress/?lat=30.0&lng=120.0&radius=1000").content.decode()
    assert near.name in page and far.name not in page and f"/projects/{near.code}/" in page
    wide = client.get("/progress/?lat=30.0&lng=120.0&radius=10000").content.decode()
    assert wide.index(near.name) < wide.index(far.name) and "约 556 米" in wide


def test_projects_in_a_chosen_community_without_javascript(client, org):
    mine = project_in(org, name="城关街道文化站")
    other = project_in(org, "b", name="东岭镇卫生院")
    page = client.get(f"/progress/?division={org.town_a.pk}").content.decode()
    assert mine.name in page and other.name not in page and "城关街道的项目" in page
    cancelled = project_in(org, name="已撤销项目", stage=Stage.CANCELLED)
    assert cancelled.name not in client.get(f"/progress/?division={org.town_a.pk}").content.decode()


def test_bad_positions_are_refused_with_a_message(client, org):
    half = client.get("/progress/?lat=30.0")
    assert half.status_code == 400 and "位置不完整" in half.content.decode()
    assert client.get("/progress/?lat=300&lng=120").status_code == 400
    assert client.get("/progress/?division=999999").status_code == 400
    assert client.get("/progress/").status_code == 200


def test_public_project_page_shows_everything_a_citizen_follows(client, org):
    project = project_in(org, estimate_amount=Decimal("12345678.90"), progress=Decimal("45.0"),
                         stage=Stage.CONSTRUCTION)
    project_services.member_add(actor=org.user("a_housing"), project=project, user=org.user("a_contractor"),
                                role=MemberRole.CONTRACTOR)
    WbsItemFactory(project=project, responsible=org.user("a_housing"), code="1", name="主体结构",
                   due_date=dt.date(2026, 12, 31), progress=Decimal("60"))
    inspection = SiteInspection.objects.create(project=project, inspector=org.user("a_inspector"),
                                               inspector_kind="township", inspected_at=timezone.now(),
                                               checklist={"安全防护": "ok"}, passed=True)
    InspectionPhoto.objects.create(inspection=inspection, file=ContentFile(b"jpeg", name="p.jpg"), sha256="a" * 64,
                                   taken_at=timezone.now(), latitude=Decimal("30.1"), longitude=Decimal("120.1"),
                                   caption="基础施工现场")
    suggestion = submit(org, kind="suggestion", category="project", project=project, name="王大爷",
                        description="建议工地晚上十点后停止施工")
    services.request_reply(actor=org.user("a_housing"), request=suggestion, text="已要求施工单位22点后停工")
    submit(org, kind="complaint", category="project", project=project, phone="13912345678",
           description="工地负责人李某态度恶劣", actor=org.user("a_housing"))
    page = client.get(f"/projects/{project.code}/").content.decode()
    assert "施工建设" in page and "45.0" in page
    assert "12,345,678.90 元" in page and "青溪建工" in page
    assert "主体结构" in page and "2026-12-31" in page
    assert "基础施工现场" in page and "/media/inspections/" in page
    assert "建议工地晚上十点后停止施工" in page and "已要求施工单位22点后停工" in page
    assert "正在办理 2 件" in page
    # No personal data: no phone, no name, no complaint text, no receipt code, no staff person.
    for private in ("13912345678", "139****5678", "王大爷", "李某", suggestion.receipt_code, "a_housing",
                    org.user("a_contractor").full_name):
        assert private not in page, private


def test_project_page_keeps_the_elderly_mode(client, org):
    project = project_in(org)
    client.cookies["ms_elderly"] = "1"
    assert 'class="citizen elderly"' in client.get(f"/projects/{project.code}/").content.decode()
