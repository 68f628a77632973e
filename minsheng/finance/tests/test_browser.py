"""Budgets, payments and earned value in a real browser (Playwright, Debian chromium): an officer drafts a 预算
line by line and submits it, finance approves it; a payment request passes the department and finance steps;
the project page loads the EVM panel and draws the S-curve; the roll-up and the public payments section
render; the supervisor confirms the measured quantities from his list before the department acts; a draft's line
is edited in place. axe-core on every page: serious or critical violations fail."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from minsheng.console.tests.test_browser import (  # noqa: F401 - fixtures
    _audit_triggers_back_after_module,
    axe_check,
    browser,
    live_db,
    log_in,
    page,
)
from minsheng.finance.models import BudgetStatus, BudgetVersion, EvmSnapshot, PaymentRequest, PaymentStatus

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("MINSHENG_SHOTS", "")) if os.environ.get("MINSHENG_SHOTS") else None


def _shot(pg, name: str) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _switch(pg, live_server, username: str) -> None:
    pg.get_by_role("button", name="退出登录").click()
    log_in(pg, live_server, username)


def test_budget_payment_and_evm_pages(page, live_server, money):  # noqa: F811 - the fixture
    project, base = money.project, live_server.url
    page.set_default_timeout(30_000)  # a busy 2-core machine; the pages themselves answer in well under a second
    today = timezone.localdate()
    for i in range(20):
        day = today - dt.timedelta(days=19 - i)
        EvmSnapshot.objects.create(project=project, as_of=day, bac=Decimal(3000000), pv=Decimal(60000 * (i + 1)),
                                   ev=Decimal(52000 * (i + 1)), ac=Decimal(56000 * (i + 1)),
                                   health="amber" if i > 10 else "green", division_path=project.division_path,
                                   department_id_snapshot=project.lead_department_id)

    # The officer drafts a 预算 line by line and submits it.
    log_in(page, live_server, "a_housing")
    page.goto(f"{base}/console/finance/projects/{project.pk}/budget/")
    axe_check(page)
    page.locator("#new-kind").select_option("budget")
    page.get_by_role("button", name="新建", exact=True).click()
    version = BudgetVersion.objects.get(project=project, kind="budget")
    form = page.locator(f"#version-{version.pk}")
    form.get_by_text("添加明细").click()
    for name, value in (("item", "外墙保温"), ("quantity", "1200"), ("unit", "m²"), ("unit_cost", "80"),
                        ("justification", "按施工图计量"), ("standard", "省定额 A-10-12")):
        form.locator(f"#v{version.pk}-{name}").fill(value)
    form.get_by_role("button", name="添加").click()
    page.wait_for_selector(f"#version-{version.pk} >> text=96000.00")
    line = version.lines.get()
    edit = page.locator(f"#line-{line.pk}")
    edit.locator("summary").click()
    edit.locator(f"#l{line.pk}-unit_cost").fill("85.5")
    edit.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("text=明细已修改，合计已重新计算。")
    page.wait_for_selector(f"#version-{version.pk} >> text=102600.00")
    _shot(page, "budget-draft")
    axe_check(page)
    page.locator(f"#version-{version.pk}").get_by_role("button", name="提交审批").click()
    page.wait_for_selector("text=已提交审批。")

    # Finance approves it.
    _switch(page, live_server, "a_finance")
    page.goto(f"{base}/console/finance/projects/{project.pk}/budget/")
    box = page.locator(f"#version-{version.pk}")
    box.get_by_label("同意").check()
    box.get_by_role("button", name="提交审批意见").click()
    page.wait_for_selector("text=已批准。")
    assert BudgetVersion.objects.get(pk=version.pk).status == BudgetStatus.APPROVED
    axe_check(page)

    # The officer requests a payment against milestone 1.
    _switch(page, live_server, "a_housing")
    page.goto(f"{base}/console/finance/projects/{project.pk}/payments/")
    axe_check(page)
    page.get_by_label("申请金额（元）").fill("100000")
    page.get_by_label("发票号码").fill("FP20260001")
    page.get_by_label("发票金额（元）").fill("100000")
    page.get_by_label("计量工程量").fill("外墙保温, 400, m²")
    page.get_by_label(money.doc.title).check()
    page.get_by_role("button", name="提交申请").click()
    try:
        page.wait_for_selector("#payment-steps")
    finally:
        _shot(page, "payment-submitted")
    req = PaymentRequest.objects.get(invoice_number="FP20260001")
    axe_check(page)

    # The supervisor it names confirms the measured quantities himself, from his list.
    _switch(page, live_server, "a_supervisor")
    page.goto(f"{base}/console/finance/payments/signoff/")
    assert "FP20260001" in page.locator("#payment-table").inner_text()
    axe_check(page)
    page.goto(f"{base}/console/finance/payments/{req.pk}/")
    page.get_by_label("确认计量属实").check()
    page.get_by_role("button", name="提交确认意见").click()
    page.wait_for_selector("text=已确认计量，申请转主管部门审核。")
    axe_check(page)

    for who in ("a_housing2", "a_finance"):
        _switch(page, live_server, who)
        page.goto(f"{base}/console/finance/payments/{req.pk}/")
        page.get_by_label("同意").check()
        page.get_by_role("button", name="提交审核意见").click()
        page.wait_for_selector("text=审核意见已保存。")
    req.refresh_from_db()
    assert req.status == PaymentStatus.APPROVED
    _shot(page, "payment-detail")
    axe_check(page)

    # The project page loads the EVM panel and draws the S-curve.
    page.goto(f"{base}/console/projects/{project.pk}/")
    page.wait_for_selector("#evm-numbers")
    page.wait_for_selector("#evm-chart canvas")
    page.locator("#evm").scroll_into_view_if_needed()
    _shot(page, "project-evm")
    axe_check(page)
    page.goto(f"{base}/console/finance/evm/")
    page.wait_for_selector("#rollup-table")
    assert "青溪区住房和城乡建设" in page.locator("#rollup-table").inner_text()
    _shot(page, "rollup")
    axe_check(page)

    # The public project page lists the approved payment.
    page.goto(f"{base}/projects/{project.code}/")
    assert "100000.00" in page.locator("#payments").inner_text()
    _shot(page, "portal-payments")
    axe_check(page)
