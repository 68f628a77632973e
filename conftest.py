"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def org(db):
    from minsheng.testing.factories import build_org

    return build_org()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _tasks_immediate(settings):
    # Tasks run in-process in tests unless a test asks for the database backend explicitly.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
