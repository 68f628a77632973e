"""Who sees what: a county officer never sees another county's data."""

from __future__ import annotations

import pytest

from minsheng.accounts.scoping import NO_ACCESS, scope_for
from minsheng.accounts.selectors import departments_visible, divisions_visible, staff_visible
from minsheng.projects import selectors
from minsheng.projects.models import MemberRole, ProjectMember
from minsheng.testing.factories import WbsItemFactory, project_in


@pytest.fixture
def projects(org):
    a_housing = project_in(org, "a")
    a_civil = project_in(org, "a", dept="civil")
    a_county = project_in(org, "a", town=False)
    b_housing = project_in(org, "b")
    ProjectMember.objects.create(project=a_housing, user=org.user("a_supervisor"), role=MemberRole.SUPERVISOR)
    ProjectMember.objects.create(project=a_housing, user=org.user("a_contractor"), role=MemberRole.CONTRACTOR)
    ProjectMember.objects.create(project=b_housing, user=org.user("a_evaluator"), role=MemberRole.EVALUATOR)
    return {"a_housing": a_housing, "a_civil": a_civil, "a_county": a_county, "b_housing": b_housing}


EXPECTED = {
    "admin": {"a_housing", "a_civil", "a_county", "b_housing"},
    "city_leader": {"a_housing", "a_civil", "a_county", "b_housing"},
    "city_drc": {"a_housing", "a_civil", "a_county", "b_housing"},
    "a_leader": {"a_housing", "a_civil", "a_county"},
    "a_drc": {"a_housing", "a_civil", "a_county"},
    "a_finance": {"a_housing", "a_civil", "a_county"},
    "a_auditor": {"a_housing", "a_civil", "a_county"},
    "a_housing": {"a_housing", "a_county"},
    "a_civil": {"a_civil"},
    "a_inspector": {"a_housing", "a_civil"},  # the township, not the county seat project
    "a_supervisor": {"a_housing"},
    "a_contractor": {"a_housing"},
    "a_evaluator": {"b_housing"},
    "b_leader": {"b_housing"},
    "b_drc": {"b_housing"},
    "b_housing": {"b_housing"},
    "b_finance": {"b_housing"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_user_sees_exactly_the_projects_in_scope(org, projects, who):
    seen = set(selectors.projects_visible(org.user(who)).values_list("pk", flat=True))
    assert seen == {projects[k].pk for k in EXPECTED[who]}


def test_anyone_sees_a_project_where_they_hold_a_sub_item(org, projects):
    WbsItemFactory(project=projects["a_housing"], responsible=org.user("a_civil"))
    assert selectors.projects_visible(org.user("a_civil")).filter(pk=projects["a_housing"].pk).exists()


def test_partner_department_sees_the_project(org, projects):
    projects["a_housing"].partner_departments.add(org.depts["a.civil"])
    assert selectors.projects_visible(org.user("a_civil")).filter(pk=projects["a_housing"].pk).exists()


def test_inactive_and_anonymous_users_see_nothing(org, projects):
    from django.contrib.auth.models import AnonymousUser

    user = org.user("a_drc")
    user.is_active = False
    user.save()
    assert scope_for(user) == NO_ACCESS
    assert not selectors.projects_visible(user).exists()
    assert not selectors.projects_visible(AnonymousUser()).exists()
    assert not divisions_visible(AnonymousUser()).exists()


def test_divisions_and_departments_visible_are_the_users_subtree(org):
    a = set(divisions_visible(org.user("a_drc")))
    assert a == {org.county_a, org.town_a}
    assert set(divisions_visible(org.user("city_drc"))) == {
        org.city,
        org.county_a,
        org.county_b,
        org.town_a,
        org.town_b,
    }
    assert org.county_b not in set(divisions_visible(org.user("a_inspector")))
    assert all(d.division == org.county_a for d in departments_visible(org.user("a_housing")))
    assert not divisions_visible(org.user("a_contractor")).exists()


def test_staff_visible_is_the_subtree_and_the_chain_above(org):
    names = set(staff_visible(org.user("a_housing")).values_list("username", flat=True))
    assert {"a_drc", "a_inspector", "city_leader", "admin"} <= names
    assert not names & {"b_drc", "b_housing", "b_leader", "a_contractor"}
    assert set(staff_visible(org.user("a_contractor")).values_list("username", flat=True)) == {"a_contractor"}
