"""Village representatives (村民代表): they record observations on the projects of their own village
(or a project serving it that they were assigned to), nowhere else; the supervisor and the project
owner see them and are notified. Photos taken with an observation."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from minsheng.accounts.roles import Role
from minsheng.construction import services
from minsheng.construction.anchoring import observation_content
from minsheng.construction.models import ObservationPhoto, VillageObservation
from minsheng.construction.tests.conftest import jpeg_with_exif
from minsheng.construction.tests.test_offline_api import jpeg_with_gps
from minsheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import DivisionLevel, Notification
from minsheng.ledger.models import Leaf
from minsheng.projects import services as project_services
from minsheng.projects.models import MemberRole
from minsheng.testing.factories import ProjectFactory, UserFactory, make_division


@pytest.fixture
def villages(org):
    east = make_division("990102001201", "东村", DivisionLevel.VILLAGE, org.town_a)
    west = make_division("990102001202", "西村", DivisionLevel.VILLAGE, org.town_a)
    rep = UserFactory(username="rep_east", full_name="张守义", role=Role.VILLAGE_REP, division=east)
    neighbour = UserFactory(username="rep_west", full_name="李德顺", role=Role.VILLAGE_REP, division=west)

    def project(village):
        return ProjectFactory(division=village, lead_department=org.depts["a.housing"],
                              responsible_person=org.user("a_housing"))

    own, next_door = project(east), project(west)
    project_services.member_add(actor=org.user("a_housing"), project=own, user=org.user("a_supervisor"),
                                role=MemberRole.SUPERVISOR)
    return {"east": east, "rep": rep, "neighbour": neighbour, "own": own, "next_door": next_door}


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_representative_records_on_own_village_project_and_people_are_told(villages, org,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.observation_record(actor=villages["rep"], project=villages["own"], kind="quality",
                                            text="村口管沟挖开三天没有回填", concern=True)
    assert entry.village == villages["east"] and entry.author == villages["rep"]
    told = set(Notification.objects.filter(kind="village_observation").values_list("recipient__username", flat=True))
    assert told == {"a_housing", "a_supervisor"}
    assert Leaf.objects.filter(record_model="construction.villageobservation", record_id=str(entry.pk)).exists()


def test_neighbouring_village_and_other_projects_are_refused(villages, org):
    with pytest.raises(NotFound):  # the neighbouring village's project is not even visible
        services.observation_record(actor=villages["rep"], project=villages["next_door"], kind="quality", text="x")
    town_project = ProjectFactory(division=org.town_a, lead_department=org.depts["a.housing"],
                                  responsible_person=org.user("a_housing"))
    with pytest.raises(NotFound):  # a township-wide project they were not assigned to
        services.observation_record(actor=villages["rep"], project=town_project, kind="quality", text="x")
    with pytest.raises(PermissionDenied):  # staff who see the project are not village representatives
        services.observation_record(actor=org.user("a_housing"), project=villages["own"], kind="quality", text="x")
    assert not VillageObservation.objects.exists()


def test_a_project_serving_the_village_is_open_once_the_representative_is_assigned(villages, org):
    town_project = ProjectFactory(division=org.town_a, lead_department=org.depts["a.housing"],
                                  responsible_person=org.user("a_housing"))
    project_services.member_add(actor=org.user("a_housing"), project=town_project, user=villages["rep"],
                                role=MemberRole.INSPECTOR)
    entry = services.observation_record(actor=villages["rep"], project=town_project, kind="water", text="水压偏低")
    assert entry.village == villages["east"]


def test_bad_observation_writes_nothing(villages):
    with pytest.raises(ValidationFailed) as exc:
        services.observation_record(actor=villages["rep"], project=villages["own"], kind="gossip", text=" ")
    assert set(exc.value.fields) == {"kind", "text"}
    assert not VillageObservation.objects.exists()


def test_phone_form_and_page(villages, org):
    rep = _client(villages["rep"])
    url = f"/console/projects/{villages['own'].pk}/observations/"
    page = rep.get(url)
    assert page.status_code == 200 and "记录我看到的情况" in page.content.decode()
    bad = rep.post(url, {"kind": "quality", "text": ""})
    assert bad.status_code == 400 and not VillageObservation.objects.exists()
    ok = rep.post(url, {"kind": "safety", "text": "工地围挡倒了一段", "concern": "on"})
    assert ok.status_code == 302
    # The supervisor and the owner see it; they get no form.
    for who in ("a_supervisor", "a_housing"):
        body = _client(org.user(who)).get(url).content.decode()
        assert "工地围挡倒了一段" in body and "记录我看到的情况" not in body
    assert rep.get(f"/console/projects/{villages['next_door'].pk}/observations/").status_code == 404
    assert _client(villages["neighbour"]).get(url).status_code == 404
    start = rep.get("/console/village/").content.decode()
    assert villages["own"].name in start and villages["next_door"].name not in start


def test_api(villages, org):
    url = f"/api/v1/projects/{villages['own'].pk}/observations"
    r = _client(villages["rep"]).post(url, data=json.dumps({"kind": "progress", "text": "主管已铺到村委会"}),
                                      content_type="application/json")
    assert r.status_code == 201 and r.json()["village"] == "东村"
    assert [o["text"] for o in _client(org.user("a_supervisor")).get(url).json()] == ["主管已铺到村委会"]
    neighbour = _client(villages["neighbour"]).post(url, data=json.dumps({"kind": "progress", "text": "x"}),
                                                    content_type="application/json")
    assert neighbour.status_code == 404
    assert VillageObservation.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# photos: checked and stripped of EXIF/GPS as inspection photos are (construction/photos.py), part of
# the observation's anchored content, shown on the supervision page to those who can see the project


def _photo(data: bytes | None = None, name: str = "village.jpg") -> dict:
    return {"file": io.BytesIO(data or jpeg_with_gps()), "name": name}


def test_photos_are_stored_without_exif_and_anchored_with_the_observation(villages,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.observation_record(actor=villages["rep"], project=villages["own"], kind="quality",
                                            text="管沟回填土里有建筑垃圾", photos=[_photo(), _photo(jpeg_with_exif())])
    photos = list(entry.photos.all())
    assert len(photos) == 2
    for p in photos:
        data = p.file.read()
        assert not Image.open(io.BytesIO(data)).getexif() and b"Owner Name" not in data
    gps = next(p for p in photos if p.exif_latitude is not None)
    assert (str(gps.exif_latitude), str(gps.exif_longitude)) == ("30.050000", "119.606000")  # record only
    assert observation_content(entry)["photos"] == sorted(p.sha256 for p in photos)
    assert Leaf.objects.filter(record_model="construction.villageobservation", record_id=str(entry.pk)).exists()


def test_an_observation_without_photos_keeps_its_earlier_content(villages):
    entry = services.observation_record(actor=villages["rep"], project=villages["own"], kind="progress",
                                        text="今天没有人施工")
    assert "photos" not in observation_content(entry)


def test_bad_photos_are_refused_and_nothing_is_written(villages):
    for photos in ([_photo(b"not an image at all", "x.jpg")], [_photo() for _i in range(7)]):
        with pytest.raises(ValidationFailed) as exc:
            services.observation_record(actor=villages["rep"], project=villages["own"], kind="quality",
                                        text="管沟回填土里有建筑垃圾", photos=photos)
        assert exc.value.fields["photos"]
    assert not VillageObservation.objects.exists() and not ObservationPhoto.objects.exists()


def test_the_console_form_takes_photos_and_officers_see_them_on_the_supervision_page(villages, org):
    rep = _client(villages["rep"])
    project = villages["own"]
    form = rep.get(f"/console/projects/{project.pk}/observations/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'name="photos"' in form and "multiple" in form
    response = rep.post(f"/console/projects/{project.pk}/observations/", {
        "kind": "safety", "text": "脚手架没有挂安全网", "concern": "on",
        "photos": [SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg"),
                   SimpleUploadedFile("b.jpg", jpeg_with_exif(), "image/jpeg")]})
    assert response.status_code == 302
    photo = ObservationPhoto.objects.order_by("pk").first()
    assert ObservationPhoto.objects.count() == 2
    for officer in ("a_housing", "a_supervisor"):
        c = _client(org.user(officer))
        page = c.get(f"/console/projects/{project.pk}/supervision/").content.decode()
        assert "脚手架没有挂安全网" in page and f"/console/observation-photos/{photo.pk}/" in page
        served = c.get(f"/console/observation-photos/{photo.pk}/")
        data = b"".join(served.streaming_content)
        assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
        assert not Image.open(io.BytesIO(data)).getexif()
    api = _client(org.user("a_housing")).get(f"/api/v1/projects/{project.pk}/observations").json()
    assert [p["url"] for p in api[0]["photos"]] == [
        f"/console/observation-photos/{p.pk}/" for p in ObservationPhoto.objects.order_by("uploaded_at", "id")]


def test_a_bad_upload_in_the_form_is_a_translated_error(villages):
    rep = _client(villages["rep"])
    project = villages["own"]
    response = rep.post(f"/console/projects/{project.pk}/observations/", {
        "kind": "safety", "text": "脚手架没有挂安全网",
        "photos": [SimpleUploadedFile("a.jpg", b"GIF89a not really", "image/jpeg")]})
    assert response.status_code == 400 and "照片" in response.content.decode()
    assert not VillageObservation.objects.exists()


def test_photos_are_not_served_to_those_who_cannot_see_the_project(villages, org):
    entry = services.observation_record(actor=villages["rep"], project=villages["own"], kind="quality",
                                        text="管沟回填土里有建筑垃圾", photos=[_photo()])
    pk = entry.photos.get().pk
    assert _client(villages["neighbour"]).get(f"/console/observation-photos/{pk}/").status_code == 404
    assert _client(org.user("b_housing")).get(f"/console/observation-photos/{pk}/").status_code == 404
    assert Client().get(f"/console/observation-photos/{pk}/").status_code == 302  # to the login page


def test_the_api_takes_photos_with_the_observation_in_one_request(villages, org):
    url = f"/api/v1/projects/{villages['own'].pk}/observations/with-photos"
    rep = _client(villages["rep"])
    r = rep.post(url, {"kind": "quality", "text": "管沟回填土里有建筑垃圾", "concern": "true",
                       "captions": ["回填处", "近景"],
                       "photos": [SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg"),
                                  SimpleUploadedFile("b.jpg", jpeg_with_exif(), "image/jpeg")]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["concern"] is True and [p["caption"] for p in body["photos"]] == ["回填处", "近景"]
    entry = VillageObservation.objects.get()
    assert observation_content(entry)["photos"] == sorted(p.sha256 for p in entry.photos.all())
    for p in entry.photos.all():
        assert not Image.open(io.BytesIO(p.file.read())).getexif()
    # Bad photos or too many: a translated error, nothing written.
    bad = rep.post(url, {"kind": "quality", "text": "又有建筑垃圾", "photos": [
        SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")]})
    many = rep.post(url, {"kind": "quality", "text": "又有建筑垃圾", "photos": [
        SimpleUploadedFile(f"{i}.jpg", jpeg_with_gps(), "image/jpeg") for i in range(7)]})
    assert bad.status_code == many.status_code == 400 and "photos" in bad.json()["error"]["fields"]
    assert VillageObservation.objects.count() == 1
    # Only a representative of the project's village may record one.
    other = _client(villages["neighbour"]).post(url, {"kind": "quality", "text": "x", "photos": [
        SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")]})
    officer = _client(org.user("a_housing")).post(url, {"kind": "quality", "text": "我是主管部门", "photos": [
        SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")]})
    assert other.status_code == 404 and officer.status_code == 403 and VillageObservation.objects.count() == 1
