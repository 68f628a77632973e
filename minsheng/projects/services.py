"""Writes to projects: registration, edits, documents, gates and the responsibility checklist.

Every service takes the acting user, checks permission and input, writes in one transaction,
records the audit trail and sends events on commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.files import check_upload
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import Department, DepartmentKind, Division, DivisionLevel
from minsheng.core.money import parse_yuan
from minsheng.projects import code as project_code
from minsheng.projects import lifecycle, wbs
from minsheng.projects.lifecycle import DocumentKind, Gate, PathKind, Slot, Stage
from minsheng.projects.models import (
    CodeSequence, Document, Domain, GateApproval, GateRequest, GateStatus, MemberRole, PerformanceTarget, Project,
    ProjectMember, StageTransition, TargetDimension, WbsItem,
)
from minsheng.projects.selectors import projects_visible

# ---------------------------------------------------------------------------------------------
# permissions


def can_manage(user: User, project: Project) -> bool:
    """May edit the project, its checklist and documents, and request its gates."""
    if not user.is_active:
        return False
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    if project.responsible_person_id == user.pk:
        return True
    if user.role != Role.DEPT_OFFICER or user.department_id is None or user.division_id is None:
        return False
    if not project.division_path.startswith(user.division.path):
        return False
    return user.department.kind in {project.lead_department.kind, DepartmentKind.DRC}


def _require_visible(user: User, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def _require_manage(user: User, project: Project, cap: str) -> None:
    _require_visible(user, project)
    if not user.can(cap) or not can_manage(user, project):
        raise PermissionDenied()


def _effective_level(project: Project, required_level: int | None) -> int | None:
    if required_level is None:
        return None
    # A project that sits above the tier's level (e.g. a city project under a county tier) is
    # approved at its own level: there is no county above it.
    return min(required_level, project.division.level)


def can_fill_slot(user: User, slot: str, project: Project, required_level: int | None) -> bool:
    if not user.is_active or user.division_id is None or not user.can(Cap.GATE_APPROVE):
        return False
    if not project.division_path.startswith(user.division.path):
        return False
    level = _effective_level(project, required_level)
    if level is not None and user.division.level != level:
        return False
    kind = user.department.kind if user.department_id else None
    if slot == Slot.INVESTMENT:
        return user.role == Role.DEPT_OFFICER and kind == DepartmentKind.DRC
    if slot == Slot.LEAD_DEPARTMENT:
        # The project's own 主管部门, not any department of the same kind on the chain (a city
        # housing officer does not sign for the county housing bureau's project).
        return user.role == Role.DEPT_OFFICER and user.department_id == project.lead_department_id
    if slot == Slot.FINANCE:
        return user.role == Role.FINANCE_OFFICER or (user.role == Role.DEPT_OFFICER and kind == DepartmentKind.FINANCE)
    if slot == Slot.LEADER:
        return user.role == Role.LEADER
    return False


def open_slots_for(user: User, request: GateRequest) -> list[str]:
    """The slots `user` may fill now. Where the jurisdiction separates duties, whoever asked for the
    gate may not approve it."""
    if request.requested_by_id == user.pk and rule_for("lifecycle.separation_of_duties",
                                                        request.project.division).value:
        return []
    filled = {a.slot for a in request.approvals.all()}
    return [
        s for s in request.required_slots
        if s not in filled and can_fill_slot(user, s, request.project, request.required_level)
    ]


# ---------------------------------------------------------------------------------------------
# registration and edits

_EDITABLE = [
    "name", "domain", "summary", "owner_unit", "address", "latitude", "longitude", "is_high_impact", "is_emergency",
    "beneficiaries_total", "beneficiaries_elderly", "beneficiaries_disabled", "beneficiaries_low_income",
    "beneficiaries_children", "estimate_amount", "design_estimate_amount", "planned_start", "planned_end",
    "lead_department", "responsible_person",
]


def _clean_project_data(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and convert raw input; collect every field error before refusing."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    required = ["name", "domain", "division", "lead_department", "responsible_person"]
    if not partial:
        for name in required:
            if data.get(name) in (None, ""):
                errors.setdefault(name, []).append(_("此项为必填项。"))
    if "name" in data and data["name"] is not None:
        name = str(data["name"]).strip()
        if not name:
            errors.setdefault("name", []).append(_("此项为必填项。"))
        elif len(name) > 128:
            errors.setdefault("name", []).append(_("名称不能超过 128 个字。"))
        out["name"] = name
    if data.get("domain") not in (None, ""):
        if data["domain"] not in Domain.values:
            errors.setdefault("domain", []).append(_("领域无效。"))
        out["domain"] = data["domain"]
    for money_field in ("estimate_amount", "design_estimate_amount"):
        if money_field in data:
            raw = data[money_field]
            if raw in (None, ""):
                out[money_field] = None
            else:
                try:
                    out[money_field] = parse_yuan(raw, field=money_field, allow_zero=False)
                except ValidationFailed as exc:
                    errors.update(exc.fields)
    for coord, limit in (("latitude", 90), ("longitude", 180)):
        if coord in data:
            raw = data[coord]
            if raw in (None, ""):
                out[coord] = None
                continue
            try:
                value = Decimal(str(raw)).quantize(Decimal("0.000001"))
                if not value.is_finite() or abs(value) > limit:
                    raise InvalidOperation
                out[coord] = value
            except (InvalidOperation, ValueError):
                errors.setdefault(coord, []).append(_("坐标无效。"))
    for count in ("beneficiaries_total", "beneficiaries_elderly", "beneficiaries_disabled",
                  "beneficiaries_low_income", "beneficiaries_children"):
        if count in data and data[count] not in (None, ""):
            try:
                value = int(data[count])
                if value < 0:
                    raise ValueError
                out[count] = value
            except (TypeError, ValueError):
                errors.setdefault(count, []).append(_("请输入非负整数。"))
    for day in ("planned_start", "planned_end"):
        if day in data:
            raw = data[day]
            if raw in (None, ""):
                out[day] = None
            elif isinstance(raw, dt.date):
                out[day] = raw
            else:
                try:
                    out[day] = dt.date.fromisoformat(str(raw))
                except ValueError:
                    errors.setdefault(day, []).append(_("日期格式应为 YYYY-MM-DD。"))
    if out.get("planned_start") and out.get("planned_end") and out["planned_end"] < out["planned_start"]:
        errors.setdefault("planned_end", []).append(_("计划完工不能早于计划开工。"))
    for flag in ("is_high_impact", "is_emergency"):
        if data.get(flag) is not None:
            out[flag] = bool(data[flag])
    for text in ("summary", "owner_unit", "address"):
        if text in data:
            out[text] = str(data[text] or "").strip()
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _resolve_org(data: dict[str, Any], errors: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("division") not in (None, ""):
        division = data["division"]
        if not isinstance(division, Division):
            division = Division.objects.filter(pk=_int_or_none(division)).first()
        if division is None:
            errors.setdefault("division", []).append(_("区划不存在。"))
        out["division"] = division
    if data.get("lead_department") not in (None, ""):
        dept = data["lead_department"]
        if not isinstance(dept, Department):
            dept = Department.objects.select_related("division").filter(pk=_int_or_none(dept)).first()
        if dept is None:
            errors.setdefault("lead_department", []).append(_("部门不存在。"))
        out["lead_department"] = dept
    if data.get("responsible_person") not in (None, ""):
        person = data["responsible_person"]
        if not isinstance(person, User):
            person = User.objects.filter(pk=_int_or_none(person), is_active=True).first()
        if person is None:
            errors.setdefault("responsible_person", []).append(_("责任人不存在或已停用。"))
        out["responsible_person"] = person
    return out


def _on_line(path: str, other: str) -> bool:
    """True when one division lies within the other: the same chain of command."""
    return path.startswith(other) or other.startswith(path)


def _may_be_named(person: User, division_path: str) -> bool:
    """A responsible person works in the project's division, above it or below it."""
    return person.division_id is not None and _on_line(division_path, person.division.path)


def _check_partners(partners: list[Department], division_path: str, errors: dict[str, list[Any]]) -> None:
    if any(not _on_line(division_path, d.division.path) for d in partners):
        errors.setdefault("partner_departments", []).append(_("配合部门须为项目所在区划上下级的部门。"))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next_serial(year: int, region: str) -> int:
    seq, _created = CodeSequence.objects.select_for_update().get_or_create(year=year, region=region)
    CodeSequence.objects.filter(pk=seq.pk).update(last=F("last") + 1)
    seq.refresh_from_db(fields=["last"])
    return seq.last


@transaction.atomic
def project_create(*, actor: User, data: dict[str, Any], partners: list[Department] | None = None) -> Project:
    if not actor.can(Cap.PROJECT_CREATE):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    try:
        clean = _clean_project_data(data, partial=False)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        clean = {}
    org = _resolve_org(data, errors)
    division: Division | None = org.get("division")
    dept: Department | None = org.get("lead_department")
    # The actor may only register projects inside their own division subtree.
    if division is not None and not (actor.is_superuser or actor.role == Role.SYSADMIN):
        if actor.division_id is None or not division.path.startswith(actor.division.path):
            errors.setdefault("division", []).append(_("只能在本级及下级区划登记项目。"))
    if division is not None and division.level < DivisionLevel.CITY:
        errors.setdefault("division", []).append(_("项目须落在市级或以下区划。"))
    if dept is not None and division is not None and not division.path.startswith(dept.division.path):
        errors.setdefault("lead_department", []).append(_("牵头部门须为项目所在区划或其上级的部门。"))
    person: User | None = org.get("responsible_person")
    if division is not None and person is not None and not _may_be_named(person, division.path):
        errors.setdefault("responsible_person", []).append(_("项目责任人须为项目所在区划上下级的工作人员。"))
    if division is not None and partners:
        _check_partners(partners, division.path, errors)
    raw_code = str(data.get("code") or "").strip()
    code_value = ""
    if raw_code:
        try:
            parsed = project_code.parse(raw_code)
            code_value = parsed.value
            if division is not None and parsed.region != division.region_code:
                errors.setdefault("code", []).append(_("项目代码的地区段与所在区划不符。"))
            elif Project.objects.filter(code=code_value).exists():
                errors.setdefault("code", []).append(_("该项目代码已登记。"))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    assert division is not None and dept is not None
    # Refuse a registration the actor could not manage afterwards (it would vanish from their view).
    draft = Project(division=division, division_path=division.path, lead_department=dept,
                    responsible_person=org["responsible_person"])
    if not can_manage(actor, draft):
        raise ValidationFailed(fields={"lead_department": [_("只能登记由本部门牵头或由您本人负责的项目。")]})
    if not code_value:
        year = timezone.localdate().year
        serial = _next_serial(year, division.region_code)
        code_value = project_code.build(
            year=year, region=division.region_code, department_kind=dept.kind, serial=serial
        ).value
    project = Project(
        code=code_value, division=division, division_path=division.path, lead_department=dept,
        responsible_person=org["responsible_person"], **clean,
    )
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        raise ValidationFailed(fields={"code": [_("该项目代码已登记。")]}) from None
    if partners:
        project.partner_departments.set(partners)
    audit.record(actor=actor, action="project.create", obj=project, after=audit.snapshot(project),
                 project_code=project.code, division_path=project.division_path)
    send_on_commit("projects.created", project_id=project.pk)
    return project


@transaction.atomic
def project_update(*, actor: User, project: Project, data: dict[str, Any]) -> Project:
    _require_manage(actor, project, Cap.PROJECT_EDIT)
    unknown = set(data) - set(_EDITABLE) - {"version"}
    if unknown:
        raise ValidationFailed(fields={k: [_("此字段不可修改。")] for k in sorted(unknown)})
    errors: dict[str, list[Any]] = {}
    try:
        clean = _clean_project_data(data, partial=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        clean = {}
    org = _resolve_org({k: data[k] for k in ("lead_department", "responsible_person") if k in data}, errors)
    if org.get("lead_department") is not None and not project.division_path.startswith(org["lead_department"].division.path):
        errors.setdefault("lead_department", []).append(_("牵头部门须为项目所在区划或其上级的部门。"))
    if org.get("responsible_person") is not None and not _may_be_named(org["responsible_person"],
                                                                        project.division_path):
        errors.setdefault("responsible_person", []).append(_("项目责任人须为项目所在区划上下级的工作人员。"))
    if "design_estimate_amount" in clean and project.stage not in (Stage.RESERVE, Stage.PROPOSAL,
                                                                   Stage.FEASIBILITY, Stage.DESIGN):
        # After the 概算 is approved it caps total investment; raising it is the adjustment workflow.
        if clean["design_estimate_amount"] != project.design_estimate_amount:
            errors.setdefault("design_estimate_amount", []).append(
                _("概算已批复，调整概算须走概算调整程序（原审批部门、注明资金来源）。"))
    if errors:
        raise ValidationFailed(fields=errors)
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if data.get("version") is not None and int(data["version"]) != locked.version:
        raise Conflict(_("项目已被他人修改，请刷新后再试。"))
    before = audit.snapshot(locked)
    for key, value in {**clean, **org}.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save()
    audit.record(actor=actor, action="project.update", obj=locked, before=before, after=audit.snapshot(locked),
                 project_code=locked.code, division_path=locked.division_path)
    return locked


@transaction.atomic
def target_add(*, actor: User, project: Project, dimension: str, indicator: str, unit: str,
               target_value: Any, comparator: str = ">=") -> PerformanceTarget:
    _require_manage(actor, project, Cap.PROJECT_EDIT)
    errors: dict[str, list[Any]] = {}
    if dimension not in TargetDimension.values:
        errors["dimension"] = [_("指标维度无效。")]
    if not indicator.strip():
        errors["indicator"] = [_("此项为必填项。")]
    if not unit.strip():
        errors["unit"] = [_("此项为必填项。")]
    if comparator not in (">=", "<=", "="):
        errors["comparator"] = [_("比较方式无效。")]
    try:
        value = Decimal(str(target_value))
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["target_value"] = [_("请输入数字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    target = PerformanceTarget.objects.create(project=project, dimension=dimension, indicator=indicator.strip(),
                                              unit=unit.strip(), comparator=comparator, target_value=value)
    audit.record(actor=actor, action="target.add", obj=target, after=audit.snapshot(target),
                 project_code=project.code, division_path=project.division_path)
    return target


@transaction.atomic
def member_add(*, actor: User, project: Project, user: User, role: str) -> ProjectMember:
    _require_manage(actor, project, Cap.PROJECT_EDIT)
    if role not in MemberRole.values:
        raise ValidationFailed(fields={"role": [_("角色无效。")]})
    member, created = ProjectMember.objects.get_or_create(project=project, user=user, role=role)
    if created:
        audit.record(actor=actor, action="member.add", obj=member, after=audit.snapshot(member),
                     project_code=project.code, division_path=project.division_path)
    return member


@transaction.atomic
def document_upload(*, actor: User, project: Project, kind: str, title: str, fileobj: IO[bytes],
                    filename: str) -> Document:
    _require_visible(actor, project)
    if not actor.can(Cap.DOCUMENT_UPLOAD):
        raise PermissionDenied()
    from minsheng.projects.selectors import is_member

    if not (can_manage(actor, project) or is_member(actor, project) or actor.role == Role.FINANCE_OFFICER):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [_("文件类别无效。")]
    if not title.strip():
        errors["title"] = [_("此项为必填项。")]
    if errors:
        raise ValidationFailed(fields=errors)
    checked = check_upload(fileobj, filename)
    from django.core.files import File

    doc = Document(project=project, kind=kind, title=title.strip()[:128], original_name=filename[:255],
                   content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                   stage=project.stage, uploaded_by=actor)
    # The file is stored under its digest before the row; a rolled-back upload leaves at most an
    # unreferenced file, never a row without its file.
    doc.file.save(filename, File(fileobj), save=False)
    doc.save()
    audit.record(actor=actor, action="document.upload", obj=doc, after=audit.snapshot(doc),
                 project_code=project.code, division_path=project.division_path)
    send_on_commit("projects.document_uploaded", document_id=doc.pk)
    return doc


# ---------------------------------------------------------------------------------------------
# gates


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


# ---------------------------------------------------------------------------------------------
# responsibility checklist (WBS)


def _clean_wbs(project: Project, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    if not partial:
        for name in ("code", "name", "responsible", "due_date"):
            if data.get(name) in (None, ""):
                errors.setdefault(name, []).append(_("此项为必填项。"))
    for text, limit in (("code", 16), ("name", 128)):
        if data.get(text) not in (None, ""):
            value = str(data[text]).strip()
            if len(value) > limit:
                errors.setdefault(text, []).append(_("内容过长。"))
            out[text] = value
    if data.get("responsible") not in (None, ""):
        person = data["responsible"]
        if not isinstance(person, User):
            person = User.objects.filter(pk=_int_or_none(person), is_active=True).first()
        if person is None:
            errors.setdefault("responsible", []).append(_("责任人不存在或已停用。"))
        elif not (_may_be_named(person, project.division_path) or
                  ProjectMember.objects.filter(project=project, user=person).exists()):
            errors.setdefault("responsible", []).append(_("责任人须为项目所在区划上下级的工作人员或项目参与单位人员。"))
        out["responsible"] = person
    if "department" in data:
        dept = data["department"]
        if dept in (None, ""):
            out["department"] = None
        else:
            if not isinstance(dept, Department):
                dept = Department.objects.select_related("division").filter(pk=_int_or_none(dept)).first()
            if dept is None:
                errors.setdefault("department", []).append(_("部门不存在。"))
            elif not _on_line(project.division_path, dept.division.path):
                errors.setdefault("department", []).append(_("责任部门须为项目所在区划上下级的部门。"))
            out["department"] = dept
    if data.get("due_date") not in (None, ""):
        raw = data["due_date"]
        try:
            out["due_date"] = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError:
            errors.setdefault("due_date", []).append(_("日期格式应为 YYYY-MM-DD。"))
    if data.get("weight") not in (None, ""):
        try:
            weight = Decimal(str(data["weight"]))
            if not weight.is_finite() or weight <= 0 or weight > Decimal("9999"):
                raise InvalidOperation
            out["weight"] = weight.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors.setdefault("weight", []).append(_("权重须为大于 0 的数字。"))
    if "parent" in data:
        parent = data["parent"]
        if parent in (None, ""):
            out["parent"] = None
        else:
            if not isinstance(parent, WbsItem):
                parent = WbsItem.objects.filter(pk=_int_or_none(parent), project=project).first()
            if parent is None or parent.project_id != project.pk:
                errors.setdefault("parent", []).append(_("上级子项不属于本项目。"))
            out["parent"] = parent
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _rollup(project: Project) -> None:
    nodes = [wbs.Node(i, p, w, g) for i, p, w, g in project.wbs_items.values_list("id", "parent_id", "weight",
                                                                                   "progress")]
    total, _per = wbs.rollup(nodes)
    Project.objects.filter(pk=project.pk).update(progress=total, updated_at=timezone.now())
    project.progress = total


@transaction.atomic
def wbs_item_create(*, actor: User, project: Project, data: dict[str, Any]) -> WbsItem:
    _require_manage(actor, project, Cap.WBS_MANAGE)
    clean = _clean_wbs(project, data, partial=False)
    if WbsItem.objects.filter(project=project, code=clean["code"]).exists():
        raise ValidationFailed(fields={"code": [_("本项目已有该编号的子项。")]})
    item = WbsItem.objects.create(project=project, **clean)
    _rollup(project)
    audit.record(actor=actor, action="wbs.create", obj=item, after=audit.snapshot(item),
                 project_code=project.code, division_path=project.division_path)
    return item


@transaction.atomic
def wbs_item_update(*, actor: User, item: WbsItem, data: dict[str, Any]) -> WbsItem:
    project = item.project
    _require_manage(actor, project, Cap.WBS_MANAGE)
    unknown = set(data) - {"code", "name", "responsible", "department", "due_date", "weight", "parent"}
    if unknown:
        raise ValidationFailed(fields={k: [_("此字段不可修改。")] for k in sorted(unknown)})
    clean = _clean_wbs(project, data, partial=True)
    ancestor = clean.get("parent")
    while ancestor is not None:
        # Walk up from the new parent: reaching the item itself would make a cycle, and the items
        # in it would silently drop out of the roll-up.
        if ancestor.pk == item.pk:
            raise ValidationFailed(fields={"parent": [_("子项不能以自身或其下级为上级。")]})
        ancestor = ancestor.parent
    if "code" in clean and WbsItem.objects.filter(project=project, code=clean["code"]).exclude(pk=item.pk).exists():
        raise ValidationFailed(fields={"code": [_("本项目已有该编号的子项。")]})
    item = WbsItem.objects.select_for_update().get(pk=item.pk)
    before = audit.snapshot(item)
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    _rollup(project)
    audit.record(actor=actor, action="wbs.update", obj=item, before=before, after=audit.snapshot(item),
                 project_code=project.code, division_path=project.division_path)
    return item


def can_report_progress(user: User, item: WbsItem) -> bool:
    from minsheng.projects.selectors import is_member

    if not user.can(Cap.WBS_PROGRESS):
        return False
    if item.responsible_id == user.pk or can_manage(user, item.project):
        return True
    return user.role == Role.SUPERVISOR and is_member(user, item.project, MemberRole.SUPERVISOR)


@transaction.atomic
def wbs_progress(*, actor: User, item: WbsItem, progress: Any) -> WbsItem:
    project = item.project
    _require_visible(actor, project)
    if not can_report_progress(actor, item):
        raise PermissionDenied()
    if item.children.exists():
        raise ValidationFailed(fields={"progress": [_("上级子项的进度由下级汇总，不能直接填报。")]})
    try:
        value = Decimal(str(progress)).quantize(Decimal("0.1"))
        if not value.is_finite() or not 0 <= value <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={"progress": [_("进度须为 0 到 100 之间的数字。")]}) from None
    item = WbsItem.objects.select_for_update().get(pk=item.pk)
    before = audit.snapshot(item, ["progress", "completed_at"])
    item.progress = value
    item.completed_at = timezone.now() if value == 100 else None
    item.save(update_fields=["progress", "completed_at", "updated_at"])
    _rollup(project)
    audit.record(actor=actor, action="wbs.progress", obj=item, before=before,
                 after=audit.snapshot(item, ["progress", "completed_at"]), project_code=project.code,
                 division_path=project.division_path)
    return item
