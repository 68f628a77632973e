"""Suppliers (供应商): the registry procurement officers keep — name, 统一社会信用代码 checked against GB 32100-2015,
address, contact — and the contractor accounts that act for each."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.procurement import uscc
from minsheng.procurement.models import Supplier
from minsheng.procurement.services.common import clean_text

FIELDS = ("name", "credit_code", "address", "contact_name", "contact_phone")
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
USCC_ERRORS = {
    "length": _("统一社会信用代码应为 18 位。"),
    "character": _("统一社会信用代码只能由数字和大写字母组成，且不使用 I、O、Z、S、V。"),
    "check": _("统一社会信用代码校验位不符，请逐位核对。"),
}


def may_manage_suppliers(user: Any) -> bool:
    """Whoever may organise tenders (a department officer or an administrator) keeps the supplier registry."""
    return bool(user.is_authenticated and user.can(Cap.TENDER_MANAGE))


def require_supplier_manager(user: Any) -> None:
    if not may_manage_suppliers(user):
        raise PermissionDenied(_("只有招标采购经办人可以管理供应商。"))


def credit_code_error(value: Any) -> str | None:
    """The translated reason a 统一社会信用代码 is not valid, or None."""
    try:
        uscc.validate(str(value or ""))
    except uscc.InvalidCode as exc:
        return str(USCC_ERRORS[exc.reason])
    return None


def _clean(data: dict[str, Any], *, supplier: Supplier | None) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}

    def text(field: str, max_length: int, required: bool = False) -> None:
        try:
            out[field] = clean_text(data.get(field), field=field, max_length=max_length, required=required)
        except ValidationFailed as exc:
            errors.update(exc.fields)

    text("name", 128, required=True)
    text("address", 255)
    text("contact_name", 32)
    text("contact_phone", 20)
    if out.get("contact_phone") and not _PHONE.match(out["contact_phone"]):
        errors["contact_phone"] = [_("联系电话只能包含数字、空格和 + - ( )。")]
    code = uscc.normalise(data.get("credit_code", ""))
    problem = credit_code_error(code) if code else _("此项必填。")
    if problem and code and supplier is not None and code == supplier.credit_code and in_use(supplier):
        problem = None  # a code registered before the check, frozen by its bids: the other fields stay editable
    if problem:
        errors["credit_code"] = [problem]
    else:
        taken = Supplier.objects.filter(credit_code=code)
        if supplier is not None:
            taken = taken.exclude(pk=supplier.pk)
        if taken.exists():
            errors["credit_code"] = [_("该统一社会信用代码已登记为其他供应商。")]
        elif supplier is not None and code != supplier.credit_code and in_use(supplier):
            # Sealed bids are bound to the code (associated data) and OCDS parties are named by it.
            errors["credit_code"] = [_("该供应商已参与投标或签订合同，统一社会信用代码不能再修改。")]
    out["credit_code"] = code
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def in_use(supplier: Supplier) -> bool:
    """Has bid, been awarded or contracted: its credit code is then fixed."""
    return supplier.bids.exists() or supplier.awards.exists() or supplier.contracts.exists()


@transaction.atomic
def supplier_create(*, actor: Any, name: str, credit_code: str, address: str = "", contact_name: str = "",
                    contact_phone: str = "") -> Supplier:
    require_supplier_manager(actor)
    data = _clean({"name": name, "credit_code": credit_code, "address": address, "contact_name": contact_name,
                   "contact_phone": contact_phone}, supplier=None)
    try:
        with transaction.atomic():
            supplier = Supplier.objects.create(**data)
    except IntegrityError:  # a concurrent registration of the same code won
        raise ValidationFailed(fields={"credit_code": [_("该统一社会信用代码已登记为其他供应商。")]}) from None
    audit.record(actor=actor, action="supplier.create", obj=supplier, after=audit.snapshot(supplier, list(FIELDS)))
    return supplier


@transaction.atomic
def supplier_update(*, actor: Any, supplier: Supplier, **changes: Any) -> Supplier:
    """Change any of name, credit_code, address, contact_name, contact_phone (the others keep their value)."""
    require_supplier_manager(actor)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("不能修改此项。")] for name in sorted(unknown)})
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    before = audit.snapshot(supplier, list(FIELDS))
    data = _clean({**before, **{k: v for k, v in changes.items() if v is not None}}, supplier=supplier)
    for name, value in data.items():
        setattr(supplier, name, value)
    try:
        with transaction.atomic():
            supplier.save(update_fields=list(FIELDS))
    except IntegrityError:
        raise ValidationFailed(fields={"credit_code": [_("该统一社会信用代码已登记为其他供应商。")]}) from None
    audit.record(actor=actor, action="supplier.update", obj=supplier, before=before,
                 after=audit.snapshot(supplier, list(FIELDS)))
    return supplier


@transaction.atomic
def supplier_user_link(*, actor: Any, supplier: Supplier, user: Any) -> Supplier:
    """Let a contractor account act for the supplier (ask, bid, complain in its name)."""
    require_supplier_manager(actor)
    if user.role != Role.CONTRACTOR or not user.is_active:
        raise ValidationFailed(fields={"user": [_("只能关联在用的施工单位（投标人）账号。")]})
    if supplier.users.filter(pk=user.pk).exists():
        raise Conflict(_("该账号已关联本供应商。"))
    supplier.users.add(user)
    audit.record(actor=actor, action="supplier.user_link", obj=supplier, after={"user": user.pk})
    return supplier


@transaction.atomic
def supplier_user_unlink(*, actor: Any, supplier: Supplier, user: Any) -> Supplier:
    """The account no longer acts for the supplier; bids it already lodged stay the supplier's."""
    require_supplier_manager(actor)
    if not supplier.users.filter(pk=user.pk).exists():
        raise Conflict(_("该账号未关联本供应商。"))
    supplier.users.remove(user)
    audit.record(actor=actor, action="supplier.user_unlink", obj=supplier, before={"user": user.pk},
                 after={"user": None})
    return supplier
