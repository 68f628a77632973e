"""Stage gates: what each lacks, requests, approvals and the transition itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, PermissionDenied, TransitionRefused, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.jurisdiction import rule_for
from minsheng.projects import lifecycle
from minsheng.projects.lifecycle import DocumentKind, Gate, PathKind, Slot, Stage
from minsheng.projects.models import (
    GateApproval,
    GateRequest,
    GateStatus,
    Project,
    StageTransition,
)
from minsheng.projects.services.permissions import _require_visible, can_manage, open_slots_for


def _simplified_rule(project: Project) -> lifecycle.SimplifiedPathRule:
    value = rule_for("lifecycle.simplified_path", project.division).value
    return lifecycle.SimplifiedPathRule(
        all_documents_from=Decimal(str(value["all_documents_from"])),
        fsr_replaces_proposal_from=Decimal(str(value["fsr_replaces_proposal_from"])),
    )


def project_facts(project: Project) -> lifecycle.Facts:
    major_from = Decimal(str(rule_for("lifecycle.major_project_from", project.division).value))
    ratio = Decimal(str(rule_for("finance.estimate_excess_ratio", project.division).value))
    amount = project.total_investment
    filled = {
        name for name in ("estimate_amount", "design_estimate_amount", "lead_department_id",
                          "responsible_person_id", "division_id")
        if getattr(project, name) not in (None, "")
    }
    filled = {n.removesuffix("_id") for n in filled}
    items = list(project.wbs_items.values_list("id", "parent_id", "progress"))
    parents = {p for _i, p, _g in items if p}
    leaves = [(i, g) for i, _p, g in items if i not in parents]
    return lifecycle.Facts(
        stage=project.stage,
        previous_stage=project.previous_stage or None,
        amount=amount,
        estimate_amount=project.estimate_amount,
        design_estimate_amount=project.design_estimate_amount,
        is_major=project.is_high_impact or (amount is not None and amount >= major_from),
        is_emergency=project.is_emergency,
        filled_fields=filled,
        documents=set(project.documents.values_list("kind", flat=True)),
        target_count=project.targets.count(),
        wbs_total=len(leaves),
        wbs_incomplete=sum(1 for _i, g in leaves if g < 100),
        estimate_excess_ratio=ratio,
    )


def gate_options(project: Project) -> list[dict[str, Any]]:
    """Each gate open from the current stage with what it still lacks: the page's checklist."""
    facts = project_facts(project)
    rule = _simplified_rule(project)
    out = []
    for gate in lifecycle.gates_from(project.stage, project.previous_stage or None):
        missing = lifecycle.missing_evidence(gate, facts, rule, reason="-" if gate.needs_reason else "")
        if gate.path in (PathKind.FSR_REPLACES_PROPOSAL, PathKind.DESIGN_ONLY, PathKind.EMERGENCY) and \
                lifecycle.path_allowed(gate, facts, rule):
            continue  # a simplified path this project does not qualify for is not offered at all
        out.append({
            "gate": gate, "to_stage": gate.to_stage, "to_label": Stage(gate.to_stage).label,
            "path": gate.path, "path_label": PathKind(gate.path).label, "missing": missing,
            "needs_reason": gate.needs_reason, "slots": [Slot(s).label for s in gate.slots],
            "documents": _gate_documents(gate, facts),
        })
    return out


def _gate_documents(gate: Gate, facts: lifecycle.Facts) -> list[dict[str, Any]]:
    kinds = list(gate.documents) + (list(gate.major_documents) if facts.is_major else [])
    return [{"kind": k, "label": DocumentKind(k).label, "present": k in facts.documents} for k in kinds]


def _required_level(gate: Gate, project: Project) -> int | None:
    if not gate.tiered:
        return None
    tiers = rule_for("lifecycle.approval_tiers", project.division).value
    return lifecycle.approval_level(tiers, project.total_investment)


@transaction.atomic
def gate_request(*, actor: User, project: Project, to_stage: str, path: str | None = None,
                 reason: str = "") -> GateRequest:
    """Ask to pass a gate. Refused (409, with every reason) when evidence is missing; nothing is written."""
    _require_visible(actor, project)
    if to_stage not in Stage.values:
        raise ValidationFailed(fields={"to_stage": [_("目标阶段无效。")]})
    if path is not None and path not in PathKind.values:
        raise ValidationFailed(fields={"path": [_("程序类型无效。")]})
    project = Project.objects.select_for_update().select_related("division", "lead_department").get(pk=project.pk)
    gate = lifecycle.find_gate(project.stage, to_stage, path, project.previous_stage or None)
    if gate is None:
        raise TransitionRefused(
            _("不能从“%(a)s”转到“%(b)s”。") % {"a": Stage(project.stage).label, "b": Stage(to_stage).label},
            reasons=[_("该阶段转换不在法定程序之内。")],
        )
    leader_gate = gate.path in (PathKind.SUSPEND, PathKind.RESUME, PathKind.CANCEL)
    allowed = actor.can(Cap.GATE_REQUEST) and (
        can_manage(actor, project) or (leader_gate and actor.role == Role.LEADER)
    )
    if not allowed:
        raise PermissionDenied()
    if GateRequest.objects.filter(project=project, status=GateStatus.PENDING).exists():
        raise Conflict(_("该项目已有待审批的关口申请，请等待审批或先撤回。"))
    missing = lifecycle.missing_evidence(gate, project_facts(project), _simplified_rule(project), reason=reason)
    if missing:
        raise TransitionRefused(_("条件不足，不能申请进入“%(b)s”。") % {"b": Stage(to_stage).label}, reasons=missing)
    request = GateRequest.objects.create(
        project=project, from_stage=project.stage, to_stage=to_stage, path=gate.path, reason=reason.strip(),
        required_slots=list(gate.slots), required_level=_required_level(gate, project), requested_by=actor,
    )
    audit.record(actor=actor, action="gate.request", obj=request, after=audit.snapshot(request),
                 project_code=project.code, division_path=project.division_path)
    if not gate.slots:
        _apply_transition(actor=actor, request=request)
        request.refresh_from_db()  # the caller (and the API response) must see it approved, not pending
    else:
        send_on_commit("projects.gate_requested", request_id=request.pk)
    return request


@transaction.atomic
def gate_decide(*, actor: User, request: GateRequest, approve: bool, comment: str = "") -> GateRequest:
    """Fill one approval slot. The last approval moves the project; any refusal closes the request.
    Two approvers acting at once produce exactly one transition: the request's status changes from
    pending only once (a conditional UPDATE), and the loser gets 409."""
    project = request.project
    _require_visible(actor, project)
    # Lock the request: two approvers filling *different* slots at once must not each see only their
    # own approval and leave a fully approved request pending.
    request = (
        GateRequest.objects.select_for_update(of=("self",))
        .select_related("project", "project__division", "project__lead_department")
        .get(pk=request.pk)
    )
    if request.status != GateStatus.PENDING:
        raise Conflict(_("该申请已处理（%(s)s）。") % {"s": GateStatus(request.status).label})
    slots = open_slots_for(actor, request)
    if not slots:
        raise PermissionDenied(_("您不具备该关口的审批权限，或您可审批的环节已有人审批。"))
    if not approve and not comment.strip():
        raise ValidationFailed(fields={"comment": [_("退回时请写明理由。")]})
    slot = slots[0]
    try:
        with transaction.atomic():
            approval = GateApproval.objects.create(request=request, slot=slot, approver=actor, approve=approve,
                                                   comment=comment.strip())
    except IntegrityError:
        raise Conflict(_("该审批环节已由他人处理，请刷新。")) from None
    audit.record(actor=actor, action="gate.approve" if approve else "gate.reject", obj=approval,
                 after=audit.snapshot(approval), project_code=request.project.code,
                 division_path=request.project.division_path)
    send_on_commit("projects.gate_approval_recorded", approval_id=approval.pk)
    filled = set(request.approvals.filter(approve=True).values_list("slot", flat=True))
    if not approve:
        _close_request(request, GateStatus.REJECTED)
        send_on_commit("projects.gate_decided", request_id=request.pk)
    elif filled >= set(request.required_slots):
        gate = lifecycle.find_gate(request.from_stage, request.to_stage, request.path,
                                   request.project.previous_stage or None)
        missing = lifecycle.missing_evidence(gate, project_facts(request.project), _simplified_rule(request.project),
                                             reason=request.reason) if gate else ["?"]
        if missing:
            raise TransitionRefused(_("批准时条件已不满足。"), reasons=missing)
        _apply_transition(actor=actor, request=request)
    request.refresh_from_db()
    return request


def _close_request(request: GateRequest, status: str) -> None:
    changed = GateRequest.objects.filter(pk=request.pk, status=GateStatus.PENDING).update(
        status=status, decided_at=timezone.now()
    )
    if changed != 1:
        raise Conflict(_("该申请已被他人处理，请刷新。"))


def _apply_transition(*, actor: User, request: GateRequest) -> StageTransition:
    _close_request(request, GateStatus.APPROVED)
    project = request.project
    today = timezone.localdate()
    updates: dict[str, Any] = {
        "stage": request.to_stage, "stage_changed_at": timezone.now(), "version": F("version") + 1,
        "updated_at": timezone.now(),
    }
    if request.to_stage == Stage.SUSPENDED:
        updates["previous_stage"] = request.from_stage
    elif request.from_stage == Stage.SUSPENDED:
        updates["previous_stage"] = ""
    if request.to_stage == Stage.CONSTRUCTION and project.actual_start is None:
        updates["actual_start"] = today
    if request.to_stage == Stage.ACCEPTANCE and project.actual_end is None:
        updates["actual_end"] = today
    moved = Project.objects.filter(pk=project.pk, stage=request.from_stage).update(**updates)
    if moved != 1:
        raise Conflict(_("项目阶段已被他人变更，请刷新。"))
    transition = StageTransition.objects.create(project=project, from_stage=request.from_stage,
                                                to_stage=request.to_stage, path=request.path, request=request,
                                                actor=actor)
    audit.record(actor=actor, action="project.transition", obj=project,
                 before={"stage": request.from_stage}, after={"stage": request.to_stage, "path": request.path},
                 project_code=project.code, division_path=project.division_path)
    send_on_commit("projects.stage_changed", transition_id=transition.pk)
    return transition


@transaction.atomic
def gate_withdraw(*, actor: User, request: GateRequest) -> GateRequest:
    _require_visible(actor, request.project)
    if request.requested_by_id != actor.pk and not can_manage(actor, request.project):
        raise PermissionDenied()
    _close_request(request, GateStatus.WITHDRAWN)
    audit.record(actor=actor, action="gate.withdraw", obj=request, before={"status": "pending"},
                 after={"status": "withdrawn"}, project_code=request.project.code,
                 division_path=request.project.division_path)
    request.refresh_from_db()
    return request
