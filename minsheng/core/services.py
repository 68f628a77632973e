"""Writes to the organisation tree and notifications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from minsheng.core import audit
from minsheng.core.errors import ValidationFailed
from minsheng.core.models import CODE_LENGTH, Department, DepartmentKind, Division, DivisionLevel, Notification


@transaction.atomic
def division_create(*, actor: Any, code: str, name: str, level: int, parent: Division | None) -> Division:
    errors: dict[str, list[Any]] = {}
    if level not in DivisionLevel.values:
        errors["level"] = [_("层级无效。")]
    elif not code.isdigit() or len(code) != CODE_LENGTH[DivisionLevel(level)]:
        errors["code"] = [
            _("%(level)s级区划代码应为 %(n)d 位数字。")
            % {"level": DivisionLevel(level).label, "n": CODE_LENGTH[DivisionLevel(level)]}
        ]
    if parent is None and level != DivisionLevel.PROVINCE:
        errors["parent"] = [_("除省级外，区划必须有上级。")]
    if parent is not None and level != parent.level + 1:
        errors["level"] = [_("下级区划的层级必须比上级低一级。")]
    if not name.strip():
        errors["name"] = [_("请填写名称。")]
    if errors:
        raise ValidationFailed(fields=errors)
    division = Division(code=code, name=name.strip(), level=level, parent=parent, path="")
    try:
        with transaction.atomic():
            division.save()
    except IntegrityError:
        raise ValidationFailed(fields={"code": [_("该区划代码已存在。")]}) from None
    division.path = f"{parent.path if parent else '/'}{division.pk}/"
    division.save(update_fields=["path"])
    audit.record(actor=actor, action="division.create", obj=division, after=audit.snapshot(division),
                 division_path=division.path)
    return division


@transaction.atomic
def department_create(*, actor: Any, division: Division, kind: str, name: str = "") -> Department:
    if kind not in DepartmentKind.values:
        raise ValidationFailed(fields={"kind": [_("部门类别无效。")]})
    label = name.strip() or f"{division.name}{DepartmentKind(kind).label}"
    try:
        with transaction.atomic():
            dept = Department.objects.create(division=division, kind=kind, name=label)
    except IntegrityError:
        raise ValidationFailed(fields={"kind": [_("该区划已有此类部门。")]}) from None
    audit.record(actor=actor, action="department.create", obj=dept, after=audit.snapshot(dept),
                 division_path=division.path)
    return dept


def notify(*, recipient: Any, kind: str, text: str, link: str = "", dedupe_key: str = "") -> Notification | None:
    """Create an in-app notification; with a dedupe key, the same notice is never sent twice."""
    if dedupe_key:
        obj, created = Notification.objects.get_or_create(
            recipient=recipient, dedupe_key=dedupe_key, defaults={"kind": kind, "text": text[:255], "link": link}
        )
        return obj if created else None
    return Notification.objects.create(recipient=recipient, kind=kind, text=text[:255], link=link)


def notify_many(*, recipient_ids: Iterable[int], kind: str, text: str, link: str = "", dedupe_key: str = "") -> None:
    """The same in-app notification to several people in one insert; with a dedupe key, anyone who
    already has it is skipped (the unique constraint, not a read first)."""
    rows = [Notification(recipient_id=pk, kind=kind, text=text[:255], link=link, dedupe_key=dedupe_key)
            for pk in recipient_ids]
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))


def notifications_mark_read(*, actor: Any, ids: Iterable[int] | None = None) -> int:
    """Mark `actor`'s own notifications read: those of `ids`, or all unread when `ids` is None. Ids of
    somebody else's notifications are ignored (nobody can read, or mark, another person's). Returns how
    many changed."""
    from django.utils import timezone

    if not getattr(actor, "is_authenticated", False):
        return 0
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=[int(i) for i in ids])
    return qs.update(read_at=timezone.now())
