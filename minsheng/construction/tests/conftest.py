from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

# The browser fixtures (Debian chromium, live database with the audit triggers lifted for flushes) are
# the console's; the phone-inspection and dashboard browser tests reuse them.
from minsheng.console.tests.test_browser import (  # noqa: F401
    _audit_triggers_back_after_module,
    browser,
    live_db,
)
from minsheng.projects import services as project_services
from minsheng.projects.models import MemberRole
from minsheng.testing.factories import WbsItemFactory, project_in


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x013B] = "Owner Name"  # Artist
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def photo(at: dt.datetime, data: bytes | None = None, **extra: Any) -> dict[str, Any]:
    return {"file": io.BytesIO(data or jpeg_with_exif()), "name": "site.jpg", "taken_at": at,
            "latitude": "30.049000", "longitude": "119.606000"} | extra


@dataclass
class Site:
    org: Any
    project: Any
    item: Any
    other_item: Any
    supervisor: Any
    contractor: Any


@pytest.fixture
def site(org) -> Site:
    project = project_in(org, "a")
    officer = org.user("a_housing")
    for key, role in (("a_supervisor", MemberRole.SUPERVISOR), ("a_contractor", MemberRole.CONTRACTOR)):
        project_services.member_add(actor=officer, project=project, user=org.user(key), role=role)
    item = WbsItemFactory(project=project, responsible=org.user("a_contractor"), code="1")
    other = WbsItemFactory(project=project, responsible=org.user("a_contractor"), code="2")
    return Site(org, project, item, other, org.user("a_supervisor"), org.user("a_contractor"))


def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)
