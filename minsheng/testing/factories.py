"""factory_boy factories and a small organisation for tests (one province, one city, two counties)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core.models import Department, DepartmentKind, Division, DivisionLevel
from minsheng.projects import code as project_code
from minsheng.projects.models import Domain, PerformanceTarget, Project, WbsItem

PASSWORD = "test-password-123"  # noqa: S105 - tests only


def make_division(code: str, name: str, level: int, parent: Division | None) -> Division:
    d = Division.objects.create(code=code, name=name, level=level, parent=parent, path="")
    d.path = f"{parent.path if parent else '/'}{d.pk}/"
    d.save(update_fields=["path"])
    return d


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试{n}")
    role = Role.DEPT_OFFICER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


_serial = iter(range(1, 10**8))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试项目{n}")
    domain = Domain.HOUSING
    division_path = factory.LazyAttribute(lambda o: o.division.path)
    code = factory.LazyAttribute(
        lambda o: project_code.build(year=2026, region=o.division.region_code,
                                     department_kind=o.lead_department.kind, serial=next(_serial)).value
    )
    estimate_amount = Decimal("3000000.00")


class WbsItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WbsItem

    code = factory.Sequence(lambda n: f"{n + 1}")
    name = factory.Sequence(lambda n: f"子项{n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))
    weight = Decimal(1)


@dataclass
class Org:
    """A small world: 江南省 › 青溪市 › {青溪区, 东岭县} › townships, with departments and staff."""

    province: Division
    city: Division
    county_a: Division
    county_b: Division
    town_a: Division
    town_b: Division
    depts: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def user(self, key: str) -> User:
        return self.users[key]


def build_org() -> Org:
    prov = make_division("990000", "江南省", DivisionLevel.PROVINCE, None)
    city = make_division("990100", "青溪市", DivisionLevel.CITY, prov)
    ca = make_division("990102", "青溪区", DivisionLevel.COUNTY, city)
    cb = make_division("990121", "东岭县", DivisionLevel.COUNTY, city)
    ta = make_division("990102001", "城关街道", DivisionLevel.TOWNSHIP, ca)
    tb = make_division("990121001", "东岭镇", DivisionLevel.TOWNSHIP, cb)
    org = Org(prov, city, ca, cb, ta, tb)
    for div_key, div in (("city", city), ("a", ca), ("b", cb)):
        for kind in (DepartmentKind.DRC, DepartmentKind.FINANCE, DepartmentKind.HOUSING, DepartmentKind.CIVIL,
                     DepartmentKind.AUDIT):
            org.depts[f"{div_key}.{kind.value}"] = Department.objects.create(
                division=div, kind=kind, name=f"{div.name}{kind.label}")

    def staff(key: str, role: str, division: Division | None, dept: str | None = None, **extra: Any) -> None:
        org.users[key] = UserFactory(username=key, full_name=key, role=role, division=division,
                                     department=org.depts[dept] if dept else None, **extra)

    staff("admin", Role.SYSADMIN, city, is_superuser=True, is_staff=True)
    staff("city_leader", Role.LEADER, city)
    staff("city_drc", Role.DEPT_OFFICER, city, "city.drc")
    staff("a_leader", Role.LEADER, ca)
    staff("a_drc", Role.DEPT_OFFICER, ca, "a.drc")
    staff("a_housing", Role.DEPT_OFFICER, ca, "a.housing")
    staff("a_civil", Role.DEPT_OFFICER, ca, "a.civil")
    staff("a_finance", Role.FINANCE_OFFICER, ca, "a.finance")
    staff("a_auditor", Role.AUDITOR, ca, "a.audit")
    staff("a_inspector", Role.TOWNSHIP_INSPECTOR, ta)
    staff("a_supervisor", Role.SUPERVISOR, None, organisation="青溪监理公司")
    staff("a_contractor", Role.CONTRACTOR, None, organisation="青溪建工")
    staff("a_evaluator", Role.EVALUATOR, None, organisation="第三方评估所")
    staff("b_leader", Role.LEADER, cb)
    staff("b_drc", Role.DEPT_OFFICER, cb, "b.drc")
    staff("b_housing", Role.DEPT_OFFICER, cb, "b.housing")
    staff("b_finance", Role.FINANCE_OFFICER, cb, "b.finance")
    return org


def project_in(org: Org, county: str = "a", *, town: bool = True, dept: str = "housing",
               responsible: str | None = None, **kwargs: Any) -> Project:
    """A project in county a or b, led by that county's department `dept`."""
    division = (org.town_a if county == "a" else org.town_b) if town else (org.county_a if county == "a"
                                                                          else org.county_b)
    lead = org.depts[f"{county}.{dept}"]
    person = org.users[responsible or f"{county}_{dept}"]
    project = ProjectFactory(division=division, lead_department=lead, responsible_person=person, **kwargs)
    PerformanceTarget.objects.create(project=project, dimension="output_quantity", indicator="改造户数",
                                     unit="户", target_value=Decimal(120))
    return project
