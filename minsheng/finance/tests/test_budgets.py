"""Zero-based budgets: lines, versions in order, approval by authority and amount, the 10 % rule, 概算
adjustments, copies, funding and the two rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.errors import Conflict, NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from minsheng.core.models import AuditEvent
from minsheng.finance.models import (
    BudgetAdjustment,
    BudgetKind,
    BudgetLine,
    BudgetStatus,
    BudgetVersion,
    FundingArrival,
    FundingCommitment,
)
from minsheng.finance.selectors.budgets import funding_summary
from minsheng.finance.services import budgets as svc
from minsheng.finance.tests import factories as f
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import Project
from minsheng.projects.tests.helpers import upload
from minsheng.testing.factories import project_in


@pytest.fixture
def project(org):
    return project_in(org, "a", stage=Stage.FEASIBILITY)


def _create(org, project, kind=BudgetKind.ESTIMATE, lines=None, who="a_housing", **kw):
    return svc.budget_version_create(actor=org.user(who), project=project, kind=kind,
                                     lines=lines if lines is not None else [f.line()], **kw)


def _approve(org, version, who="a_finance"):
    svc.budget_submit(actor=org.user("a_housing"), version=version)
    return svc.budget_decide(actor=org.user(who), version=version, approve=True, comment="同意")


def test_line_amount_is_quantity_times_unit_cost_rounded_to_the_fen_and_total_follows(org, project):
    v = _create(org, project, lines=[f.line(quantity="3.333", unit_cost="10.05"), f.line(quantity="2",
                                                                                          unit_cost="0.01")])
    amounts = sorted(v.lines.values_list("amount", flat=True))
    assert amounts == [Decimal("0.02"), Decimal("33.50")]  # 3.333 × 10.05 = 33.49665 → 33.50
    assert BudgetVersion.objects.get(pk=v.pk).total == Decimal("33.52")
    svc.budget_line_add(actor=org.user("a_housing"), version=v, data=f.line(quantity="1", unit_cost="100"))
    assert BudgetVersion.objects.get(pk=v.pk).total == Decimal("133.52")
    first = v.lines.order_by("position").first()
    svc.budget_line_update(actor=org.user("a_housing"), line=first, data={"quantity": "1"})
    assert BudgetVersion.objects.get(pk=v.pk).total == Decimal("110.07")
    svc.budget_line_remove(actor=org.user("a_housing"), line=first)
    assert BudgetVersion.objects.get(pk=v.pk).total == Decimal("100.02")


def test_only_the_preparer_edits_the_lines_of_a_draft_and_never_after_submission(org, project):
    v = _create(org, project)
    line = v.lines.get()
    for who, error in (("a_finance", PermissionDenied), ("a_auditor", PermissionDenied), ("b_housing", NotFound)):
        with pytest.raises(error):
            svc.budget_line_add(actor=org.user(who), version=v, data=f.line())
        with pytest.raises(error):
            svc.budget_line_update(actor=org.user(who), line=line, data={"quantity": "1"})
        with pytest.raises(error):
            svc.budget_line_remove(actor=org.user(who), line=line)
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    before = (list(BudgetLine.objects.values_list("pk", "amount")),
              AuditEvent.objects.filter(action__startswith="budget.line_").count())
    edits = (lambda: svc.budget_line_add(actor=org.user("a_housing"), version=v, data=f.line()),
             lambda: svc.budget_line_update(actor=org.user("a_housing"), line=line, data={"quantity": "1"}),
             lambda: svc.budget_line_remove(actor=org.user("a_housing"), line=line))
    for call in edits:  # submitted
        with pytest.raises(Conflict):
            call()
    assert svc.budget_decide(actor=org.user("a_finance"), version=v, approve=True).status == BudgetStatus.APPROVED
    for call in edits:  # approved
        with pytest.raises(Conflict):
            call()
    assert (list(BudgetLine.objects.values_list("pk", "amount")),
            AuditEvent.objects.filter(action__startswith="budget.line_").count()) == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("unit_cost", "-5", "金额必须大于零。"),
    ("unit_cost", "0", "金额必须大于零。"),
    ("unit_cost", "12.345", "金额最多保留两位小数。"),
    ("quantity", "-1", "数量必须大于零。"),
    ("quantity", "1.0001", "数量最多保留三位小数。"),
    ("category", "bribes", "费用类别无效。"),
    ("justification", "", "请写明测算依据"),
    ("standard", " ", "此项为必填项。"),
    ("funding_source", "lottery", "资金来源无效。"),
])
def test_bad_line_edits_are_refused_and_nothing_is_written(org, project, field, value, message):
    v = _create(org, project)
    line = v.lines.get()
    before = (list(BudgetLine.objects.values_list("pk", *budget_fields())), BudgetVersion.objects.get(pk=v.pk).total,
              AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        svc.budget_line_update(actor=org.user("a_housing"), line=line, data={field: value})
    assert message in str(exc.value.fields[field][0])
    with pytest.raises(ValidationFailed) as exc:
        svc.budget_line_add(actor=org.user("a_housing"), version=v, data=f.line(**{field: value}))
    assert message in str(exc.value.fields[field][0])
    assert (list(BudgetLine.objects.values_list("pk", *budget_fields())), BudgetVersion.objects.get(pk=v.pk).total,
            AuditEvent.objects.count()) == before


def budget_fields() -> tuple[str, ...]:
    return (*svc.LINE_FIELDS, "amount")


def test_line_edits_are_audited(org, project):
    v = _create(org, project)
    added = svc.budget_line_add(actor=org.user("a_housing"), version=v, data=f.line(quantity="2", unit_cost="10"))
    svc.budget_line_update(actor=org.user("a_housing"), line=added, data={"quantity": "3"})
    svc.budget_line_remove(actor=org.user("a_housing"), line=added)
    events = list(AuditEvent.objects.filter(object_type="finance.budgetline").order_by("id").values_list(
        "action", "project_code"))
    assert events == [("budget.line_add", project.code), ("budget.line_update", project.code),
                      ("budget.line_remove", project.code)]
    update = AuditEvent.objects.get(action="budget.line_update")
    assert set(update.before) == set(update.after) == {"quantity", "amount"}
    assert Decimal(update.before["amount"]) == 20 and Decimal(update.after["amount"]) == 30


@pytest.mark.parametrize(("field", "value", "message"), [
    ("unit_cost", "-5", "金额必须大于零。"),
    ("unit_cost", "abc", "请输入数字金额（元）。"),
    ("unit_cost", "12.345", "金额最多保留两位小数。"),
    ("quantity", "-1", "数量必须大于零。"),
    ("quantity", "x", "请输入数字。"),
    ("currency", "USD", "不支持的币种"),
])
def test_bad_line_input_is_refused_with_a_translated_error_and_nothing_is_written(org, project, field, value,
                                                                                    message):
    before = (BudgetVersion.objects.count(), BudgetLine.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, lines=[f.line(), f.line(**{field: value})])
    assert message in str(exc.value.fields[f"lines.1.{field}"][0])
    assert (BudgetVersion.objects.count(), BudgetLine.objects.count(), AuditEvent.objects.count()) == before


def test_errors_are_translated_to_english(org, project):
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(ValidationFailed) as exc:
            _create(org, project, lines=[f.line(unit_cost="12.345")])
        assert "two decimal" in str(exc.value.fields["lines.0.unit_cost"][0])


def test_version_currency_other_than_cny_only_when_configured(org, project, settings):
    with pytest.raises(ValidationFailed):
        _create(org, project, currency="USD")
    settings.MINSHENG_CURRENCIES = ["CNY", "USD"]
    assert _create(org, project, currency="usd").currency == "USD"


def test_versions_go_in_order(org, project):
    with pytest.raises(TransitionRefused):
        _create(org, project, kind=BudgetKind.DESIGN)
    _approve(org, _create(org, project))
    design = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost="100000")])
    with pytest.raises(TransitionRefused):
        _create(org, project, kind=BudgetKind.BUDGET)
    _approve(org, design)
    with pytest.raises(TransitionRefused):  # a new 概算 after approval is an adjustment
        _create(org, project, kind=BudgetKind.DESIGN)
    with pytest.raises(TransitionRefused):  # nor may the 估算 be reopened under an approved 概算
        _create(org, project, kind=BudgetKind.ESTIMATE)
    assert _create(org, project, kind=BudgetKind.BUDGET).number == 1


def test_approval_by_authority_and_amount(org, project):
    small = _create(org, project)  # 102,600 yuan: the county finance officer
    svc.budget_submit(actor=org.user("a_housing"), version=small)
    for who, error in (("a_leader", PermissionDenied), ("a_housing", PermissionDenied), ("city_leader",
                                                                                           PermissionDenied),
                       ("b_finance", NotFound), ("a_supervisor", NotFound)):
        with pytest.raises(error):
            svc.budget_decide(actor=org.user(who), version=small, approve=True)
    svc.budget_decide(actor=org.user("a_finance"), version=small, approve=True, comment="同意")
    small.refresh_from_db()
    assert small.status == BudgetStatus.APPROVED and small.approved_by == org.user("a_finance")
    assert small.approval_authority.startswith("青溪区")

    big = project_in(org, "a", stage=Stage.FEASIBILITY)
    v = _create(org, big, lines=[f.line(quantity="1", unit_cost="20000000")])  # 2,000 万: the county leader
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    with pytest.raises(PermissionDenied) as exc:
        svc.budget_decide(actor=org.user("a_finance"), version=v, approve=True)
    assert "县级分管领导" in str(exc.value.message)
    svc.budget_decide(actor=org.user("a_leader"), version=v, approve=True)


def test_the_preparer_never_approves_their_own_version(org, project):
    v = _create(org, project, who="admin")
    svc.budget_submit(actor=org.user("admin"), version=v)
    with pytest.raises(PermissionDenied):
        svc.budget_decide(actor=org.user("admin"), version=v, approve=True)


def test_approval_tiers_are_jurisdiction_data(org, project):
    from minsheng.core.models import JurisdictionSetting

    JurisdictionSetting.objects.create(key="finance.budget_approval", division=org.county_a, source="本地规定",
                                       valid_from=dt.date(2020, 1, 1),
                                       value=[{"below": None, "level": 3, "role": "leader"}])
    v = _create(org, project)
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    with pytest.raises(PermissionDenied):
        svc.budget_decide(actor=org.user("a_finance"), version=v, approve=True)
    svc.budget_decide(actor=org.user("a_leader"), version=v, approve=True)


def test_rejecting_needs_a_reason_and_a_rejected_version_can_be_fixed_and_resubmitted(org, project):
    v = _create(org, project)
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    with pytest.raises(ValidationFailed):
        svc.budget_decide(actor=org.user("a_finance"), version=v, approve=False, comment=" ")
    svc.budget_decide(actor=org.user("a_finance"), version=v, approve=False, comment="单价偏高")
    with pytest.raises(Conflict):
        svc.budget_decide(actor=org.user("a_finance"), version=v, approve=True)
    svc.budget_line_update(actor=org.user("a_housing"), line=v.lines.first(), data={"unit_cost": "80"})
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    assert BudgetVersion.objects.get(pk=v.pk).status == BudgetStatus.SUBMITTED


def test_lines_are_editable_only_while_draft(org, project):
    v = _create(org, project)
    svc.budget_submit(actor=org.user("a_housing"), version=v)
    with pytest.raises(Conflict):
        svc.budget_line_add(actor=org.user("a_housing"), version=v, data=f.line())
    with pytest.raises(Conflict):
        svc.budget_line_remove(actor=org.user("a_housing"), line=v.lines.first())


def test_empty_version_cannot_be_submitted(org, project):
    v = _create(org, project, lines=[])
    with pytest.raises(ValidationFailed):
        svc.budget_submit(actor=org.user("a_housing"), version=v)


def test_approval_sets_the_project_figures(org, project):
    est = _create(org, project, lines=[f.line(quantity="1", unit_cost="1000000")])
    _approve(org, est)
    assert Project.objects.get(pk=project.pk).estimate_amount == Decimal("1000000.00")
    design = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost="1050000")])
    _approve(org, design)
    assert Project.objects.get(pk=project.pk).design_estimate_amount == Decimal("1050000.00")
    assert AuditEvent.objects.filter(action="project.approved_cost").count() == 2


def test_design_more_than_ten_percent_over_the_estimate_is_refused_unless_reported(org, project):
    _approve(org, _create(org, project, lines=[f.line(quantity="1", unit_cost="1000000")]))
    at_limit = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost="1100000")])
    svc.budget_submit(actor=org.user("a_housing"), version=at_limit)  # exactly +10 %: allowed
    over = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost="1100000.01")])
    with pytest.raises(TransitionRefused) as exc:
        svc.budget_submit(actor=org.user("a_housing"), version=over)
    assert "概算超估算情况报告" in exc.value.reasons[0]
    assert BudgetVersion.objects.get(pk=over.pk).status == BudgetStatus.DRAFT
    upload(org, project, DocumentKind.ESTIMATE_EXCESS)
    svc.budget_submit(actor=org.user("a_housing"), version=over)
    assert BudgetVersion.objects.get(pk=over.pk).status == BudgetStatus.SUBMITTED


def test_a_reapproved_estimate_lifts_the_cap(org, project):
    _approve(org, _create(org, project, lines=[f.line(quantity="1", unit_cost="1000000")]))
    design = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost="1200000")])
    with pytest.raises(TransitionRefused):
        svc.budget_submit(actor=org.user("a_housing"), version=design)
    first = BudgetVersion.objects.get(project=project, kind=BudgetKind.ESTIMATE)
    second = svc.budget_version_copy(actor=org.user("a_housing"), source=first)
    svc.budget_line_update(actor=org.user("a_housing"), line=second.lines.first(), data={"unit_cost": "1150000"})
    _approve(org, second)
    first.refresh_from_db()
    assert first.status == BudgetStatus.SUPERSEDED and second.number == 2
    _approve(org, design)
    assert BudgetVersion.objects.get(pk=design.pk).status == BudgetStatus.APPROVED


def test_copy_starts_the_next_version_from_the_lines(org, project):
    est = _create(org, project, lines=[f.line(), f.line(item="管网", quantity="10", unit_cost="300")])
    _approve(org, est)
    design = svc.budget_version_copy(actor=org.user("a_housing"), source=est, kind=BudgetKind.DESIGN)
    assert design.kind == BudgetKind.DESIGN and design.status == BudgetStatus.DRAFT and design.based_on == est
    assert design.total == est.total and design.lines.count() == 2


def _approved_design(org, project, amount="1000000"):
    _approve(org, _create(org, project, lines=[f.line(quantity="1", unit_cost=amount)]))
    design = _create(org, project, kind=BudgetKind.DESIGN, lines=[f.line(quantity="1", unit_cost=amount)])
    return _approve(org, design)


def test_adjustment_goes_back_to_the_original_approver_only(org, project):
    design = _approved_design(org, project)
    with pytest.raises(ValidationFailed) as exc:
        svc.budget_adjustment_request(actor=org.user("a_housing"), original=design, lines=[f.line()], reason=" ",
                                      funding_source="nowhere")
    assert set(exc.value.fields) == {"reason", "funding_source"}
    adj = svc.budget_adjustment_request(
        actor=org.user("a_housing"), original=design, lines=[f.line(quantity="1", unit_cost="1300000")],
        reason="地质条件变化，桩基加深", funding_source="special_bond", funding_document="青财建〔2026〕12号")
    assert adj.original_approver == org.user("a_finance") and adj.proposed.total == Decimal("1300000.00")
    with pytest.raises(Conflict):  # not through the ordinary approval
        svc.budget_decide(actor=org.user("a_finance"), version=adj.proposed, approve=True)
    for who in ("a_leader", "admin"):
        with pytest.raises(PermissionDenied):
            svc.budget_adjustment_decide(actor=org.user(who), adjustment=adj, approve=True)
    svc.budget_adjustment_decide(actor=org.user("a_finance"), adjustment=adj, approve=True, comment="同意调整")
    design.refresh_from_db()
    adj.refresh_from_db()
    assert design.status == BudgetStatus.SUPERSEDED and adj.status == BudgetAdjustment.Status.APPROVED
    assert BudgetVersion.objects.get(pk=adj.proposed_id).status == BudgetStatus.APPROVED
    assert Project.objects.get(pk=project.pk).design_estimate_amount == Decimal("1300000.00")


def test_rejected_adjustment_keeps_the_original(org, project):
    design = _approved_design(org, project)
    adj = svc.budget_adjustment_request(actor=org.user("a_housing"), original=design, lines=[f.line()],
                                        reason="增加绿化", funding_source="county")
    svc.budget_adjustment_decide(actor=org.user("a_finance"), adjustment=adj, approve=False, comment="理由不足")
    design.refresh_from_db()
    assert design.status == BudgetStatus.APPROVED
    assert Project.objects.get(pk=project.pk).design_estimate_amount == Decimal("1000000.00")


def test_funding_commitments_arrivals_and_rates(money):
    org, p = money.org, money.project
    fin = org.user("a_finance")
    c1 = svc.funding_commit(actor=fin, project=p, source="central", amount="2000000", document="财建〔2026〕1号")
    c2 = svc.funding_commit(actor=org.user("a_housing"), project=p, source="county", amount="1000000")
    svc.funding_arrive(actor=fin, commitment=c1, amount="1500000", arrived_on=timezone.localdate())
    with pytest.raises(ValidationFailed):  # more than committed
        svc.funding_arrive(actor=fin, commitment=c1, amount="500000.01", arrived_on=timezone.localdate())
    with pytest.raises(ValidationFailed):
        svc.funding_arrive(actor=fin, commitment=c2, amount="1", arrived_on=timezone.localdate() + dt.timedelta(1))
    for who, error in (("a_supervisor", PermissionDenied), ("a_contractor", NotFound), ("a_auditor", PermissionDenied),
                       ("b_finance", NotFound)):
        with pytest.raises(error):
            svc.funding_commit(actor=org.user(who), project=p, source="county", amount="1")
    assert FundingArrival.objects.count() == 1 and FundingCommitment.objects.count() == 2
    f.paid(f.PaymentRequest.objects.create(
        project=p, contract=money.contract, milestone=money.m1, amount=Decimal("300000"), invoice_number="X1",
        invoice_amount=Decimal("300000"), invoice_date=timezone.localdate(), requested_by=org.user("a_housing")))
    s = funding_summary(p)
    assert (s.committed, s.arrived, s.paid) == (Decimal("3000000"), Decimal("1500000"), Decimal("300000"))
    assert s.arrival_rate == Decimal("50.0")  # 资金到位率
    assert s.approved_budget == Decimal("3000000") and s.execution_rate == Decimal("10.0")  # 预算执行率


def test_funding_amount_is_parsed(money):
    with pytest.raises(ValidationFailed) as exc:
        svc.funding_commit(actor=money.org.user("a_finance"), project=money.project, source="county",
                           amount="1.001", currency="EUR")
    assert set(exc.value.fields) == {"amount", "currency"}
