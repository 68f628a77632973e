"""Open311 GeoReport v2: discovery, services, definitions, requests (GET/POST), tokens, errors; XML and JSON."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command

from minsheng.feedback import services
from minsheng.feedback.models import CitizenRequest, Open311Key
from minsheng.feedback.tests.helpers import submit


@pytest.fixture
def key(db):
    return services.open311_key_create(name="城市服务 App")[1]


def _post(client, org, key, fmt="json", **kw):
    data = {"api_key": key, "jurisdiction_id": org.town_a.code, "service_code": "housing", "lat": "30.1",
            "long": "120.2", "description": "小区路灯不亮已经一周了", "phone": "13800001234",
            "attribute[kind]": "help"} | kw
    return client.post(f"/open311/v2/requests.{fmt}", data)


def test_discovery_and_services_in_json_and_xml(client, org):
    d = client.get("/open311/v2/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    services_json = client.get("/open311/v2/services.json").json()
    assert {"housing", "roads"} <= {s["service_code"] for s in services_json}
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and root.find("service/service_code").text
    definition = client.get("/open311/v2/services/housing.json").json()
    assert [a["code"] for a in definition["attributes"]] == ["kind", "urgency"]
    xml_def = ET.fromstring(client.get("/open311/v2/services/housing.xml").content)
    assert xml_def.find("attributes/attribute/values/value/key") is not None


def test_post_creates_a_routed_request_and_returns_id_and_token(client, org, key):
    response = _post(client, org, key)
    assert response.status_code == 201, response.content
    body = response.json()[0]
    req = CitizenRequest.objects.get(pk=int(body["service_request_id"]))
    assert req.channel == "open311" and req.owner == org.depts["a.housing"] and body["token"] == req.receipt_code
    assert client.get(f"/open311/v2/tokens/{req.receipt_code}.json").json()[0]["service_request_id"] == str(req.pk)
    xml = ET.fromstring(_post(client, org, key, fmt="xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text


@pytest.mark.parametrize(("override", "status"), [
    ({"api_key": "wrong"}, 403),
    ({"service_code": "unicorns"}, 404),
    ({"jurisdiction_id": ""}, 400),
    ({"jurisdiction_id": "000000"}, 404),
    ({"lat": "", "long": ""}, 400),
    ({"description": "短"}, 400),
    ({"attribute[kind]": "complaint", "phone": ""}, 400),
])
def test_bad_posts_get_spec_errors_and_write_nothing(client, org, key, override, status):
    response = _post(client, org, key, **override)
    assert response.status_code == status
    err = response.json()[0]
    assert err["code"] == status and err["description"]
    assert CitizenRequest.objects.count() == 0
    xml = ET.fromstring(_post(client, org, key, fmt="xml", **override).content)
    assert xml.tag == "errors" and xml.find("error/code").text == str(status)


def test_get_requests_filters_and_hides_personal_data(client, org):
    a = submit(org, kind="complaint", actor=org.user("a_housing"), name="张三")
    b = submit(org)
    rows = client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"] for r in rows} == {str(a.pk), str(b.pk)}
    text = client.get("/open311/v2/requests.json").content.decode()
    assert "13800001234" not in text and "张三" not in text
    complaint = next(r for r in rows if r["service_request_id"] == str(a.pk))
    assert complaint["description"] == ""
    assert client.get(f"/open311/v2/requests.json?service_request_id={b.pk}").json()[0]["description"]
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    assert client.get(f"/open311/v2/requests/{b.pk}.xml").status_code == 200
    assert client.get("/open311/v2/requests.json?jurisdiction_id=" + org.town_b.code).json() == []


@pytest.mark.parametrize("query", ["start_date=yesterday", "end_date=2026-13-45T00:00:00Z",
                                   "start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                                   "service_code=unicorns", "status=maybe", "service_request_id=a,b"])
def test_bad_filters_are_spec_errors(client, org, query):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400 and response.json()[0]["code"] == 400


def test_unknown_ids_are_404(client, org):
    assert client.get("/open311/v2/requests/999999.json").json()[0]["code"] == 404
    assert client.get("/open311/v2/tokens/NOPE.xml").status_code == 404


def test_create_key_command_prints_a_working_key(db, capsys):
    call_command("open311", "create-key", "测试客户端")
    raw = capsys.readouterr().out.strip().split(": ")[1]
    assert services.open311_key_check(raw)
    assert not Open311Key.objects.filter(key_hash__contains=raw).exists()
