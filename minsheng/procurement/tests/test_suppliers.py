"""The supplier registry: services (credit code checked, audited, nothing written on bad input), the console
pages with their permissions and scoping, and the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent
from minsheng.procurement import services, uscc
from minsheng.procurement.models import Supplier
from minsheng.procurement.tests.factories import (
    bid,
    bidder,
    credit_code,
    opened_tender,
    pass_deadline,
    published_tender,
    supplier,
)
from minsheng.testing.factories import UserFactory

GOOD = uscc.complete("91330102MA2KQ7RT1")
WRONG_CHECK = GOOD[:-1] + ("1" if GOOD[-1] != "1" else "2")


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _create(org, who="a_housing", **kw):
    args = {"name": "青溪市新建工程有限公司", "credit_code": GOOD, "address": "青溪市建设路 1 号",
            "contact_name": "王工", "contact_phone": "13812345678"} | kw
    return services.supplier_create(actor=org.user(who), **args)


# ---- services ---------------------------------------------------------------------------------------------------


def test_an_officer_registers_a_supplier_with_its_code_in_upper_case(org):
    s = _create(org, credit_code=f" {GOOD.lower()} ")
    assert s.credit_code == GOOD and s.name == "青溪市新建工程有限公司"
    event = AuditEvent.objects.get(action="supplier.create", object_id=str(s.pk))
    assert event.after["credit_code"] == GOOD


@pytest.mark.parametrize(("code", "message"), [
    (WRONG_CHECK, "校验位不符"),
    (GOOD[:-2] + "I" + GOOD[-1], "不使用 I、O、Z、S、V"),
    (GOOD[:-1], "应为 18 位"),
    ("", "必填"),
])
def test_a_bad_credit_code_is_refused_with_a_translated_reason_and_nothing_written(org, code, message):
    with pytest.raises(ValidationFailed) as exc:
        _create(org, credit_code=code)
    assert message in str(exc.value.fields["credit_code"][0])
    assert not Supplier.objects.exists() and not AuditEvent.objects.filter(action="supplier.create").exists()


def test_a_code_registered_twice_is_refused(org):
    _create(org)
    with pytest.raises(ValidationFailed) as exc:
        _create(org, name="另一家公司", credit_code=GOOD.lower())
    assert "已登记" in str(exc.value.fields["credit_code"][0]) and Supplier.objects.count() == 1


@pytest.mark.parametrize("who", ["a_auditor", "a_finance", "a_leader", "a_contractor", "a_supervisor"])
def test_only_who_may_organise_tenders_keeps_the_registry(org, who):
    with pytest.raises(PermissionDenied):
        _create(org, who=who)
    assert not Supplier.objects.exists()


def test_an_officer_edits_a_supplier_and_the_change_is_audited(org):
    s = _create(org)
    services.supplier_update(actor=org.user("b_housing"), supplier=s, name="青溪市新建集团有限公司",
                             contact_phone="0571-88886666")
    s.refresh_from_db()
    assert s.name == "青溪市新建集团有限公司" and s.contact_phone == "0571-88886666" and s.credit_code == GOOD
    event = AuditEvent.objects.get(action="supplier.update", object_id=str(s.pk))
    assert event.before == {"name": "青溪市新建工程有限公司", "contact_phone": "13812345678"}


def test_an_edit_with_a_bad_code_writes_nothing(org):
    s = _create(org)
    with pytest.raises(ValidationFailed):
        services.supplier_update(actor=org.user("a_housing"), supplier=s, name="改名", credit_code=WRONG_CHECK)
    s.refresh_from_db()
    assert s.name == "青溪市新建工程有限公司" and s.credit_code == GOOD
    assert not AuditEvent.objects.filter(action="supplier.update").exists()


def test_an_unused_suppliers_code_may_be_corrected_but_not_once_it_has_bid(org):
    s = _create(org)
    other = credit_code(9001)
    services.supplier_update(actor=org.user("a_housing"), supplier=s, credit_code=other)
    assert Supplier.objects.get(pk=s.pk).credit_code == other
    setup = published_tender(org)
    user, bidding = bidder()
    services.bid_submit(actor=user, tender=setup.tender, price="1000000", technical="方案")
    with pytest.raises(ValidationFailed) as exc:
        services.supplier_update(actor=org.user("a_housing"), supplier=bidding, credit_code=GOOD)
    assert "不能再修改" in str(exc.value.fields["credit_code"][0])
    # … while its other fields stay editable
    services.supplier_update(actor=org.user("a_housing"), supplier=bidding, address="青溪市新址")
    assert Supplier.objects.get(pk=bidding.pk).address == "青溪市新址"


def test_unknown_or_too_long_fields_are_refused(org):
    s = _create(org)
    with pytest.raises(ValidationFailed):
        services.supplier_update(actor=org.user("a_housing"), supplier=s, users=[1])
    with pytest.raises(ValidationFailed) as exc:
        services.supplier_update(actor=org.user("a_housing"), supplier=s, contact_phone="call me maybe")
    assert "contact_phone" in exc.value.fields


def test_a_linked_contractor_account_bids_for_the_supplier_and_unlinked_it_cannot(org):
    s = _create(org)
    account = UserFactory(username="newbidder", role="contractor", organisation=s.name)
    services.supplier_user_link(actor=org.user("a_housing"), supplier=s, user=account)
    assert services.supplier_for(account) == s
    assert AuditEvent.objects.filter(action="supplier.user_link", object_id=str(s.pk)).exists()
    with pytest.raises(Conflict):
        services.supplier_user_link(actor=org.user("a_housing"), supplier=s, user=account)
    services.supplier_user_unlink(actor=org.user("a_housing"), supplier=s, user=account)
    with pytest.raises(PermissionDenied):
        services.supplier_for(account)
    with pytest.raises(Conflict):
        services.supplier_user_unlink(actor=org.user("a_housing"), supplier=s, user=account)


@pytest.mark.parametrize("who", ["a_housing", "a_auditor"])
def test_only_contractor_accounts_are_linked(org, who):
    s = _create(org)
    with pytest.raises(ValidationFailed if who == "a_housing" else PermissionDenied):
        services.supplier_user_link(actor=org.user("a_housing") if who == "a_housing" else org.user(who),
                                    supplier=s, user=org.user("a_finance"))
    assert not s.users.exists()


# ---- console ----------------------------------------------------------------------------------------------------


def test_console_list_searches_by_name_and_code(org):
    _create(org)
    supplier("东岭县宏达建筑有限公司")
    c = _client(org.user("a_housing"))
    page = c.get("/console/procurement/suppliers/", {"q": "新建"}).content.decode()
    assert "青溪市新建工程有限公司" in page and "宏达" not in page and "登记供应商" in page
    assert 'href="/console/procurement/tenders/" aria-current="page"' in page  # under 招标采购 in the nav
    page = c.get("/console/procurement/suppliers/", {"q": GOOD[-6:].lower()}).content.decode()
    assert "青溪市新建工程有限公司" in page and "宏达" not in page


def test_console_list_is_read_only_for_auditors_and_empty_for_site_roles(org):
    _create(org)
    page = _client(org.user("a_auditor")).get("/console/procurement/suppliers/").content.decode()
    assert "青溪市新建工程有限公司" in page and "登记供应商" not in page
    page = _client(org.user("a_supervisor")).get("/console/procurement/suppliers/").content.decode()
    assert "青溪市新建工程有限公司" not in page
    assert _client().get("/console/procurement/suppliers/").status_code == 302


def test_console_create_with_a_bad_code_shows_the_error_and_writes_nothing(org):
    c = _client(org.user("a_housing"))
    r = c.post("/console/procurement/suppliers/new/", {"name": "坏代码公司", "credit_code": WRONG_CHECK})
    assert r.status_code == 400 and "校验位不符" in r.content.decode() and not Supplier.objects.exists()
    r = c.post("/console/procurement/suppliers/new/", {"name": "好代码公司", "credit_code": GOOD.lower()})
    s = Supplier.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/console/procurement/suppliers/{s.pk}/"
    assert s.credit_code == GOOD


@pytest.mark.parametrize("who", ["a_auditor", "a_finance"])
def test_console_create_and_edit_are_refused_to_readers(org, who):
    s = _create(org)
    c = _client(org.user(who))
    assert c.get("/console/procurement/suppliers/new/").status_code == 403
    assert c.post(f"/console/procurement/suppliers/{s.pk}/edit/", {"name": "x", "credit_code": GOOD}).status_code == 403
    assert Supplier.objects.get().name == "青溪市新建工程有限公司"


def test_console_edit_keeps_the_code_of_a_supplier_that_has_bid(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    _u, s = setup.bidders[0]
    c = _client(org.user("a_housing"))
    page = c.get(f"/console/procurement/suppliers/{s.pk}/edit/").content.decode()
    assert "不能修改" in page and "disabled" in page
    r = c.post(f"/console/procurement/suppliers/{s.pk}/edit/", {"name": "新名称", "credit_code": GOOD})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.name == "新名称" and s.credit_code != GOOD


def test_supplier_page_shows_bids_only_after_the_opening_and_within_scope(org):
    setup = published_tender(org)
    bid(setup, "1000000")
    bid(setup, "1100000")
    _u, s = setup.bidders[0]
    officer = _client(org.user("a_housing"))
    page = officer.get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert setup.tender.reference not in page and "没有可查看的投标" in page
    pass_deadline(setup.tender)
    services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:2])
    page = officer.get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert setup.tender.reference in page and "1000000.00" in page
    # Another county's officer sees the supplier, not what it did in county a.
    page = _client(org.user("b_housing")).get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert s.name in page and setup.tender.reference not in page
    # Site roles and other bidders do not see the supplier at all.
    assert _client(org.user("a_supervisor")).get(f"/console/procurement/suppliers/{s.pk}/").status_code == 404
    other, _s = bidder()
    assert _client(other).get(f"/console/procurement/suppliers/{s.pk}/").status_code == 404


def test_supplier_page_lists_awards_contracts_and_payments(org):
    from minsheng.procurement.ocds.tests import factories as f

    built = f.process(org, "paid")
    s = built.award.supplier
    page = _client(org.user("a_housing")).get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert built.contract.number in page and built.payments[0].invoice_number in page
    assert built.tender.reference in page
    page = _client(org.user("b_housing")).get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert built.contract.number not in page and built.payments[0].invoice_number not in page


def test_console_links_and_unlinks_an_account_and_masks_the_phone_for_readers(org):
    s = _create(org)
    account = UserFactory(username="linkme", full_name="投标专员", role="contractor", organisation=s.name)
    c = _client(org.user("a_housing"))
    page = c.get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert "13812345678" in page and "linkme" in page  # offered in the account list
    r = c.post(f"/console/procurement/suppliers/{s.pk}/users/", {"user": account.pk})
    assert r.status_code == 302 and s.users.filter(pk=account.pk).exists()
    auditor_page = _client(org.user("a_auditor")).get(f"/console/procurement/suppliers/{s.pk}/").content.decode()
    assert "138****5678" in auditor_page and "13812345678" not in auditor_page and "解除关联" not in auditor_page
    r = c.post(f"/console/procurement/suppliers/{s.pk}/users/{account.pk}/remove/")
    assert r.status_code == 302 and not s.users.exists()
    assert _client(org.user("a_auditor")).post(
        f"/console/procurement/suppliers/{s.pk}/users/", {"user": account.pk}).status_code == 403
    assert not s.users.exists()


# ---- API --------------------------------------------------------------------------------------------------------


def _api(c: Client, method: str, url: str, body: dict | None = None):
    return c.generic(method, "/api/v1" + url, data=json.dumps(body or {}), content_type="application/json")


def test_api_create_checks_the_code_and_writes_nothing_on_bad_input(org):
    c = _client(org.user("a_housing"))
    r = _api(c, "POST", "/suppliers", {"name": "接口公司", "credit_code": WRONG_CHECK})
    assert r.status_code == 400 and "credit_code" in r.json()["error"]["fields"] and not Supplier.objects.exists()
    r = _api(c, "POST", "/suppliers", {"name": "接口公司", "credit_code": GOOD.lower(), "contact_phone": "13812345678"})
    assert r.status_code == 201 and r.json()["credit_code"] == GOOD and r.json()["contact_phone"] == "13812345678"
    sid = r.json()["id"]
    r = _api(c, "PATCH", f"/suppliers/{sid}", {"credit_code": GOOD[:-1] + "O"})
    assert r.status_code == 400 and Supplier.objects.get().credit_code == GOOD
    r = _api(c, "PATCH", f"/suppliers/{sid}", {"address": "青溪市"})
    assert r.status_code == 200 and r.json()["address"] == "青溪市"
    assert [s["id"] for s in c.get("/api/v1/suppliers", {"q": "接口"}).json()] == [sid]
    auditor = _client(org.user("a_auditor")).get(f"/api/v1/suppliers/{sid}").json()
    assert auditor["contact_phone"] == "138****5678"


def test_api_links_a_contractor_account_and_refuses_other_roles(org):
    s = _create(org)
    account = UserFactory(username="apibidder", role="contractor")
    c = _client(org.user("a_housing"))
    r = _api(c, "POST", f"/suppliers/{s.pk}/users", {"user": org.user("a_finance").pk})
    assert r.status_code == 400 and not s.users.exists()
    r = _api(c, "POST", f"/suppliers/{s.pk}/users", {"user": account.pk})
    assert r.status_code == 200 and [u["username"] for u in r.json()["users"]] == ["apibidder"]
    r = _api(c, "DELETE", f"/suppliers/{s.pk}/users/{account.pk}")
    assert r.status_code == 200 and r.json()["users"] == []


def test_demo_and_test_suppliers_carry_valid_codes(org):
    from minsheng.procurement import demo
    from minsheng.procurement.ocds.tests import factories as ocds_factories

    assert all(uscc.is_valid(code) for _name, code in demo.SUPPLIERS)
    assert len({code for _name, code in demo.SUPPLIERS}) == len(demo.SUPPLIERS)
    assert uscc.is_valid(supplier().credit_code) and uscc.is_valid(ocds_factories.supplier().credit_code)


def test_the_supplier_pages_and_errors_are_in_english_too(org):
    c = _client(org.user("a_housing"))
    page = c.get("/console/procurement/suppliers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Register a supplier" in page and "登记供应商" not in page
    r = c.post("/console/procurement/suppliers/new/", {"name": "Bad code Ltd", "credit_code": WRONG_CHECK},
               HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and "check character" in r.content.decode() and not Supplier.objects.exists()


def test_a_code_recorded_before_the_check_is_flagged_for_correction(org):
    good = _create(org)
    legacy = Supplier.objects.create(name="青溪市老登记建材厂", credit_code=WRONG_CHECK)  # as an old row would be
    c = _client(org.user("a_housing"))
    page = c.get("/console/procurement/suppliers/").content.decode()
    assert "1 家供应商的统一社会信用代码未通过 GB 32100-2015 校验" in page and page.count('badge-flag">未通过校验') == 1
    only = c.get("/console/procurement/suppliers/?invalid=on").content.decode()
    assert legacy.name in only and good.name not in only
    assert "未通过 GB 32100-2015 校验" in c.get(f"/console/procurement/suppliers/{legacy.pk}/").content.decode()
    api = {s["name"]: s["credit_code_valid"] for s in c.get("/api/v1/suppliers").json()}
    assert api == {good.name: True, legacy.name: False}
    # While it has not bid, it can be corrected, and the flag goes.
    services.supplier_update(actor=org.user("a_housing"), supplier=legacy,
                             credit_code=uscc.complete("91330102MA2KQ7RT2"))
    assert 'badge-flag">未通过校验' not in c.get("/console/procurement/suppliers/").content.decode()
