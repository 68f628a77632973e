"""Release and record packages, whole or streamed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.conf import settings
from django.db.models import Max, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from minsheng.procurement.models import OcdsRelease
from minsheng.procurement.ocds import merge
from minsheng.procurement.ocds.builder import OCDS_VERSION, iso


def publisher() -> dict[str, Any]:
    data: dict[str, Any] = {"name": getattr(settings, "MINSHENG_OCDS_PUBLISHER", "") or "民生工程管理平台"}
    uri = getattr(settings, "MINSHENG_OCDS_PUBLISHER_URI", "")
    if uri:
        data["uri"] = uri
    return data


def _metadata(uri: str, published: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": iso(published or timezone.now(), precise=True),
        "publisher": publisher(),
    }
    license_uri = getattr(settings, "MINSHENG_OCDS_LICENSE", "")
    if license_uri:
        meta["license"] = license_uri
    return meta


def release_package(releases: list[OcdsRelease], *, uri: str) -> dict[str, Any]:
    published = max((r.date for r in releases), default=None)
    return {**_metadata(uri, published), "releases": [r.data for r in releases]}


def record_package(releases: list[OcdsRelease], *, uri: str, release_uri: str) -> dict[str, Any]:
    """One record: the process's releases embedded in date order and the compiled release."""
    data = [r.data for r in releases]
    record = {"ocid": releases[0].ocid, "releases": data, "compiledRelease": merge.compile_releases(data)}
    return {**_metadata(uri, releases[-1].date), "packages": [release_uri], "records": [record]}


def stream_release_package(out: IO[str], *, uri: str, queryset: QuerySet[OcdsRelease] | None = None,
                           chunk_size: int = 500) -> int:
    """Write a release package of `queryset` (default: every release) to `out` with memory flat in its size:
    rows are read with a server-side cursor in chunks and their stored JSON text is copied as it is.
    Returns the number of releases written."""
    qs = queryset if queryset is not None else OcdsRelease.objects.all()
    published = qs.aggregate(m=Max("date"))["m"]
    head = json.dumps(_metadata(uri, published), ensure_ascii=False)
    out.write(head[:-1] + ', "releases": [\n')
    count = 0
    for text in _texts(qs.order_by("date", "id"), chunk_size):
        if count:
            out.write(",\n")
        out.write(text)
        count += 1
    out.write("\n]}\n")
    return count


def _texts(qs: QuerySet[OcdsRelease], chunk_size: int) -> Iterator[str]:
    # The JSON as the database stores it: no decode and re-encode per release.
    rows: Iterable[str] = qs.annotate(raw=Cast("data", TextField())).values_list("raw", flat=True).iterator(
        chunk_size=chunk_size
    )
    yield from rows
