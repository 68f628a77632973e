"""Zero-based budgets: versions 估算 → 概算 → 预算 → 决算 built from lines, approval by authority and amount,
the 10 % 概算-over-估算 rule, the 概算 adjustment workflow, and funding commitments and arrivals.

Never imports procurement (decision 0004)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from minsheng.core.jurisdiction import rule_for
from minsheng.core.money import CENT, MAX_AMOUNT, parse_yuan
from minsheng.finance.models import (
    BudgetAdjustment,
    BudgetKind,
    BudgetLine,
    BudgetStatus,
    BudgetVersion,
    CostCategory,
    FundingArrival,
    FundingCommitment,
    FundingSourceKind,
)
from minsheng.finance.selectors.budgets import ORDER, approved_version
from minsheng.projects import lifecycle
from minsheng.projects import services as project_services
from minsheng.projects.lifecycle import Gate, Stage
from minsheng.projects.models import Project
from minsheng.projects.selectors import projects_visible

LINE_FIELDS = ("category", "item", "quantity", "unit", "unit_cost", "justification", "standard", "funding_source")
QTY = Decimal("0.001")
# The 10 % rule is the projects app's own (lifecycle.missing_evidence with check_estimate_excess): a gate
# that checks only that, so the budget and the design gate can never disagree.
_EXCESS_ONLY = Gate(Stage.DESIGN, Stage.PROCUREMENT, check_estimate_excess=True, tiered=False)


# --- input -----------------------------------------------------------------------------------------------

def check_currency(currency: Any, *, field: str = "currency") -> str:
    code = str(currency or "CNY").strip().upper()
    allowed = list(getattr(settings, "MINSHENG_CURRENCIES", ["CNY"]))
    if code not in allowed:
        raise ValidationFailed(fields={field: [_("不支持的币种：%(c)s（可用：%(a)s）。")
                                              % {"c": code, "a": "、".join(allowed)}]})
    return code


def _quantity(value: Any, field: str, errors: dict[str, list[Any]]) -> Decimal | None:
    try:
        qty = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("请输入数字。"))
        return None
    if not qty.is_finite() or qty <= 0:
        errors.setdefault(field, []).append(_("数量必须大于零。"))
        return None
    if qty.as_tuple().exponent < -3:  # type: ignore[operator]
        errors.setdefault(field, []).append(_("数量最多保留三位小数。"))
        return None
    if qty >= Decimal("1e11"):
        errors.setdefault(field, []).append(_("数量超出允许范围。"))
        return None
    return qty


def clean_line(data: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Validate one budget line; amount = quantity × unit cost, rounded half-up to the fen."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}

    def err(name: str, message: Any) -> None:
        errors.setdefault(prefix + name, []).append(message)

    category = data.get("category")
    if category not in CostCategory.values:
        err("category", _("费用类别无效。"))
    out["category"] = category
    for name, limit in (("item", 128), ("unit", 16), ("standard", 255)):
        text = str(data.get(name) or "").strip()
        if not text:
            err(name, _("此项为必填项。"))
        elif len(text) > limit:
            err(name, _("不能超过 %(n)d 个字。") % {"n": limit})
        out[name] = text
    justification = str(data.get("justification") or "").strip()
    if not justification:
        err("justification", _("请写明测算依据（零基预算不接受以往年度数为依据）。"))
    out["justification"] = justification
    source = data.get("funding_source") or FundingSourceKind.COUNTY
    if source not in FundingSourceKind.values:
        err("funding_source", _("资金来源无效。"))
    out["funding_source"] = source
    out["quantity"] = _quantity(data.get("quantity"), prefix + "quantity", errors)
    try:
        out["unit_cost"] = parse_yuan(data.get("unit_cost"), field=prefix + "unit_cost", allow_zero=False)
    except ValidationFailed as exc:
        for k, v in exc.fields.items():
            errors.setdefault(k, []).extend(v)
    if "currency" in data:
        try:
            check_currency(data["currency"], field=prefix + "currency")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if not errors:
        out["amount"] = (out["quantity"] * out["unit_cost"]).quantize(CENT, ROUND_HALF_UP)
        if out["amount"] > MAX_AMOUNT:
            err("unit_cost", _("金额超出允许范围。"))
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _clean_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors: dict[str, list[Any]] = {}
    out = []
    for i, line in enumerate(lines):
        try:
            out.append(clean_line(line, prefix=f"lines.{i}."))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _recompute_total(version: BudgetVersion) -> None:
    total = version.lines.aggregate(s=Coalesce(Sum("amount"), Decimal(0)))["s"]
    BudgetVersion.objects.filter(pk=version.pk).update(total=total)
    version.total = total


def _write_lines(version: BudgetVersion, lines: list[dict[str, Any]], start: int = 0) -> None:
    BudgetLine.objects.bulk_create(
        [BudgetLine(version=version, position=start + i, **line) for i, line in enumerate(lines)]
    )


# --- permission ------------------------------------------------------------------------------------------

def _require_visible(user: User, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def can_prepare(user: User, project: Project) -> bool:
    return user.can(Cap.BUDGET_PREPARE) and project_services.can_manage(user, project)


def _require_prepare(user: User, project: Project) -> None:
    _require_visible(user, project)
    if not can_prepare(user, project):
        raise PermissionDenied()


def approval_tier(project: Project, amount: Decimal) -> dict[str, Any]:
    tiers = rule_for("finance.budget_approval", project.division).value
    for tier in tiers:
        below = tier.get("below")
        if below is None or amount < Decimal(str(below)):
            return tier
    return tiers[-1]


def can_approve(user: User, version: BudgetVersion) -> bool:
    """The approver the jurisdiction names for this amount, at the level the amount requires (a project
    above that level at its own), on the project's line; never the person who prepared the version."""
    if not user.is_active or version.prepared_by_id == user.pk or not user.can(Cap.BUDGET_APPROVE):
        return False
    project = version.project
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    if user.division_id is None or not project.division_path.startswith(user.division.path):
        return False
    tier = approval_tier(project, version.total)
    level = min(int(tier["level"]), project.division.level)
    return user.role == tier["role"] and user.division.level == level


def approver_label(project: Project, amount: Decimal) -> str:
    tier = approval_tier(project, amount)
    return str(_("%(level)s级%(role)s") % {"level": {1: _("省"), 2: _("市"), 3: _("县")}.get(
        min(int(tier["level"]), project.division.level), ""), "role": Role(tier["role"]).label})


# --- the 10 % rule ---------------------------------------------------------------------------------------

def estimate_excess(project: Project, design_total: Decimal) -> list[str]:
    """Why a 概算 of `design_total` may not go forward (empty: it may). Uses the projects app's rule."""
    estimate = approved_version(project, BudgetKind.ESTIMATE)
    facts = dataclasses.replace(
        project_services.project_facts(project),
        estimate_amount=estimate.total if estimate else project.estimate_amount,
        design_estimate_amount=design_total,
    )
    rule = lifecycle.SimplifiedPathRule(all_documents_from=Decimal(0), fsr_replaces_proposal_from=Decimal(0))
    return lifecycle.missing_evidence(_EXCESS_ONLY, facts, rule)


# --- versions --------------------------------------------------------------------------------------------

def _check_order(project: Project, kind: str) -> None:
    if kind not in BudgetKind.values:
        raise ValidationFailed(fields={"kind": [_("预算类别无效。")]})
    index = ORDER.index(kind)
    approved = set(BudgetVersion.objects.filter(project=project, status=BudgetStatus.APPROVED)
                   .values_list("kind", flat=True))
    if index > 0 and ORDER[index - 1] not in approved:
        raise TransitionRefused(
            _("须先批准%(prev)s，才能编制%(kind)s。") % {"prev": BudgetKind(ORDER[index - 1]).label,
                                                   "kind": BudgetKind(kind).label},
            reasons=[_("预算按 估算 → 概算 → 预算 → 决算 的顺序编制。")])
    later = [k for k in ORDER[index + 1:] if k in approved]
    if later:
        raise TransitionRefused(_("%(later)s已批准，不能再编制%(kind)s。") % {
            "later": BudgetKind(later[0]).label, "kind": BudgetKind(kind).label})
    if kind == BudgetKind.DESIGN and BudgetKind.DESIGN in approved:
        raise TransitionRefused(_("概算已批准；调整概算须走概算调整程序（写明原因和资金来源，由原审批人审批）。"))


def _next_number(project: Project, kind: str) -> int:
    last = BudgetVersion.objects.filter(project=project, kind=kind).aggregate(m=Max("number"))["m"]
    return (last or 0) + 1


def _locked_project(project: Project) -> Project:
    # One writer per project at a time: version numbers and approvals stay consistent.
    return Project.objects.select_for_update().select_related("division", "lead_department").get(pk=project.pk)


@transaction.atomic
def budget_version_create(*, actor: User, project: Project, kind: str, lines: list[dict[str, Any]],
                          note: str = "", currency: str = "CNY") -> BudgetVersion:
    """A new draft version built from lines (possibly none yet). Bad input: nothing is written."""
    _require_prepare(actor, project)
    currency = check_currency(currency)
    clean = _clean_lines(lines)
    project = _locked_project(project)
    _check_order(project, kind)
    version = BudgetVersion.objects.create(project=project, kind=kind, number=_next_number(project, kind),
                                           note=note.strip(), prepared_by=actor, currency=currency)
    _write_lines(version, clean)
    _recompute_total(version)
    audit.record(actor=actor, action="budget.create", obj=version, after=audit.snapshot(version),
                 project_code=project.code, division_path=project.division_path)
    return version


@transaction.atomic
def budget_version_copy(*, actor: User, source: BudgetVersion, kind: str | None = None) -> BudgetVersion:
    """Start the next version (or a new one of the same kind) from `source`'s lines."""
    project = source.project
    _require_prepare(actor, project)
    kind = kind or source.kind
    project = _locked_project(project)
    _check_order(project, kind)
    version = BudgetVersion.objects.create(project=project, kind=kind, number=_next_number(project, kind),
                                           based_on=source, note=source.note, prepared_by=actor,
                                           currency=source.currency)
    fields = [f for f in LINE_FIELDS] + ["amount"]
    _write_lines(version, [{f: getattr(line, f) for f in fields} for line in source.lines.all()])
    _recompute_total(version)
    audit.record(actor=actor, action="budget.copy", obj=version, after={"based_on": source.pk, "kind": kind},
                 project_code=project.code, division_path=project.division_path)
    return version


def _editable(actor: User, version: BudgetVersion) -> BudgetVersion:
    """The version, locked, when `actor` may prepare it and it is still a draft (or returned): a submitted,
    approved or superseded version's lines never change."""
    _require_prepare(actor, version.project)
    locked = BudgetVersion.objects.select_for_update().select_related("project").get(pk=version.pk)
    if locked.status not in (BudgetStatus.DRAFT, BudgetStatus.REJECTED):
        raise Conflict(_("只能修改编制中或已退回的预算版本，已提交或已批准的版本不能修改。"))
    return locked


@transaction.atomic
def budget_line_add(*, actor: User, version: BudgetVersion, data: dict[str, Any]) -> BudgetLine:
    """Add a line to a draft with the same checks as creating the version; the total is recomputed."""
    locked = _editable(actor, version)
    line = clean_line(data)
    position = (locked.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    obj = BudgetLine.objects.create(version=locked, position=position, **line)
    _recompute_total(locked)
    audit.record(actor=actor, action="budget.line_add", obj=obj, after=audit.snapshot(obj),
                 project_code=locked.project.code, division_path=locked.project.division_path)
    return obj


@transaction.atomic
def budget_line_update(*, actor: User, line: BudgetLine, data: dict[str, Any]) -> BudgetLine:
    """Change a draft's line (the fields given; the others keep their values) with the same checks as creating
    it; the total is recomputed. Bad input: nothing is written."""
    locked = _editable(actor, line.version)
    line = BudgetLine.objects.select_for_update().get(pk=line.pk, version=locked)
    merged = {f: getattr(line, f) for f in LINE_FIELDS} | {k: v for k, v in data.items() if k in LINE_FIELDS}
    clean = clean_line(merged)
    before = audit.snapshot(line)
    for key, value in clean.items():
        setattr(line, key, value)
    line.save()
    _recompute_total(locked)
    audit.record(actor=actor, action="budget.line_update", obj=line, before=before, after=audit.snapshot(line),
                 project_code=locked.project.code, division_path=locked.project.division_path)
    return line


@transaction.atomic
def budget_line_remove(*, actor: User, line: BudgetLine) -> None:
    """Remove a draft's line; the total is recomputed."""
    locked = _editable(actor, line.version)
    audit.record(actor=actor, action="budget.line_remove", obj=line, before=audit.snapshot(line),
                 project_code=locked.project.code, division_path=locked.project.division_path)
    line.delete()
    _recompute_total(locked)


@transaction.atomic
def budget_submit(*, actor: User, version: BudgetVersion) -> BudgetVersion:
    """Send a draft for approval. A 概算 more than the allowed share above the approved 估算 is refused
    until the excess report is filed (or the 估算 is re-approved)."""
    project = version.project
    _require_prepare(actor, project)
    project = _locked_project(project)
    locked = BudgetVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status not in (BudgetStatus.DRAFT, BudgetStatus.REJECTED):
        raise Conflict(_("该预算版本已提交或已处理。"))
    if not locked.lines.exists():
        raise ValidationFailed(fields={"lines": [_("预算至少要有一条明细。")]})
    _check_order(project, locked.kind)
    if locked.kind == BudgetKind.DESIGN:
        reasons = estimate_excess(project, locked.total)
        if reasons:
            raise TransitionRefused(_("概算超过批准的估算，不能提交。"), reasons=reasons)
    before = audit.snapshot(locked, ["status"])
    locked.status = BudgetStatus.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["status", "submitted_at"])
    audit.record(actor=actor, action="budget.submit", obj=locked, before=before,
                 after=audit.snapshot(locked, ["status"]), project_code=project.code,
                 division_path=project.division_path)
    return locked


def _record_on_project(actor: User, version: BudgetVersion) -> None:
    if version.kind in (BudgetKind.ESTIMATE, BudgetKind.DESIGN):
        project_services.project_record_approved_cost(
            actor=actor, project=version.project, kind=version.kind, amount=version.total,
            source=f"budget:{version.pk}")


def _approve(actor: User, version: BudgetVersion, comment: str) -> None:
    previous = BudgetVersion.objects.filter(project=version.project, kind=version.kind,
                                            status=BudgetStatus.APPROVED).exclude(pk=version.pk)
    previous.update(status=BudgetStatus.SUPERSEDED)
    version.status = BudgetStatus.APPROVED
    version.approved_by = actor
    version.decided_at = timezone.now()
    version.decision_comment = comment
    version.approval_authority = (f"{actor.division.name if actor.division_id else ''}"
                                  f"{actor.get_role_display()}")[:64]
    version.save(update_fields=["status", "approved_by", "decided_at", "decision_comment", "approval_authority"])
    _record_on_project(actor, version)


@transaction.atomic
def budget_decide(*, actor: User, version: BudgetVersion, approve: bool, comment: str = "") -> BudgetVersion:
    """Approve or return a submitted version. The approver is the one the jurisdiction names for its total."""
    project = version.project
    _require_visible(actor, project)
    project = _locked_project(project)
    locked = BudgetVersion.objects.select_for_update().select_related("project", "project__division").get(
        pk=version.pk)
    if BudgetAdjustment.objects.filter(proposed=locked).exists():
        raise Conflict(_("这是概算调整，请在概算调整中由原审批人审批。"))
    if locked.status != BudgetStatus.SUBMITTED:
        raise Conflict(_("该预算版本不在待审批状态。"))
    if not can_approve(actor, locked):
        raise PermissionDenied(_("该预算应由%(who)s审批，且编制人不能审批自己编制的预算。")
                               % {"who": approver_label(project, locked.total)})
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationFailed(fields={"comment": [_("退回时请写明理由。")]})
    before = audit.snapshot(locked, ["status"])
    if approve:
        _check_order(project, locked.kind)
        if locked.kind == BudgetKind.DESIGN:
            reasons = estimate_excess(project, locked.total)
            if reasons:
                raise TransitionRefused(_("概算超过批准的估算，不能批准。"), reasons=reasons)
        _approve(actor, locked, comment)
    else:
        locked.status = BudgetStatus.REJECTED
        locked.decided_at = timezone.now()
        locked.decision_comment = comment
        locked.save(update_fields=["status", "decided_at", "decision_comment"])
    audit.record(actor=actor, action="budget.approve" if approve else "budget.reject", obj=locked, before=before,
                 after={"status": locked.status, "comment": comment}, project_code=project.code,
                 division_path=project.division_path)
    return locked


# --- 概算 adjustment ---------------------------------------------------------------------------------------

@transaction.atomic
def budget_adjustment_request(*, actor: User, original: BudgetVersion, lines: list[dict[str, Any]], reason: str,
                              funding_source: str, funding_document: str = "") -> BudgetAdjustment:
    """Propose a new 概算 in place of the approved one: why, where the extra money comes from, and it goes back
    to whoever approved the original."""
    project = original.project
    _require_prepare(actor, project)
    errors: dict[str, list[Any]] = {}
    if not reason.strip():
        errors["reason"] = [_("请写明调整原因。")]
    if funding_source not in FundingSourceKind.values:
        errors["funding_source"] = [_("请指明新增资金的来源。")]
    try:
        clean = _clean_lines(lines)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not lines and "lines" not in errors:
        errors["lines"] = [_("预算至少要有一条明细。")]
    if errors:
        raise ValidationFailed(fields=errors)
    project = _locked_project(project)
    original = BudgetVersion.objects.select_for_update().get(pk=original.pk)
    if original.kind != BudgetKind.DESIGN or original.status != BudgetStatus.APPROVED:
        raise Conflict(_("只能调整已批准的概算。"))
    if BudgetAdjustment.objects.filter(project=project, status=BudgetAdjustment.Status.PENDING).exists():
        raise Conflict(_("该项目已有待审批的概算调整。"))
    proposed = BudgetVersion.objects.create(
        project=project, kind=BudgetKind.DESIGN, number=_next_number(project, BudgetKind.DESIGN), based_on=original,
        status=BudgetStatus.SUBMITTED, submitted_at=timezone.now(), note=reason.strip(), prepared_by=actor,
        currency=original.currency)
    _write_lines(proposed, clean)
    _recompute_total(proposed)
    adjustment = BudgetAdjustment.objects.create(
        project=project, original=original, proposed=proposed, reason=reason.strip(), funding_source=funding_source,
        funding_document=funding_document.strip()[:128], original_approver=original.approved_by, requested_by=actor)
    audit.record(actor=actor, action="budget.adjust_request", obj=adjustment, after=audit.snapshot(adjustment),
                 project_code=project.code, division_path=project.division_path)
    return adjustment


@transaction.atomic
def budget_adjustment_decide(*, actor: User, adjustment: BudgetAdjustment, approve: bool,
                             comment: str = "") -> BudgetAdjustment:
    project = adjustment.project
    _require_visible(actor, project)
    project = _locked_project(project)
    locked = BudgetAdjustment.objects.select_for_update().select_related("original", "proposed").get(
        pk=adjustment.pk)
    if locked.status != BudgetAdjustment.Status.PENDING:
        raise Conflict(_("该概算调整已处理。"))
    if actor.pk != locked.original_approver_id or not actor.can(Cap.BUDGET_APPROVE):
        raise PermissionDenied(_("概算调整只能由原审批人（%(who)s）审批。") % {"who": locked.original_approver})
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationFailed(fields={"comment": [_("退回时请写明理由。")]})
    now = timezone.now()
    proposed = locked.proposed
    if approve:
        BudgetVersion.objects.filter(pk=locked.original_id).update(status=BudgetStatus.SUPERSEDED)
        _approve(actor, proposed, comment)
    else:
        proposed.status = BudgetStatus.REJECTED
        proposed.decided_at = now
        proposed.decision_comment = comment
        proposed.save(update_fields=["status", "decided_at", "decision_comment"])
    locked.status = BudgetAdjustment.Status.APPROVED if approve else BudgetAdjustment.Status.REJECTED
    locked.decided_at = now
    locked.decision_comment = comment
    locked.save(update_fields=["status", "decided_at", "decision_comment"])
    audit.record(actor=actor, action="budget.adjust_approve" if approve else "budget.adjust_reject", obj=locked,
                 after={"status": locked.status, "comment": comment}, project_code=project.code,
                 division_path=project.division_path)
    return locked


# --- funding ---------------------------------------------------------------------------------------------

def can_record_funding(user: User, project: Project) -> bool:
    return (user.can(Cap.PAYMENT_APPROVE_FINANCE) and projects_visible(user).filter(pk=project.pk).exists()) or \
        can_prepare(user, project)


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed(fields={field: [_("日期格式应为 YYYY-MM-DD。")]}) from None
    if day > timezone.localdate():
        raise ValidationFailed(fields={field: [_("日期不能晚于今天。")]})
    return day


@transaction.atomic
def funding_commit(*, actor: User, project: Project, source: str, amount: Any, document: str = "",
                   committed_on: Any = None, currency: str = "CNY") -> FundingCommitment:
    _require_visible(actor, project)
    if not can_record_funding(actor, project):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    if source not in FundingSourceKind.values:
        errors["source"] = [_("资金来源无效。")]
    try:
        value = parse_yuan(amount, field="amount", allow_zero=False)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        check_currency(currency)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        day = _date(committed_on or timezone.localdate(), "committed_on")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    obj = FundingCommitment.objects.create(project=project, source=source, amount=value,
                                           document=document.strip()[:128], committed_on=day, created_by=actor)
    audit.record(actor=actor, action="funding.commit", obj=obj, after=audit.snapshot(obj),
                 project_code=project.code, division_path=project.division_path)
    return obj


@transaction.atomic
def funding_arrive(*, actor: User, commitment: FundingCommitment, amount: Any, arrived_on: Any,
                   voucher: str = "", currency: str = "CNY") -> FundingArrival:
    project = commitment.project
    _require_visible(actor, project)
    if not can_record_funding(actor, project):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    try:
        value = parse_yuan(amount, field="amount", allow_zero=False)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        check_currency(currency)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        day = _date(arrived_on, "arrived_on")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    locked = FundingCommitment.objects.select_for_update().get(pk=commitment.pk)
    so_far = locked.arrivals.aggregate(s=Coalesce(Sum("amount"), Decimal(0)))["s"]
    if so_far + value > locked.amount:
        raise ValidationFailed(fields={"amount": [_("到位金额累计（%(s)s 元）将超过计划金额（%(c)s 元）。")
                                                  % {"s": f"{so_far + value:,.2f}", "c": f"{locked.amount:,.2f}"}]})
    obj = FundingArrival.objects.create(commitment=locked, amount=value, arrived_on=day,
                                        voucher=voucher.strip()[:64], recorded_by=actor)
    audit.record(actor=actor, action="funding.arrive", obj=obj, after=audit.snapshot(obj),
                 project_code=project.code, division_path=project.division_path)
    return obj
