"""The demo city is a function of its seed (and the reference date)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from minsheng.demo.city import generate
from minsheng.demo.tests.digest import demo_digest

AS_OF = dt.date(2026, 11, 25)


def _digest_of(seed: int) -> str:
    # The audit trail cannot be deleted (a trigger forbids it), so each city is generated in a
    # transaction that is rolled back afterwards.
    with transaction.atomic():
        generate(seed=seed, projects=120, as_of=AS_OF)
        digest = demo_digest()
        transaction.set_rollback(True)
    return digest


@pytest.mark.django_db
def test_same_seed_gives_identical_data_and_another_seed_does_not():
    first = _digest_of(11)
    assert _digest_of(11) == first
    assert _digest_of(12) != first


@pytest.mark.django_db
def test_generation_refuses_a_database_that_already_has_divisions(org):
    with pytest.raises(RuntimeError):
        generate(seed=1, projects=10, as_of=AS_OF)
