"""Citizen request services: intake, phone codes, the handling workflow, audit."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, Department
from minsheng.feedback import services, sms
from minsheng.feedback.models import CitizenRequest, PhoneCode, RequestEvent, Status, mask_phone
from minsheng.feedback.tests.helpers import add_coordinator, submit


@pytest.fixture(autouse=True)
def _clear_outbox():
    sms.outbox.clear()


def test_enquiry_is_routed_by_category_and_division_and_tells_the_citizen(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(org)
    assert req.owner == org.depts["a.housing"] == req.first_responder
    assert req.status == Status.RECEIVED
    assert len(req.receipt_code) == 10
    assert AuditEvent.objects.filter(action="feedback.submit", object_id=str(req.pk)).exists()
    assert RequestEvent.objects.filter(request=req, action="received", public=True).exists()
    assert sms.outbox[-1].phone == "13800001234" and req.receipt_code in sms.outbox[-1].text


def test_routing_falls_back_up_the_tree_then_to_the_coordinating_office(org):
    assert submit(org, category="welfare").owner == org.depts["a.civil"]
    # No county has a water bureau: the city's takes it.
    water = Department.objects.create(division=org.city, kind="water", name="青溪市水务局")
    assert submit(org, category="water", division=org.town_b).owner == water
    # Nobody handles education in the fixture and there is no coordinating office yet: refused.
    with pytest.raises(ValidationFailed) as exc:
        submit(org, category="education")
    assert "division" in exc.value.fields
    office = add_coordinator(org)
    assert submit(org, category="education").owner == office


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"kind": "gossip"}, "kind"),
        ({"category": "nope"}, "category"),
        ({"description": "短"}, "description"),
        ({"phone": "12345"}, "phone"),
        ({"division": None}, "division"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "abc"}, "longitude"),
        ({"kind": "complaint", "phone": ""}, "phone"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(org, override, field):
    with pytest.raises(ValidationFailed) as exc:
        submit(org, **override)
    assert field in exc.value.fields
    assert CitizenRequest.objects.count() == 0 and AuditEvent.objects.filter(action="feedback.submit").count() == 0


def _sent_code(django_capture_on_commit_callbacks, phone: str = "13800001234") -> str:
    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(phone=phone)
    return sms.outbox[-1].text.split("验证码是 ")[1][:6]


def test_complaint_needs_the_code_sent_to_the_phone(org, django_capture_on_commit_callbacks):
    code = _sent_code(django_capture_on_commit_callbacks)
    assert not PhoneCode.objects.filter(code_hash__contains=code).exists()  # only a keyed hash is kept
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationFailed) as exc:
        submit(org, kind="complaint", code=wrong)
    assert "code" in exc.value.fields and CitizenRequest.objects.count() == 0
    req = submit(org, kind="complaint", code=code)
    assert req.phone_verified
    with pytest.raises(ValidationFailed):  # a code works once
        submit(org, kind="complaint", code=code)


def test_codes_expire_and_allow_few_attempts(org, django_capture_on_commit_callbacks):
    code = _sent_code(django_capture_on_commit_callbacks)
    for _ in range(services.CODE_MAX_ATTEMPTS):
        with pytest.raises(ValidationFailed):
            services.phone_code_check(phone="13800001234", code="x")
    with pytest.raises(ValidationFailed) as exc:
        services.phone_code_check(phone="13800001234", code=code)
    assert "次数过多" in str(exc.value.fields["code"][0])
    code = _sent_code(django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed):
        services.phone_code_check(phone="13800001234", code=code, now=timezone.now() + dt.timedelta(minutes=11))


def test_code_sending_is_limited_per_phone(org):
    for _ in range(services.CODES_PER_HOUR):
        services.phone_code_send(phone="13900001111")
    with pytest.raises(ValidationFailed):
        services.phone_code_send(phone="13900001111")


def test_hotline_operator_needs_no_code(org):
    req = submit(org, kind="complaint", actor=org.user("a_housing"), channel="hotline")
    assert req.phone_verified and req.channel == "hotline"


def _full_cycle(org, req, who="a_housing"):
    u = org.user(who)
    services.request_accept(actor=u, request=req)
    services.request_contact(actor=u, request=req, note="已电话联系")
    services.request_reply(actor=u, request=req, text="已安排物业本周更换楼道灯")
    services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5, comment="很好")
    return services.request_close(actor=u, request=req)


def test_the_whole_workflow_is_audited_and_closes_on_time(org):
    req = _full_cycle(org, submit(org))
    assert req.status == Status.CLOSED and req.closed_on_time is True
    assert req.first_contact_at and req.replied_at and req.closed_at
    actions = set(AuditEvent.objects.filter(object_id=str(req.pk), object_type="feedback.citizenrequest")
                  .values_list("action", flat=True))
    assert {"feedback.submit", "feedback.accept", "feedback.contact", "feedback.reply", "feedback.return_visit",
            "feedback.close"} <= actions


def test_only_the_owner_unit_may_handle(org):
    req = submit(org)
    with pytest.raises(PermissionDenied):
        services.request_accept(actor=org.user("b_housing"), request=req)
    with pytest.raises(Conflict):
        services.request_close(actor=org.user("a_housing"), request=req)


def test_unresolved_return_visit_sends_the_case_back(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_reply(actor=u, request=req, text="已转告物业公司处理")
    req = services.request_return_visit(actor=u, request=req, resolved=False, satisfaction=1)
    assert req.status == Status.IN_PROGRESS and req.replied_at is None
    with pytest.raises(ValidationFailed):
        services.request_reply(actor=u, request=req, text="")
    with pytest.raises(Conflict):
        services.request_return_visit(actor=u, request=req, resolved=True, satisfaction=5)


def test_return_visit_satisfaction_must_be_1_to_5(org):
    req = submit(org)
    services.request_reply(actor=org.user("a_housing"), request=req, text="已转告物业公司处理")
    with pytest.raises(ValidationFailed):
        services.request_return_visit(actor=org.user("a_housing"), request=req, resolved=True, satisfaction=6)
    req.refresh_from_db()
    assert req.status == Status.REPLIED and req.satisfaction is None


def test_citizen_reopens_within_the_window_only(org):
    req = _full_cycle(org, submit(org))
    with pytest.raises(Exception):
        services.request_reopen(receipt_code=req.receipt_code, phone="13900000000", reason="灯又坏了，请再来修")
    later = req.closed_at + dt.timedelta(days=16)
    with pytest.raises(Conflict):
        services.request_reopen(receipt_code=req.receipt_code, phone="13800001234", reason="灯又坏了，请再来修",
                                now=later)
    req = services.request_reopen(receipt_code=req.receipt_code, phone="13800001234", reason="灯又坏了，请再来修")
    assert req.status == Status.IN_PROGRESS and req.reopen_count == 1 and req.owner is not None


def test_waiting_for_the_citizen_pauses_and_resumes(org):
    req = submit(org)
    u = org.user("a_housing")
    services.request_accept(actor=u, request=req)
    with pytest.raises(ValidationFailed):
        services.request_wait(actor=u, request=req, waiting=True, note="")
    req = services.request_wait(actor=u, request=req, waiting=True, note="请补充具体楼栋号")
    assert req.waiting_since is not None
    with pytest.raises(Conflict):
        services.request_wait(actor=u, request=req, waiting=True, note="again")
    req = services.request_wait(actor=u, request=req, waiting=False)
    assert req.waiting_since is None


def test_phone_is_masked():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("") == ""


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (30.0, 15.0, 0.0), 1: "N"}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_stored_without_exif(org):
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif()
    req = submit(org, photo=io.BytesIO(raw), photo_size=len(raw))
    with req.photo.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
        assert stored.format == "JPEG" and not stored.getexif() and stored.size == (40, 30)


@pytest.mark.parametrize(("data", "size"), [(b"%PDF-1.4 not an image", 20), (b"x", 6 * 1024 * 1024)])
def test_non_images_and_oversized_uploads_are_refused(org, data, size):
    with pytest.raises(ValidationFailed) as exc:
        submit(org, photo=io.BytesIO(data), photo_size=size)
    assert "photo" in exc.value.fields and CitizenRequest.objects.count() == 0


def test_public_submissions_are_limited_per_phone(org):
    for _ in range(services.REQUESTS_PER_PHONE_HOUR):
        submit(org)
    with pytest.raises(ValidationFailed) as exc:
        submit(org)
    assert "过多" in str(exc.value.fields["phone"][0])
    assert submit(org, actor=org.user("a_housing"), channel="hotline").phone == "13800001234"  # operators are not
