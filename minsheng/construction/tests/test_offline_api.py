"""The phone's offline inspections: an idempotent sync (a retried draft stores nothing twice), photos
uploaded one by one (type checked, EXIF stripped from the file but its GPS kept for the record), each
anchored in the ledger on its own without changing the inspection's anchored content."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from minsheng.construction.anchoring import inspection_content
from minsheng.construction.models import InspectionPhoto, SiteInspection
from minsheng.construction.tests.conftest import jpeg_with_exif
from minsheng.ledger.models import Leaf


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _draft(site, **extra):
    at = timezone.localtime().replace(microsecond=0) - dt.timedelta(hours=1)
    return {"idempotency_key": str(uuid.uuid4()), "project": site.project.pk, "inspected_at": at.isoformat(),
            "checklist": {"临边防护": "ok", "安全帽佩戴": "ok"}, "passed": True, "notes": "离线记录",
            "latitude": "30.049000", "longitude": "119.606000"} | extra


def _post(client, body):
    return client.post("/api/v1/inspections", data=json.dumps(body), content_type="application/json")


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), (10, 120, 40))
    exif = Image.Exif()
    exif[0x013B] = "Owner Name"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (30.0, 3.0, 0.0), "E", (119.0, 36.0, 21.6)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_retried_sync_stores_the_inspection_once(site, django_capture_on_commit_callbacks):
    c = _client(site.supervisor)
    body = _draft(site)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(c, body)
    assert first.status_code == 201, first.content
    again = _post(c, body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert SiteInspection.objects.count() == 1
    stored = SiteInspection.objects.get()
    assert str(stored.client_key) == body["idempotency_key"] and stored.inspector == site.supervisor
    assert Leaf.objects.filter(record_model="construction.siteinspection").count() == 1


def test_the_same_key_with_other_content_or_by_someone_else_is_a_conflict(site, org):
    body = _draft(site)
    assert _post(_client(site.supervisor), body).status_code == 201
    changed = _post(_client(site.supervisor), body | {"checklist": {"临边防护": "defect"}, "passed": False})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "conflict"
    other = _post(_client(org.user("a_inspector")), body)
    assert other.status_code == 409
    assert SiteInspection.objects.count() == 1


def test_bad_drafts_are_refused_with_a_translated_error_and_write_nothing(site):
    c = _client(site.supervisor)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    for body, field in (
        (_draft(site, idempotency_key="not-a-uuid"), "idempotency_key"),
        (_draft(site, inspected_at=future), "inspected_at"),
        (_draft(site, checklist={}), "checklist"),
        (_draft(site, checklist={"临边防护": "defect"}), "passed"),
        (_draft(site, latitude="123.5"), "latitude"),
    ):
        r = _post(c, body)
        assert r.status_code == 400, (field, r.content)
        error = r.json()["error"]
        assert field in error["fields"], (field, error)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(error["fields"][field])), error  # Chinese text
    assert not SiteInspection.objects.exists()


def test_the_error_is_in_english_for_an_english_phone(site):
    c = _client(site.supervisor)
    r = c.post("/api/v1/inspections", data=json.dumps(_draft(site, checklist={})),
               content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    assert "checklist" in r.json()["error"]["fields"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["error"]["fields"]["checklist"][0])


def test_a_contractor_may_not_sync_and_a_foreign_project_is_not_found(site, org):
    assert _post(_client(site.contractor), _draft(site)).status_code == 403
    assert _post(_client(org.user("b_housing")), _draft(site)).status_code == 404
    assert not SiteInspection.objects.exists()


def _photo_post(client, inspection, data: bytes, name="site.jpg", **fields):
    form = {"file": SimpleUploadedFile(name, data, content_type="image/jpeg"),
            "taken_at": timezone.localtime().replace(microsecond=0).isoformat(),
            "latitude": "30.049100", "longitude": "119.606100"} | fields
    return client.post(f"/api/v1/inspections/{inspection}/photos", form)


def test_photos_upload_one_by_one_idempotently_without_exif(site, django_capture_on_commit_callbacks):
    c = _client(site.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        inspection_id = _post(c, _draft(site)).json()["id"]
    inspection = SiteInspection.objects.get(pk=inspection_id)
    anchored = inspection_content(inspection)
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        r = _photo_post(c, inspection_id, jpeg_with_gps(), idempotency_key=key, latitude="", longitude="")
    assert r.status_code == 201, r.content
    again = _photo_post(c, inspection_id, jpeg_with_gps(), idempotency_key=key, latitude="", longitude="")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert InspectionPhoto.objects.count() == 1
    photo = InspectionPhoto.objects.get()
    with photo.file.open("rb") as fh:
        data = fh.read()
    assert not Image.open(io.BytesIO(data)).getexif() and b"Owner Name" not in data
    # No position from the browser: the camera's own GPS is used, and kept for the record.
    assert (str(photo.exif_latitude), str(photo.exif_longitude)) == ("30.050000", "119.606000")
    assert (str(photo.latitude), str(photo.longitude)) == ("30.050000", "119.606000")
    assert photo.added_later
    # The inspection's anchored content is unchanged; the photo has its own leaf.
    inspection.refresh_from_db()
    assert inspection_content(inspection) == anchored
    leaf = Leaf.objects.get(record_model="construction.inspectionphoto")
    assert leaf.record_id == str(photo.pk) and leaf.kind == "inspection_photo"


def test_bad_photos_are_refused_and_nothing_is_stored(site):
    c = _client(site.supervisor)
    inspection_id = _post(c, _draft(site)).json()["id"]
    pdf = _photo_post(c, inspection_id, b"%PDF-1.4 not an image", name="x.pdf")
    assert pdf.status_code == 400 and "file" in pdf.json()["error"]["fields"]
    fake = _photo_post(c, inspection_id, b"\xff\xd8\xff not really a jpeg")
    assert fake.status_code == 400
    late = _photo_post(c, inspection_id, jpeg_with_exif(),
                       taken_at=(timezone.now() - dt.timedelta(days=30)).isoformat())
    assert late.status_code == 400 and "file" in late.json()["error"]["fields"]
    nowhere = _photo_post(c, inspection_id, jpeg_with_exif(), latitude="", longitude="")
    assert nowhere.status_code == 400
    bad_time = _photo_post(c, inspection_id, jpeg_with_exif(), taken_at="yesterday")
    assert bad_time.status_code == 400 and "taken_at" in bad_time.json()["error"]["fields"]
    assert not InspectionPhoto.objects.exists()


def test_only_the_inspector_adds_photos(site, org):
    inspection_id = _post(_client(site.supervisor), _draft(site)).json()["id"]
    assert _photo_post(_client(org.user("a_housing")), inspection_id, jpeg_with_exif()).status_code == 403
    assert _photo_post(_client(org.user("b_housing")), inspection_id, jpeg_with_exif()).status_code == 404
    assert not InspectionPhoto.objects.exists()
