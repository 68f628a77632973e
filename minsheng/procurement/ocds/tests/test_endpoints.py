from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from minsheng.procurement.models import OcdsRelease
from minsheng.procurement.ocds import builder, publisher
from minsheng.procurement.ocds.tests import factories as f
from minsheng.procurement.ocds.tests.ocds_schema import assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(org):
    """Processes at every stage, with several releases for one of them."""
    built = [f.process(org, stage) for stage in f.STAGES[1:]]
    for b in built:
        publisher.publish_for_tender(b.tender)
    last = built[-1]
    f.variation(last.contract, Decimal("-5000.00"), org.user("a_housing"))
    publisher.publish_for_contract(last.contract)
    f.payment(last.contract, last.milestones[1], Decimal("200000.00"), org.user("a_housing"))
    publisher.publish_for_contract(last.contract)
    return built


def _get(client, url):
    response = client.get(url)
    return response, json.loads(response.content)


def test_release_package_endpoint_is_public_and_valid(client, published):
    response, data = _get(client, "/ocds/v1/releases.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert_valid("release-package-schema.json", data)
    assert len(data["releases"]) == OcdsRelease.objects.count() == len(published) + 2
    assert data["version"] == "1.1" and data["publisher"]["name"]


def test_release_package_pages_by_date_with_a_next_link(client, published):
    seen = []
    url = "/ocds/v1/releases.json?limit=2"
    pages = 0
    while url:
        response, data = _get(client, url)
        assert response.status_code == 200
        assert_valid("release-package-schema.json", data)
        assert len(data["releases"]) <= 2
        seen += [r["id"] for r in data["releases"]]
        nxt = data.get("links", {}).get("next")
        url = f"{urlsplit(nxt).path}?{urlsplit(nxt).query}" if nxt else None
        pages += 1
    expected = list(OcdsRelease.objects.order_by("date", "id").values_list("release_id", flat=True))
    assert seen == expected
    assert pages == (len(expected) + 1) // 2


def test_pages_do_not_skip_releases_that_share_a_date(client, published):
    same = OcdsRelease.objects.order_by("date", "id").first().date
    OcdsRelease.objects.update(date=same)  # the worst case for a date cursor
    seen = []
    url = "/ocds/v1/releases.json?limit=3"
    while url:
        _, data = _get(client, url)
        seen += [r["id"] for r in data["releases"]]
        nxt = data.get("links", {}).get("next")
        url = f"{urlsplit(nxt).path}?{urlsplit(nxt).query}" if nxt else None
    assert sorted(seen) == sorted(OcdsRelease.objects.values_list("release_id", flat=True))
    assert len(seen) == len(set(seen))


def test_since_filters_by_date(client, published):
    rows = list(OcdsRelease.objects.order_by("date", "id"))
    cut = rows[3].date.isoformat()
    _, data = _get(client, f"/ocds/v1/releases.json?since={cut.replace('+', '%2B')}")
    assert [r["id"] for r in data["releases"]] == [r.release_id for r in rows[3:]]


@pytest.mark.parametrize(
    "query",
    ["since=yesterday", "since=2026-01-01T00:00:00", "limit=0", "limit=abc", "limit=100000", "offset=2",
     "since=2026-01-01T00:00:00Z&offset=-1"],
)
def test_bad_parameters_are_a_400_in_json(client, published, query):
    response, data = _get(client, f"/ocds/v1/releases.json?{query}")
    assert response.status_code == 400
    assert data["code"] == "invalid" and data["message"]


def test_process_release_package_endpoint(client, published):
    ocid = builder.ocid_for_tender(published[-1].tender)
    response, data = _get(client, f"/ocds/v1/releases/{ocid}.json")
    assert response.status_code == 200
    assert_valid("release-package-schema.json", data)
    assert [r["tag"] for r in data["releases"]] == [
        ["tender", "award", "contract", "implementation"],
        ["contractAmendment"],
        ["implementationUpdate"],
    ]


def test_record_package_has_releases_and_a_compiled_release(client, published):
    last = published[-1]
    ocid = builder.ocid_for_tender(last.tender)
    response, data = _get(client, f"/ocds/v1/records/{ocid}.json")
    assert response.status_code == 200
    assert_valid("record-package-schema.json", data)
    (record,) = data["records"]
    assert record["ocid"] == ocid and len(record["releases"]) == 3
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"]
    assert compiled["date"] == record["releases"][-1]["date"]
    contract = compiled["contracts"][0]
    assert [a["id"] for a in contract["amendments"]] == ["1", "2"]
    assert len(contract["implementation"]["transactions"]) == 2
    assert data["packages"][0].endswith(f"/ocds/v1/releases/{ocid}.json")


@pytest.mark.parametrize("path", ["releases", "records"])
def test_unknown_ocid_is_a_404_in_json(client, published, path):
    response, data = _get(client, f"/ocds/v1/{path}/ocds-minsheng-nope.json")
    assert response.status_code == 404
    assert data["code"] == "not_found"


def test_export_streams_a_valid_release_package_of_everything(published, tmp_path):
    out = tmp_path / "ocds.json"
    call_command("export", "ocds", "--out", str(out), "--chunk-size", "2")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert_valid("release-package-schema.json", data)
    assert [r["id"] for r in data["releases"]] == list(
        OcdsRelease.objects.order_by("date", "id").values_list("release_id", flat=True)
    )
    assert data["uri"] == out.resolve().as_uri()
    assert not (tmp_path / "ocds.json.part").exists()


def test_export_can_publish_first(org, tmp_path):
    f.process(org, "paid")
    out = tmp_path / "ocds.json"
    call_command("export", "ocds", "--out", str(out), "--publish")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["releases"]) == 1
    assert_valid("release-package-schema.json", data)
