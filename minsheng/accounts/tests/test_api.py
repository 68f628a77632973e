"""API authentication: session for the browser, tokens (Bearer or X-API-Key) for integrations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from minsheng.accounts.models import ApiToken


@pytest.fixture
def token(org):
    return ApiToken.issue(user=org.user("a_drc"), name="集成")


def _me(**headers):
    return Client().get("/api/v1/me", headers=headers)


def test_session_login_reaches_the_api(org):
    client = Client()
    assert client.login(username="a_drc", password="test-password-123")
    data = client.get("/api/v1/me").json()
    assert data["username"] == "a_drc" and "gate.approve" in data["capabilities"]
    assert "org.manage" not in data["capabilities"]


def test_bearer_token_authenticates(token):
    obj, raw = token
    response = _me(Authorization=f"Bearer {raw}")
    assert response.status_code == 200 and response.json()["username"] == "a_drc"
    obj.refresh_from_db()
    assert obj.last_used_at is not None


def test_x_api_key_authenticates(token):
    _obj, raw = token
    assert _me(**{"X-API-Key": raw}).json()["username"] == "a_drc"


def test_only_the_hash_of_a_token_is_stored(token):
    obj, raw = token
    assert raw.startswith("ms_") and raw not in (obj.key_hash, obj.prefix) and obj.prefix == raw[3:11]


@pytest.mark.parametrize("mutate", ["revoked", "expired", "inactive", "wrong"])
def test_bad_tokens_are_a_401(token, mutate):
    obj, raw = token
    if mutate == "revoked":
        ApiToken.objects.filter(pk=obj.pk).update(revoked_at=timezone.now())
    elif mutate == "expired":
        ApiToken.objects.filter(pk=obj.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif mutate == "inactive":
        obj.user.is_active = False
        obj.user.save()
    else:
        raw = raw + "x"
    for headers in ({"Authorization": f"Bearer {raw}"}, {"X-API-Key": raw}):
        response = _me(**headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_token_is_scoped_like_its_user(org, token):
    from minsheng.testing.factories import project_in

    _obj, raw = token
    foreign = project_in(org, "b")
    response = Client().get(f"/api/v1/projects/{foreign.pk}", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 404


def test_token_post_needs_no_csrf(org, token):
    from minsheng.testing.factories import project_in

    _obj, raw = token
    project = project_in(org, "a")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/projects/{project.pk}/gates",
        data={"to_stage": "proposal"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201


def test_session_post_needs_csrf(org):
    from minsheng.testing.factories import project_in

    project = project_in(org, "a")
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.user("a_housing"))
    response = client.post(
        f"/api/v1/projects/{project.pk}/gates", data={"to_stage": "proposal"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    assert "error" in response.json()
