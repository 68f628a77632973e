"""Background (reference) air stations in the console: who may list, designate and remove them (audited,
scoped, translated errors), and what the site dashboard says about the station a dust device is judged
against. The small-supply flag in the console device form and the API, judged by the rule engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from minsheng.accounts.roles import Role
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, Department, DepartmentKind
from minsheng.telemetry import services
from minsheng.telemetry.ingest import ingest
from minsheng.telemetry.models import Alarm, BackgroundStation, Device
from minsheng.telemetry.tests.conftest import make_device, reading
from minsheng.telemetry.tests.test_dashboards import store
from minsheng.testing.factories import UserFactory, project_in


@pytest.fixture
def eco(org):
    """An environment (生态环境) officer of county a."""
    dept = Department.objects.create(division=org.county_a, kind=DepartmentKind.ECOLOGY, name="青溪区生态环境局")
    return UserFactory(username="a_eco", full_name="环保经办", role=Role.DEPT_OFFICER, division=org.county_a,
                       department=dept)


@pytest.fixture
def dust(org, project):
    """A site's dust device (town a) and a county-level dust device that can serve as the station."""
    site, _ = make_device(project, kind="dust", name="工地扬尘")
    station_project = project_in(org, "a", town=False)
    reference, _ = make_device(station_project, kind="dust", name="区县背景站")
    return site, reference


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


# ---------------------------------------------------------------------------------------------
# services


def test_an_environment_officer_designates_a_station_for_his_county_audited(org, eco, dust):
    _site, reference = dust
    station = services.background_designate(actor=eco, division=org.county_a, device=reference)
    assert (station.division, station.device, station.active) == (org.county_a, reference, True)
    event = AuditEvent.objects.get(action="background_station.designate")
    assert event.actor_id == eco.pk and event.division_path == org.county_a.path


def test_a_housing_officer_may_too_but_not_other_departments_or_counties(org, dust):
    _site, reference = dust
    assert services.background_designate(actor=org.user("a_housing"), division=org.county_a, device=reference)
    BackgroundStation.objects.all().delete()
    for who in ("a_civil", "a_leader", "b_housing"):
        with pytest.raises(PermissionDenied):
            services.background_designate(actor=org.user(who), division=org.county_a, device=reference)
    assert not BackgroundStation.objects.exists()


def test_bad_designations_are_refused_with_reasons_and_write_nothing(org, eco, dust):
    site, reference = dust
    noise, _ = make_device(reference.project, name="噪声")
    with pytest.raises(ValidationFailed) as wrong_kind:
        services.background_designate(actor=eco, division=org.county_a, device=noise)
    assert "扬尘" in str(wrong_kind.value.fields["device"][0])
    with pytest.raises(ValidationFailed) as outside:  # a county-level device cannot stand for a township
        services.background_designate(actor=eco, division=org.town_a, device=reference)
    assert "区划内" in str(outside.value.fields["device"][0])
    other_county, _ = make_device(project_in(org, "b"), kind="dust")
    with pytest.raises(NotFound):
        services.background_designate(actor=eco, division=org.county_a, device=other_county)
    assert not BackgroundStation.objects.exists()
    services.background_designate(actor=eco, division=org.town_a, device=site)
    with pytest.raises(Conflict):  # already the town's station: not silently taken from it
        services.background_designate(actor=eco, division=org.county_a, device=site)
    assert list(BackgroundStation.objects.values_list("division_id", flat=True)) == [org.town_a.pk]


def test_a_new_station_replaces_the_old_one_and_removal_is_audited(org, eco, dust):
    _site, reference = dust
    other, _ = make_device(reference.project, kind="dust", name="备用背景站")
    services.background_designate(actor=eco, division=org.county_a, device=reference)
    station = services.background_designate(actor=eco, division=org.county_a, device=other)
    assert list(BackgroundStation.objects.values_list("device_id", flat=True)) == [other.pk]
    assert AuditEvent.objects.filter(action="background_station.replace").count() == 1
    with pytest.raises(PermissionDenied):
        services.background_remove(actor=org.user("a_civil"), station=station)
    services.background_remove(actor=eco, station=station)
    assert not BackgroundStation.objects.exists()
    assert AuditEvent.objects.get(action="background_station.remove").before["device_id"] == other.device_id


# ---------------------------------------------------------------------------------------------
# console page


def test_the_page_lists_only_the_stations_of_the_officers_divisions(org, eco, dust):
    _site, reference = dust
    services.background_designate(actor=None, division=org.county_a, device=reference)
    far, _ = make_device(project_in(org, "b", town=False), kind="dust", name="东岭县背景站")
    services.background_designate(actor=None, division=org.county_b, device=far)
    body = _client(eco).get("/console/stations/").content.decode()
    # Neither listed nor offered for designation (the choices name each device).
    assert "区县背景站" in body and "东岭县背景站" not in body and far.device_id not in body
    assert _client(org.user("a_civil")).get("/console/stations/").status_code == 403
    assert "/console/stations/" in _client(eco).get("/console/devices/").content.decode()
    assert "/console/stations/" not in _client(org.user("a_civil")).get("/console/devices/").content.decode()


def test_designate_and_remove_from_the_page(org, eco, dust):
    _site, reference = dust
    c = _client(eco)
    response = c.post("/console/stations/", {"division": org.county_a.pk, "device": reference.pk})
    assert response.status_code == 302
    station = BackgroundStation.objects.get()
    assert "区县背景站" in c.get("/console/stations/").content.decode()
    assert c.post(f"/console/stations/{station.pk}/remove/").status_code == 302
    assert not BackgroundStation.objects.exists()


def test_the_page_shows_translated_errors_and_writes_nothing(org, eco, dust):
    _site, reference = dust
    c = _client(eco)
    refused = c.post("/console/stations/", {"division": org.town_a.pk, "device": reference.pk})
    assert refused.status_code == 400 and "背景站设备须位于该区划内" in refused.content.decode()
    missing = c.post("/console/stations/", {"division": org.county_a.pk})
    assert missing.status_code == 400 and "这个字段是必填项" in missing.content.decode()
    assert not BackgroundStation.objects.exists()


def test_another_county_cannot_remove_a_station(org, eco, dust):
    _site, reference = dust
    station = services.background_designate(actor=eco, division=org.county_a, device=reference)
    assert _client(org.user("b_housing")).post(f"/console/stations/{station.pk}/remove/").status_code == 404
    assert BackgroundStation.objects.filter(pk=station.pk).exists()


def test_the_site_dashboard_names_the_station_and_its_current_value(org, eco, dust, project):
    site, reference = dust
    now = timezone.now().replace(microsecond=0)
    store(site, "pm10", [(now - dt.timedelta(minutes=1), 140.0)])
    c = _client(org.user("a_housing"))
    before = c.get(f"/console/projects/{project.pk}/site/").content.decode()
    assert "本区域未设背景站" in before
    services.background_designate(actor=eco, division=org.county_a, device=reference)
    store(reference, "pm10", [(now - dt.timedelta(minutes=2), 55.0)])
    body = c.get(f"/console/projects/{project.pk}/site/").content.decode()
    assert "对比背景站：区县背景站（青溪区）" in body and "<strong>55</strong> μg/m³" in body
    live = c.get(f"/console/projects/{project.pk}/site/?live=1").content.decode()
    assert "区县背景站" in live


# ---------------------------------------------------------------------------------------------
# small water supplies (GB 5749-2022)


def _register(c: Client, project, device_id: str, small: bool) -> tuple[Device, str]:
    data = {"device_id": device_id, "kind": "water_quality", "name": "末梢水质", "offline_after_minutes": "30"}
    if small:
        data["small_supply"] = "on"
    page = c.post(f"/console/projects/{project.pk}/devices/new/", data)
    assert page.status_code == 200
    body = page.content.decode()
    credential = body.split('<code id="credential">')[1].split("</code>")[0]
    return Device.objects.get(device_id=device_id), credential


def test_the_device_form_explains_and_sets_the_small_supply_flag(org, project):
    c = _client(org.user("a_housing"))
    form = c.get(f"/console/projects/{project.pk}/devices/new/").content.decode()
    assert 'name="small_supply"' in form and 'type="checkbox"' in form and "GB 5749-2022" in form
    small, _ = _register(c, project, "village-tap-1", small=True)
    plain, _ = _register(c, project, "plant-out-1", small=False)
    assert small.small_supply and not plain.small_supply
    assert AuditEvent.objects.get(action="device.register", object_id=str(small.pk)).after["small_supply"] is True
    noise = c.post(f"/console/projects/{project.pk}/devices/new/", {
        "device_id": "noise-x", "kind": "noise", "name": "噪声", "offline_after_minutes": "30", "small_supply": "on"})
    assert noise.status_code == 400 and "只有供水类设备" in noise.content.decode()
    assert not Device.objects.filter(device_id="noise-x").exists()
    assert _client(org.user("b_housing")).get(f"/console/projects/{project.pk}/devices/new/").status_code == 404
    assert _client(org.user("a_civil")).get(f"/console/projects/{project.pk}/devices/new/").status_code in (403, 404)


def test_a_small_supply_is_judged_by_the_small_supply_rule_and_others_by_the_normal_one(org, project):
    c = _client(org.user("a_housing"))
    small, small_token = _register(c, project, "village-tap-2", small=True)
    plain, plain_token = _register(c, project, "plant-out-2", small=False)
    now = timezone.now().replace(microsecond=0)
    for device, token in ((small, small_token), (plain, plain_token)):
        result = ingest([{"device": device.device_id, "token": token,
                          "readings": [reading("turbidity", 2.0, "NTU", at=now)]}], now=now)
        assert result.accepted == 1
    assert list(Alarm.objects.values_list("device_id", "alarm_type")) == [(plain.pk, "turbidity")]
    later = now + dt.timedelta(seconds=1)
    ingest([{"device": small.device_id, "token": small_token,
             "readings": [reading("turbidity", 3.5, "NTU", at=later)]}], now=later)
    assert Alarm.objects.get(device=small).alarm_type == "turbidity_small"


def test_the_api_device_schema_carries_the_flag(org, project):
    small, _ = make_device(project, kind="water_quality", small_supply=True)
    c = _client(org.user("a_housing"))
    listed = c.get(f"/api/v1/projects/{project.pk}/devices").json()
    assert [d["small_supply"] for d in listed] == [True]
    assert c.get(f"/api/v1/devices/{small.pk}").json()["small_supply"] is True
