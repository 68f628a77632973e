"""The statutory gates as pure rules: evidence per gate, simplified paths, major projects, tiers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from minsheng.projects import lifecycle
from minsheng.projects.lifecycle import DocumentKind as D
from minsheng.projects.lifecycle import PathKind, Slot, Stage

RULE = lifecycle.SimplifiedPathRule(
    all_documents_from=Decimal("50000000"), fsr_replaces_proposal_from=Decimal("15000000")
)
TIERS = [{"below": "50000000", "level": 3}, {"below": "500000000", "level": 2}, {"below": None, "level": 1}]
ENTRY_FIELDS = {"estimate_amount", "lead_department", "responsible_person", "division"}


def facts(**kw) -> lifecycle.Facts:
    amount = kw.pop("amount", Decimal("3000000"))
    base = dict(
        stage=Stage.RESERVE,
        previous_stage=None,
        amount=amount,
        estimate_amount=amount,
        design_estimate_amount=None,
        is_major=False,
        is_emergency=False,
        filled_fields=set(ENTRY_FIELDS | {"design_estimate_amount"}),
        documents=set(),
        target_count=1,
        wbs_total=1,
        wbs_incomplete=0,
    )
    base.update(kw)
    return lifecycle.Facts(**base)


def gate(frm, to, path=None, previous=None) -> lifecycle.Gate:
    g = lifecycle.find_gate(frm, to, path, previous)
    assert g is not None, (frm, to, path)
    return g


# Each forward gate: the documents it needs and who approves it.
FORWARD = [
    (Stage.PROPOSAL, Stage.FEASIBILITY, [D.PROPOSAL], (Slot.INVESTMENT,), True),
    (Stage.FEASIBILITY, Stage.DESIGN, [D.FSR], (Slot.INVESTMENT,), True),
    (Stage.DESIGN, Stage.PROCUREMENT, [D.DESIGN], (Slot.INVESTMENT,), True),
    (Stage.PROCUREMENT, Stage.CONSTRUCTION, [D.CONTRACT], (Slot.LEAD_DEPARTMENT,), False),
    (Stage.CONSTRUCTION, Stage.ACCEPTANCE, [D.COMPLETION], (Slot.LEAD_DEPARTMENT,), False),
    (Stage.ACCEPTANCE, Stage.FINAL_ACCOUNTS, [D.ACCEPTANCE], (Slot.LEAD_DEPARTMENT,), False),
    (Stage.FINAL_ACCOUNTS, Stage.OPERATION, [D.FINAL_ACCOUNTS], (Slot.FINANCE, Slot.LEAD_DEPARTMENT), False),
    (Stage.OPERATION, Stage.POST_EVALUATION, [D.OM_REPORT], (Slot.INVESTMENT,), False),
]


@pytest.mark.parametrize(("frm", "to", "docs", "slots", "tiered"), FORWARD)
def test_each_forward_gate_lists_its_documents_and_approvers(frm, to, docs, slots, tiered):
    g = gate(frm, to)
    assert g.path == PathKind.FULL
    assert list(g.documents) == docs
    assert g.slots == slots
    assert g.tiered is tiered
    missing = lifecycle.missing_evidence(g, facts(stage=frm), RULE)
    for kind in docs:
        assert f"缺少文件：{D(kind).label}。" in missing
    assert lifecycle.missing_evidence(g, facts(stage=frm, documents=set(docs)), RULE) == []


def test_the_forward_gates_chain_reserve_to_post_evaluation():
    stages = [Stage.RESERVE, Stage.PROPOSAL] + [to for _f, to, *_ in FORWARD]
    assert stages == lifecycle.ORDER


def test_entering_the_pipeline_needs_the_core_fields_and_a_performance_target():
    g = gate(Stage.RESERVE, Stage.PROPOSAL)
    missing = lifecycle.missing_evidence(g, facts(filled_fields=set(), target_count=0), RULE)
    assert missing == [
        "缺少必填信息：估算总投资。",
        "缺少必填信息：牵头部门。",
        "缺少必填信息：项目责任人。",
        "缺少必填信息：所在区划。",
        "未设定绩效目标（至少一项指标）。",
    ]
    assert lifecycle.missing_evidence(g, facts(), RULE) == []


@pytest.mark.parametrize(
    ("amount", "fsr_replaces", "design_only"),
    [
        (Decimal("14999999.99"), True, True),
        (Decimal("15000000"), True, False),
        (Decimal("49999999.99"), True, False),
        (Decimal("50000000"), False, False),
        (None, False, False),
    ],
)
def test_simplified_paths_open_by_amount_threshold(amount, fsr_replaces, design_only):
    f = facts(amount=amount)
    g_fsr = gate(Stage.RESERVE, Stage.FEASIBILITY, PathKind.FSR_REPLACES_PROPOSAL)
    g_design = gate(Stage.RESERVE, Stage.DESIGN, PathKind.DESIGN_ONLY)
    assert (lifecycle.path_allowed(g_fsr, f, RULE) is None) is fsr_replaces
    assert (lifecycle.path_allowed(g_design, f, RULE) is None) is design_only
    # The full path is always open.
    assert lifecycle.path_allowed(gate(Stage.RESERVE, Stage.PROPOSAL), f, RULE) is None


def test_simplified_path_thresholds_are_data_not_constants():
    ningbo = lifecycle.SimplifiedPathRule(
        all_documents_from=Decimal("30000000"), fsr_replaces_proposal_from=Decimal("10000000")
    )
    g = gate(Stage.RESERVE, Stage.DESIGN, PathKind.DESIGN_ONLY)
    f = facts(amount=Decimal("12000000"))
    assert lifecycle.path_allowed(g, f, RULE) is None
    assert "10,000,000" in lifecycle.path_allowed(g, f, ningbo)


def test_refusal_of_a_simplified_path_says_why():
    g = gate(Stage.RESERVE, Stage.FEASIBILITY, PathKind.FSR_REPLACES_PROPOSAL)
    missing = lifecycle.missing_evidence(g, facts(amount=Decimal("60000000")), RULE)
    assert missing == ["总投资达到 50,000,000 元及以上的项目须编报项目建议书，不能走简化程序。"]


def test_emergency_path_needs_an_emergency_project_and_its_basis():
    g = gate(Stage.RESERVE, Stage.DESIGN, PathKind.EMERGENCY)
    assert lifecycle.missing_evidence(g, facts(), RULE) == [
        "只有应急项目可以走应急简化程序。",
        "缺少文件：应急项目依据。",
    ]
    assert lifecycle.missing_evidence(g, facts(is_emergency=True, documents={D.EMERGENCY_BASIS}), RULE) == []


def test_major_projects_need_opinion_survey_expert_review_and_risk_assessment():
    g = gate(Stage.FEASIBILITY, Stage.DESIGN)
    f = facts(stage=Stage.FEASIBILITY, is_major=True, documents={D.FSR})
    assert lifecycle.missing_evidence(g, f, RULE) == [
        "缺少文件：民意调查报告。",
        "缺少文件：专家论证意见。",
        "缺少文件：社会稳定风险评估。",
    ]
    f.documents |= {D.OPINION_SURVEY, D.EXPERT_REVIEW, D.RISK_ASSESSMENT}
    assert lifecycle.missing_evidence(g, f, RULE) == []
    # An ordinary project does not need them.
    assert lifecycle.missing_evidence(g, facts(stage=Stage.FEASIBILITY, documents={D.FSR}), RULE) == []


@pytest.mark.parametrize(
    ("design", "needs_report"),
    [
        (Decimal("11000000.00"), False),  # exactly 10 % above: allowed
        (Decimal("11000000.01"), True),
        (Decimal("9000000"), False),
    ],
)
def test_design_estimate_more_than_ten_percent_above_fsr_needs_the_excess_report(design, needs_report):
    g = gate(Stage.DESIGN, Stage.PROCUREMENT)
    f = facts(
        stage=Stage.DESIGN,
        estimate_amount=Decimal("10000000"),
        design_estimate_amount=design,
        documents={D.DESIGN},
    )
    missing = lifecycle.missing_evidence(g, f, RULE)
    assert any("概算超估算情况报告" in m for m in missing) is needs_report
    f.documents.add(D.ESTIMATE_EXCESS)
    assert lifecycle.missing_evidence(g, f, RULE) == []


def test_design_gate_needs_the_design_estimate():
    g = gate(Stage.DESIGN, Stage.PROCUREMENT)
    f = facts(stage=Stage.DESIGN, filled_fields=set(ENTRY_FIELDS), documents={D.DESIGN})
    assert lifecycle.missing_evidence(g, f, RULE) == ["缺少必填信息：概算总投资。"]


def test_acceptance_needs_every_sub_item_complete():
    g = gate(Stage.CONSTRUCTION, Stage.ACCEPTANCE)
    docs = {D.COMPLETION}
    assert lifecycle.missing_evidence(g, facts(wbs_total=0, documents=docs), RULE) == [
        "责任清单为空，无法确认完工。"
    ]
    assert lifecycle.missing_evidence(g, facts(wbs_total=3, wbs_incomplete=2, documents=docs), RULE) == [
        "还有 2 个子项未完成。"
    ]
    assert lifecycle.missing_evidence(g, facts(wbs_total=3, wbs_incomplete=0, documents=docs), RULE) == []


@pytest.mark.parametrize("stage", lifecycle.ORDER[:-1])
def test_suspend_and_cancel_are_open_from_every_live_stage_and_need_a_reason(stage):
    for target, path in ((Stage.SUSPENDED, PathKind.SUSPEND), (Stage.CANCELLED, PathKind.CANCEL)):
        g = gate(stage, target)
        assert g.path == path and g.slots == (Slot.LEADER,) and not g.tiered
        assert lifecycle.missing_evidence(g, facts(stage=stage), RULE) == ["请填写理由。"]
        assert lifecycle.missing_evidence(g, facts(stage=stage), RULE, reason="资金未到位") == []


def test_resume_returns_only_to_the_stage_it_was_suspended_from():
    options = lifecycle.gates_from(Stage.SUSPENDED, Stage.DESIGN)
    assert {(g.to_stage, g.path) for g in options} == {
        (Stage.DESIGN, PathKind.RESUME),
        (Stage.CANCELLED, PathKind.CANCEL),
    }
    assert lifecycle.find_gate(Stage.SUSPENDED, Stage.CONSTRUCTION, None, Stage.DESIGN) is None


def test_terminal_stages_have_no_way_out():
    assert lifecycle.gates_from(Stage.CANCELLED) == []
    assert lifecycle.gates_from(Stage.POST_EVALUATION) == []


def test_no_stage_can_be_skipped_on_the_full_path():
    assert lifecycle.find_gate(Stage.PROPOSAL, Stage.CONSTRUCTION, None) is None
    assert lifecycle.find_gate(Stage.DESIGN, Stage.FEASIBILITY, None) is None


@pytest.mark.parametrize(
    ("amount", "level"),
    [
        (None, 3),
        (Decimal("0"), 3),
        (Decimal("49999999.99"), 3),
        (Decimal("50000000"), 2),
        (Decimal("499999999.99"), 2),
        (Decimal("500000000"), 1),
        (Decimal("999999999999.99"), 1),
    ],
)
def test_approval_level_by_amount_tier(amount, level):
    assert lifecycle.approval_level(TIERS, amount) == level


def test_approval_level_defaults_to_province_when_no_tier_matches():
    assert lifecycle.approval_level([{"below": "100", "level": 3}], Decimal("1000")) == 1
