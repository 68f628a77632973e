"""The console in a real browser: Playwright driving Debian's chromium against the live server.
Every page visited is checked with axe-core; serious or critical violations fail the test."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from minsheng.console.tests.conftest import PDF_BYTES, pdf
from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import Document, GateRequest, GateStatus, WbsItem
from minsheng.testing.factories import PASSWORD, WbsItemFactory, project_in

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still
# plain synchronous calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
AXE = Path(settings.BASE_DIR) / "minsheng" / "static" / "vendor" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _audit_trigger_sql(kind: str) -> list[str]:
    import importlib

    from django.db import connection

    migration = importlib.import_module("minsheng.core.migrations.0002_audit_append_only")
    vendor = "SQLITE" if connection.vendor == "sqlite" else "POSTGRES"
    return getattr(migration, vendor + ("_DROP" if kind == "drop" else ""))


def _run(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


@pytest.fixture(scope="module")
def _audit_triggers_back_after_module(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _run(_audit_trigger_sql("drop") + _audit_trigger_sql("create"))


@pytest.fixture
def live_db(_audit_triggers_back_after_module, transactional_db):
    """The live server needs real commits, so the database is emptied after each test by DELETE or
    TRUNCATE, which the audit trail's append-only triggers rightly refuse. They are lifted for that
    flush and put back when this module is done (test machinery only; the application never does this)."""
    yield
    _run(_audit_trigger_sql("drop"))


@pytest.fixture
def page(browser, live_db, live_server):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    external: list[str] = []
    # Nothing may load from anywhere but our own server.
    pg.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None,
    )
    pg.external_requests = external
    yield pg
    context.close()
    assert not external, f"requests left the server: {external}"


def settled(page) -> None:
    """Wait until the page has stopped changing: no request in flight and no htmx swap pending (a
    fragment loaded with hx-trigger="load", e.g. the EVM card, swapped in while axe ran made it report
    a detached link)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def axe_check(page) -> None:
    settled(page)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe violations on {page.url}: {bad}"


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/console/login/")
    axe_check(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/console/")


@pytest.fixture
def world(org):
    today = timezone.localdate()
    project = project_in(
        org,
        "a",
        name="城关街道老旧小区改造",
        stage=Stage.PROPOSAL,
        beneficiaries_total=860,
        beneficiaries_elderly=310,
    )
    WbsItemFactory(
        project=project,
        code="1",
        name="外墙保温",
        responsible=org.user("a_housing"),
        due_date=today - dt.timedelta(days=5),
    )
    WbsItemFactory(
        project=project,
        code="2",
        name="雨污管网改造",
        responsible=org.user("a_inspector"),
        due_date=today + dt.timedelta(days=40),
    )
    other = project_in(org, "a", name="青溪区敬老院适老化改造", domain="elderly")
    for n in range(3):
        project_in(org, "a", name=f"城关街道便民服务点{n + 1}", domain="digital")
    return {"org": org, "project": project, "other": other}


def test_officer_filters_opens_requests_uploads_and_reports_progress(page, live_server, world, tmp_path):
    project = world["project"]
    log_in(page, live_server, "a_housing")
    assert page.get_by_role("heading", level=1).inner_text() == "我的工作"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    axe_check(page)

    # The list, filtered in place by htmx.
    page.get_by_role("link", name="项目", exact=True).click()
    assert page.get_by_text(world["other"].name).is_visible()
    page.evaluate("window.__stayed = true")
    page.get_by_label("阶段").select_option(Stage.PROPOSAL)
    page.wait_for_url("**/console/projects/?*stage=proposal*")
    page.locator("#results").get_by_text("共 1 个项目").wait_for()
    assert page.evaluate("window.__stayed === true"), "the filter reloaded the whole page"
    assert page.get_by_role("link", name=project.name).is_visible()
    assert page.get_by_text(world["other"].name).count() == 0
    assert page.get_by_text("逾期 1 项").is_visible()
    axe_check(page)
    page.screenshot(path="/tmp/console-list.png", full_page=True)

    # The project page.
    page.get_by_role("link", name=project.name).click()
    page.get_by_role("heading", level=1, name=project.name).wait_for()
    page.evaluate("window.__stayed = true")
    assert page.get_by_text(project.code_display).is_visible()
    assert page.locator(".step-current .step-label").inner_text() == "项目建议书"
    axe_check(page)
    page.screenshot(path="/tmp/console-detail.png", full_page=True)

    # Asking for the next stage without the proposal is refused, with the reasons listed.
    page.get_by_role("button", name="申请进入“可行性研究”").click()
    alert = page.locator("#gates-errors [role=alert]")
    alert.wait_for()
    assert "缺少文件：项目建议书。" in alert.locator("ul.refusal-reasons li").all_inner_texts()
    assert GateRequest.objects.count() == 0
    axe_check(page)

    # Upload the proposal; the gate checklist ticks it off.
    upload = tmp_path / "项目建议书.pdf"
    upload.write_bytes(PDF_BYTES)
    documents = page.locator("#documents")
    documents.get_by_label("文件类别").select_option(DocumentKind.PROPOSAL)
    documents.get_by_label("标题").fill("城关街道老旧小区改造项目建议书")
    documents.get_by_label("文件", exact=False).last.set_input_files(str(upload))
    documents.get_by_role("button", name="上传").click()
    page.locator("#documents").get_by_role("link", name="城关街道老旧小区改造项目建议书").wait_for()
    page.locator("#gates").get_by_text("项目建议书 — 已上传").wait_for()
    assert Document.objects.filter(project=project, kind=DocumentKind.PROPOSAL).count() == 1

    # Report progress inline.
    row = page.locator(f"#wbs-item-{project.wbs_items.get(code='1').pk}")
    row.get_by_label("“外墙保温”的进度（%）").fill("100")
    row.get_by_role("button", name="保存").click()
    page.locator("#wbs").get_by_text("进度已更新。").wait_for()
    assert page.locator("#project-progress").inner_text() == "50.0%"
    assert page.evaluate("window.__stayed === true"), "the progress update reloaded the page"
    assert WbsItem.objects.get(project=project, code="1").progress == 100
    axe_check(page)

    # Now the gate request goes through and waits for approval.
    page.get_by_role("button", name="申请进入“可行性研究”").click()
    page.locator("#gates").get_by_text("待审批：申请进入“可行性研究”").wait_for()
    assert GateRequest.objects.get(project=project).status == GateStatus.PENDING
    axe_check(page)


def test_another_user_approves_the_gate(page, live_server, world):
    org, project = world["org"], world["project"]
    services.document_upload(
        actor=org.user("a_housing"),
        project=project,
        kind=DocumentKind.PROPOSAL,
        title="项目建议书",
        fileobj=pdf(),
        filename="jy.pdf",
    )
    services.gate_request(
        actor=org.user("a_housing"), project=project, to_stage=Stage.FEASIBILITY, reason="建议书已编制完成"
    )
    log_in(page, live_server, "a_drc")
    page.get_by_role("region", name="待我审批的阶段关口").get_by_role("link", name=project.name).click()
    page.get_by_role("heading", level=1, name=project.name).wait_for()
    axe_check(page)
    page.get_by_label("意见说明").fill("同意开展可行性研究。")
    page.get_by_role("button", name="同意", exact=True).click()
    page.locator("#gates").get_by_text("审批意见已提交。").wait_for()
    assert page.locator("#summary .stage-tag").inner_text() == "可行性研究"
    assert page.locator(".step-current .step-label").inner_text() == "可行性研究"
    project.refresh_from_db()
    assert project.stage == Stage.FEASIBILITY
    axe_check(page)


def test_every_console_page_passes_axe(page, live_server, world):
    from minsheng.core.models import Notification

    project = world["project"]
    for i in range(2):
        Notification.objects.create(recipient=world["org"].user("a_housing"), kind="t", link="/console/overdue/",
                                    text=f"第 {i} 条：外墙改造子项逾期，请处理")
    log_in(page, live_server, "a_housing")
    for path in [
        "/console/",
        "/console/notifications/",
        "/console/notifications/?show=unread",
        "/console/projects/",
        f"/console/projects/{project.pk}/",
        f"/console/projects/{project.pk}/edit/",
        "/console/projects/new/",
        "/console/overdue/",
        "/console/projects/?overdue=on",
        "/console/projects/999999/",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.get_by_role("heading", level=1).first.wait_for()
        assert page.get_by_role("link", name="跳到主要内容").count() == 1
        axe_check(page)
    # On a phone the tables become label/value cards and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path, shot in [
        ("/console/projects/", "/tmp/console-list-mobile.png"),
        (f"/console/projects/{project.pk}/", "/tmp/console-detail-mobile.png"),
    ]:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        axe_check(page)
        page.screenshot(path=shot, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # A form sent back with errors is accessible too.
    page.goto(f"{live_server.url}/console/projects/new/")
    page.get_by_role("button", name="登记项目").click()
    page.locator(".error-summary").wait_for()
    axe_check(page)
    page.screenshot(path="/tmp/console-form-errors.png", full_page=True)


def test_switch_to_english(page, live_server, world):
    log_in(page, live_server, "a_housing")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.get_by_role("heading", level=1, name="My work").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("heading", level=1, name="Projects").wait_for()
    assert page.get_by_role("button", name="Filter").is_visible()
    axe_check(page)


def test_lockout_after_five_failed_logins(page, live_server, world, settings):
    settings.AXES_ENABLED = True
    for attempt in range(5):
        page.goto(f"{live_server.url}/console/login/")
        page.get_by_label("用户名").fill("a_housing")
        page.get_by_label("密码").fill(f"wrong-{attempt}")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
    page.get_by_role("heading", level=1, name="账户已被暂时锁定").wait_for()
    axe_check(page)
    # Even the right password is refused now.
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("用户名").fill("a_housing")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", level=1, name="账户已被暂时锁定").wait_for()
    page.goto(f"{live_server.url}/console/")
    assert "/console/login/" in page.url


def test_public_landing_page(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.get_by_role("link", name="工作人员登录").click()
    page.wait_for_url("**/console/login/?next=/console/")
    page.goto(f"{live_server.url}/")
    axe_check(page)
    page.screenshot(path="/tmp/portal-mobile.png", full_page=True)
