"""HTTP batch ingest and the scoped device and alarm lists."""

from __future__ import annotations

import json

from django.test import Client

from minsheng.telemetry.models import Reading
from minsheng.telemetry.tests.conftest import reading


def _post(body):
    return Client().post("/api/v1/telemetry", data=json.dumps(body), content_type="application/json")


def test_http_batch_is_stored_with_device_credentials_and_no_session(noise):
    device, token = noise
    body = {"messages": [{"device": device.device_id, "token": token,
                          "readings": [reading(value=55.5), reading("lmax", 70.0), reading("laeq", 999)]}]}
    response = _post(body)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "rejected": {"out_of_range": 1}}
    assert _post(body).status_code == 200
    assert Reading.objects.filter(device=device).count() == 2


def test_wrong_credentials_are_401_and_store_nothing(noise):
    device, _token = noise
    response = _post({"messages": [{"device": device.device_id, "token": "guess", "readings": [reading()]}]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Reading.objects.exists()


def test_a_batch_with_nothing_valid_is_400_with_the_reasons(noise):
    device, token = noise
    response = _post({"messages": [{"device": device.device_id, "token": token,
                                    "readings": [reading("pm10", 3, "ug/m3")]}]})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["readings"] == ["未知指标: 1"]


def test_oversized_batches_are_refused(noise, settings):
    settings.TELEMETRY_HTTP_MAX_READINGS = 2
    device, token = noise
    response = _post({"messages": [{"device": device.device_id, "token": token, "readings": [reading()] * 3}]})
    assert response.status_code == 400 and "messages" in response.json()["error"]["fields"]
    assert not Reading.objects.exists()


def test_devices_are_listed_only_within_scope(noise, org):
    device, _token = noise
    own = Client()
    own.force_login(org.user("a_housing"))
    rows = own.get(f"/api/v1/projects/{device.project_id}/devices").json()
    assert [r["device_id"] for r in rows] == [device.device_id] and rows[0]["offline"] is True
    foreign = Client()
    foreign.force_login(org.user("b_housing"))
    assert foreign.get(f"/api/v1/projects/{device.project_id}/devices").status_code == 404
