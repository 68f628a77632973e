"""Staff roles and what each may do. Pure data: no ORM here.

Visibility (which projects a role sees) is decided in `scoping.py`; this module says which
actions a role may take on what it sees.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEADER = "leader", _("分管领导")
    DEPT_OFFICER = "dept_officer", _("部门经办人")
    FINANCE_OFFICER = "finance_officer", _("财政经办人")
    SUPERVISOR = "supervisor", _("监理")
    TOWNSHIP_INSPECTOR = "township_inspector", _("乡镇巡查员")
    AUDITOR = "auditor", _("审计人员")
    EVALUATOR = "evaluator", _("第三方评价")
    CONTRACTOR = "contractor", _("施工单位")
    EXPERT = "expert", _("评标专家")
    VILLAGE_REP = "village_rep", _("村民代表")
    SYSADMIN = "sysadmin", _("系统管理员")


class Cap(models.TextChoices):
    """Capabilities. Names read as `object.verb`."""

    PROJECT_VIEW = "project.view", _("查看项目")
    PROJECT_CREATE = "project.create", _("登记项目")
    PROJECT_EDIT = "project.edit", _("修改项目")
    WBS_MANAGE = "wbs.manage", _("管理责任清单")
    WBS_PROGRESS = "wbs.progress", _("填报子项进度")
    GATE_REQUEST = "gate.request", _("申请阶段转换")
    GATE_APPROVE = "gate.approve", _("审批阶段关口")
    DOCUMENT_UPLOAD = "document.upload", _("上传文件")
    AUDIT_VIEW = "audit.view", _("查看审计记录")
    ORG_MANAGE = "org.manage", _("管理区划部门")
    BUDGET_PREPARE = "budget.prepare", _("编制预算")
    BUDGET_APPROVE = "budget.approve", _("审批预算")
    PAYMENT_REQUEST = "payment.request", _("申请拨付")
    PAYMENT_APPROVE_DEPT = "payment.approve_dept", _("部门审核拨付")
    PAYMENT_APPROVE_FINANCE = "payment.approve_finance", _("财政审核拨付")
    TENDER_MANAGE = "tender.manage", _("组织招标")
    BID_SUBMIT = "bid.submit", _("投标")
    BID_EVALUATE = "bid.evaluate", _("评标")
    CONTRACT_MANAGE = "contract.manage", _("管理合同")
    REDFLAG_VIEW = "redflag.view", _("查看风险线索")
    AUDIT_SAMPLE = "audit.sample", _("抽查资金")
    # 首问负责制: whoever in a government body takes a citizen's call or visit registers it (the hotline
    # screen); companies, experts and village representatives do not.
    FEEDBACK_INTAKE = "feedback.intake", _("登记群众来电来访")


_ALL = set(Cap)
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.SYSADMIN: frozenset(_ALL),
    Role.LEADER: frozenset(
        {Cap.PROJECT_VIEW, Cap.GATE_APPROVE, Cap.GATE_REQUEST, Cap.AUDIT_VIEW, Cap.WBS_PROGRESS, Cap.BUDGET_APPROVE,
         Cap.REDFLAG_VIEW, Cap.FEEDBACK_INTAKE}
    ),
    Role.DEPT_OFFICER: frozenset(
        {Cap.PROJECT_VIEW, Cap.PROJECT_CREATE, Cap.PROJECT_EDIT, Cap.WBS_MANAGE, Cap.WBS_PROGRESS,
         Cap.GATE_REQUEST, Cap.GATE_APPROVE, Cap.DOCUMENT_UPLOAD, Cap.BUDGET_PREPARE, Cap.PAYMENT_REQUEST,
         Cap.PAYMENT_APPROVE_DEPT, Cap.TENDER_MANAGE, Cap.CONTRACT_MANAGE, Cap.FEEDBACK_INTAKE}
    ),
    Role.FINANCE_OFFICER: frozenset(
        {Cap.PROJECT_VIEW, Cap.GATE_APPROVE, Cap.DOCUMENT_UPLOAD, Cap.AUDIT_VIEW, Cap.BUDGET_APPROVE,
         Cap.PAYMENT_APPROVE_FINANCE, Cap.REDFLAG_VIEW, Cap.AUDIT_SAMPLE, Cap.FEEDBACK_INTAKE}
    ),
    Role.SUPERVISOR: frozenset({Cap.PROJECT_VIEW, Cap.WBS_PROGRESS, Cap.DOCUMENT_UPLOAD}),
    Role.TOWNSHIP_INSPECTOR: frozenset({Cap.PROJECT_VIEW, Cap.WBS_PROGRESS, Cap.DOCUMENT_UPLOAD, Cap.FEEDBACK_INTAKE}),
    Role.AUDITOR: frozenset(
        {Cap.PROJECT_VIEW, Cap.AUDIT_VIEW, Cap.REDFLAG_VIEW, Cap.AUDIT_SAMPLE, Cap.FEEDBACK_INTAKE}),
    Role.EVALUATOR: frozenset({Cap.PROJECT_VIEW}),
    Role.CONTRACTOR: frozenset({Cap.PROJECT_VIEW, Cap.WBS_PROGRESS, Cap.DOCUMENT_UPLOAD, Cap.BID_SUBMIT}),
    Role.EXPERT: frozenset({Cap.PROJECT_VIEW, Cap.BID_EVALUATE}),
    # 村民代表: sees the projects of their own village (their division is the village) and those they
    # are assigned to; records observations there (construction.services.observation_record).
    Role.VILLAGE_REP: frozenset({Cap.PROJECT_VIEW}),
}

# Roles that see only the projects they are assigned to (ProjectMember), not a whole division.
ASSIGNED_ONLY = frozenset({Role.SUPERVISOR, Role.EVALUATOR, Role.CONTRACTOR, Role.EXPERT})


def has_cap(role: str, cap: str) -> bool:
    return cap in CAPABILITIES.get(role, frozenset())
