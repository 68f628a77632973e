"""The responsibility checklist (WBS): sub-items, progress reports and the weighted roll-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import PermissionDenied, ValidationFailed
from minsheng.core.models import Department
from minsheng.projects import wbs
from minsheng.projects.models import (
    MemberRole,
    Project,
    ProjectMember,
    WbsItem,
)
from minsheng.projects.services.permissions import _require_manage, _require_visible, can_manage
from minsheng.projects.services.registry import _int_or_none, _may_be_named, _on_line


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
