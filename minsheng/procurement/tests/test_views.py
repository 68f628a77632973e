"""Console and portal pages: who sees what, and the bidder's flow without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from minsheng.procurement.models import Bid, BidStatus
from minsheng.procurement.tests.factories import bidder, expert, opened_tender, pass_deadline, published_tender


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_bidder_submits_through_the_portal_and_gets_a_receipt(org):
    setup = published_tender(org)
    user, _s = bidder()
    c = _client(user)
    page = c.get(f"/procurement/tenders/{setup.tender.pk}/")
    assert page.status_code == 200 and "密封递交" in page.content.decode()
    r = c.post(f"/procurement/tenders/{setup.tender.pk}/bid/", {"price": "1200000", "technical": "方案",
                                                                "attachments": "报价单.pdf " + "a" * 64})
    bid = Bid.objects.get()
    assert r.status_code == 200 and bid.commitment in r.content.decode()
    assert r["Cache-Control"] == "no-store"
    again = c.post(f"/procurement/tenders/{setup.tender.pk}/bid/", {"price": "1", "technical": "x"})
    assert again.status_code == 400 and "请先撤回" in again.content.decode() and Bid.objects.count() == 1
    w = c.post(f"/procurement/bids/{bid.pk}/withdraw/")
    assert w.status_code == 200 and Bid.objects.get().status == BidStatus.WITHDRAWN


def test_portal_bid_with_bad_price_shows_the_error_and_writes_nothing(org):
    setup = published_tender(org)
    user, _s = bidder()
    r = _client(user).post(f"/procurement/tenders/{setup.tender.pk}/bid/", {"price": "12.345", "technical": "x"})
    assert r.status_code == 400 and "两位小数" in r.content.decode() and not Bid.objects.exists()


def test_anonymous_bid_goes_to_login(org):
    setup = published_tender(org)
    r = _client().post(f"/procurement/tenders/{setup.tender.pk}/bid/", {"price": "1", "technical": "x"})
    assert r.status_code == 302 and "/console/login/" in r["Location"] and not Bid.objects.exists()


def test_public_pages_show_answers_but_never_askers_and_the_opening_record(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    asker = setup.bidders[0][0]
    page = _client().get(f"/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert "开标记录" in page and "1100000.00" in page and asker.username not in page
    for _u, s in setup.bidders:
        assert s.name in page
    assert _client().get("/procurement/tenders/").status_code == 200
    assert _client().get(f"/procurement/projects/{setup.project.code}/").status_code == 200


def test_question_asked_on_the_portal_is_published_with_its_answer_without_the_asker(org):
    from minsheng.procurement.models import Clarification

    setup = published_tender(org)
    user, sup = bidder(name="提问建设公司")
    r = _client(user).post(f"/procurement/tenders/{setup.tender.pk}/ask/", {"question": "工期能否顺延？"})
    assert r.status_code == 200
    item = Clarification.objects.get()
    _client(org.user("a_housing")).post(f"/console/procurement/clarifications/{item.pk}/answer/",
                                        {"answer": "工期不变。"})
    page = _client().get(f"/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert "工期能否顺延" in page and "工期不变" in page and sup.name not in page and user.username not in page


def test_console_shows_only_the_count_before_the_opening(org):
    setup = published_tender(org)
    b = setup.bidders
    from minsheng.procurement.tests.factories import bid

    bid(setup, "1000000")
    page = _client(org.user("a_housing")).get(f"/console/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert 'id="bids-received">1' in page and setup.bidders[0][1].name not in page and b


def test_other_county_gets_404_and_expert_only_on_their_panel(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    assert _client(org.user("b_housing")).get(f"/console/procurement/tenders/{setup.tender.pk}/").status_code == 404
    outsider = expert()
    assert _client(outsider).get(f"/console/procurement/tenders/{setup.tender.pk}/evaluate/").status_code == 404
    from minsheng.procurement import services

    member = expert()
    services.panel_add(actor=org.user("a_housing"), tender=setup.tender, expert=member)
    c = _client(member)
    page = c.get(f"/console/procurement/tenders/{setup.tender.pk}/evaluate/").content.decode()
    assert "回避声明" in page and "施工组织设计" not in page  # nothing before the declaration
    c.post(f"/console/procurement/tenders/{setup.tender.pk}/declare/", {"has_conflict": "no"})
    page = c.get(f"/console/procurement/tenders/{setup.tender.pk}/evaluate/").content.decode()
    assert "施工组织设计" in page


def test_a_contractor_cannot_see_another_suppliers_bid(org):
    setup = published_tender(org)
    from minsheng.procurement.tests.factories import bid

    mine = bid(setup, "1000000")
    other_user, _s = bidder()
    r = _client(other_user).post(f"/api/v1/bids/{mine.pk}/withdraw")
    assert r.status_code == 404
    assert _client(other_user).get(f"/api/v1/tenders/{setup.tender.pk}/bids").json() == []
    pass_deadline(setup.tender)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_publish_shows_shares_once(org, lang):
    from minsheng.procurement.tests.factories import draft_tender, holders_for

    setup = draft_tender(org)
    c = _client(org.user("a_housing"))
    data = {"submission_deadline": "2099-01-01T10:00", "holders": [u.pk for u in holders_for(org)]}
    r = c.post(f"/console/procurement/tenders/{setup.tender.pk}/publish/", data, HTTP_ACCEPT_LANGUAGE=lang)
    body = r.content.decode()
    assert r.status_code == 200 and body.count("MSK1-") >= 3 and r["Cache-Control"] == "no-store"
    later = c.get(f"/console/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert "MSK1-" not in later
