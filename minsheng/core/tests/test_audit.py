"""The audit trail: what `record` writes, and that nothing can rewrite or delete it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from minsheng.core import audit
from minsheng.core.models import AuditEvent, Division


@pytest.fixture
def event(org):
    return audit.record(
        actor=org.user("a_drc"),
        action="test.write",
        obj=org.county_a,
        before={"name": "旧", "same": 1},
        after={"name": "新", "same": 1},
        project_code="x" * 24,
        division_path=org.county_a.path,
    )


def test_record_keeps_actor_time_object_and_only_changed_values(event, org):
    assert event.actor_id == org.user("a_drc").pk
    assert event.actor_label == "a_drc" and event.actor_role == "dept_officer"
    assert event.object_type == "core.division" and event.object_id == str(org.county_a.pk)
    assert event.object_repr == "青溪区"
    assert event.before == {"name": "旧"} and event.after == {"name": "新"}
    assert event.at is not None and event.at.tzinfo is not None


def test_record_without_actor_is_labelled_system(org):
    ev = audit.record(actor=None, action="system.job", obj=org.city)
    assert ev.actor_label == "system" and ev.actor_id is None


def test_snapshot_makes_values_json_ready(org):
    snap = audit._jsonable({"d": Decimal("1.50"), "day": dt.date(2026, 1, 2), "m": org.city, "l": (1, 2)})
    assert snap == {"d": "1.50", "day": "2026-01-02", "m": org.city.pk, "l": [1, 2]}
    assert audit.snapshot(org.city)["parent_id"] == org.province.pk


def _unchanged(event) -> None:
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert fresh.action == "test.write" and fresh.after == {"name": "新"}


def test_saving_an_existing_event_is_refused(event):
    event.action = "forged"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    _unchanged(event)


def test_deleting_an_event_is_refused(event):
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    _unchanged(event)


def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    _unchanged(event)


def test_the_trail_survives_its_actor_leaving(event, org):
    # No database constraint ties an event to its actor: deactivating or removing staff never
    # touches history.
    field = AuditEvent._meta.get_field("actor")
    assert field.db_constraint is False
    assert field.remote_field.on_delete.__name__ == "DO_NOTHING"
    _unchanged(event)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditevent SET action = 'forged'",
        "UPDATE core_auditevent SET after = NULL WHERE id = %(id)s",
        "DELETE FROM core_auditevent WHERE id = %(id)s",
        "DELETE FROM core_auditevent",
    ],
)
def test_raw_sql_update_and_delete_are_refused_by_a_database_trigger(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.replace("%(id)s", str(int(event.pk))))
    _unchanged(event)


def test_emptying_the_whole_table_is_refused(event):
    # PostgreSQL has TRUNCATE (which bypasses row triggers, so it has its own statement trigger);
    # SQLite has none and empties a table with an unqualified DELETE (its "truncate optimisation").
    sql = "TRUNCATE core_auditevent" if connection.vendor == "postgresql" else "DELETE FROM core_auditevent"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    _unchanged(event)


def test_the_triggers_exist_on_this_database(db):
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_auditevent'"
            )
            assert {r[0] for r in cur.fetchall()} == {
                "core_auditevent_no_update",
                "core_auditevent_no_delete",
            }
        else:
            cur.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'core_auditevent'::regclass AND NOT tgisinternal"
            )
            assert {r[0] for r in cur.fetchall()} == {
                "core_auditevent_no_change",
                "core_auditevent_no_truncate",
            }


def test_inserting_new_events_still_works(event, org):
    before = AuditEvent.objects.count()
    audit.record(actor=None, action="again", obj=org.city)
    assert AuditEvent.objects.count() == before + 1
    assert Division.objects.filter(pk=org.city.pk).exists()
