"""Project services: registration, edits, gates, WBS and documents — with permissions and the audit trail."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from minsheng.accounts.roles import Role
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from minsheng.core.models import AuditEvent, JurisdictionSetting
from minsheng.projects import code as project_code
from minsheng.projects import selectors, services
from minsheng.projects.lifecycle import DocumentKind, PathKind, Slot, Stage
from minsheng.projects.models import (
    Document,
    GateApproval,
    GateRequest,
    GateStatus,
    MemberRole,
    Project,
    StageTransition,
    WbsItem,
)
from minsheng.projects.tests.helpers import (
    PDF_BYTES,
    SMALL_PROJECT_PATH,
    advance,
    approve,
    fresh,
    pdf,
    request_gate,
    upload,
)
from minsheng.testing.factories import UserFactory, project_in


def _data(org, **kw):
    base = {
        "name": "老旧小区改造",
        "domain": "housing",
        "division": org.town_a.pk,
        "lead_department": org.depts["a.housing"].pk,
        "responsible_person": org.user("a_housing").pk,
        "estimate_amount": "3000000",
    }
    base.update(kw)
    return base


def _counts():
    return (
        Project.objects.count(),
        AuditEvent.objects.count(),
        Document.objects.count(),
        GateRequest.objects.count(),
        StageTransition.objects.count(),
        WbsItem.objects.count(),
    )


def _field_messages(exc, name):
    return [str(m) for m in exc.value.fields[name]]


# ---------------------------------------------------------------------------------------------
# registration


def test_registration_generates_a_valid_code_for_the_division_and_department(org):
    p1 = services.project_create(actor=org.user("a_housing"), data=_data(org))
    p2 = services.project_create(actor=org.user("a_housing"), data=_data(org, name="第二个"))
    c1, c2 = project_code.parse(p1.code), project_code.parse(p2.code)
    assert c1.year == str(timezone.localdate().year)
    assert c1.region == "990102" and c1.department == "03" and c1.type == "01"
    assert (int(c1.serial), int(c2.serial)) == (1, 2)
    assert p1.division_path == org.town_a.path and p1.stage == Stage.RESERVE
    ev = AuditEvent.objects.get(action="project.create", object_id=str(p1.pk))
    assert ev.actor_id == org.user("a_housing").pk and ev.project_code == p1.code
    assert ev.before is None and ev.after["code"] == p1.code and ev.after["estimate_amount"] == "3000000.00"


def test_registration_keeps_a_valid_given_code(org):
    given = project_code.build(year=2024, region="990102", department_kind="housing", serial=77)
    project = services.project_create(actor=org.user("a_housing"), data=_data(org, code=given.display))
    assert project.code == given.value


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"code": "2024-990102-03-01-000000077-0"}, "code", None),  # wrong check digit
        ({"code": "12345"}, "code", "项目代码应为 24 位数字（可含连字符）。"),
        (
            {
                "code": project_code.build(
                    year=2024, region="990121", department_kind="housing", serial=1
                ).value
            },
            "code",
            "项目代码的地区段与所在区划不符。",
        ),
        ({"division": 999999}, "division", "区划不存在。"),
        ({"division": "abc"}, "division", "区划不存在。"),
        ({"lead_department": 999999}, "lead_department", "部门不存在。"),
        ({"estimate_amount": "-5"}, "estimate_amount", "金额必须大于零。"),
        ({"domain": "casino"}, "domain", "领域无效。"),
        ({"name": "  "}, "name", "此项为必填项。"),
        (
            {"planned_start": "2026-05-01", "planned_end": "2026-04-01"},
            "planned_end",
            "计划完工不能早于计划开工。",
        ),
        ({"latitude": "91"}, "latitude", "坐标无效。"),
    ],
)
def test_registration_refuses_bad_input_and_writes_nothing(org, overrides, field, message):
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("a_housing"), data=_data(org, **overrides))
    if message is None:
        assert "校验位" in _field_messages(exc, field)[0]
    else:
        assert message in _field_messages(exc, field)
    assert _counts() == before


def test_registration_refuses_a_duplicate_code(org):
    given = project_code.build(year=2024, region="990102", department_kind="housing", serial=5).value
    services.project_create(actor=org.user("a_housing"), data=_data(org, code=given))
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("a_housing"), data=_data(org, code=given))
    assert _field_messages(exc, "code") == ["该项目代码已登记。"]
    assert _counts() == before


def test_registration_outside_ones_own_division_is_refused(org):
    data = _data(
        org,
        division=org.town_b.pk,
        lead_department=org.depts["b.housing"].pk,
        responsible_person=org.user("b_housing").pk,
    )
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("a_housing"), data=data)
    assert "只能在本级及下级区划登记项目。" in _field_messages(exc, "division")


def test_lead_department_from_another_county_is_refused(org):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(
            actor=org.user("a_drc"), data=_data(org, lead_department=org.depts["b.housing"].pk)
        )
    assert _field_messages(exc, "lead_department") == ["牵头部门须为项目所在区划或其上级的部门。"]


def test_responsible_person_from_another_county_is_refused(org):
    # Naming a county-b officer would let them see a county-a project.
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(
            actor=org.user("a_housing"), data=_data(org, responsible_person=org.user("b_housing").pk)
        )
    assert _field_messages(exc, "responsible_person") == ["项目责任人须为项目所在区划上下级的工作人员。"]
    assert _counts() == before


def test_partner_department_from_another_county_is_refused(org):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("a_housing"), data=_data(org), partners=[org.depts["b.civil"]])
    assert _field_messages(exc, "partner_departments") == ["配合部门须为项目所在区划上下级的部门。"]


def test_partner_departments_on_the_line_are_kept(org):
    project = services.project_create(
        actor=org.user("a_housing"), data=_data(org), partners=[org.depts["a.civil"], org.depts["city.civil"]]
    )
    assert set(project.partner_departments.all()) == {org.depts["a.civil"], org.depts["city.civil"]}
    assert selectors.projects_visible(org.user("a_civil")).filter(pk=project.pk).exists()


def test_officer_cannot_register_a_project_they_could_not_manage(org):
    # a_housing registering a civil-affairs project led and owned by others would lose sight of it.
    data = _data(org, lead_department=org.depts["a.civil"].pk, responsible_person=org.user("a_civil").pk)
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("a_housing"), data=data)
    assert _field_messages(exc, "lead_department") == ["只能登记由本部门牵头或由您本人负责的项目。"]
    # The investment authority may register it.
    assert services.project_create(actor=org.user("a_drc"), data=data).pk


@pytest.mark.parametrize("who", ["a_auditor", "a_finance", "a_leader", "a_contractor", "a_evaluator"])
def test_roles_without_the_register_capability_are_refused(org, who):
    with pytest.raises(PermissionDenied):
        services.project_create(actor=org.user(who), data=_data(org))


def test_project_must_sit_at_city_level_or_below(org):
    with pytest.raises(ValidationFailed) as exc:
        services.project_create(actor=org.user("admin"), data=_data(org, division=org.province.pk))
    assert "项目须落在市级或以下区划。" in _field_messages(exc, "division")


# ---------------------------------------------------------------------------------------------
# edits


def test_edit_records_before_and_after_values(org):
    project = project_in(org, "a")
    services.project_update(
        actor=org.user("a_housing"),
        project=project,
        data={"name": "新名称", "estimate_amount": "4000000", "version": project.version},
    )
    project.refresh_from_db()
    assert project.name == "新名称" and project.version == 2
    ev = AuditEvent.objects.get(action="project.update", object_id=str(project.pk))
    assert ev.before["name"].startswith("测试项目") and ev.after["name"] == "新名称"
    assert ev.before["estimate_amount"] == "3000000.00" and ev.after["estimate_amount"] == "4000000.00"
    assert ev.before["version"] == 1 and ev.after["version"] == 2
    assert "domain" not in ev.after  # unchanged values are left out


def test_stale_version_is_a_conflict_and_nothing_changes(org):
    project = project_in(org, "a")
    services.project_update(actor=org.user("a_housing"), project=project, data={"name": "第一次"})
    before = _counts()
    with pytest.raises(Conflict):
        services.project_update(
            actor=org.user("a_drc"), project=project, data={"name": "第二次", "version": 1}
        )
    assert fresh(project).name == "第一次" and _counts() == before


def test_null_version_and_null_flags_mean_not_sent(org):
    project = project_in(org, "a", is_high_impact=True)
    services.project_update(
        actor=org.user("a_housing"),
        project=project,
        data={"version": None, "is_high_impact": None, "name": "改名"},
    )
    project.refresh_from_db()
    assert project.name == "改名" and project.is_high_impact is True


def test_unknown_or_protected_fields_cannot_be_edited(org):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed) as exc:
        services.project_update(
            actor=org.user("a_housing"), project=project, data={"stage": "operation", "code": "x"}
        )
    assert set(exc.value.fields) == {"code", "stage"}


def test_design_estimate_is_locked_once_approved(org):
    project = advance(org, project_in(org, "a"), Stage.PROCUREMENT)
    with pytest.raises(ValidationFailed) as exc:
        services.project_update(
            actor=org.user("a_housing"), project=project, data={"design_estimate_amount": "9000000"}
        )
    assert "概算调整程序" in _field_messages(exc, "design_estimate_amount")[0]


def test_responsible_person_from_another_county_cannot_be_set_by_edit(org):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed):
        services.project_update(
            actor=org.user("a_housing"),
            project=project,
            data={"responsible_person": org.user("b_housing").pk},
        )
    assert fresh(project).responsible_person_id == org.user("a_housing").pk


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("b_housing", NotFound),
        ("b_drc", NotFound),
        ("a_civil", NotFound),
        ("a_finance", PermissionDenied),
        ("a_leader", PermissionDenied),
        ("a_auditor", PermissionDenied),
    ],
)
def test_edit_by_someone_who_cannot_manage_is_refused(org, who, error):
    project = project_in(org, "a")
    with pytest.raises(error):
        services.project_update(actor=org.user(who), project=project, data={"name": "篡改"})
    assert fresh(project).name != "篡改"


# ---------------------------------------------------------------------------------------------
# gates


def test_a_small_project_passes_every_gate_from_reserve_to_post_evaluation(org):
    project = project_in(org, "a")
    project = advance(org, project, Stage.POST_EVALUATION)
    assert project.stage == Stage.POST_EVALUATION
    transitions = list(StageTransition.objects.filter(project=project).values_list("from_stage", "to_stage"))
    assert [t for _f, t in transitions] == [step[0] for step in SMALL_PROJECT_PATH]
    assert project.actual_start == timezone.localdate() and project.actual_end == timezone.localdate()
    moves = AuditEvent.objects.filter(action="project.transition", project_code=project.code)
    assert moves.count() == len(SMALL_PROJECT_PATH)
    slots = set(
        GateApproval.objects.filter(request__project=project).values_list("slot", "approver__username")
    )
    assert (Slot.FINANCE, "a_finance") in slots and (Slot.LEAD_DEPARTMENT, "a_housing") in slots
    assert services.gate_options(project) == []


def test_gate_without_evidence_is_refused_with_every_reason_and_nothing_written(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    before = _counts()
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.FEASIBILITY)
    assert exc.value.as_dict()["reasons"] == ["缺少文件：项目建议书。"]
    assert exc.value.status == 409 and exc.value.code == "transition_refused"
    assert _counts() == before


def test_entry_gate_needs_a_performance_target(org):
    project = project_in(org, "a")
    project.targets.all().delete()
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.PROPOSAL)
    assert "未设定绩效目标（至少一项指标）。" in exc.value.reasons


def test_transition_outside_the_statutory_path_is_refused(org):
    project = project_in(org, "a")
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.CONSTRUCTION)
    assert [str(r) for r in exc.value.reasons] == ["该阶段转换不在法定程序之内。"]


def test_invalid_target_stage_or_path_is_a_field_error(org):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed) as exc:
        request_gate(org, project, "moon")
    assert "to_stage" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        request_gate(org, project, Stage.PROPOSAL, path="shortcut")
    assert "path" in exc.value.fields


def test_only_one_pending_request_per_project(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    request_gate(org, project, Stage.FEASIBILITY)
    with pytest.raises(Conflict):
        request_gate(org, project, Stage.SUSPENDED, reason="暂缓")
    assert GateRequest.objects.filter(project=project, status=GateStatus.PENDING).count() == 1


def test_decided_request_cannot_be_decided_again(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = approve(org, request_gate(org, project, Stage.FEASIBILITY), "a_drc")
    with pytest.raises(Conflict):
        approve(org, req, "a_drc")


def test_rejection_needs_a_reason_and_closes_the_request_without_moving(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)
    with pytest.raises(ValidationFailed) as exc:
        services.gate_decide(actor=org.user("a_drc"), request=req, approve=False, comment=" ")
    assert "comment" in exc.value.fields
    req = services.gate_decide(actor=org.user("a_drc"), request=req, approve=False, comment="可研深度不够")
    assert req.status == GateStatus.REJECTED and fresh(project).stage == Stage.PROPOSAL
    assert AuditEvent.objects.filter(action="gate.reject", project_code=project.code).exists()


def test_county_drc_cannot_approve_a_city_tier_project(org):
    # 6,000万 is in the city tier (5,000万–5亿) by default.
    project = project_in(org, "a", estimate_amount=Decimal("60000000"), dept="drc", responsible="a_drc")
    advance_to_proposal = request_gate(org, project, Stage.PROPOSAL, who="a_drc")
    assert advance_to_proposal.status == GateStatus.APPROVED
    upload(org, project, DocumentKind.PROPOSAL, who="a_drc")
    req = request_gate(org, project, Stage.FEASIBILITY, who="a_drc")
    assert req.required_level == 2
    with pytest.raises(PermissionDenied):
        approve(org, req, "a_drc")
    assert approve(org, req, "city_drc").status == GateStatus.APPROVED


def test_city_drc_cannot_approve_a_county_tier_project(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)
    assert req.required_level == 3
    with pytest.raises(PermissionDenied):
        approve(org, req, "city_drc")


def test_approval_tiers_are_per_jurisdiction_data(org):
    JurisdictionSetting.objects.create(
        key="lifecycle.approval_tiers",
        division=org.county_a,
        source="测试",
        valid_from=dt.date(2020, 1, 1),
        value=[{"below": "1000000", "level": 3}, {"below": None, "level": 2}],
    )
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)
    assert req.required_level == 2  # 300万 ≥ 100万: city level here


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("a_civil", NotFound),
        ("a_finance", PermissionDenied),
        ("a_leader", PermissionDenied),
        ("a_auditor", PermissionDenied),
        ("a_drc", PermissionDenied),
        ("city_housing", PermissionDenied),
    ],
)
def test_only_the_lead_department_fills_the_lead_department_slot(org, who, error):
    # A housing officer of the city is the right kind of department but not the project's own.
    org.users["city_housing"] = UserFactory(
        username="city_housing",
        role=Role.DEPT_OFFICER,
        division=org.city,
        department=org.depts["city.housing"],
    )
    project = advance(org, project_in(org, "a"), Stage.PROCUREMENT)
    upload(org, project, DocumentKind.CONTRACT)
    req = request_gate(org, project, Stage.CONSTRUCTION)
    assert req.required_slots == [Slot.LEAD_DEPARTMENT]
    with pytest.raises(error):
        approve(org, req, who)
    assert not GateApproval.objects.filter(request=req).exists()
    assert approve(org, req, "a_housing").status == GateStatus.APPROVED


def test_foreign_county_officer_cannot_see_or_decide_a_request(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)
    for who in ("b_drc", "b_housing", "b_leader"):
        with pytest.raises(NotFound):
            approve(org, req, who)


def test_final_accounts_gate_needs_both_finance_and_lead_department(org):
    project = advance(org, project_in(org, "a"), Stage.FINAL_ACCOUNTS)
    upload(org, project, DocumentKind.FINAL_ACCOUNTS)
    req = approve(org, request_gate(org, project, Stage.OPERATION), "a_finance")
    assert req.status == GateStatus.PENDING and fresh(project).stage == Stage.FINAL_ACCOUNTS
    with pytest.raises(PermissionDenied):  # one person fills one slot once
        approve(org, req, "a_finance")
    assert approve(org, req, "a_housing").status == GateStatus.APPROVED
    assert fresh(project).stage == Stage.OPERATION


def test_small_project_may_go_straight_to_design(org):
    project = project_in(org, "a", estimate_amount=Decimal("10000000"))
    req = request_gate(org, project, Stage.DESIGN, path=PathKind.DESIGN_ONLY)
    assert approve(org, req, "a_drc").status == GateStatus.APPROVED
    assert fresh(project).stage == Stage.DESIGN
    assert StageTransition.objects.get(project=project).path == PathKind.DESIGN_ONLY


def test_larger_project_is_refused_the_design_only_path(org):
    project = project_in(org, "a", estimate_amount=Decimal("20000000"))
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.DESIGN, path=PathKind.DESIGN_ONLY)
    assert "只有总投资低于 15,000,000 元的项目可直接编制初步设计。" in exc.value.reasons
    # but the FSR may replace the proposal
    req = request_gate(org, project, Stage.FEASIBILITY, path=PathKind.FSR_REPLACES_PROPOSAL)
    assert req.path == PathKind.FSR_REPLACES_PROPOSAL


def test_simplified_path_thresholds_come_from_the_jurisdiction(org):
    JurisdictionSetting.objects.create(
        key="lifecycle.simplified_path",
        division=org.city,
        source="测试",
        valid_from=dt.date(2020, 1, 1),
        value={"all_documents_from": "10000000", "fsr_replaces_proposal_from": "1000000"},
    )
    project = project_in(org, "a", estimate_amount=Decimal("3000000"))
    with pytest.raises(TransitionRefused):
        request_gate(org, project, Stage.DESIGN, path=PathKind.DESIGN_ONLY)
    options = {(o["to_stage"], o["path"]) for o in services.gate_options(project)}
    assert (Stage.DESIGN, PathKind.DESIGN_ONLY) not in options
    assert (Stage.FEASIBILITY, PathKind.FSR_REPLACES_PROPOSAL) in options


def test_high_impact_project_needs_survey_expert_review_and_risk_assessment(org):
    project = advance(org, project_in(org, "a", is_high_impact=True), Stage.FEASIBILITY)
    upload(org, project, DocumentKind.FSR)
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.DESIGN)
    assert exc.value.reasons == [
        "缺少文件：民意调查报告。",
        "缺少文件：专家论证意见。",
        "缺少文件：社会稳定风险评估。",
    ]
    for kind in (DocumentKind.OPINION_SURVEY, DocumentKind.EXPERT_REVIEW, DocumentKind.RISK_ASSESSMENT):
        upload(org, project, kind)
    assert approve(org, request_gate(org, project, Stage.DESIGN), "a_drc").status == GateStatus.APPROVED


def test_design_estimate_over_110_percent_needs_the_excess_report(org):
    project = advance(org, project_in(org, "a"), Stage.DESIGN)
    services.project_update(
        actor=org.user("a_housing"), project=project, data={"design_estimate_amount": "3300000.01"}
    )
    upload(org, project, DocumentKind.DESIGN)
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.PROCUREMENT)
    assert any("概算超估算情况报告" in r for r in exc.value.reasons)
    upload(org, project, DocumentKind.ESTIMATE_EXCESS)
    assert approve(org, request_gate(org, project, Stage.PROCUREMENT), "a_drc").status == GateStatus.APPROVED


def test_acceptance_is_refused_while_sub_items_are_incomplete(org):
    project = advance(org, project_in(org, "a"), Stage.CONSTRUCTION)
    services.wbs_item_create(
        actor=org.user("a_housing"),
        project=project,
        data={"code": "9", "name": "绿化", "responsible": org.user("a_housing").pk, "due_date": "2099-01-01"},
    )
    upload(org, project, DocumentKind.COMPLETION)
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.ACCEPTANCE)
    assert exc.value.reasons == ["还有 1 个子项未完成。"]


def test_suspend_resume_and_cancel_by_the_leader(org):
    project = advance(org, project_in(org, "a"), Stage.DESIGN)
    with pytest.raises(TransitionRefused) as exc:
        request_gate(org, project, Stage.SUSPENDED, who="a_leader")
    assert exc.value.reasons == ["请填写理由。"]
    req = request_gate(org, project, Stage.SUSPENDED, who="a_leader", reason="资金未到位")
    with pytest.raises(PermissionDenied):
        approve(org, req, "a_drc")
    approve(org, req, "a_leader")
    project = fresh(project)
    assert project.stage == Stage.SUSPENDED and project.previous_stage == Stage.DESIGN
    with pytest.raises(TransitionRefused):
        request_gate(org, project, Stage.PROCUREMENT, who="a_leader")
    approve(org, request_gate(org, project, Stage.DESIGN, who="a_housing"), "city_leader")
    project = fresh(project)
    assert project.stage == Stage.DESIGN and project.previous_stage == ""
    approve(org, request_gate(org, project, Stage.CANCELLED, who="a_leader", reason="规划调整"), "a_leader")
    assert fresh(project).stage == Stage.CANCELLED
    assert services.gate_options(fresh(project)) == []
    with pytest.raises(TransitionRefused):
        request_gate(org, project, Stage.SUSPENDED, who="a_leader", reason="x")


@pytest.mark.parametrize("who", ["a_finance", "a_auditor", "a_inspector", "a_civil"])
def test_roles_that_cannot_manage_cannot_request_a_gate(org, who):
    project = project_in(org, "a")
    with pytest.raises((PermissionDenied, NotFound)):
        request_gate(org, project, Stage.PROPOSAL, who=who)
    assert fresh(project).stage == Stage.RESERVE


def test_requester_can_withdraw_and_others_cannot(org):
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)
    with pytest.raises(PermissionDenied):
        services.gate_withdraw(actor=org.user("a_finance"), request=req)
    req = services.gate_withdraw(actor=org.user("a_housing"), request=req)
    assert req.status == GateStatus.WITHDRAWN
    with pytest.raises(Conflict):
        services.gate_withdraw(actor=org.user("a_housing"), request=req)
    assert request_gate(org, project, Stage.FEASIBILITY).status == GateStatus.PENDING


def test_approval_is_refused_when_evidence_no_longer_holds(org):
    project = advance(org, project_in(org, "a"), Stage.DESIGN)
    services.project_update(
        actor=org.user("a_housing"), project=project, data={"design_estimate_amount": "3000000"}
    )
    upload(org, project, DocumentKind.DESIGN)
    req = request_gate(org, project, Stage.PROCUREMENT)
    services.project_update(
        actor=org.user("a_housing"), project=project, data={"design_estimate_amount": "9000000"}
    )
    with pytest.raises(TransitionRefused):
        approve(org, req, "a_drc")
    assert fresh(project).stage == Stage.DESIGN
    assert not GateApproval.objects.filter(request=req).exists()


# ---------------------------------------------------------------------------------------------
# responsibility checklist


def _item(org, project, code="1", who="a_housing", **kw):
    data = {
        "code": code,
        "name": f"子项{code}",
        "responsible": org.user(who).pk,
        "due_date": "2099-01-01",
        **kw,
    }
    return services.wbs_item_create(actor=org.user("a_housing"), project=project, data=data)


def test_wbs_progress_rolls_up_by_weight_and_is_audited(org):
    project = project_in(org, "a")
    a = _item(org, project, "1", weight="3")
    b = _item(org, project, "2", weight="1")
    services.wbs_progress(actor=org.user("a_housing"), item=a, progress="100")
    assert fresh(project).progress == Decimal("75.0")
    a.refresh_from_db()
    assert a.completed_at is not None
    ev = AuditEvent.objects.filter(action="wbs.progress", object_id=str(a.pk)).get()
    assert ev.before["progress"] == "0.0" and ev.after["progress"] == "100.0"
    services.wbs_progress(actor=org.user("a_housing"), item=b, progress=50)
    assert fresh(project).progress == Decimal("87.5")


def test_nested_items_roll_up_and_parents_cannot_be_reported_directly(org):
    project = project_in(org, "a")
    parent = _item(org, project, "1")
    child1 = _item(org, project, "1.1", parent=parent.pk)
    _item(org, project, "1.2", parent=parent.pk)
    services.wbs_progress(actor=org.user("a_housing"), item=child1, progress=100)
    assert fresh(project).progress == Decimal("50.0")
    with pytest.raises(ValidationFailed) as exc:
        services.wbs_progress(actor=org.user("a_housing"), item=parent, progress=10)
    assert "progress" in exc.value.fields


def test_wbs_update_records_before_and_after_and_re_rolls(org):
    project = project_in(org, "a")
    a = _item(org, project, "1")
    b = _item(org, project, "2")
    services.wbs_progress(actor=org.user("a_housing"), item=a, progress=100)
    services.wbs_item_update(actor=org.user("a_housing"), item=b, data={"weight": "3", "name": "改名"})
    assert fresh(project).progress == Decimal("25.0")
    ev = AuditEvent.objects.get(action="wbs.update", object_id=str(b.pk))
    assert ev.before["weight"] == "1.00" and ev.after["weight"] == "3.00" and ev.after["name"] == "改名"


def test_wbs_parent_cycles_are_refused(org):
    project = project_in(org, "a")
    a = _item(org, project, "1")
    b = _item(org, project, "1.1", parent=a.pk)
    c = _item(org, project, "1.1.1", parent=b.pk)
    for item, parent in ((a, a), (a, c), (a, b)):
        with pytest.raises(ValidationFailed) as exc:
            services.wbs_item_update(actor=org.user("a_housing"), item=item, data={"parent": parent.pk})
        assert "parent" in exc.value.fields
    assert WbsItem.objects.get(pk=a.pk).parent_id is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"responsible": 999999}, "responsible"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"weight": "0"}, "weight"),
        ({"weight": "abc"}, "weight"),
        ({"code": "x" * 17}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_wbs_bad_input_is_refused(org, data, field):
    project = project_in(org, "a")
    before = _counts()
    full = {
        "code": "1",
        "name": "n",
        "responsible": org.user("a_housing").pk,
        "due_date": "2099-01-01",
        **data,
    }
    with pytest.raises(ValidationFailed) as exc:
        services.wbs_item_create(actor=org.user("a_housing"), project=project, data=full)
    assert field in exc.value.fields
    assert _counts() == before


def test_wbs_duplicate_code_is_refused(org):
    project = project_in(org, "a")
    _item(org, project, "1")
    with pytest.raises(ValidationFailed) as exc:
        _item(org, project, "1")
    assert "code" in exc.value.fields


def test_wbs_responsible_and_department_must_be_on_the_projects_line(org):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed) as exc:
        _item(org, project, "1", who="b_housing")
    assert "responsible" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        _item(org, project, "2", department=org.depts["b.housing"].pk)
    assert "department" in exc.value.fields
    # An assigned contractor may be named.
    services.member_add(
        actor=org.user("a_housing"),
        project=project,
        user=org.user("a_contractor"),
        role=MemberRole.CONTRACTOR,
    )
    assert _item(org, project, "3", who="a_contractor").responsible == org.user("a_contractor")


def test_who_may_report_progress(org):
    project = project_in(org, "a")
    services.member_add(
        actor=org.user("a_housing"),
        project=project,
        user=org.user("a_contractor"),
        role=MemberRole.CONTRACTOR,
    )
    services.member_add(
        actor=org.user("a_housing"),
        project=project,
        user=org.user("a_supervisor"),
        role=MemberRole.SUPERVISOR,
    )
    own = _item(org, project, "1", who="a_contractor")
    other = _item(org, project, "2")
    services.wbs_progress(actor=org.user("a_contractor"), item=own, progress=40)  # the responsible person
    with pytest.raises(PermissionDenied):
        services.wbs_progress(actor=org.user("a_contractor"), item=other, progress=40)
    services.wbs_progress(actor=org.user("a_supervisor"), item=other, progress=30)  # the site supervisor
    for who, error in (
        ("a_auditor", PermissionDenied),
        ("a_finance", PermissionDenied),
        ("a_evaluator", NotFound),
        ("b_housing", NotFound),
    ):
        with pytest.raises(error):
            services.wbs_progress(actor=org.user(who), item=other, progress=99)
    assert WbsItem.objects.get(pk=other.pk).progress == Decimal("30.0")


@pytest.mark.parametrize("value", ["101", "-1", "abc", "NaN", None])
def test_progress_out_of_range_is_refused(org, value):
    project = project_in(org, "a")
    item = _item(org, project)
    with pytest.raises(ValidationFailed):
        services.wbs_progress(actor=org.user("a_housing"), item=item, progress=value)


@pytest.mark.parametrize("who", ["a_civil", "a_finance", "a_contractor", "b_housing"])
def test_wbs_management_needs_the_capability_and_the_project(org, who):
    project = project_in(org, "a")
    with pytest.raises((PermissionDenied, NotFound)):
        services.wbs_item_create(
            actor=org.user(who),
            project=project,
            data={
                "code": "1",
                "name": "x",
                "responsible": org.user("a_housing").pk,
                "due_date": "2099-01-01",
            },
        )


def test_overdue_items_are_marked_and_listed_per_person_and_department(org):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    pa = project_in(org, "a")
    pb = project_in(org, "b")
    late1 = _item(org, pa, "1", due_date=yesterday)
    _item(org, pa, "2", who="a_drc", due_date=yesterday, department=org.depts["a.civil"].pk)
    done = _item(org, pa, "3", due_date=yesterday)
    services.wbs_progress(actor=org.user("a_housing"), item=done, progress=100)
    _item(org, pa, "4")  # not due yet
    services.wbs_item_create(
        actor=org.user("b_housing"),
        project=pb,
        data={"code": "1", "name": "b", "responsible": org.user("b_housing").pk, "due_date": yesterday},
    )
    assert WbsItem.objects.get(pk=late1.pk).is_overdue
    assert not WbsItem.objects.get(pk=done.pk).is_overdue

    overdue = selectors.overdue_items(org.user("a_drc"))
    assert {i.code for i in overdue} == {"1", "2"}  # county b's late item is not visible in county a
    by_person = {r["name"]: r["count"] for r in selectors.overdue_by_person(org.user("a_drc"))}
    assert by_person == {"a_housing": 1, "a_drc": 1}
    by_dept = {r["name"]: r["count"] for r in selectors.overdue_by_department(org.user("a_drc"))}
    assert by_dept == {"青溪区住房和城乡建设": 1, "青溪区民政": 1}
    assert {i.code for i in selectors.my_overdue_items(org.user("a_housing"))} == {"1"}
    city = {r["name"]: r["count"] for r in selectors.overdue_by_person(org.user("city_leader"))}
    assert city == {"a_housing": 1, "a_drc": 1, "b_housing": 1}


# ---------------------------------------------------------------------------------------------
# documents


def _media_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_document_is_stored_under_its_digest_with_size_and_type(org, settings):
    project = project_in(org, "a")
    doc = services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.FSR,
        title=" 可研报告 ",
        fileobj=pdf(),
        filename="可研.PDF",
    )
    import hashlib

    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert doc.sha256 == digest and doc.size == len(PDF_BYTES) and doc.content_type == "application/pdf"
    assert doc.title == "可研报告" and doc.stage == Stage.RESERVE
    assert doc.file.name.startswith(f"projects/{project.code}/{digest}")
    with default_storage.open(doc.file.name, "rb") as f:
        assert f.read() == PDF_BYTES
    assert AuditEvent.objects.filter(action="document.upload", object_id=str(doc.pk)).exists()


@pytest.mark.parametrize(
    ("content", "name", "field"),
    [
        (b"MZ\x90\x00not a pdf", "fsr.pdf", "file"),
        (PDF_BYTES, "fsr.exe", "file"),
        (b"", "fsr.pdf", "file"),
    ],
)
def test_bad_upload_writes_nothing(org, settings, content, name, field):
    project = project_in(org, "a")
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind=DocumentKind.FSR,
            title="t",
            fileobj=pdf(content),
            filename=name,
        )
    assert field in exc.value.fields
    assert _counts() == before and _media_files(settings) == []


def test_oversized_upload_writes_nothing(org, settings):
    settings.MINSHENG_MAX_UPLOAD_BYTES = 1024 * 1024
    project = project_in(org, "a")
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind=DocumentKind.FSR,
            title="t",
            fileobj=pdf(b"%PDF-" + b"0" * (1024 * 1024)),
            filename="big.pdf",
        )
    assert str(exc.value.fields["file"][0]) == "文件过大，上限为 1 MB。"
    assert _counts() == before and _media_files(settings) == []


def test_unknown_kind_and_empty_title_are_field_errors(org):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed) as exc:
        services.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind="selfie",
            title=" ",
            fileobj=pdf(),
            filename="a.pdf",
        )
    assert set(exc.value.fields) == {"kind", "title"}


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("a_auditor", PermissionDenied),
        ("a_evaluator", NotFound),
        ("b_housing", NotFound),
        ("a_leader", PermissionDenied),
    ],
)
def test_upload_needs_capability_and_a_role_on_the_project(org, who, error):
    project = project_in(org, "a")
    with pytest.raises(error):
        services.document_upload(
            actor=org.user(who),
            project=project,
            kind=DocumentKind.FSR,
            title="t",
            fileobj=pdf(),
            filename="a.pdf",
        )
    assert not Document.objects.exists()


def test_where_duties_are_separated_the_requester_cannot_approve_their_own_gate(org):
    from minsheng.projects.models import GateStatus
    from minsheng.testing.factories import project_in

    project = project_in(org, "a", dept="drc", responsible="a_drc")
    project.stage = Stage.PROPOSAL
    project.save()
    services.document_upload(actor=org.user("a_drc"), project=project, kind="proposal", title="建议书",
                             fileobj=io.BytesIO(b"%PDF-1.4 proposal"), filename="p.pdf")
    request = services.gate_request(actor=org.user("a_drc"), project=project, to_stage=Stage.FEASIBILITY)
    assert services.open_slots_for(org.user("a_drc"), request) == ["investment"]

    JurisdictionSetting.objects.create(key="lifecycle.separation_of_duties", division=org.county_a, value=True,
                                       source="本县内控制度", valid_from=dt.date(2020, 1, 1))
    assert services.open_slots_for(org.user("a_drc"), request) == []
    with pytest.raises(PermissionDenied):
        services.gate_decide(actor=org.user("a_drc"), request=request, approve=True)
    request.refresh_from_db()
    assert request.status == GateStatus.PENDING
