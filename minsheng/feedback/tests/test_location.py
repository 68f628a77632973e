"""The map pin: inside the jurisdiction's area (rule feedback.map) or a clear error, nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from minsheng.core.errors import ValidationFailed
from minsheng.core.models import JurisdictionSetting
from minsheng.feedback import location
from minsheng.feedback.models import CitizenRequest
from minsheng.feedback.tests.helpers import submit
from minsheng.testing.factories import project_in


def _city_area(org):
    JurisdictionSetting.objects.create(key="feedback.map", division=org.city, source="测试",
                                       value={"bbox": [29.8, 119.5, 30.3, 120.3], "center": None, "zoom": 13},
                                       valid_from=dt.date(2020, 1, 1))


def test_a_pin_inside_the_area_is_kept(org):
    _city_area(org)
    req = submit(org, latitude="30.061", longitude="119.64")
    assert (req.latitude, req.longitude) == (Decimal("30.061000"), Decimal("119.640000"))


@pytest.mark.parametrize(("lat", "lng"), [("31.5", "119.64"), ("30.061", "121.0"), ("51.5", "-0.12")])
def test_a_pin_outside_the_area_is_refused_and_nothing_written(org, lat, lng):
    _city_area(org)
    with pytest.raises(ValidationFailed) as exc:
        submit(org, latitude=lat, longitude=lng)
    assert exc.value.fields["latitude"] == ["所选位置不在本地区范围内，请重新在地图上选点，或只填写具体地点。"]
    assert CitizenRequest.objects.count() == 0


def test_the_default_area_is_mainland_china(org):
    with pytest.raises(ValidationFailed):
        submit(org, latitude="51.5", longitude="-0.12")
    assert submit(org, latitude="39.9", longitude="116.4").latitude == Decimal("39.900000")


def test_half_a_position_is_refused(org):
    with pytest.raises(ValidationFailed) as exc:
        submit(org, latitude="30.061")
    assert "latitude" in exc.value.fields and CitizenRequest.objects.count() == 0


def test_the_map_starts_at_the_middle_of_the_projects_or_of_the_area(org):
    _city_area(org)
    area = location.map_area(org.town_a)
    assert area.center == (30.05, 119.9) and area.zoom == 13
    project_in(org, latitude=Decimal("30.1"), longitude=Decimal("120.0"))
    assert location.map_area(org.town_a).center == (30.1, 120.0)


def test_the_form_shows_the_map_and_a_location_error_without_writing(org, client, settings):
    settings.MINSHENG_MAP_TILE_URL = "https://tiles.intranet.example/{z}/{x}/{y}.png"
    _city_area(org)
    page = client.get("/feedback/").content.decode()
    assert 'id="location-map"' in page and "vendor/leaflet/leaflet.js" in page
    assert 'data-tiles="https://tiles.intranet.example/{z}/{x}/{y}.png"' in page and "map-plain" not in page
    bad = client.post("/feedback/", {"kind": "suggestion", "category": "housing", "division": org.town_a.pk,
                                     "description": "建议在小区门口增设无障碍坡道", "urgency": "normal",
                                     "action": "submit", "latitude": "40.0", "longitude": "119.64"})
    assert bad.status_code == 400 and "所选位置不在本地区范围内" in bad.content.decode()
    assert CitizenRequest.objects.count() == 0


def test_without_a_tile_server_the_map_is_plain(client, db):
    page = client.get("/feedback/").content.decode()
    assert 'data-tiles=""' in page and "map-plain" in page and "http://" not in page.split("<main")[1]
