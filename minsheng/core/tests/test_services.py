"""Organisation services and per-jurisdiction rules."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.core import services
from minsheng.core.errors import ValidationFailed
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import AuditEvent, Department, Division, DivisionLevel, JurisdictionSetting


def test_division_create_builds_the_path_and_is_audited(org):
    town = services.division_create(
        actor=org.user("admin"),
        code="990102002",
        name=" 新城街道 ",
        level=DivisionLevel.TOWNSHIP,
        parent=org.county_a,
    )
    assert town.name == "新城街道" and town.path == f"{org.county_a.path}{town.pk}/"
    assert town.is_within(org.city) and not town.is_within(org.county_b)
    assert town.region_code == "990102"
    assert AuditEvent.objects.filter(action="division.create", object_id=str(town.pk)).exists()


@pytest.mark.parametrize(
    ("code", "level", "parent", "field"),
    [
        ("99010", DivisionLevel.COUNTY, "city", "code"),
        ("990102003", DivisionLevel.COUNTY, "city", "code"),
        ("990199", DivisionLevel.TOWNSHIP, "county_a", "code"),
        ("990199", DivisionLevel.COUNTY, None, "parent"),
        ("990199001", DivisionLevel.TOWNSHIP, "city", "level"),
        ("990102", DivisionLevel.COUNTY, "city", "code"),  # exists
        ("990199", 9, "city", "level"),
    ],
)
def test_division_create_refuses_bad_codes_and_levels(org, code, level, parent, field):
    before = (Division.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        services.division_create(
            actor=org.user("admin"),
            code=code,
            name="x",
            level=level,
            parent=getattr(org, parent) if parent else None,
        )
    assert field in exc.value.fields
    assert (Division.objects.count(), AuditEvent.objects.count()) == before


def test_department_create_refuses_a_second_of_the_same_kind(org):
    dept = services.department_create(actor=org.user("admin"), division=org.county_a, kind="water")
    assert dept.name == "青溪区水利"
    with pytest.raises(ValidationFailed):
        services.department_create(actor=org.user("admin"), division=org.county_a, kind="water")
    with pytest.raises(ValidationFailed):
        services.department_create(actor=org.user("admin"), division=org.county_a, kind="casino")
    assert Department.objects.filter(division=org.county_a, kind="water").count() == 1


def test_rule_for_takes_the_nearest_ancestor_valid_on_the_day(org):
    key = "finance.estimate_excess_ratio"
    assert rule_for(key, org.town_a).value == "0.10" and rule_for(key, org.town_a).needs_verification
    JurisdictionSetting.objects.create(
        key=key, division=None, value="0.08", source="全国", valid_from=dt.date(2020, 1, 1)
    )
    JurisdictionSetting.objects.create(
        key=key, division=org.city, value="0.15", source="市", valid_from=dt.date(2020, 1, 1)
    )
    JurisdictionSetting.objects.create(
        key=key,
        division=org.county_a,
        value="0.05",
        source="区",
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2020, 12, 31),
    )
    assert rule_for(key, org.town_a).value == "0.15"  # the county rule has expired
    assert rule_for(key, org.town_a, on=dt.date(2020, 6, 1)).value == "0.05"
    assert rule_for(key, org.town_b).value == "0.15"
    assert rule_for(key, org.province).value == "0.08"
    assert rule_for(key, None).value == "0.08"


def test_notify_with_a_dedupe_key_sends_once(org):
    user = org.user("a_drc")
    assert services.notify(recipient=user, kind="k", text="t", dedupe_key="x") is not None
    assert services.notify(recipient=user, kind="k", text="t", dedupe_key="x") is None
    assert user.notifications.count() == 1


@pytest.fixture
def memo_on():
    """The rule memo as in a fresh process (in the test process a setting written in an earlier test —
    never committed — has turned it off)."""
    from minsheng.core import jurisdiction

    memo = jurisdiction._memo
    saved = memo.pending
    memo.pending, memo.read_under, memo.rules = 0, None, {}
    yield memo
    memo.pending, memo.read_under, memo.rules = saved, None, {}


def _setting_reads(ctx) -> int:
    return sum("core_jurisdictionsetting" in q["sql"] for q in ctx.captured_queries)


def test_rule_for_reads_each_rule_once_per_settings_version(org, memo_on):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = "feedback.workflow"
    with CaptureQueriesContext(connection) as first:
        rule_for(key, org.town_a)
    with CaptureQueriesContext(connection) as again:
        assert rule_for(key, org.town_a).value["reopen_days"] == 15
    assert _setting_reads(first) == 1 and _setting_reads(again) == 0
    # Another process commits a change (no signal here) and publishes a new version: read again.
    JurisdictionSetting.objects.bulk_create([JurisdictionSetting(
        key=key, division=org.county_a, value={"reopen_days": 30}, source="区", valid_from=dt.date(2020, 1, 1))])
    assert rule_for(key, org.town_a).value["reopen_days"] == 15  # same version: still the memo
    cache.set(memo_on.KEY, "published-by-another-process", timeout=None)
    with CaptureQueriesContext(connection) as after:
        assert rule_for(key, org.town_a).value["reopen_days"] == 30
    assert _setting_reads(after) == 1


def test_a_setting_saved_here_applies_at_once_and_is_published_on_commit(
        org, memo_on, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    key = "finance.estimate_excess_ratio"
    assert rule_for(key, org.town_a).value == "0.10"
    before = cache.get(memo_on.KEY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        JurisdictionSetting.objects.create(key=key, division=org.city, value="0.15", source="市",
                                           valid_from=dt.date(2020, 1, 1))
        # Not yet committed: the memo is off here, so this process sees its own change …
        assert memo_on.pending == 1 and rule_for(key, org.town_a).value == "0.15"
        assert memo_on.rules == {}  # … and remembers nothing uncommitted
    for callback in callbacks:
        callback()
    # Committed: a new version for every process, and the memo is back on.
    assert memo_on.pending == 0 and cache.get(memo_on.KEY) != before
    assert rule_for(key, org.town_a).value == "0.15" and memo_on.rules


def test_other_processes_changes_are_seen_within_the_recheck_time(org, memo_on, settings):
    """The shared version is read at most once per MINSHENG_RULES_RECHECK_SECONDS; a change published by
    another process is seen once that time has passed (here the clock is moved on by hand)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MINSHENG_RULES_RECHECK_SECONDS = 60
    key = "feedback.workflow"
    assert rule_for(key, org.town_a).value["reopen_days"] == 15
    JurisdictionSetting.objects.bulk_create([JurisdictionSetting(
        key=key, division=org.county_a, value={"reopen_days": 30}, source="区", valid_from=dt.date(2020, 1, 1))])
    cache.set(memo_on.KEY, "published-by-another-process", timeout=None)
    with CaptureQueriesContext(connection) as within:
        assert rule_for(key, org.town_a).value["reopen_days"] == 15  # not looked at yet: the memo still holds
    assert not any("cache" in q["sql"] or "jurisdictionsetting" in q["sql"] for q in within.captured_queries)
    memo_on.checked_at -= 61
    assert rule_for(key, org.town_a).value["reopen_days"] == 30


def test_divisions_come_from_the_memo_and_a_change_is_seen_at_once_here(
        org, memo_on, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minsheng.core.jurisdiction import division_get
    from minsheng.core.models import DivisionLevel

    assert division_get(org.town_a.pk, min_level=DivisionLevel.COUNTY) == org.town_a
    with CaptureQueriesContext(connection) as again:
        assert division_get(org.town_a.pk, min_level=DivisionLevel.COUNTY).name == org.town_a.name
    assert not any("core_division" in q["sql"] for q in again.captured_queries)
    assert division_get(org.city.pk, min_level=DivisionLevel.COUNTY) is None  # above the level asked for
    assert division_get(10**12) is None
    with django_capture_on_commit_callbacks(execute=True):
        org.town_a.name = "城关街道（更名）"
        org.town_a.save()
    assert division_get(org.town_a.pk).name == "城关街道（更名）"
