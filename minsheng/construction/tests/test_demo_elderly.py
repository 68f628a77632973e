"""The essay's elderly home reported ~90 % it never made: the platform must flag it, on the page and
through the API; the rural water project, whose progress inspections confirmed, is not flagged."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from minsheng.accounts.models import User
from minsheng.construction import selectors
from minsheng.construction.demo import generate_supervision
from minsheng.construction.progress import GAP, NO_EVIDENCE, STALE_EVIDENCE
from minsheng.demo import city
from minsheng.projects.models import Project
from minsheng.telemetry.models import Alarm, Device


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return city.generate(seed=2026, projects=6, as_of=timezone.localdate(), store_files=False)


def _admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.filter(is_superuser=True).first())
    return client


def test_elderly_home_is_flagged_without_any_supervision(demo):
    project = Project.objects.get(code=city.CASES["elderly"])
    gap = selectors.progress_gap(project)
    assert gap.flagged and NO_EVIDENCE in gap.reasons
    assert gap.reported >= 80 and gap.evidenced == 0
    client = _admin_client()
    body = client.get(f"/api/v1/projects/{project.pk}/progress-gap").json()
    assert body["flagged"] is True and NO_EVIDENCE in body["reasons"]
    assert 'id="gap-flag"' in client.get(f"/console/projects/{project.pk}/supervision/").content.decode()


def test_demo_supervision_data_flags_the_elderly_home_and_clears_the_water_project(demo):
    made = generate_supervision(as_of=timezone.localdate(), seed=2026)
    from minsheng.telemetry.simulate import PLAN

    assert made.inspections == 5 and made.rectifications == 2 and made.readings > 1000
    assert made.devices == len(PLAN["water"]) + len(PLAN["elderly"])
    elderly = selectors.progress_gap(Project.objects.get(code=city.CASES["elderly"]))
    assert elderly.flagged and {GAP, STALE_EVIDENCE} <= set(elderly.reasons)
    assert elderly.evidenced < elderly.reported - 30
    water = Project.objects.get(code=city.CASES["water"])
    assert not selectors.progress_gap(water).flagged
    assert Device.objects.filter(project=water).count() == 6
    # Night work at the elderly home and the low chlorine at the village tap raise alarms.
    assert Alarm.objects.filter(project=water, alarm_type="chlorine_low").exists()
    page = _admin_client().get(f"/console/projects/{water.pk}/water/").content.decode()
    assert "疑似户内漏水" in page and "疑似漏损" in page


def test_demo_village_representative_reads_his_village_water_page(demo):
    from minsheng.construction.models import VillageObservation

    made = generate_supervision(as_of=timezone.localdate(), seed=2026)
    water = Project.objects.get(code=city.CASES["water"])
    rep = User.objects.get(username="village_rep")
    assert rep.division.level == 5 and rep.division.path.startswith(water.division_path)
    assert made.observations == 1 and VillageObservation.objects.get().project == water
    client = Client()
    client.force_login(rep)
    start = client.get("/console/village/").content.decode()
    assert water.name in start and "供水情况" in start
    page = client.get(f"/console/projects/{water.pk}/water/").content.decode()
    assert "今天疑似漏水" in page
    elderly = Project.objects.get(code=city.CASES["elderly"])
    assert client.get(f"/console/projects/{elderly.pk}/water/").status_code == 404
