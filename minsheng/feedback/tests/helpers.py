"""Test helpers for citizen requests."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.roles import Role
from minsheng.core.models import Department, DepartmentKind
from minsheng.feedback import services
from minsheng.feedback.models import CitizenRequest
from minsheng.testing.factories import UserFactory


def add_coordinator(org: Any) -> Department:
    """The city's government office (12345 工作机构) and one officer in it."""
    office = Department.objects.create(division=org.city, kind=DepartmentKind.GOVOFFICE, name="青溪市政府办公室")
    org.depts["city.govoffice"] = office
    org.users["coordinator"] = UserFactory(username="coordinator", full_name="协调员", role=Role.DEPT_OFFICER,
                                           division=org.city, department=office)
    return office


def register_intake() -> int:
    """What the registration worker does every few seconds: register every submission received."""
    from minsheng.feedback import intake

    return intake.register_pending(budget_seconds=None)["registered"]


def submit(org: Any, **kw: Any) -> CitizenRequest:
    actor, now = kw.pop("actor", None), kw.pop("now", None)
    data = {"kind": "enquiry", "category": "housing", "description": "小区楼道灯坏了很久没人修",
            "division": org.town_a, "phone": "13800001234"} | kw
    return services.request_submit(actor=actor, data=services.Submission(**data), now=now)
