"""Ledger test fixtures: a signing key per test session, a project with anchored evidence."""

from __future__ import annotations

import io

import pytest

from minsheng.ledger import note

TEST_ORIGIN = "test.minsheng.local/ledger"
_SIGNER = note.generate(TEST_ORIGIN)
PDF = b"%PDF-1.7\n%ledger test\n" + b"1" * 64


@pytest.fixture(autouse=True)
def _ledger_key(settings):
    settings.LEDGER_ORIGIN = TEST_ORIGIN
    settings.LEDGER_SIGNING_KEY = _SIGNER.skey
    settings.LEDGER_PUBLIC_KEY = ""
    settings.LEDGER_HASH = "sha256"
    # Fast password hashing: the shared `org` fixture creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def signer() -> note.Signer:
    return _SIGNER


@pytest.fixture
def project(org):
    from minsheng.testing.factories import project_in

    return project_in(org)


@pytest.fixture
def anchored(org, project, django_capture_on_commit_callbacks):
    """A project that entered the pipeline (a stage transition) and got one document: both anchored
    through the projects events, then a checkpoint was signed."""
    from minsheng.ledger import services
    from minsheng.projects import services as project_services
    from minsheng.projects.lifecycle import Stage

    with django_capture_on_commit_callbacks(execute=True):
        project_services.gate_request(actor=org.user("a_housing"), project=project, to_stage=Stage.PROPOSAL)
    with django_capture_on_commit_callbacks(execute=True):
        doc = project_services.document_upload(
            actor=org.user("a_housing"),
            project=project,
            kind="proposal",
            title="项目建议书",
            fileobj=io.BytesIO(PDF),
            filename="p.pdf",
        )
    services.checkpoint_create()
    return {"project": project, "document": doc}
