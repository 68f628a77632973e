"""Helpers for console tests: a project with a responsibility checklist and files to upload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from minsheng.projects.lifecycle import Stage
from minsheng.testing.factories import WbsItemFactory, project_in

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "建议书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")



@pytest.fixture
def project(org):
    """A county-a housing project at the proposal stage, with one overdue and one on-time sub-item."""
    p = project_in(org, "a", stage=Stage.PROPOSAL)
    today = timezone.localdate()
    WbsItemFactory(
        project=p,
        code="1",
        name="外墙保温",
        responsible=org.user("a_housing"),
        due_date=today - dt.timedelta(days=3),
    )
    WbsItemFactory(
        project=p,
        code="2",
        name="管网改造",
        responsible=org.user("a_inspector"),
        due_date=today + dt.timedelta(days=30),
    )
    return p


def login(client, user):
    client.force_login(user)
    return client
