"""The staff console through the Django test client: pages, scoping, refusals and writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minsheng.console.tests.conftest import login, pdf
from minsheng.core.models import AuditEvent, Notification
from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import Document, GateRequest, GateStatus, Project, WbsItem
from minsheng.testing.factories import WbsItemFactory, project_in

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("console:projects"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


@pytest.mark.parametrize(
    "username", ["a_housing", "a_drc", "a_auditor", "a_inspector", "city_leader", "admin"]
)
def test_every_page_renders_for_a_logged_in_user(client, org, project, username):
    login(client, org.user(username))
    pages = [
        reverse("console:home"),
        reverse("console:projects"),
        reverse("console:project", args=[project.pk]),
        reverse("console:overdue"),
        reverse("console:projects") + "?overdue=on&stage=proposal&q=测试",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'<html lang="zh-hans">' in response.content
        assert "跳到主要内容" in response.content.decode()


def test_officer_pages_for_forms_render(client, org, project):
    login(client, org.user("a_housing"))
    assert client.get(reverse("console:project_create")).status_code == 200
    response = client.get(reverse("console:project_edit", args=[project.pk]))
    assert response.status_code == 200
    assert project.name in response.content.decode()


def test_home_lists_my_overdue_items_gates_waiting_and_notifications(client, org, project):
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    services.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY)
    Notification.objects.create(recipient=org.user("a_drc"), kind="test", text="请审批外墙改造项目")
    login(client, org.user("a_drc"))
    body = client.get(reverse("console:home")).content.decode()
    assert project.name in body  # the gate waiting for the DRC officer
    assert "请审批外墙改造项目" in body
    login(client, org.user("a_housing"))
    body = client.get(reverse("console:home")).content.decode()
    assert "外墙保温" in body and "逾期 3 天" in body
    assert "管网改造" not in body  # someone else's, and not overdue


def test_project_of_another_county_is_not_found(client, org, project):
    login(client, org.user("b_housing"))
    assert client.get(reverse("console:project", args=[project.pk])).status_code == 404
    item = project.wbs_items.first()
    response = client.post(reverse("console:wbs_progress", args=[item.pk]), {f"item{item.pk}-progress": "50"})
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.progress == 0
    assert project.name not in client.get(reverse("console:projects")).content.decode()


def test_list_filters_by_stage_domain_text_and_overdue(client, org, project):
    other = project_in(org, "a", name="敬老院改造", domain="elderly")
    login(client, org.user("a_drc"))
    url = reverse("console:projects")
    assert other.name not in client.get(url, {"stage": "proposal"}).content.decode()
    assert project.name in client.get(url, {"stage": "proposal"}).content.decode()
    body = client.get(url, {"domain": "elderly"}).content.decode()
    assert other.name in body and project.name not in body
    body = client.get(url, {"q": "敬老"}).content.decode()
    assert other.name in body and project.name not in body
    body = client.get(url, {"overdue": "on"}).content.decode()
    assert project.name in body and other.name not in body and "逾期 1 项" in body
    body = client.get(url, {"division": org.county_b.pk}).content.decode()
    assert project.name not in body


def test_list_filter_with_bad_input_shows_translated_errors(client, org, project):
    login(client, org.user("a_drc"))
    response = client.get(reverse("console:projects"), {"stage": "nonsense", "division": "999999"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "提交的内容有误" in body and "选择一个有效的选项" in body
    assert project.name not in body


def test_list_htmx_request_returns_only_the_results(client, org, project):
    login(client, org.user("a_drc"))
    response = client.get(reverse("console:projects"), {"stage": "proposal"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and project.name in body


def test_list_paginates_25_per_page(client, org):
    for n in range(30):
        project_in(org, "a", name=f"批量项目{n:02d}")
    login(client, org.user("a_drc"))
    first = client.get(reverse("console:projects")).content.decode()
    second = client.get(reverse("console:projects"), {"page": 2}).content.decode()
    assert first.count('class="item-link"') == 25
    assert second.count('class="item-link"') == 5
    assert "共 30 个项目" in first and 'rel="next"' in first


def test_refused_gate_shows_its_reasons_and_writes_nothing(client, org, project):
    login(client, org.user("a_housing"))
    audit_before = AuditEvent.objects.count()
    response = client.post(
        reverse("console:gate_request", args=[project.pk]), {"to_stage": Stage.FEASIBILITY, "path": "full"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert '<ul class="refusal-reasons">' in body
    assert "缺少文件：项目建议书。" in body
    assert GateRequest.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before
    project.refresh_from_db()
    assert project.stage == Stage.PROPOSAL


def test_refused_gate_over_htmx_is_swapped_into_the_gate_panel(client, org, project):
    login(client, org.user("a_housing"))
    response = client.post(
        reverse("console:gate_request", args=[project.pk]),
        {"to_stage": Stage.FEASIBILITY, "path": "full"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="gates",
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#gates-errors"
    assert "缺少文件：项目建议书。" in response.content.decode()
    assert GateRequest.objects.count() == 0


def test_gate_request_and_approval_by_another_user_moves_the_project(client, org, project):
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    login(client, org.user("a_housing"))
    page = client.get(reverse("console:project", args=[project.pk])).content.decode()
    assert "申请进入“可行性研究”" in page
    response = client.post(
        reverse("console:gate_request", args=[project.pk]),
        {"to_stage": Stage.FEASIBILITY, "path": "full", "reason": "建议书已批复"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="gates",
    )
    assert response.status_code == 200
    assert "待审批：申请进入“可行性研究”" in response.content.decode()
    assert 'name="decision"' not in response.content.decode()  # the requester cannot approve
    gate = GateRequest.objects.get()
    login(client, org.user("a_drc"))
    page = client.get(reverse("console:project", args=[project.pk])).content.decode()
    assert 'value="approve"' in page
    response = client.post(
        reverse("console:gate_decide", args=[gate.pk]), {"decision": "approve", "comment": ""}
    )
    assert response.status_code == 302
    gate.refresh_from_db()
    project.refresh_from_db()
    assert gate.status == GateStatus.APPROVED
    assert project.stage == Stage.FEASIBILITY


def test_refusing_a_gate_needs_a_reason(client, org, project):
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    gate = services.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY)
    login(client, org.user("a_drc"))
    response = client.post(
        reverse("console:gate_decide", args=[gate.pk]),
        {"decision": "refuse", "comment": " "},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="gates",
    )
    assert response.status_code == 400
    assert "退回时请写明理由。" in response.content.decode()
    gate.refresh_from_db()
    assert gate.status == GateStatus.PENDING and not gate.approvals.exists()


def test_user_without_a_slot_cannot_approve(client, org, project):
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    gate = services.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY)
    login(client, org.user("a_inspector"))
    response = client.post(reverse("console:gate_decide", args=[gate.pk]), {"decision": "approve"})
    assert response.status_code == 403
    assert "审批权限" in response.content.decode()
    gate.refresh_from_db()
    assert gate.status == GateStatus.PENDING


def test_withdraw_a_pending_request(client, org, project):
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    gate = services.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY)
    login(client, org.user("a_housing"))
    response = client.post(reverse("console:gate_withdraw", args=[gate.pk]))
    assert response.status_code == 302
    gate.refresh_from_db()
    assert gate.status == GateStatus.WITHDRAWN


def test_upload_of_a_wrong_type_file_shows_an_error_and_stores_nothing(client, org, project):
    login(client, org.user("a_housing"))
    fake = SimpleUploadedFile(
        "建议书.pdf", b"MZ\x90\x00 this is an executable", content_type="application/pdf"
    )
    response = client.post(
        reverse("console:document_upload", args=[project.pk]),
        {"kind": DocumentKind.PROPOSAL, "title": "项目建议书", "file": fake},
    )
    assert response.status_code == 400
    assert "文件内容与扩展名不符" in response.content.decode()
    assert Document.objects.count() == 0
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        reverse("console:document_upload", args=[project.pk]),
        {"kind": DocumentKind.PROPOSAL, "title": "工具", "file": exe},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="documents",
    )
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    assert Document.objects.count() == 0


def test_upload_of_a_pdf_is_listed_and_ticks_the_gate_checklist(client, org, project):
    login(client, org.user("a_housing"))
    response = client.post(
        reverse("console:document_upload", args=[project.pk]),
        {"kind": DocumentKind.PROPOSAL, "title": "关于老旧小区改造的建议书", "file": pdf()},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="documents",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "关于老旧小区改造的建议书" in body
    assert 'id="gates" class="card" aria-labelledby="gates-title" hx-swap-oob="true"' in body
    assert "项目建议书 — 已上传" in body
    assert Document.objects.get().uploaded_by == org.user("a_housing")


def test_wbs_progress_inline_update(client, org, project):
    item = project.wbs_items.get(code="1")
    login(client, org.user("a_housing"))
    response = client.post(
        reverse("console:wbs_progress", args=[item.pk]),
        {f"item{item.pk}-progress": "100"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="wbs",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="wbs"')
    assert "进度已更新。" in body
    assert '<span id="project-progress">50.0%</span>' in body  # the summary, out of band
    item.refresh_from_db()
    assert item.progress == Decimal(100) and item.completed_at is not None


def test_wbs_progress_out_of_range_shows_an_error_and_writes_nothing(client, org, project):
    item = project.wbs_items.get(code="1")
    login(client, org.user("a_housing"))
    response = client.post(
        reverse("console:wbs_progress", args=[item.pk]),
        {f"item{item.pk}-progress": "150"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="wbs",
    )
    assert response.status_code == 400
    assert "100" in response.content.decode() and "field-error" in response.content.decode()
    item.refresh_from_db()
    assert item.progress == 0


def test_progress_form_only_for_those_allowed(client, org, project):
    login(client, org.user("a_auditor"))
    body = client.get(reverse("console:project", args=[project.pk])).content.decode()
    assert "progress-form" not in body
    assert reverse("console:wbs_add", args=[project.pk]) not in body
    assert reverse("console:document_upload", args=[project.pk]) not in body
    assert 'id="history"' in body  # auditors see the trail
    login(client, org.user("a_inspector"))
    body = client.get(reverse("console:project", args=[project.pk])).content.decode()
    assert body.count('class="progress-form"') == 1  # only the item the inspector is responsible for
    assert 'id="history"' not in body


def test_add_wbs_item(client, org, project):
    login(client, org.user("a_housing"))
    due = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    response = client.post(
        reverse("console:wbs_add", args=[project.pk]),
        {
            "code": "3",
            "name": "绿化恢复",
            "responsible": org.user("a_housing").pk,
            "due_date": due,
            "weight": "2",
        },
    )
    assert response.status_code == 302
    assert WbsItem.objects.filter(project=project, code="3", name="绿化恢复").exists()
    response = client.post(
        reverse("console:wbs_add", args=[project.pk]),
        {
            "code": "3",
            "name": "重复编号",
            "responsible": org.user("a_housing").pk,
            "due_date": due,
            "weight": "1",
        },
    )
    assert response.status_code == 400
    assert "本项目已有该编号的子项。" in response.content.decode()
    assert not WbsItem.objects.filter(name="重复编号").exists()


def test_create_project_through_the_form(client, org):
    login(client, org.user("a_housing"))
    data = {
        "name": "城关街道老旧小区改造",
        "domain": "housing",
        "division": org.town_a.pk,
        "lead_department": org.depts["a.housing"].pk,
        "responsible_person": org.user("a_housing").pk,
        "estimate_amount": "3200000",
        "beneficiaries_total": "800",
        "beneficiaries_elderly": "240",
        "beneficiaries_disabled": "12",
        "beneficiaries_low_income": "30",
        "beneficiaries_children": "90",
    }
    response = client.post(reverse("console:project_create"), data)
    assert response.status_code == 302
    project = Project.objects.get(name="城关街道老旧小区改造")
    assert response["Location"] == reverse("console:project", args=[project.pk])
    assert project.beneficiaries_elderly == 240 and project.estimate_amount == Decimal("3200000.00")


def test_create_with_bad_input_shows_errors_and_writes_nothing(client, org):
    login(client, org.user("a_housing"))
    data = {
        "name": "",
        "domain": "housing",
        "division": org.county_b.pk,
        "lead_department": org.depts["a.housing"].pk,
        "responsible_person": org.user("a_housing").pk,
        "estimate_amount": "-5",
        "code": "1234",
        "beneficiaries_total": "0",
        "beneficiaries_elderly": "0",
        "beneficiaries_disabled": "0",
        "beneficiaries_low_income": "0",
        "beneficiaries_children": "0",
    }
    response = client.post(reverse("console:project_create"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "这个字段是必填项。" in body  # Django's own message, translated
    assert "选择一个有效的选项" in body  # county b is outside this officer's reach
    assert Project.objects.count() == 0


def test_service_refusal_is_shown_on_the_form_field(client, org):
    login(client, org.user("a_housing"))
    data = {
        "name": "金额有误的项目",
        "domain": "housing",
        "division": org.town_a.pk,
        "lead_department": org.depts["a.housing"].pk,
        "responsible_person": org.user("a_housing").pk,
        "estimate_amount": "-5",
        "beneficiaries_total": "0",
        "beneficiaries_elderly": "0",
        "beneficiaries_disabled": "0",
        "beneficiaries_low_income": "0",
        "beneficiaries_children": "0",
    }
    response = client.post(reverse("console:project_create"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "金额必须大于零。" in body
    assert Project.objects.count() == 0


def test_edit_project_and_stale_version_conflicts(client, org, project):
    login(client, org.user("a_housing"))
    form = client.get(reverse("console:project_edit", args=[project.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        name="改名后的项目",
        lead_department=project.lead_department_id,
        responsible_person=project.responsible_person_id,
        is_high_impact="",
        is_emergency="",
    )
    data = {k: v for k, v in data.items() if v is not False and v != ""}
    response = client.post(reverse("console:project_edit", args=[project.pk]), data)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "改名后的项目"
    response = client.post(reverse("console:project_edit", args=[project.pk]), data | {"name": "又改一次"})
    assert response.status_code == 409
    assert "已被他人修改" in response.content.decode()
    project.refresh_from_db()
    assert project.name == "改名后的项目"


def test_other_officer_cannot_edit(client, org, project):
    login(client, org.user("a_inspector"))
    response = client.get(reverse("console:project_edit", args=[project.pk]))
    assert response.status_code == 403  # no form for someone who may not save it
    response = client.post(
        reverse("console:project_edit", args=[project.pk]),
        {"name": "x", "domain": "housing", "version": project.version},
    )
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name != "x"


def test_overdue_page_lists_items_by_person_and_department(client, org, project):
    login(client, org.user("a_drc"))
    body = client.get(reverse("console:overdue")).content.decode()
    assert "外墙保温" in body and "管网改造" not in body
    assert org.depts["a.housing"].name in body
    assert "a_housing" in body


def test_amounts_in_wan_and_phone_masked(client, org, project):
    person = org.user("a_housing")
    person.phone = "13912345678"
    person.save()
    login(client, org.user("a_drc"))
    body = client.get(reverse("console:project", args=[project.pk])).content.decode()
    assert "300.00 万元" in body
    assert "139****5678" in body and "13912345678" not in body
    assert project.code_display in body


def test_times_are_shown_in_shanghai(client, org, project):
    late = dt.datetime(2026, 1, 5, 17, 30, tzinfo=dt.UTC)  # 01:30 the next day in Beijing
    Notification.objects.create(recipient=org.user("a_housing"), kind="t", text="时区测试", created_at=late)
    login(client, org.user("a_housing"))
    assert "2026-01-06 01:30" in client.get(reverse("console:home")).content.decode()


def test_switch_to_english(client, org, project):
    login(client, org.user("a_housing"))
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("console:home")})
    assert response.status_code == 302
    body = client.get(reverse("console:home")).content.decode()
    assert '<html lang="en">' in body
    assert "My work" in body and "我的工作" not in body


def test_lockout_after_five_failed_logins(client, org, settings):
    settings.AXES_ENABLED = True
    url = reverse("console:login")
    for _ in range(4):
        response = client.post(url, {"username": "a_housing", "password": "wrong-password"})
        assert response.status_code == 200
        assert "请输入" in response.content.decode()  # Django's translated "enter a correct username…"
    response = client.post(url, {"username": "a_housing", "password": "wrong-password"})
    assert response.status_code == 429
    assert "账户已被暂时锁定" in response.content.decode()
    response = client.post(url, {"username": "a_housing", "password": "test-password-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_and_logout(client, org):
    response = client.post(
        reverse("console:login"), {"username": "a_housing", "password": "test-password-123"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("console:home")
    assert client.get(reverse("console:home")).status_code == 200
    assert client.post(reverse("console:logout")).status_code == 302
    assert client.get(reverse("console:home")).status_code == 302


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(client, org, django_assert_max_num_queries):
    for _ in range(2):
        p = project_in(org, "a")
        WbsItemFactory(project=p, responsible=org.user("a_housing"), due_date=dt.date(2020, 1, 1))
    login(client, org.user("a_drc"))
    url = reverse("console:projects")
    few = _count_queries(client, url)
    for _ in range(30):
        p = project_in(org, "a")
        WbsItemFactory(project=p, responsible=org.user("a_housing"), due_date=dt.date(2020, 1, 1))
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.content.decode().count("逾期 1 项") == 25


def test_detail_query_count_does_not_grow_with_rows(client, org, project, django_assert_max_num_queries):
    login(client, org.user("a_housing"))
    url = reverse("console:project", args=[project.pk])
    few = _count_queries(client, url)
    for n in range(20):
        WbsItemFactory(project=project, code=f"9{n}", responsible=org.user("a_inspector"))
        services.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind=DocumentKind.PHOTO,
            title=f"现场照片{n}",
            fileobj=pdf(),
            filename=f"p{n}.pdf",
        )
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.content.decode().count('class="progress-form"') == 22
