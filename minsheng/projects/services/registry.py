"""Registering and editing projects, their targets, members and documents."""

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
from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.files import check_upload
from minsheng.core.models import Department, Division, DivisionLevel
from minsheng.core.money import parse_yuan
from minsheng.projects import code as project_code
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import (
    CodeSequence,
    Document,
    Domain,
    MemberRole,
    PerformanceTarget,
    Project,
    ProjectMember,
    TargetDimension,
)
from minsheng.projects.services.permissions import _require_manage, _require_visible, can_manage

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
    new_lead = org.get("lead_department")
    if new_lead is not None and not project.division_path.startswith(new_lead.division.path):
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
