"""Reads of published releases. OCDS data is public: no scoping applies."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from minsheng.procurement.models import OcdsRelease


def releases_page(*, since: dt.datetime | None, offset: int, limit: int) -> list[OcdsRelease]:
    """Releases in (date, id) order from `since` (inclusive), skipping the first `offset` of those dated exactly
    `since` (they were on the previous page)."""
    qs: QuerySet[OcdsRelease] = OcdsRelease.objects.order_by("date", "id")
    if since is not None:
        qs = qs.filter(date__gte=since)
        if offset:
            skip = list(qs.filter(date=since).values_list("id", flat=True)[:offset])
            qs = qs.exclude(Q(date=since) & Q(id__in=skip))
    return list(qs[:limit])


def next_cursor(last: OcdsRelease) -> tuple[dt.datetime, int]:
    """(since, offset) of the page after one that ended with `last`."""
    return last.date, OcdsRelease.objects.filter(date=last.date, id__lte=last.id).count()


def releases_for(ocid: str) -> list[OcdsRelease]:
    return list(OcdsRelease.objects.filter(ocid=ocid).order_by("date", "id"))
