"""The demo year of requests: mix, ownership, breaches, reopenings and the 7 days → 24 hours story."""

from __future__ import annotations

import datetime as dt
import statistics

from django.db.models import Count

from minsheng.feedback.demo import generate_requests
from minsheng.feedback.models import CitizenRequest, RequestEvent
from minsheng.feedback.tests.helpers import add_coordinator


def test_a_year_of_requests_tells_the_before_and_after_story(org):
    add_coordinator(org)  # categories without a department in the fixture go to the coordinating office
    result = generate_requests(seed=7, count=1500, as_of=dt.date(2026, 11, 1))
    assert result.count == CitizenRequest.objects.count() == 1500
    assert not CitizenRequest.objects.exclude(status="closed").filter(owner__isnull=True).exists()
    kinds = dict(CitizenRequest.objects.values_list("kind").annotate(n=Count("id")))
    assert set(kinds) == {"enquiry", "help", "complaint", "report", "suggestion", "praise"}
    assert CitizenRequest.objects.filter(closed_on_time=False).exists()
    assert CitizenRequest.objects.filter(reopen_count__gt=0).exists()
    assert CitizenRequest.objects.exclude(status="closed").exists()
    closed = list(CitizenRequest.objects.filter(closed_at__isnull=False).values_list("created_at", "closed_at"))
    midpoint = min(c for c, _ in closed) + dt.timedelta(days=182)
    before = statistics.median((e - c).total_seconds() / 3600 for c, e in closed if c < midpoint)
    after = statistics.median((e - c).total_seconds() / 3600 for c, e in closed if c >= midpoint)
    assert before > 5 * 24 and after < 36
    assert RequestEvent.objects.count() >= 1500
