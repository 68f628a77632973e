"""The projects JSON API: bad input gives one translated error shape and writes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from minsheng.core.models import AuditEvent
from minsheng.projects import code as project_code
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Document, GateRequest, Project, StageTransition, WbsItem
from minsheng.projects.tests.helpers import PDF_BYTES, advance, fresh
from minsheng.testing.factories import project_in


@pytest.fixture
def client(org):
    c = Client()
    c.force_login(org.user("a_housing"))
    return c


def _counts():
    return (
        Project.objects.count(),
        AuditEvent.objects.count(),
        Document.objects.count(),
        GateRequest.objects.count(),
        StageTransition.objects.count(),
        WbsItem.objects.count(),
    )


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert {"code", "message", "fields"} <= set(err) <= {"code", "message", "fields", "reasons"}
    assert isinstance(err["fields"], dict)
    return err


def _create_body(org, **kw):
    body = {
        "name": "老旧小区改造",
        "domain": "housing",
        "division": org.town_a.pk,
        "lead_department": org.depts["a.housing"].pk,
        "responsible_person": org.user("a_housing").pk,
        "estimate_amount": "3000000",
    }
    body.update(kw)
    return body


def test_register_a_project_through_the_api(org, client):
    response = _post(client, "/api/v1/projects", _create_body(org))
    assert response.status_code == 201
    data = response.json()
    assert project_code.parse(data["code"]).value == data["code"]
    assert data["code_display"].count("-") == 5 and data["stage"] == "reserve" and data["version"] == 1
    assert data["estimate_amount"] == "3000000.00" and data["targets"] == []


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"code": "2026-99-bad"}, "code", "项目代码应为 24 位数字（可含连字符）。"),
        ({"code": "202699010203010000000420"}, "code", None),  # check digit
        ({"division": 999999}, "division", "区划不存在。"),
        ({"estimate_amount": "1.005"}, "estimate_amount", "金额最多保留两位小数。"),
        ({"partner_departments": [999999]}, "partner_departments", "部门不存在。"),
    ],
)
def test_bad_registration_is_a_400_with_field_messages_and_nothing_written(
    org, client, override, field, message
):
    before = _counts()
    err = _error(_post(client, "/api/v1/projects", _create_body(org, **override)), 400)
    assert err["code"] == "invalid"
    assert err["message"] == "提交的数据有误，请检查标出的字段。"
    if message:
        assert err["fields"][field] == [message]
    else:
        assert "校验位" in err["fields"][field][0]
    assert _counts() == before


def test_foreign_division_on_registration_is_refused(org, client):
    body = _create_body(
        org,
        division=org.town_b.pk,
        lead_department=org.depts["b.housing"].pk,
        responsible_person=org.user("b_housing").pk,
    )
    before = _counts()
    err = _error(_post(client, "/api/v1/projects", body), 400)
    assert "只能在本级及下级区划登记项目。" in err["fields"]["division"]
    assert _counts() == before


def test_wrong_types_are_a_400_in_the_same_shape(org, client):
    before = _counts()
    err = _error(
        _post(client, "/api/v1/projects", _create_body(org, division="abc", is_emergency="maybe")), 400
    )
    assert err["code"] == "invalid" and {"division", "is_emergency"} <= set(err["fields"])
    err = _error(_post(client, "/api/v1/projects", {"name": "缺字段"}), 400)
    assert {"domain", "division", "lead_department", "responsible_person"} <= set(err["fields"])
    assert _counts() == before


def test_malformed_json_is_a_400(org, client):
    response = client.post("/api/v1/projects", data="{not json", content_type="application/json")
    _error(response, 400)


def test_foreign_scope_object_is_a_404_that_reveals_nothing(org, client):
    other = project_in(org, "b")
    before = _counts()
    for method, url in (
        ("get", f"/api/v1/projects/{other.pk}"),
        ("get", f"/api/v1/projects/by-code/{other.code}"),
        ("patch", f"/api/v1/projects/{other.pk}"),
        ("get", f"/api/v1/projects/{other.pk}/wbs"),
        ("get", "/api/v1/projects/99999999"),
    ):
        if method == "get":
            response = client.get(url)
        else:
            response = client.patch(url, data=json.dumps({"name": "x"}), content_type="application/json")
        err = _error(response, 404)
        assert err == {"code": "not_found", "message": "未找到该记录，或您无权查看。", "fields": {}}
    assert _counts() == before
    assert fresh(other).name != "x"


def test_foreign_responsible_person_on_a_sub_item_is_refused(org, client):
    project = project_in(org, "a")
    before = _counts()
    err = _error(
        _post(
            client,
            f"/api/v1/projects/{project.pk}/wbs",
            {"code": "1", "name": "子项", "responsible": org.user("b_housing").pk, "due_date": "2099-01-01"},
        ),
        400,
    )
    assert "responsible" in err["fields"]
    assert _counts() == before


def test_gate_without_evidence_is_a_409_with_reasons(org, client):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    before = _counts()
    err = _error(_post(client, f"/api/v1/projects/{project.pk}/gates", {"to_stage": "feasibility"}), 409)
    assert err["code"] == "transition_refused"
    assert err["message"] == "条件不足，不能申请进入“可行性研究”。"
    assert err["reasons"] == ["缺少文件：项目建议书。"]
    assert _counts() == before


def test_gate_options_list_what_is_missing(org, client):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    options = client.get(f"/api/v1/projects/{project.pk}/gates").json()
    feasibility = next(o for o in options if o["to_stage"] == "feasibility")
    assert feasibility["missing"] == ["缺少文件：项目建议书。"] and feasibility["slots"] == [
        "投资主管部门（发改）"
    ]
    assert feasibility["to_label"] == "可行性研究"


def test_gate_request_and_decision_through_the_api(org, client):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload = io.BytesIO(PDF_BYTES)
    upload.name = "建议书.pdf"
    doc = client.post(
        f"/api/v1/projects/{project.pk}/documents", {"kind": "proposal", "title": "建议书", "file": upload}
    )
    assert doc.status_code == 201 and doc.json()["sha256"]
    req = _post(client, f"/api/v1/projects/{project.pk}/gates", {"to_stage": "feasibility"})
    assert req.status_code == 201 and req.json()["status"] == "pending" and req.json()["required_level"] == 3
    drc = Client()
    drc.force_login(org.user("a_drc"))
    waiting = drc.get("/api/v1/gate-requests").json()
    assert [r["id"] for r in waiting] == [req.json()["id"]]
    decided = _post(drc, f"/api/v1/gate-requests/{req.json()['id']}/decision", {"approve": True})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert decided.json()["approvals"][0]["slot"] == "investment"
    again = _post(drc, f"/api/v1/gate-requests/{req.json()['id']}/decision", {"approve": True})
    assert _error(again, 409)["code"] == "conflict"
    assert fresh(project).stage == Stage.FEASIBILITY


def test_slotless_gate_answers_approved(org, client):
    project = project_in(org, "a")
    response = _post(client, f"/api/v1/projects/{project.pk}/gates", {"to_stage": "proposal"})
    assert response.status_code == 201 and response.json()["status"] == "approved"


def test_version_conflict_is_a_409(org, client):
    project = project_in(org, "a")
    ok = client.patch(
        f"/api/v1/projects/{project.pk}",
        data=json.dumps({"name": "一", "version": 1}),
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/projects/{project.pk}",
        data=json.dumps({"name": "二", "version": 1}),
        content_type="application/json",
    )
    assert _error(stale, 409)["message"] == "项目已被他人修改，请刷新后再试。"
    null_version = client.patch(
        f"/api/v1/projects/{project.pk}",
        data=json.dumps({"name": "三", "version": None}),
        content_type="application/json",
    )
    assert null_version.status_code == 200


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"x" * 100, "fsr.pdf", "文件内容与扩展名不符，或文件已损坏。"),
        (PDF_BYTES, "fsr.exe", "不支持的文件类型。允许：PDF、PNG、JPEG、DOCX、XLSX、OFD、ZIP。"),
    ],
)
def test_wrong_type_upload_is_a_400_and_nothing_is_stored(org, client, settings, content, name, message):
    project = project_in(org, "a")
    before = _counts()
    f = io.BytesIO(content)
    f.name = name
    err = _error(
        client.post(f"/api/v1/projects/{project.pk}/documents", {"kind": "fsr", "title": "t", "file": f}), 400
    )
    assert err["fields"] == {"file": [message]}
    assert _counts() == before
    assert not settings.MEDIA_ROOT.exists() or not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


def test_oversized_upload_is_a_400_and_nothing_is_stored(org, client, settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 1024 * 1024
    project = project_in(org, "a")
    before = _counts()
    f = io.BytesIO(b"%PDF-" + b"0" * (1024 * 1024 + 10))
    f.name = "big.pdf"
    err = _error(
        client.post(f"/api/v1/projects/{project.pk}/documents", {"kind": "fsr", "title": "t", "file": f}), 400
    )
    assert err["fields"] == {"file": ["文件过大，上限为 1 MB。"]}
    assert _counts() == before
    assert not settings.MEDIA_ROOT.exists() or not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


def test_upload_without_a_file_is_a_400(org, client):
    project = project_in(org, "a")
    err = _error(client.post(f"/api/v1/projects/{project.pk}/documents", {"kind": "fsr"}), 400)
    assert set(err["fields"]) == {"title", "file"}


def test_schema_errors_name_the_field_even_when_it_is_called_path(org, client):
    project = project_in(org, "a")
    err = _error(_post(client, f"/api/v1/projects/{project.pk}/gates", {"to_stage": 1, "path": 5}), 400)
    assert set(err["fields"]) == {"to_stage", "path"}
    err = _error(client.get("/api/v1/projects?division=abc"), 400)
    assert set(err["fields"]) == {"division"}


def test_unauthenticated_and_forbidden_have_the_same_shape(org):
    project = project_in(org, "a")
    err = _error(Client().get(f"/api/v1/projects/{project.pk}"), 401)
    assert err == {"code": "not_authenticated", "message": "请先登录或提供有效的接口令牌。", "fields": {}}
    auditor = Client()
    auditor.force_login(org.user("a_auditor"))
    err = _error(
        auditor.patch(f"/api/v1/projects/{project.pk}", data="{}", content_type="application/json"), 403
    )
    assert err == {"code": "forbidden", "message": "您没有执行此操作的权限。", "fields": {}}


def test_overdue_endpoint_lists_visible_late_items(org, client):
    import datetime as dt

    from django.utils import timezone

    from minsheng.testing.factories import WbsItemFactory

    late = timezone.localdate() - dt.timedelta(days=2)
    mine = WbsItemFactory(project=project_in(org, "a"), responsible=org.user("a_housing"), due_date=late)
    WbsItemFactory(project=project_in(org, "b"), responsible=org.user("b_housing"), due_date=late)
    data = client.get("/api/v1/wbs/overdue").json()
    assert [i["id"] for i in data["items"]] == [mine.pk] and data["items"][0]["is_overdue"] is True


def test_openapi_spec_is_served_and_lists_the_endpoints(org):
    spec = Client().get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/projects" in paths and "/api/v1/gate-requests/{request_id}/decision" in paths


# ---------------------------------------------------------------------------------------------
# English with Accept-Language: en (the source strings are Chinese)


def test_field_errors_are_in_english_on_request(org, client):
    before = _counts()
    err = _error(
        _post(
            client,
            "/api/v1/projects",
            _create_body(org, code="12345", division=999999),
            **{"Accept-Language": "en"},
        ),
        400,
    )
    assert err["message"] == "The data submitted is invalid; please check the marked fields."
    assert err["fields"]["code"] and err["fields"]["division"]
    assert all(ch.isascii() for msgs in err["fields"].values() for m in msgs for ch in m)
    assert _counts() == before


def test_refused_transition_is_in_english_on_request(org, client):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    err = _error(
        _post(
            client,
            f"/api/v1/projects/{project.pk}/gates",
            {"to_stage": "feasibility"},
            **{"Accept-Language": "en"},
        ),
        409,
    )
    assert err["code"] == "transition_refused"
    assert all(ch.isascii() or ch in "“”" for ch in err["message"] + "".join(err["reasons"])), err


def test_not_found_and_unauthenticated_are_in_english_on_request(org):
    anon = Client().get("/api/v1/projects/1", headers={"Accept-Language": "en"})
    assert _error(anon, 401)["message"].isascii()
    c = Client()
    c.force_login(org.user("a_housing"))
    missing = c.get("/api/v1/projects/99999999", headers={"Accept-Language": "en"})
    assert _error(missing, 404)["message"].isascii()


def test_upload_errors_are_in_english_on_request(org, client, settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 1024 * 1024
    project = project_in(org, "a")
    f = io.BytesIO(b"%PDF-" + b"0" * (1024 * 1024 + 10))
    f.name = "big.pdf"
    err = _error(
        client.post(
            f"/api/v1/projects/{project.pk}/documents",
            {"kind": "fsr", "title": "t", "file": f},
            headers={"Accept-Language": "en"},
        ),
        400,
    )
    assert err["fields"]["file"][0].isascii() and "1 MB" in err["fields"]["file"][0]
