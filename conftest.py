"""Shared pytest fixtures for the whole suite."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings

# Tests that use real threads or processes (concurrent approvals, MQTT ingest, serve) need a test
# database other connections can share. SQLite's default test database is in-memory with a shared
# cache, where a second writer fails at once with "database table is locked" instead of waiting;
# production uses a file in WAL mode, so the tests do too. This must happen before the test
# database is created, hence at import (collection) time, for every test module alike.
_default_db = django_settings.DATABASES["default"]
if _default_db["ENGINE"].endswith("sqlite3") and not _default_db.get("TEST", {}).get("NAME"):
    _default_db.setdefault("TEST", {})["NAME"] = str(Path(tempfile.mkdtemp(prefix="minsheng-test-")) / "test.sqlite3")

# build_org creates about twenty users; PBKDF2 at production strength makes each test take seconds.
# Set for the whole session (module-scoped fixtures hash passwords too); PBKDF2 stays as a fallback
# so a hash made either way verifies.
django_settings.PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture
def org(db):
    from minsheng.testing.factories import build_org

    return build_org()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _site_language():
    # Every test starts in the site language: a request in English (cookie or Accept-Language) leaves
    # English active in the thread after the response, and a later test on the same worker would read
    # its error messages in English.
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _tasks_immediate(settings):
    # Tasks run in-process in tests unless a test asks for the database backend explicitly.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Tests change settings "in another process" by hand and look at once; production looks once a second.
    settings.MINSHENG_RULES_RECHECK_SECONDS = 0




def _audit_trigger_sql(kind: str) -> list[str]:
    import importlib

    from django.db import connection

    migration = importlib.import_module("minsheng.core.migrations.0002_audit_append_only")
    vendor = "SQLITE" if connection.vendor == "sqlite" else "POSTGRES"
    return getattr(migration, vendor + ("_DROP" if kind == "drop" else ""))


def _run(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


@pytest.fixture
def _audit_triggers_restored(django_db_blocker):
    """Set up before `transactional_db`, so this teardown runs after its flush: put the triggers back."""
    yield
    with django_db_blocker.unblock():
        _run(_audit_trigger_sql("drop") + _audit_trigger_sql("create"))


@pytest.fixture
def concurrent_db(_audit_triggers_restored, transactional_db):
    """Real commits that other threads' connections can see. The test database is emptied after each
    such test by DELETE/TRUNCATE, which the append-only triggers rightly refuse; they are lifted just
    for that flush and restored after it (test machinery only — the application never does this)."""
    yield
    _run(_audit_trigger_sql("drop"))
