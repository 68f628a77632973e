"""`minsheng demo`: generates once, prints the logins, --reset starts over (SQLite)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from minsheng.demo import city
from minsheng.projects.models import Project

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=False)
def test_demo_generates_once_and_prints_every_demo_login():
    out = io.StringIO()
    call_command("demo", no_serve=True, projects=40, seed=5, stdout=out)
    text = out.getvalue()
    assert Project.objects.count() == 40
    assert city.DEMO_PASSWORD in text
    for account in city.DEMO_ACCOUNTS:
        assert f"  {account.username} " in text
    for code in city.CASES.values():
        assert code in text
    again = io.StringIO()
    call_command("demo", no_serve=True, projects=40, seed=5, stdout=again)
    assert "already exists" in again.getvalue() and Project.objects.count() == 40


@pytest.mark.django_db
def test_demo_refuses_a_database_with_other_divisions(org):
    with pytest.raises(CommandError, match="empty"):
        call_command("demo", no_serve=True, stdout=io.StringIO())


def test_reset_deletes_the_sqlite_database_and_generates_again(tmp_path):
    # Runs `minsheng demo` in subprocesses on their own SQLite file, whatever database the suite uses.
    env = {**os.environ, "MINSHENG_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "minsheng.settings"}
    env.pop("SQLITE_PATH", None)
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> str:
        cmd = [sys.executable, "-m", "minsheng.cli", "demo", "--no-serve", "--projects", "30", *args]
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Generating" in run("--seed", "1")
    assert "already exists" in run("--seed", "1")
    out = run("--reset", "--seed", "2")
    assert "Deleted" in out and "Generating" in out
    assert (tmp_path / "minsheng.sqlite3").exists()
