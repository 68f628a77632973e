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


# ---------------------------------------------------------------------------------------------
# media_url and mySociety's update extension


def _photo_request(org, **kw):
    import io

    from minsheng.feedback.tests.test_services import _jpeg_with_gps

    raw = _jpeg_with_gps()
    return submit(org, photo=io.BytesIO(raw), photo_size=len(raw), **kw)


def test_media_url_serves_the_photo_without_location_metadata(client, org):
    import io

    from PIL import Image

    req = _photo_request(org, kind="help")
    row = client.get(f"/open311/v2/requests/{req.pk}.json").json()[0]
    assert row["media_url"] == f"http://testserver/feedback/photos/{req.pk}/"
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{req.pk}.xml").content)
    assert xml.find("request/media_url").text == row["media_url"]
    photo = client.get(row["media_url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(b"".join(photo.streaming_content)))
    assert not image.getexif() and "exif" not in image.info


def test_no_media_url_for_complaints_or_requests_without_a_photo(client, org):
    complaint = _photo_request(org, kind="complaint", actor=org.user("a_housing"))
    plain = submit(org, kind="help")
    rows = {r["service_request_id"]: r for r in client.get(
        f"/open311/v2/requests.json?service_request_id={complaint.pk},{plain.pk}").json()}
    assert rows[str(complaint.pk)]["media_url"] == "" and rows[str(plain.pk)]["media_url"] == ""
    assert client.get(f"/feedback/photos/{complaint.pk}/").status_code == 404
    assert client.get(f"/feedback/photos/{plain.pk}/").status_code == 404


def test_service_request_updates_in_json_and_xml_with_dates(client, org):
    req = submit(org, kind="help")
    u = org.user("a_housing")
    services.request_accept(actor=u, request=req)
    services.request_reply(actor=u, request=req, text="已安排物业本周内处理")
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    mine = [x for x in updates if x["service_request_id"] == str(req.pk)]
    assert [x["status"] for x in mine] == ["OPEN", "ACTION_SCHEDULED", "IN_PROGRESS"]
    assert mine[-1]["description"] == "已安排物业本周内处理" and all(x["update_id"] for x in mine)
    root = ET.fromstring(client.get("/open311/v2/servicerequestupdates.xml").content)
    assert root.tag == "service_request_updates"
    assert [e.find("status").text for e in root.findall("request_update")] == ["OPEN", "ACTION_SCHEDULED",
                                                                              "IN_PROGRESS"]
    future = client.get("/open311/v2/servicerequestupdates.json?start_date=2099-01-01T00:00:00Z").json()
    assert future == []
    scoped = client.get(f"/open311/v2/servicerequestupdates.json?jurisdiction_id={org.town_b.code}").json()
    assert scoped == []


def test_updates_of_complaints_do_not_publish_replies(client, org):
    req = submit(org, kind="complaint", actor=org.user("a_housing"))
    services.request_reply(actor=org.user("a_housing"), request=req, text="已约谈物业经理张某")
    texts = [x["description"] for x in client.get("/open311/v2/servicerequestupdates.json").json()]
    assert "已约谈物业经理张某" not in texts


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_update_queries_are_errors_in_the_spec_format(client, org, fmt):
    bad = client.get(f"/open311/v2/servicerequestupdates.{fmt}?start_date=yesterday")
    assert bad.status_code == 400
    if fmt == "json":
        assert bad.json()[0]["code"] == 400 and "start_date" in bad.json()[0]["description"]
    else:
        root = ET.fromstring(bad.content)
        assert root.tag == "errors" and root.find("error/code").text == "400"
    backwards = client.get(f"/open311/v2/servicerequestupdates.{fmt}?start_date=2026-02-01T00:00:00Z"
                           "&end_date=2026-01-01T00:00:00Z")
    assert backwards.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_an_update_needs_a_key_and_an_open_request(client, org, key, fmt):
    from minsheng.feedback.models import RequestEvent

    req = submit(org, kind="help")
    url = f"/open311/v2/servicerequestupdates.{fmt}"
    body = {"api_key": key, "service_request_id": str(req.pk), "status": "OPEN",
            "updated_datetime": "2026-11-25T10:00:00+08:00", "description": "今天晚上灯又灭了"}
    before = RequestEvent.objects.count()
    assert client.post(url, body | {"api_key": "wrong"}).status_code == 403
    assert client.post(url, body | {"service_request_id": "999999"}).status_code == 404
    assert client.post(url, body | {"description": ""}).status_code == 400
    assert client.post(url, body | {"updated_datetime": "soon"}).status_code == 400
    assert RequestEvent.objects.count() == before
    ok = client.post(url, body)
    assert ok.status_code == 200
    update_id = ok.json()[0]["update_id"] if fmt == "json" else ET.fromstring(ok.content).find(
        "request_update/update_id").text
    event = RequestEvent.objects.get(pk=int(update_id))
    assert event.public and event.text == "今天晚上灯又灭了" and event.request_id == req.pk
    # A closed request takes no updates (409, in the spec's format); the citizen reopens instead.
    u = org.user("a_housing")
    services.request_reply(actor=u, request=req, text="已更换灯泡")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)
    services.request_close(actor=u, request=req)
    closed = client.post(url, body)
    assert closed.status_code == 409
    if fmt == "xml":
        assert ET.fromstring(closed.content).find("error/code").text == "409"
    else:
        assert closed.json()[0]["code"] == 409
