"""Console ledger pages (scoped) and the public project page with receipts and QR codes."""

from __future__ import annotations

import pytest
from django.db import connection

from minsheng.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, org, key):
    assert client.login(username=key, password=PASSWORD)


def test_timeline_shows_each_entry_with_its_status(client, org, anchored):
    _login(client, org, "a_housing")
    resp = client.get(f"/console/ledger/projects/{anchored['project'].pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.count("一致") == 2 and "/ledger/v1/receipts/1" in html
    with connection.cursor() as cur:
        cur.execute("UPDATE projects_stagetransition SET to_stage = 'construction'")
    assert (
        "记录已被修改" in client.get(f"/console/ledger/projects/{anchored['project'].pk}/").content.decode()
    )


def test_timeline_of_a_project_out_of_scope_is_404(client, org, anchored):
    _login(client, org, "b_housing")
    assert client.get(f"/console/ledger/projects/{anchored['project'].pk}/").status_code == 404


def test_health_page_for_administrators_and_auditors_only(client, org, anchored):
    from minsheng.ledger import verification

    verification.verify()
    _login(client, org, "a_auditor")
    html = client.get("/console/ledger/").content.decode()
    assert "test.minsheng.local/ledger" in html and "通过" in html
    client.logout()
    _login(client, org, "a_housing")
    assert client.get("/console/ledger/").status_code == 403


def test_console_project_page_links_to_the_timeline(client, org, anchored):
    _login(client, org, "a_housing")
    html = client.get(f"/console/projects/{anchored['project'].pk}/").content.decode()
    assert f"/console/ledger/projects/{anchored['project'].pk}/" in html


def test_public_project_page_has_receipts_and_qr_codes_and_no_personal_data(client, org, anchored):
    project = anchored["project"]
    resp = client.get(f"/projects/{project.code}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert project.name in html and "http://testserver/ledger/v1/receipts/1" in html
    assert html.count("<svg") == 2
    person = org.user("a_housing")
    assert person.full_name not in html and person.username not in html
    assert client.get("/projects/000000000000000000000000/").status_code == 404
