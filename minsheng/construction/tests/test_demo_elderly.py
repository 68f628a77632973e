"""The essay's elderly home reported ~90 % it never made: the platform must flag it, on the page and
through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from minsheng.accounts.models import User
from minsheng.construction import selectors
from minsheng.construction.progress import NO_EVIDENCE
from minsheng.demo import city
from minsheng.projects.models import Project


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return city.generate(seed=2026, projects=6, as_of=dt.date(2026, 11, 25), store_files=False)


def test_elderly_home_is_flagged(demo):
    project = Project.objects.get(code=city.CASES["elderly"])
    gap = selectors.progress_gap(project)
    assert gap.flagged and NO_EVIDENCE in gap.reasons
    assert gap.reported >= 80 and gap.evidenced == 0
    admin = User.objects.filter(is_superuser=True).first()
    client = Client()
    client.force_login(admin)
    body = client.get(f"/api/v1/projects/{project.pk}/progress-gap").json()
    assert body["flagged"] is True and NO_EVIDENCE in body["reasons"]
    page = client.get(f"/console/projects/{project.pk}/supervision/").content.decode()
    assert 'id="gap-flag"' in page
