"""Sealed bidding in a real browser (Playwright, Debian chromium, no JavaScript needed by the pages): a bidder
submits on the portal and keeps the receipt; after the deadline the organiser opens with two key shares; the
opening record is public; evaluation and award follow; the award notice appears. axe-core on every page."""

from __future__ import annotations

import os

import pytest

from minsheng.console.tests.test_browser import (  # noqa: F401 - fixtures
    _audit_triggers_back_after_module,
    axe_check,
    browser,
    live_db,
    log_in,
    page,
)
from minsheng.procurement.models import AwardCriteria, Bid, BidStatus
from minsheng.procurement.tests.factories import bid, bidder, pass_deadline, published_tender

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser


def test_submit_bid_open_and_award(page, live_server, org):  # noqa: F811 - the imported fixture
    setup = published_tender(org, award_criteria=AwardCriteria.PRICE_ONLY)
    bid(setup, "1300000")
    bid(setup, "1250000")
    user, supplier = bidder(name="青溪惠民建设有限公司", username="huimin")
    tender = setup.tender

    # The bidder logs in and submits on the public notice page.
    log_in(page, live_server, "huimin")
    page.goto(f"{live_server.url}/procurement/tenders/{tender.pk}/")
    axe_check(page)
    page.get_by_label("投标报价（元）").fill("1180000.00")
    page.get_by_label("技术响应").fill("分段施工，夜间不停水。")
    page.get_by_role("button", name="密封递交").click()
    page.wait_for_selector("#receipt")
    axe_check(page)
    commitment = page.locator("#commitment").inner_text()
    assert Bid.objects.get(supplier=supplier).commitment == commitment
    page.screenshot(path="/tmp/proc_receipt.png", full_page=True)

    # Before the deadline the organiser sees only the count.
    page.context.clear_cookies()
    log_in(page, live_server, "a_housing")
    page.goto(f"{live_server.url}/console/procurement/tenders/{tender.pk}/")
    axe_check(page)
    assert page.locator("#bids-received").inner_text().startswith("3")
    assert "1180000" not in page.content()

    pass_deadline(tender)
    page.goto(f"{live_server.url}/console/procurement/tenders/{tender.pk}/")
    page.get_by_label("分片 1").fill(setup.shares[0])
    page.get_by_label("分片 2").fill(setup.shares[2])
    page.get_by_role("button", name="开标", exact=True).click()
    page.wait_for_selector("#opening-record")
    axe_check(page)
    assert page.locator("#opening-record").get_by_text("1180000.00").count() == 1
    assert Bid.objects.filter(status=BidStatus.OPENED).count() == 3
    page.get_by_role("button", name="完成评标，计算排名").click()
    page.get_by_role("button", name="确定排名第一的投标人中标并公示").click()
    page.wait_for_selector("#award-title")
    axe_check(page)
    page.screenshot(path="/tmp/proc_console.png", full_page=True)

    # The public notice shows the opening record and the award, to anyone.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/procurement/tenders/{tender.pk}/")
    axe_check(page)
    assert page.locator("#winner").inner_text() == "青溪惠民建设有限公司"
    assert page.locator("#opening-record").get_by_text(commitment[:16]).count() == 1
    page.screenshot(path="/tmp/proc_portal.png", full_page=True)
    assert user.pk
