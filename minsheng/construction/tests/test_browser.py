"""In a real browser (Debian chromium via Playwright): a supervisor's phone goes offline, records an
inspection with a photo, comes back online and sees it synced, once; the new pages (phone inspection,
village representative's pages, live site and village water dashboards) pass axe-core and load
nothing from outside the server."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.utils import timezone
from PIL import Image

from minsheng.accounts.roles import Role
from minsheng.console.tests.test_browser import AXE
from minsheng.construction.models import InspectionPhoto, SiteInspection
from minsheng.core.models import DivisionLevel
from minsheng.projects import services as project_services
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Domain, MemberRole
from minsheng.telemetry import storage
from minsheng.telemetry.models import Device
from minsheng.telemetry.validation import Row
from minsheng.testing.factories import PASSWORD, UserFactory, make_division, project_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "is_mobile": True, "has_touch": True, "geolocation": {"latitude": 30.0491, "longitude": 119.6061},
         "permissions": ["geolocation"]}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(out, format="JPEG")
    return out.getvalue()


def _log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/console/")


def _axe(page) -> None:
    from minsheng.console.tests.test_browser import settled

    settled(page)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
        .violations.map(v => ({id: v.id, impact: v.impact,
                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))""")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe violations on {page.url}: {bad}"


def _watch(page, base: str) -> list[str]:
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
    return external


def test_offline_inspection_is_kept_on_the_phone_and_synced_once_back_online(browser, live_db, live_server, org):
    project = project_in(org, "a", domain=Domain.WATER)
    project.stage = Stage.CONSTRUCTION
    project.save(update_fields=["stage"])
    project_services.member_add(actor=org.user("a_housing"), project=project, user=org.user("a_supervisor"),
                                role=MemberRole.SUPERVISOR)
    ctx = browser.new_context(**PHONE)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    external = _watch(page, live_server.url)
    _log_in(page, live_server.url, "a_supervisor")
    page.goto(f"{live_server.url}/console/inspect/")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)").endswith("/console/inspect/")
    _axe(page)

    page.wait_for_function("navigator.serviceWorker.controller !== null")
    ctx.set_offline(True)
    page.reload()  # the service worker serves the page without network
    page.get_by_text("未联网").first.wait_for()
    page.get_by_label("项目").select_option(label=project.name)
    items = page.locator(".check-item")
    assert items.count() >= 6 and "管道试压记录" in page.locator("#i-checklist").inner_text()  # water checklist
    for i in range(items.count()):
        items.nth(i).get_by_text("合格", exact=True).click()
    page.get_by_label("整体检查合格").check()
    page.get_by_label("检查意见").fill("管沟回填密实，试压记录齐全")
    page.get_by_label("现场照片（可拍多张）").set_input_files(
        [{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.get_by_text("1 张照片").wait_for()
    page.get_by_role("button", name="保存检查记录").click()
    page.locator(".queue-item.state-queued").wait_for()
    assert not SiteInspection.objects.exists()  # nothing reached the server

    ctx.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator(".queue-item.state-synced").wait_for()
    inspection = SiteInspection.objects.get()
    assert inspection.project == project and inspection.passed and inspection.client_key is not None
    assert inspection.notes == "管沟回填密实，试压记录齐全" and inspection.checklist["管道试压记录"] == "ok"
    assert str(inspection.latitude) == "30.049100"
    photo = InspectionPhoto.objects.get()
    assert photo.inspection == inspection and photo.added_later
    # Syncing again (another "online") sends nothing twice.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.get_by_role("button", name="立即上传").click()
    page.wait_for_timeout(500)
    assert SiteInspection.objects.count() == 1 and InspectionPhoto.objects.count() == 1
    ctx.close()
    assert not external, external


INSPECT_CACHES = "caches.keys().then((k) => k.filter((n) => n.startsWith('ms-inspect-')))"


def test_logging_out_drops_the_offline_pages_and_the_next_user_never_opens_them(browser, live_db, live_server,
                                                                               org):
    from playwright.sync_api import Error as BrowserError

    url = live_server.url
    ctx = browser.new_context(**PHONE)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    _log_in(page, url, "a_supervisor")
    page.goto(f"{url}/console/inspect/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(f"{INSPECT_CACHES}.then((k) => k.length > 0)")
    first = page.evaluate(INSPECT_CACHES)
    assert len(first) == 1 and first[0].startswith("ms-inspect-v2-")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{url}/console/login/")
    page.wait_for_function(f"{INSPECT_CACHES}.then((k) => k.length === 0)")
    # Offline, the page the previous user had is gone: the worker has nothing to answer with.
    ctx.set_offline(True)
    with pytest.raises(BrowserError):
        page.goto(f"{url}/console/inspect/")
    ctx.set_offline(False)
    page.goto(f"{url}/console/login/")
    assert page.evaluate(INSPECT_CACHES) == []
    _log_in(page, url, "a_inspector")
    page.goto(f"{url}/console/inspect/")
    page.wait_for_function(f"(old) => {INSPECT_CACHES}.then((k) => k.length === 1 && k[0] !== old)", arg=first[0])
    ctx.close()


def test_dashboards_and_village_pages_pass_axe(browser, live_db, live_server, org):
    project = project_in(org, "a", domain=Domain.WATER)
    village = make_division("990102001201", "东村", DivisionLevel.VILLAGE, org.town_a)
    UserFactory(username="rep_east", full_name="张守义", role=Role.VILLAGE_REP, division=village)
    project_services.member_add(actor=org.user("a_housing"), project=project, user=org.users["a_supervisor"],
                                role=MemberRole.SUPERVISOR)
    from minsheng.accounts.models import User

    project_services.member_add(actor=org.user("a_housing"), project=project,
                                user=User.objects.get(username="rep_east"), role=MemberRole.INSPECTOR)
    now = timezone.now()
    for n, (kind, metric, value) in enumerate((("water_meter", "flow", 3.0), ("flow_meter", "flow", 1.2),
                                               ("water_quality", "turbidity", 0.4), ("noise", "laeq", 58.0))):
        device = Device(device_id=f"b-{n}", kind=kind, name=f"设备{n}", project=project, household="王家",
                        latitude="29.874", longitude=f"119.95{n}", last_seen_at=now if n != 3 else None)
        device.set_credential()
        device.save()
        storage.insert([Row(device.pk, now - dt.timedelta(hours=h), metric, value) for h in range(30)],
                       received_at=now)
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    external = _watch(page, live_server.url)
    _log_in(page, live_server.url, "rep_east")
    page.goto(f"{live_server.url}/console/village/")
    _axe(page)
    page.get_by_role("link", name="供水情况").click()
    page.locator("#chart-water_quality canvas").wait_for()
    page.locator(".device-marker").first.wait_for()
    assert page.locator(".device-marker").count() == 3  # the water devices, not the noise sensor
    assert "今天疑似漏水" in page.content()
    _axe(page)
    page.goto(f"{live_server.url}/console/projects/{project.pk}/observations/")
    _axe(page)
    page.get_by_label("工程质量").check()
    page.get_by_role("textbox", name="看到的情况").fill("村口管沟挖开三天没有回填")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("已记录").wait_for()
    ctx.close()
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    external += _watch(page, live_server.url)
    _log_in(page, live_server.url, "a_housing")
    page.goto(f"{live_server.url}/console/projects/{project.pk}/site/")
    page.locator("#chart-noise canvas").wait_for()
    assert page.locator(".badge-offline").count() == 1
    _axe(page)
    # htmx polling replaces the live part in place (here: asked for at once instead of in 30 s).
    page.evaluate("htmx.trigger('#live', 'every 30s')")
    page.evaluate("htmx.ajax('GET', location.pathname + '?live=1', {target: '#live', swap: 'outerHTML'})")
    page.wait_for_function("document.querySelectorAll('#live').length === 1")
    # The device form and the background stations page (a housing officer may manage stations).
    page.get_by_role("link", name="登记监测设备").click()
    page.get_by_label("小型供水工程").wait_for()
    _axe(page)
    page.goto(f"{live_server.url}/console/stations/")
    page.get_by_role("heading", name="指定背景站").wait_for()
    _axe(page)
    page.goto(f"{live_server.url}/console/projects/{project.pk}/supervision/")
    # The latest observations are on the supervision page too; all of them on the observations page.
    page.locator("#village-observations").get_by_text("村口管沟挖开三天没有回填").wait_for()
    _axe(page)
    page.get_by_role("link", name="村民代表监督 (1)").click()
    page.get_by_text("村口管沟挖开三天没有回填").wait_for()
    desk.close()
    assert not external, external
