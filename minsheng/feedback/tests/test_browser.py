"""Citizen pages in a real browser (Debian chromium via Playwright) on a phone-sized screen with
JavaScript switched off — the pages must work without it — and axe-core run on every page (with
scripts on only for axe itself): serious or critical violations fail."""

from __future__ import annotations

import os

import pytest

from minsheng.console.tests.test_browser import AXE
from minsheng.feedback.models import CitizenRequest, Intake
from minsheng.feedback.tests.helpers import register_intake
from minsheng.testing.factories import project_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "is_mobile": True, "has_touch": True}


def _axe(browser, url: str, cookies: list[dict] | None = None) -> None:
    """axe needs scripts: a separate, script-enabled context loads the same URL and runs it."""
    ctx = browser.new_context(**PHONE)
    if cookies:
        ctx.add_cookies(cookies)
    pg = ctx.new_page()
    response = pg.goto(url)
    assert response is not None and response.status == 200, url
    pg.add_script_tag(path=str(AXE))
    violations = pg.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
        .violations.map(v => ({id: v.id, impact: v.impact,
                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))""")
    ctx.close()
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe violations on {url}: {bad}"


def test_citizen_submits_and_looks_up_without_javascript(browser, live_db, live_server, org):
    project = project_in(org)
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    external: list[str] = []
    page = ctx.new_page()
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None)
    page.goto(f"{live_server.url}/projects/{project.code}/")
    page.get_by_role("link", name="我要反映").click()
    _axe(browser, page.url)
    page.get_by_label("建议").check()
    page.get_by_label("所在地区").select_option(label=org.town_a.name)
    page.get_by_label("诉求内容").fill("建议在工地周边增设夜间照明")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("您的诉求已收到").wait_for()
    item = Intake.objects.get()
    assert item.project == project and item.receipt_code in page.content()
    page.get_by_role("link", name="查询办理进度").click()
    _axe(browser, page.url)
    # Looked up before the worker has registered it: received, being assigned.
    page.get_by_label("受理编号").fill(item.receipt_code)
    page.get_by_role("button", name="查询").click()
    page.get_by_text("正在分派承办单位").wait_for()
    register_intake()
    req = CitizenRequest.objects.get()
    assert req.receipt_code == item.receipt_code and req.project == project
    page.goto(f"{live_server.url}/feedback/lookup/")
    page.get_by_label("受理编号").fill(req.receipt_code)
    page.get_by_role("button", name="查询").click()
    page.get_by_text("办理过程").wait_for()
    assert "诉求已登记" in page.content()
    # A bad submission shows the errors, without JavaScript, and writes nothing.
    page.goto(f"{live_server.url}/feedback/")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("提交的内容有误").wait_for()
    assert Intake.objects.count() == 1 and CitizenRequest.objects.count() == 1
    ctx.close()
    assert not external, external


def test_elderly_mode_is_a_plain_link_and_passes_axe(browser, live_db, live_server, org):
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/feedback/")
    page.get_by_role("link", name="长者模式（大字、高对比）").click()
    page.wait_for_url(f"{live_server.url}/feedback/")
    assert "elderly" in (page.get_attribute("body", "class") or "")
    cookies = ctx.cookies()
    assert any(c["name"] == "ms_elderly" for c in cookies)
    _axe(browser, f"{live_server.url}/feedback/", cookies)
    _axe(browser, f"{live_server.url}/feedback/lookup/", cookies)
    ctx.close()


def test_console_feedback_pages_pass_axe(browser, live_db, live_server, org):
    from minsheng.feedback.tests.helpers import submit
    from minsheng.testing.factories import PASSWORD

    req = submit(org)
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("用户名").fill("a_housing")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/console/")
    cookies = ctx.cookies()
    for path in ("/console/feedback/", f"/console/feedback/{req.pk}/", "/console/feedback/hotline/?phone=13800001234",
                 "/console/feedback/metrics/"):
        _axe(browser, live_server.url + path, cookies)
    ctx.close()


def test_phone_keeps_a_draft_and_sends_a_request_queued_offline(browser, live_db, live_server, org):
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/feedback/")
    page.get_by_label("求助").check()
    page.get_by_label("诉求分类").select_option(label="住房与物业")
    page.get_by_label("所在地区").select_option(label=org.town_a.name)
    page.get_by_label("诉求内容").fill("楼道里的灯坏了，晚上看不见路")
    page.reload()
    assert page.get_by_label("诉求内容").input_value() == "楼道里的灯坏了，晚上看不见路"  # the draft survived
    assert page.get_by_label("求助").is_checked()
    assert page.evaluate("fetch('/feedback/manifest.webmanifest').then(r => r.json()).then(m => m.start_url)") == \
        "/feedback/"
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)").endswith("/feedback/")
    ctx.set_offline(True)
    page.get_by_role("button", name="提交").click()
    page.get_by_text("联网后会自动发送").wait_for()
    assert Intake.objects.count() == 0
    ctx.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("document.getElementById('offline-status').textContent.indexOf('联网后') < 0")
    status = page.locator("#offline-status").inner_text()
    assert "保存的诉求已发送" in status, status
    register_intake()
    req = CitizenRequest.objects.get()
    assert req.kind == "help" and req.receipt_code in page.get_by_role("status").first.inner_text()
    ctx.close()


def test_map_pin_from_my_location_and_no_request_leaves_the_site(browser, live_db, live_server, org):
    """With scripts on: the Leaflet map (vendored, no tile server: a plain grid), "use my location"
    (the phone's geolocation) drops the pin, and the request keeps the coordinates."""
    ctx = browser.new_context(**PHONE, geolocation={"latitude": 30.061, "longitude": 119.64},
                              permissions=["geolocation"])
    external: list[str] = []
    page = ctx.new_page()
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None)
    page.goto(f"{live_server.url}/feedback/")
    page.locator("#location-map.leaflet-container").wait_for()
    page.get_by_role("button", name="使用我的位置").click()
    page.get_by_text("已在地图上选定位置").wait_for()
    assert page.locator("[name=latitude]").input_value() == "30.061000"
    assert page.locator(".leaflet-marker-icon").count() == 1
    _axe_page(page)
    page.get_by_label("建议").check()
    page.get_by_label("诉求分类").select_option(label="住房与物业")
    page.get_by_label("所在地区").select_option(label=org.town_a.name)
    page.get_by_label("诉求内容").fill("建议在这个路口增设人行横道")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("您的诉求已收到").wait_for()
    _axe_page(page)
    code = Intake.objects.get().receipt_code
    page.get_by_role("link", name="查询办理进度").click()
    page.get_by_label("受理编号").fill(code)
    page.get_by_role("button", name="查询").click()
    page.get_by_text("正在分派承办单位").wait_for()
    _axe_page(page)  # the card of a submission not yet registered
    register_intake()
    req = CitizenRequest.objects.get()
    assert (float(req.latitude), float(req.longitude)) == (30.061, 119.64) and req.receipt_code == code
    ctx.close()
    assert not external, external


def _axe_page(page) -> None:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
        .violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))""")
    assert not violations, violations


def test_projects_near_me_without_javascript_and_axe(browser, live_db, live_server, org):
    from decimal import Decimal

    project = project_in(org, name="城关老旧小区改造", latitude=Decimal("30.005"), longitude=Decimal("120.0"))
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/feedback/")
    page.get_by_role("link", name="身边的项目").click()
    _axe(browser, page.url)
    page.get_by_label("选择您所在的社区或村").select_option(label=f"{org.county_a.name} · {org.town_a.name}")
    page.get_by_role("button", name="查看").click()
    page.get_by_role("link", name=project.name).click()
    page.wait_for_url(f"{live_server.url}/projects/{project.code}/")
    assert page.get_by_role("heading", name="群众反映的问题").is_visible()
    _axe(browser, page.url)
    _axe(browser, f"{live_server.url}/progress/?lat=30.0&lng=120.0&radius=3000")
    ctx.close()


def test_projects_near_me_by_location(browser, live_db, live_server, org):
    from decimal import Decimal

    project = project_in(org, name="城关老旧小区改造", latitude=Decimal("30.005"), longitude=Decimal("120.0"))
    ctx = browser.new_context(**PHONE, geolocation={"latitude": 30.0, "longitude": 120.0},
                              permissions=["geolocation"])
    page = ctx.new_page()
    page.goto(f"{live_server.url}/progress/")
    page.get_by_role("button", name="查看我附近的项目").click()
    page.get_by_role("link", name=project.name).wait_for()
    assert "lat=30.000000" in page.url
    ctx.close()


def test_inbox_and_captcha_pages_pass_axe(browser, live_db, live_server, org, settings):
    from minsheng.feedback.tests.helpers import submit

    submit(org)
    settings.FEEDBACK_CAPTCHA_AFTER = 0  # every submission from here on asks
    _axe(browser, f"{live_server.url}/feedback/inbox/")
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/feedback/")
    assert page.locator("img.captcha-image").is_visible()
    assert page.evaluate("document.querySelector('img.captcha-image').naturalWidth") == 240
    page.get_by_role("button", name="改用文字题（看不清图片或使用读屏软件）").click()
    page.get_by_text("等于几？请用数字填写答案").wait_for()
    ctx.close()
    _axe(browser, f"{live_server.url}/feedback/")


def _look_up(page, base: str, req) -> None:
    page.goto(f"{base}/feedback/lookup/")
    page.get_by_label("受理编号").fill(req.receipt_code)
    page.get_by_label("手机号").fill("13800001234")
    page.get_by_role("button", name="查询").click()


def test_citizen_answers_the_return_visit_without_javascript_in_elderly_mode(browser, live_db, live_server, org):
    from minsheng.feedback import services
    from minsheng.feedback.tests.helpers import submit

    req = submit(org)
    services.request_reply(actor=org.user("a_housing"), request=req, text="已安排物业本周更换楼道灯")
    elderly = [{"name": "ms_elderly", "value": "1", "url": live_server.url}]
    # axe on the page with the form (scripts on for axe only).
    check = browser.new_context(**PHONE)
    check.add_cookies(elderly)
    pg = check.new_page()
    _look_up(pg, live_server.url, req)
    pg.get_by_text("请评价办理结果").wait_for()
    pg.add_script_tag(path=str(AXE))
    violations = pg.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
        .violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => v.id)""")
    check.close()
    assert not violations, violations
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    ctx.add_cookies(elderly)
    page = ctx.new_page()
    _look_up(page, live_server.url, req)
    page.get_by_text("请评价办理结果").wait_for()
    assert "elderly" in (page.get_attribute("body", "class") or "")
    page.get_by_label("已经解决").check()
    page.get_by_label("4 分：满意").check()
    page.get_by_label("还想说的话（可选）").fill("灯已经换好了")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_text("感谢您的评价，回访已记录。").wait_for()
    assert "请评价办理结果" not in page.content()
    req.refresh_from_db()
    assert (req.status, req.resolved, req.satisfaction, req.visit_comment, req.visit_channel) == (
        "return_visit", True, 4, "灯已经换好了", "online")
    ctx.close()
