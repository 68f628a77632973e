"""Does a project's history obey the statutory gates? Used to prove the demo generator (and any
bulk import) writes data the real services could have written.

For each stage transition it rebuilds what was known when the gate was requested — documents
uploaded by then, the investment figure of the time, targets, the checklist — and asks the same
`lifecycle.missing_evidence` the services ask; it checks that the approvals fill the gate's slots
with people `services.can_fill_slot` accepts, that the transitions chain from reserve to the
current stage, and that the project's dates and progress agree with its history.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from minsheng.core.jurisdiction import rule_for
from minsheng.projects import lifecycle, services, wbs
from minsheng.projects.lifecycle import ORDER, PathKind, Stage
from minsheng.projects.models import GateApproval, GateRequest, GateStatus, Project


def projects_for_check() -> QuerySet[Project]:
    approvals = GateApproval.objects.select_related("approver__division", "approver__department")
    return Project.objects.select_related(
        "division", "lead_department__division", "responsible_person"
    ).prefetch_related(
        "transitions",
        "documents",
        "targets",
        "wbs_items",
        Prefetch(
            "gate_requests",
            queryset=GateRequest.objects.select_related(
                "requested_by__division", "requested_by__department"
            ).prefetch_related(Prefetch("approvals", queryset=approvals)),
        ),
    )


class Rules:
    """The per-jurisdiction figures, read once (the demo sets none, so defaults apply everywhere)."""

    def __init__(self) -> None:
        simplified = rule_for("lifecycle.simplified_path", None).value
        self.path = lifecycle.SimplifiedPathRule(
            Decimal(str(simplified["all_documents_from"])),
            Decimal(str(simplified["fsr_replaces_proposal_from"])),
        )
        self.tiers = rule_for("lifecycle.approval_tiers", None).value
        self.major_from = Decimal(str(rule_for("lifecycle.major_project_from", None).value))
        self.excess = Decimal(str(rule_for("finance.estimate_excess_ratio", None).value))


def _amount_leaving(project: Project, stage: str) -> Decimal | None:
    known = stage == Stage.SUSPENDED or (stage in ORDER and ORDER.index(stage) >= ORDER.index(Stage.DESIGN))
    return (
        project.design_estimate_amount if known and project.design_estimate_amount else None
    ) or project.estimate_amount


def _facts(project: Project, stage: str, previous: str | None, at, rules: Rules) -> lifecycle.Facts:
    amount = _amount_leaving(project, stage)
    design = project.design_estimate_amount if amount == project.design_estimate_amount else None
    items = list(project.wbs_items.all())
    parents = {i.parent_id for i in items if i.parent_id}
    leaves = [i for i in items if i.pk not in parents]
    filled = {"lead_department", "responsible_person", "division"}
    if project.estimate_amount is not None:
        filled.add("estimate_amount")
    if design is not None:
        filled.add("design_estimate_amount")
    return lifecycle.Facts(
        stage=stage,
        previous_stage=previous,
        amount=amount,
        estimate_amount=project.estimate_amount,
        design_estimate_amount=design,
        is_major=project.is_high_impact or (amount is not None and amount >= rules.major_from),
        is_emergency=project.is_emergency,
        filled_fields=filled,
        documents={d.kind for d in project.documents.all() if d.uploaded_at <= at},
        target_count=len(project.targets.all()),
        wbs_total=len(leaves),
        wbs_incomplete=sum(1 for i in leaves if i.progress < 100 or (i.completed_at and i.completed_at > at)),
        estimate_excess_ratio=rules.excess,
    )


def _check_request(
    project: Project, request: GateRequest, gate: lifecycle.Gate, previous: str | None, rules: Rules
) -> list[str]:
    out: list[str] = []
    where = f"{request.from_stage}→{request.to_stage}"
    facts = _facts(project, request.from_stage, previous, request.requested_at, rules)
    for reason in lifecycle.missing_evidence(gate, facts, rules.path, reason=request.reason):
        out.append(f"{where}: {reason}")
    expected_level = lifecycle.approval_level(rules.tiers, facts.amount) if gate.tiered else None
    if request.required_level != expected_level:
        out.append(f"{where}: required level {request.required_level}, expected {expected_level}")
    if list(request.required_slots) != list(gate.slots):
        out.append(f"{where}: slots {request.required_slots}, gate needs {list(gate.slots)}")
    leader_gate = gate.path in (PathKind.SUSPEND, PathKind.RESUME, PathKind.CANCEL)
    requester = request.requested_by
    if not (services.can_manage(requester, project) or (leader_gate and requester.role == "leader")):
        out.append(f"{where}: {requester.username} may not request this gate")
    return out


def _check_approvers(project: Project, request: GateRequest) -> list[str]:
    out: list[str] = []
    where = f"{request.from_stage}→{request.to_stage}"
    for approval in request.approvals.all():
        if approval.slot not in request.required_slots:
            out.append(f"{where}: slot {approval.slot} was not asked for")
        if not services.can_fill_slot(approval.approver, approval.slot, project, request.required_level):
            out.append(f"{where}: {approval.approver.username} may not fill slot {approval.slot}")
        if approval.at < request.requested_at:
            out.append(f"{where}: approval before the request")
    return out


def check_project(project: Project, rules: Rules | None = None) -> list[str]:
    """Every way the project's stored history breaks the gate rules; empty when consistent."""
    rules = rules or Rules()
    out: list[str] = []
    transitions = sorted(project.transitions.all(), key=lambda t: (t.at, t.pk))
    requests = {r.pk: r for r in project.gate_requests.all()}
    stage, previous = Stage.RESERVE, None
    for t in transitions:
        where = f"{t.from_stage}→{t.to_stage}"
        if t.from_stage != stage:
            out.append(f"{where}: chain broken, project was in {stage}")
        gate = lifecycle.find_gate(t.from_stage, t.to_stage, t.path, previous)
        request = requests.get(t.request_id)
        if gate is None:
            out.append(f"{where}: no such gate on path {t.path}")
        elif request is None or request.status != GateStatus.APPROVED:
            out.append(f"{where}: no approved gate request")
        else:
            if (request.from_stage, request.to_stage, request.path) != (t.from_stage, t.to_stage, t.path):
                out.append(f"{where}: request is for {request.from_stage}→{request.to_stage}")
            approved = {a.slot for a in request.approvals.all() if a.approve}
            if not approved >= set(gate.slots):
                out.append(f"{where}: approvals {sorted(approved)} do not fill {list(gate.slots)}")
            out += _check_request(project, request, gate, previous, rules)
            if request.decided_at != t.at:
                out.append(f"{where}: transition not at the decision time")
        previous = t.from_stage if t.to_stage == Stage.SUSPENDED else None
        stage = t.to_stage
    if stage != project.stage:
        out.append(f"history ends in {stage}, project is in {project.stage}")
    if project.stage == Stage.SUSPENDED and project.previous_stage != (previous or ""):
        out.append("previous_stage does not match the suspension")
    if transitions and project.stage_changed_at != transitions[-1].at:
        out.append("stage_changed_at differs from the last transition")
    entered = {t.to_stage: t.at for t in transitions}
    for stage_name, field in ((Stage.CONSTRUCTION, "actual_start"), (Stage.ACCEPTANCE, "actual_end")):
        value = getattr(project, field)
        if (stage_name in entered) != (value is not None):
            out.append(f"{field} set without entering {stage_name} (or missing)")
    for request in requests.values():
        out += _check_approvers(project, request)
    pending = [r for r in requests.values() if r.status == GateStatus.PENDING]
    if len(pending) > 1:
        out.append("more than one pending gate request")
    for request in pending:
        gate = lifecycle.find_gate(
            project.stage, request.to_stage, request.path, project.previous_stage or None
        )
        if gate is None or request.from_stage != project.stage:
            out.append(
                f"pending request {request.from_stage}→{request.to_stage} does not start at the current stage"
            )
        else:
            out += _check_request(project, request, gate, project.previous_stage or None, rules)
    items = list(project.wbs_items.all())
    total, _per = wbs.rollup([wbs.Node(i.pk, i.parent_id, i.weight, i.progress) for i in items])
    if items and total != project.progress:
        out.append(f"progress {project.progress} differs from the checklist roll-up {total}")
    for doc in project.documents.all():
        if doc.uploaded_at < project.created_at:
            out.append(f"document {doc.title} predates the project")
    return out
