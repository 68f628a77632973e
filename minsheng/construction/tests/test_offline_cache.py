"""What the phone keeps for the offline inspection page belongs to one user: the service worker's cache
and the drafts database are named after the user's offline key, and logging out has the browser drop
the cached pages (the browser test in test_browser.py runs it for real)."""

from __future__ import annotations

from pathlib import Path

from django.test import Client

from minsheng.construction.views import offline_key


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _cache_name(body: str) -> str:
    return body.split('const CACHE = "')[1].split('"')[0]


def test_each_user_gets_a_worker_with_his_own_cache(org):
    a, b = org.user("a_supervisor"), org.user("a_inspector")
    sw_a = _client(a).get("/console/inspect/sw.js")
    sw_b = _client(b).get("/console/inspect/sw.js")
    name_a, name_b = _cache_name(sw_a.content.decode()), _cache_name(sw_b.content.decode())
    assert name_a == f"ms-inspect-v2-{offline_key(a)}" and name_b == f"ms-inspect-v2-{offline_key(b)}"
    assert name_a != name_b
    assert str(a.pk) not in offline_key(a) and a.username not in name_a  # no user id in clear
    body = sw_a.content.decode()
    # On taking over it drops every other user's cache; offline it answers only from its own.
    assert "dropAll(CACHE)" in body and "{cacheName: CACHE," in body
    assert 'e.data.type === "logout"' in body
    assert sw_a["Cache-Control"] == "no-cache" and "Cookie" in sw_a["Vary"]


def test_the_drafts_database_is_per_user(org):
    a = org.user("a_supervisor")
    page = _client(a).get("/console/inspect/").content.decode()
    assert f'data-user-key="{offline_key(a)}"' in page
    script = (Path(__file__).resolve().parents[2] / "static" / "minsheng" / "inspect.js").read_text()
    assert '"ms-inspections-" + (T.userKey' in script


def test_logout_tells_the_browser_to_drop_the_cache_and_the_login_page_clears_the_offline_pages(org):
    c = _client(org.user("a_supervisor"))
    response = c.post("/console/logout/")
    assert response.status_code == 302 and response["Location"] == "/console/login/"
    assert response["Clear-Site-Data"] == '"cache"'
    assert "_auth_user_id" not in c.session
    login = c.get("/console/login/").content.decode()
    assert "minsheng/signed-out" in login
    script = (Path(__file__).resolve().parents[2] / "static" / "minsheng" / "signed-out.js").read_text()
    assert 'k.indexOf("ms-inspect-") === 0' in script and "caches.delete(k)" in script
    assert 'postMessage({type: "logout"})' in script
