"""The public landing page: open to everyone, no personal data, links to the console."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_is_public_and_links_to_the_console(client):
    response = client.get(reverse("portal:index"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert 'name="viewport"' in body
    assert f'href="{reverse("console:home")}"' in body
    assert "项目储备" in body and "后评价" in body  # the lifecycle, explained


def test_landing_page_shows_no_personal_data(client, org):
    person = org.user("a_housing")
    person.phone = "13912345678"
    person.save()
    body = client.get(reverse("portal:index")).content.decode()
    assert "13912345678" not in body and person.username not in body and "a_drc" not in body


def test_landing_page_in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("portal:index")).content.decode()
    assert '<html lang="en">' in body and "Staff login" in body


def test_assets_are_local(client):
    body = client.get(reverse("portal:index")).content.decode()
    assert "http://" not in body.replace("http://www.w3.org", "") and "https://" not in body
