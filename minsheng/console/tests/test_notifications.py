"""In-app notifications in the console and the API: each person sees and marks only their own."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.console.tests.conftest import login
from minsheng.core.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(org):
    me, other = org.user("a_housing"), org.user("a_drc")
    return {
        "mine": [Notification.objects.create(recipient=me, kind="t", text=f"第 {i} 条：请处理外墙改造的整改",
                                             link="/console/overdue/") for i in range(3)],
        "outside": Notification.objects.create(recipient=me, kind="t", text="带外部链接的通知",
                                               link="https://evil.example/phish"),
        "theirs": Notification.objects.create(recipient=other, kind="t", text="别人的通知"),
    }


def test_the_page_lists_only_my_notifications_unread_first(client, org, notes):
    login(client, org.user("a_housing"))
    notes["mine"][0].read_at = notes["mine"][0].created_at
    notes["mine"][0].save()
    page = client.get(reverse("console:notifications")).content.decode()
    assert "别人的通知" not in page and "3 条未读" in page
    assert page.index("第 2 条") < page.index("第 0 条")  # the read one comes last
    unread = client.get(reverse("console:notifications") + "?show=unread").content.decode()
    assert "第 0 条" not in unread and "第 1 条" in unread
    nav = client.get(reverse("console:home")).content.decode()
    assert 'class="count">3<span class="visually-hidden">条未读' in nav


def test_opening_a_notification_marks_it_read_and_follows_only_links_within_the_site(client, org, notes):
    login(client, org.user("a_housing"))
    note = notes["mine"][1]
    response = client.get(reverse("console:notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/console/overdue/"
    note.refresh_from_db()
    assert note.read_at is not None
    outside = client.get(reverse("console:notification_open", args=[notes["outside"].pk]))
    assert outside["Location"] == reverse("console:notifications")
    theirs = client.get(reverse("console:notification_open", args=[notes["theirs"].pk]))
    assert theirs.status_code == 404
    notes["theirs"].refresh_from_db()
    assert notes["theirs"].read_at is None


def test_mark_one_or_all_read_from_the_console(client, org, notes):
    login(client, org.user("a_housing"))
    one = notes["mine"][0]
    client.post(reverse("console:notifications_read"), {"id": [one.pk, notes["theirs"].pk], "next": "/console/"})
    one.refresh_from_db()
    notes["theirs"].refresh_from_db()
    assert one.read_at is not None and notes["theirs"].read_at is None  # another person's is untouched
    response = client.post(reverse("console:notifications_read"), {"all": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:notifications")
    assert not Notification.objects.filter(recipient=org.user("a_housing"), read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=org.user("a_drc"), read_at__isnull=True).count() == 1
    assert client.get(reverse("console:notifications_read")).status_code == 405


def test_the_api_lists_and_marks_only_my_own(org, notes):
    c = Client()
    c.force_login(org.user("a_housing"))
    rows = c.get("/api/v1/notifications").json()
    assert {r["text"] for r in rows["items"]} == {n.text for n in notes["mine"]} | {"带外部链接的通知"}
    r = c.post("/api/v1/notifications/read", data=json.dumps({"ids": [notes["mine"][0].pk, notes["theirs"].pk]}),
               content_type="application/json")
    assert r.json() == {"marked": 1}
    assert c.get("/api/v1/notifications?unread=true").json()["count"] == 3
    assert c.post("/api/v1/notifications/read", data="{}", content_type="application/json").json() == {"marked": 3}
    assert Notification.objects.get(pk=notes["theirs"].pk).read_at is None
    assert Client().get("/api/v1/notifications").status_code == 401
