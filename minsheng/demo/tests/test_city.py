"""The generated demo city: sizes from the requirement, gate consistency, the six cases, logins."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client, override_settings

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core.models import AuditEvent, Department, DepartmentKind, Division, DivisionLevel
from minsheng.demo import city
from minsheng.demo.cases import SIX_CASES
from minsheng.demo.consistency import Rules, check_project, projects_for_check
from minsheng.projects import code as project_code
from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import (
    CodeSequence,
    Document,
    Domain,
    GateApproval,
    PerformanceTarget,
    Project,
    StageTransition,
    WbsItem,
)
from minsheng.projects.selectors import overdue_items, projects_visible

AS_OF = dt.date(2026, 11, 25)
SEED = 2026


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo city for the whole module, rolled back at the end (the audit trail can't be deleted)."""
    media_root = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        with transaction.atomic():
            result = city.generate(seed=SEED, as_of=AS_OF)
            result.media_root = media_root  # type: ignore[attr-defined]
            yield result
            transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_division_tree_has_the_required_shape(demo):
    by_level = Counter(Division.objects.values_list("level", flat=True))
    assert by_level[DivisionLevel.PROVINCE] == 1 and by_level[DivisionLevel.CITY] == 1
    assert by_level[DivisionLevel.COUNTY] == 5
    assert 36 <= by_level[DivisionLevel.TOWNSHIP] <= 44
    assert 180 <= by_level[DivisionLevel.VILLAGE] <= 220
    for d in Division.objects.select_related("parent"):
        if d.parent is not None:
            assert d.code.startswith(d.parent.code[: {3: 4, 4: 6, 5: 9}.get(d.level, 2)]), d.code
            assert d.path == f"{d.parent.path}{d.pk}/"
        assert len(d.code) == {1: 6, 2: 6, 3: 6, 4: 9, 5: 12}[d.level]
    assert Division.objects.get(code=city.CITY_CODE).name == "青溪市"


def test_departments_and_staff(demo):
    city_kinds = set(Department.objects.filter(division__code=city.CITY_CODE).values_list("kind", flat=True))
    assert len(city_kinds) == 20 and DepartmentKind.TOWNSHIP not in city_kinds
    for county in Division.objects.filter(level=DivisionLevel.COUNTY):
        kinds = set(county.departments.values_list("kind", flat=True))
        assert {"drc", "finance", "housing", "civil", "audit"} <= kinds
    staff = User.objects.count()
    assert 55 <= staff <= 70
    # Evaluation experts belong to the expert pool, not to the city's staff: the procurement demo adds them.
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values) - {Role.EXPERT}
    for account in city.DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.role == account.role and user.check_password(city.DEMO_PASSWORD)
        assert user.full_name
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_projects_cover_domains_stages_and_sizes(demo):
    projects = list(Project.objects.all())
    assert len(projects) >= 300
    assert {p.domain for p in projects} == set(Domain.values)
    assert {p.stage for p in projects} == set(Stage.values)
    amounts = [p.estimate_amount for p in projects]
    assert min(amounts) >= Decimal(200_000) and max(amounts) < Decimal(500_000_000)
    assert sum(a < 1_000_000 for a in amounts) >= 10 and sum(a > 100_000_000 for a in amounts) >= 10
    codes = [p.code for p in projects]
    assert len(set(codes)) == len(codes)
    for p in projects:
        parsed = project_code.parse(p.code)
        assert parsed.region == p.division.region_code
        assert int(parsed.year) == p.created_at.year or p.code in city.CASES.values()
        assert p.created_at.date() <= AS_OF
        assert 29.5 < float(p.latitude) < 30.6 and 119.0 < float(p.longitude) < 120.3
        assert p.beneficiaries_total >= p.beneficiaries_elderly + p.beneficiaries_children
        assert p.targets.exists()
        if p.actual_start and p.actual_end:
            assert p.actual_start <= p.actual_end
    assert sum(p.beneficiaries_disabled > 0 for p in projects) > 250


def test_code_sequence_is_in_step_so_new_codes_do_not_collide(demo):
    top: dict[tuple[int, str], int] = {}
    for code in Project.objects.values_list("code", flat=True):
        parsed = project_code.parse(code)
        key = (int(parsed.year), parsed.region)
        top[key] = max(top.get(key, 0), int(parsed.serial))
    stored = {(s.year, s.region): s.last for s in CodeSequence.objects.all()}
    assert stored == top
    housing = User.objects.get(username="housing")
    town = Division.objects.get(code="990102001")
    project = services.project_create(
        actor=housing,
        data={
            "name": "新登记项目",
            "domain": "housing",
            "division": town.pk,
            "lead_department": housing.department_id,
            "responsible_person": housing.pk,
            "estimate_amount": "1000000",
        },
    )
    assert Project.objects.filter(code=project.code).count() == 1


def test_every_project_passes_the_gate_consistency_check(demo):
    rules = Rules()
    failures = {p.code: check_project(p, rules) for p in projects_for_check()}
    assert {code: errs for code, errs in failures.items() if errs} == {}
    assert StageTransition.objects.count() > 900
    assert GateApproval.objects.filter(approve=False).exists()  # some requests were sent back first


def test_the_consistency_check_catches_a_missing_document_and_a_wrong_approver(demo):
    project = Project.objects.filter(
        stage=Stage.CONSTRUCTION, transitions__to_stage=Stage.DESIGN, transitions__path="full"
    ).first()
    project = projects_for_check().get(pk=project.pk)
    assert check_project(project) == []
    Document.objects.filter(project=project, kind=DocumentKind.FSR).delete()
    assert any("可行性研究报告" in e for e in check_project(projects_for_check().get(pk=project.pk)))

    other = Project.objects.filter(stage=Stage.OPERATION).exclude(code__in=city.CASES.values()).first()
    approval = GateApproval.objects.filter(
        request__project=other, request__status="approved", slot="finance"
    ).first()
    GateApproval.objects.filter(pk=approval.pk).update(approver=User.objects.get(username="housing2"))
    errors = check_project(projects_for_check().get(pk=other.pk))
    assert any("housing2 may not fill slot finance" in e for e in errors), (approval.pk, errors)


def test_six_essay_cases_exist_with_their_stories(demo):
    assert set(city.CASES) == {c.key for c in SIX_CASES}
    for case in SIX_CASES:
        project = Project.objects.get(code=city.CASES[case.key])
        assert project.name == case.name and project.stage == case.stage and project.domain == case.domain
        assert (
            city.CASES[case.key]
            == project_code.build(
                year=case.code_year,
                region=project.division.region_code,
                department_kind=case.lead[1],
                serial=1,
            ).value
        )
        assert project.wbs_items.count() == len(case.wbs)
    elderly = Project.objects.get(code=city.CASES["elderly"])
    assert elderly.progress >= 85 and elderly.planned_end < AS_OF
    assert elderly.wbs_items.filter(due_date__lt=AS_OF, progress__lt=100).count() >= 5
    assert elderly.members.filter(user__username="supervisor").exists()
    elevator = Project.objects.get(code=city.CASES["elevator"])
    assert elevator.wbs_items.filter(name__contains="电梯安装").count() == 6
    assert elevator.division.name == "城关街道"
    bus = Project.objects.get(code=city.CASES["bus"])
    assert bus.partner_departments.count() >= 10
    water = Project.objects.get(code=city.CASES["water"])
    assert water.wbs_items.filter(name__contains="智能水表").exists() and water.division.name == "东岭县"
    for key in ("bikes", "cloud"):
        assert not PerformanceTarget.objects.filter(
            project__code=city.CASES[key], actual_value__isnull=True
        ).exists()


def test_checklists_have_named_people_and_some_overdue_items(demo):
    per_project = Counter(WbsItem.objects.values_list("project_id", flat=True))
    assert min(per_project.values()) >= 3 and max(per_project.values()) <= 13
    assert not WbsItem.objects.filter(responsible__full_name="").exists()
    leader = User.objects.get(username="leader")
    assert overdue_items(leader).count() >= 20
    finished = WbsItem.objects.filter(project__stage__in=[Stage.OPERATION, Stage.POST_EVALUATION])
    assert not finished.filter(progress__lt=100).exists()
    assert not WbsItem.objects.filter(project__stage=Stage.RESERVE, progress__gt=0).exists()


def test_demo_accounts_log_in_and_see_their_own_scope(demo):
    client = Client()
    for account in city.DEMO_ACCOUNTS:
        assert client.login(username=account.username, password=city.DEMO_PASSWORD), account.username
        client.logout()
    housing, housing2 = User.objects.get(username="housing"), User.objects.get(username="housing2")
    mine, theirs = set(projects_visible(housing)), set(projects_visible(housing2))
    assert Project.objects.get(code=city.CASES["elevator"]) in mine
    assert mine and theirs and not mine & theirs
    supervisor = User.objects.get(username="supervisor")
    seen = projects_visible(supervisor)
    assert seen.filter(code=city.CASES["elderly"]).exists()
    assert seen.count() < Project.objects.count() / 3
    assert projects_visible(User.objects.get(username="leader")).count() == Project.objects.count()


def test_documents_are_stored_pdfs_with_their_real_digest(demo, settings):
    settings.MEDIA_ROOT = demo.media_root
    docs = list(Document.objects.order_by("?")[:40]) + list(
        Document.objects.filter(project__code=city.CASES["bus"])
    )
    for doc in docs:
        with default_storage.open(doc.file.name, "rb") as fh:
            content = fh.read()
        assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
        assert hashlib.sha256(content).hexdigest() == doc.sha256 and len(content) == doc.size


def test_history_pages_are_not_empty(demo):
    with_history = set(AuditEvent.objects.exclude(project_code="").values_list("project_code", flat=True))
    assert with_history == set(Project.objects.values_list("code", flat=True))
    latest = AuditEvent.objects.order_by("-at").first().at
    assert latest.date() < AS_OF
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "project.create",
        "gate.request",
        "gate.approve",
        "project.transition",
        "document.upload",
        "wbs.create",
        "wbs.progress",
        "division.create",
    } <= actions


def test_console_pages_render_the_demo_for_every_account(demo, settings):
    settings.MEDIA_ROOT = demo.media_root
    client = Client()
    for account in city.DEMO_ACCOUNTS:
        client.force_login(User.objects.get(username=account.username))
        for url in ("/console/", "/console/projects/", "/console/projects/?stage=construction"):
            assert client.get(url).status_code == 200, (account.username, url)
    client.force_login(User.objects.get(username="leader"))
    for code in city.CASES.values():
        project = Project.objects.get(code=code)
        response = client.get(f"/console/projects/{project.pk}/")
        assert response.status_code == 200 and project.name in response.content.decode()
