"""Console pages: parse → call → render, scoped, errors shown where they belong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minsheng.finance.models import BudgetKind, BudgetStatus, BudgetVersion, EvmSnapshot, PaymentRequest, PaymentStatus
from minsheng.finance.services import payments as pay_svc
from minsheng.finance.tests import factories as f
from minsheng.projects.lifecycle import Stage
from minsheng.testing.factories import project_in


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_budget_page_shows_versions_rates_and_the_forms_by_role(money):
    org = money.org
    url = reverse("finance:budget", args=[money.project.pk])
    page = _client(org.user("a_housing")).get(url).content.decode()
    assert "预算版本" in page and "资金到位率" in page and "新建预算版本" in page and "申请概算调整" in page
    page = _client(org.user("a_auditor")).get(url).content.decode()
    assert "新建预算版本" not in page
    assert _client(org.user("b_housing")).get(url).status_code == 404


def test_budget_draft_lines_submit_and_approve_through_the_pages(org):
    project = project_in(org, "a", stage=Stage.FEASIBILITY)
    housing = _client(org.user("a_housing"))
    r = housing.post(reverse("finance:version_create", args=[project.pk]), {"kind": "estimate", "note": "可研估算"})
    assert r.status_code == 302
    v = BudgetVersion.objects.get(project=project)
    bad = housing.post(reverse("finance:line_add", args=[v.pk]), f.line(unit_cost="12.345"))
    assert bad.status_code == 400 and "金额最多保留两位小数" in bad.content.decode()
    assert housing.post(reverse("finance:line_add", args=[v.pk]), f.line()).status_code == 302
    assert BudgetVersion.objects.get(pk=v.pk).total == Decimal("102600.00")
    assert housing.post(reverse("finance:version_submit", args=[v.pk])).status_code == 302
    finance = _client(org.user("a_finance"))
    page = finance.get(reverse("finance:budget", args=[project.pk])).content.decode()
    assert "提交审批意见" in page
    finance.post(reverse("finance:version_decide", args=[v.pk]), {"approve": "1", "comment": "同意"})
    assert BudgetVersion.objects.get(pk=v.pk).status == BudgetStatus.APPROVED
    # the preparer gets a refusal page, not a crash
    v2 = BudgetVersion.objects.create(project=project, kind="design", status="submitted", prepared_by=org.user(
        "a_finance"), total=Decimal(1))
    r = finance.post(reverse("finance:version_decide", args=[v2.pk]), {"approve": "1"})
    assert r.status_code == 403


def test_funding_forms(money):
    c = _client(money.org.user("a_finance"))
    r = c.post(reverse("finance:funding_commit", args=[money.project.pk]),
               {"source": "central", "amount": "-1", "committed_on": "2026-01-01"})
    assert r.status_code == 400 and "金额必须大于零" in r.content.decode()
    c.post(reverse("finance:funding_commit", args=[money.project.pk]),
           {"source": "central", "amount": "1000000", "committed_on": "2026-01-01"})
    commitment = money.project.funding_commitments.get()
    c.post(reverse("finance:funding_arrive", args=[commitment.pk]), {"amount": "400000", "arrived_on": "2026-01-02"})
    page = c.get(reverse("finance:budget", args=[money.project.pk])).content.decode()
    assert "40.0%" in page


def test_payment_request_through_the_page_is_idempotent(money):
    c = _client(money.org.user("a_housing"))
    url = reverse("finance:payment_create", args=[money.project.pk])
    form = {"milestone": money.m1.pk, "amount": "100000", "invoice_number": "FP001", "invoice_amount": "100000",
            "invoice_date": timezone.localdate().isoformat(), "quantities": "外墙保温, 400, m²",
            "supervisor": money.org.user("a_supervisor").pk, "documents": [money.doc.pk], "idempotency_key": "abc"}
    r = c.post(url, form)
    assert r.status_code == 302
    assert c.post(url, form).status_code == 302  # a double click
    assert PaymentRequest.objects.count() == 1
    bad = c.post(url, form | {"idempotency_key": "def", "quantities": ""})
    assert bad.status_code == 400
    page = c.get(reverse("finance:payments", args=[money.project.pk])).content.decode()
    assert "FP001" in page


def test_payment_detail_steps_and_buttons(money):
    org = money.org
    req, _ = pay_svc.payment_request_create(actor=org.user("a_housing"), **f.payment_args(org, money.m1, money.doc))
    url = reverse("finance:payment", args=[req.pk])
    assert "提交审核意见" not in _client(org.user("a_housing")).get(url).content.decode()
    approver = _client(money.approver)
    page = approver.get(url).content.decode()
    assert "提交审核意见" not in page and "提交确认意见" not in page  # the supervisor first
    supervisor = _client(org.user("a_supervisor"))
    page = supervisor.get(url).content.decode()
    assert "提交确认意见" in page and "待本人确认" in page
    r = supervisor.post(reverse("finance:payment_signoff", args=[req.pk]), {"confirm": "1"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == PaymentStatus.SUBMITTED and req.signed_off_at is not None
    assert "提交审核意见" in approver.get(url).content.decode()
    approver.post(reverse("finance:payment_decide", args=[req.pk]), {"approve": "1", "comment": "同意"})
    fin = _client(org.user("a_finance"))
    fin.post(reverse("finance:payment_decide", args=[req.pk]), {"approve": "1"})
    fin.post(reverse("finance:payment_paid", args=[req.pk]), {"voucher": "PZ-1", "paid_on": "2026-01-03"})
    req.refresh_from_db()
    assert req.status == PaymentStatus.PAID
    page = fin.get(url).content.decode()
    assert money.approver.display_name in page and "PZ-1" in page
    listing = fin.get(reverse("finance:payment_list") + "?status=paid").content.decode()
    assert money.contract.number in listing
    assert _client(org.user("b_finance")).get(url).status_code == 404


def test_evm_panel_and_page(money):
    org = money.org
    today = timezone.localdate()
    for i in range(3):
        EvmSnapshot.objects.create(project=money.project, as_of=today - dt.timedelta(days=i), bac=3, pv=2, ev=1, ac=1,
                                   division_path=money.project.division_path,
                                   department_id_snapshot=money.project.lead_department_id)
    c = _client(org.user("a_leader"))
    panel = c.get(reverse("finance:evm", args=[money.project.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="evm-numbers"' in panel and "data-rows=" in panel and "<html" not in panel
    page = c.get(reverse("finance:evm", args=[money.project.pk])).content.decode()
    assert "echarts.min.js" in page and "evm-chart.js" in page
    project_page = c.get(reverse("console:project", args=[money.project.pk])).content.decode()
    assert reverse("finance:evm", args=[money.project.pk]) in project_page
    no_budget = project_in(org, "a")
    assert "概算批准后" in c.get(reverse("finance:evm", args=[no_budget.pk])).content.decode()


def test_rollup_page(money):
    org = money.org
    f.approved(org, money.project, BudgetKind.BUDGET, "2000000")
    EvmSnapshot.objects.create(project=money.project, as_of=timezone.localdate(), bac=3, pv=2, ev=1, ac=1,
                               health="red", division_path=money.project.division_path,
                               department_id_snapshot=money.project.lead_department_id)
    c = _client(org.user("a_leader"))
    page = c.get(reverse("finance:rollup")).content.decode()
    assert "青溪区住房和城乡建设" in page
    page = c.get(reverse("finance:rollup") + f"?group=division&division={org.county_a.pk}").content.decode()
    assert "城关街道" in page
    assert "暂无快照" in _client(org.user("b_leader")).get(reverse("finance:rollup")).content.decode()


def test_portal_project_page_lists_approved_payments_without_personal_data(money):
    org = money.org
    req, _ = pay_svc.payment_request_create(actor=org.user("a_housing"), **f.payment_args(org, money.m1, money.doc))
    _pending, _ = pay_svc.payment_request_create(actor=org.user("a_housing"), **f.payment_args(
        org, money.m1, money.doc, amount="5555", invoice_amount="5555"))
    pay_svc.payment_decide(actor=money.approver, request=f.signoff(org, req), approve=True)
    pay_svc.payment_decide(actor=org.user("a_finance"), request=req, approve=True)
    page = Client().get(reverse("portal:project", args=[money.project.code])).content.decode()
    assert 'id="payments"' in page and "100000.00" in page and money.contract.supplier.name in page
    assert "5555.00" not in page  # not yet approved
    assert req.invoice_number not in page and money.approver.display_name not in page


def test_the_supervisor_sees_the_requests_awaiting_him_and_confirms_or_rejects(money):
    org = money.org
    first, _ = pay_svc.payment_request_create(actor=org.user("a_housing"), **f.payment_args(
        org, money.m1, money.doc, invoice_number="WAIT-1"))
    second, _ = pay_svc.payment_request_create(actor=org.user("a_housing"), **f.payment_args(
        org, money.m1, money.doc, invoice_number="WAIT-2", amount="5000", invoice_amount="5000"))
    supervisor = _client(org.user("a_supervisor"))
    listing = reverse("finance:payment_signoffs")
    page = supervisor.get(reverse("console:home")).content.decode()
    assert listing in page  # the navigation links the list for a supervisor
    page = supervisor.get(listing).content.decode()
    assert "WAIT-1" in page and "WAIT-2" in page
    for who in ("a_housing", "a_finance"):  # not theirs to confirm
        assert "WAIT-1" not in _client(org.user(who)).get(listing).content.decode()
    assert listing not in _client(org.user("a_housing")).get(reverse("console:home")).content.decode()
    # only the named supervisor may act; a refusal is a page, not a crash, and writes nothing
    r = _client(money.approver).post(reverse("finance:payment_signoff", args=[first.pk]), {"confirm": "1"})
    assert r.status_code == 403
    assert _client(org.user("b_housing")).post(reverse("finance:payment_signoff", args=[first.pk]),
                                               {"confirm": "1"}).status_code == 404
    r = supervisor.post(reverse("finance:payment_signoff", args=[second.pk]), {"confirm": "0", "comment": ""})
    assert r.status_code == 400 and "退回时请写明理由" in r.content.decode()
    assert PaymentRequest.objects.get(pk=second.pk).status == PaymentStatus.AWAITING_SIGNOFF
    supervisor.post(reverse("finance:payment_signoff", args=[second.pk]), {"confirm": "0", "comment": "未完工"})
    supervisor.post(reverse("finance:payment_signoff", args=[first.pk]), {"confirm": "1"})
    assert dict(PaymentRequest.objects.values_list("invoice_number", "status")) == {
        "WAIT-1": PaymentStatus.SUBMITTED, "WAIT-2": PaymentStatus.REJECTED}
    page = supervisor.get(listing).content.decode()
    assert "WAIT-1" not in page and "WAIT-2" not in page and "没有拨付申请" in page
    timeline = _client(org.user("a_housing")).get(reverse("console:project", args=[money.project.pk])).content
    assert "监理确认计量" in timeline.decode() and "payment.signoff_confirm" not in timeline.decode()


def _draft(org, project):
    from minsheng.finance.services import budgets as budget_svc

    return budget_svc.budget_version_create(actor=org.user("a_housing"), project=project, kind=BudgetKind.BUDGET,
                                            lines=[f.line(), f.line(item="管网", quantity="10", unit_cost="300")])


def test_budget_line_is_edited_on_the_page_with_the_same_checks(money):
    from minsheng.core.models import AuditEvent
    from minsheng.finance.models import BudgetLine

    org = money.org
    version = _draft(org, money.project)
    line = version.lines.order_by("position").first()
    housing = _client(org.user("a_housing"))
    page = housing.get(reverse("finance:budget", args=[money.project.pk])).content.decode()
    assert reverse("finance:line_update", args=[line.pk]) in page and f'id="l{line.pk}-unit_cost"' in page
    url = reverse("finance:line_update", args=[line.pk])
    form = {k: getattr(line, k) for k in ("category", "item", "quantity", "unit", "unit_cost", "justification",
                                           "standard", "funding_source")}
    before = (list(BudgetLine.objects.values_list("pk", "quantity", "unit_cost", "amount")), AuditEvent.objects.count())
    for change, message in (({"unit_cost": "12.345"}, "金额最多保留两位小数"), ({"unit_cost": "-3"}, "金额必须大于零"),
                            ({"quantity": "0"}, "数量必须大于零"), ({"justification": ""}, "必填")):
        bad = housing.post(url, form | change)
        assert bad.status_code == 400 and message in bad.content.decode(), change
    assert (list(BudgetLine.objects.values_list("pk", "quantity", "unit_cost", "amount")),
            AuditEvent.objects.count()) == before
    assert housing.post(url, form | {"unit_cost": "80"}).status_code == 302
    version.refresh_from_db()
    assert version.total == Decimal("99000.00")
    assert AuditEvent.objects.filter(action="budget.line_update", object_id=str(line.pk)).exists()
    # others who see the project may not; another county does not see it
    assert _client(org.user("a_auditor")).post(url, form).status_code == 403
    assert _client(org.user("a_finance")).post(url, form).status_code == 403
    assert _client(org.user("b_housing")).post(url, form).status_code == 404
    # submitted: refused, and the page offers no edit
    housing.post(reverse("finance:version_submit", args=[version.pk]))
    assert housing.post(url, form | {"unit_cost": "81"}).status_code == 409
    assert housing.post(reverse("finance:line_remove", args=[line.pk])).status_code == 409
    page = housing.get(reverse("finance:budget", args=[money.project.pk])).content.decode()
    assert reverse("finance:line_update", args=[line.pk]) not in page
    version.refresh_from_db()
    assert version.total == Decimal("99000.00")
