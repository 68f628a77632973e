"""Write one immutable OcdsRelease per change of a contracting process.

Idempotent: a release is written only when the process's content (the release without id, date and tags) differs
from its latest release, so repeating an event, or publishing an unchanged process, writes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from minsheng.procurement.models import Contract, OcdsRelease, Tender
from minsheng.procurement.ocds import builder

log = logging.getLogger(__name__)


def _publish(process: builder.Process, tags: list[str] | None, now: Any = None) -> OcdsRelease | None:
    latest = OcdsRelease.objects.filter(ocid=process.ocid).order_by("-date", "-id").first()
    now = now or timezone.now()
    if latest is not None and latest.date >= now:  # release dates strictly increase within a process
        now = latest.date + timezone.timedelta(microseconds=1)
    data = builder.build_release(process, release_id="pending", date=now, tags=["tender"])
    if latest is not None and builder.content_hash(latest.data) == builder.content_hash(data):
        return None
    data["tag"] = list(tags) if tags else builder.derive_tags(latest.data if latest else None, data)
    number = OcdsRelease.objects.filter(ocid=process.ocid).count() + 1
    data["id"] = f"{process.ocid}-{number:04d}"
    data["date"] = builder.iso(now, precise=True)
    return OcdsRelease.objects.create(
        ocid=process.ocid, release_id=data["id"], date=now, tags=data["tag"], project=process.project, data=data
    )


def _locked(model: type, pk: int) -> Any:
    # Lock the process's root row so two publishers of the same process take turns (no-op on SQLite, where
    # IMMEDIATE transactions already serialise writers).
    return model.objects.select_for_update().get(pk=pk)


def publish_for_tender(tender: Tender, tags: list[str] | None = None) -> OcdsRelease | None:
    """Publish the tender's process if it changed; `tags` overrides the tags derived from the change."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                _locked(Tender, tender.pk)
                return _publish(builder.gather(tender), tags)
        except IntegrityError:  # a concurrent publisher took the same release number: read again
            if attempt == 2:
                raise
    return None


def publish_for_contract(contract: Contract, tags: list[str] | None = None) -> OcdsRelease | None:
    if contract.tender_id:
        return publish_for_tender(contract.tender, tags)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                _locked(Contract, contract.pk)
                return _publish(builder.gather_contract(contract), tags)
        except IntegrityError:
            if attempt == 2:
                raise
    return None


def publish_for_payment(payment: Any, tags: list[str] | None = None) -> OcdsRelease | None:
    return publish_for_contract(payment.contract, tags)


def _latest(ocids: list[str]) -> dict[str, tuple[OcdsRelease, int]]:
    """The newest release of each ocid and how many it has."""
    stats = {r["ocid"]: (r["last"], r["n"]) for r in OcdsRelease.objects.filter(ocid__in=ocids).values("ocid")
             .annotate(last=Max("id"), n=Count("id")).order_by()}
    rows = OcdsRelease.objects.in_bulk([last for last, _ in stats.values()])
    return {ocid: (rows[last], n) for ocid, (last, n) in stats.items()}


def publish_all(*, chunk_size: int = 500) -> int:
    """Publish every process that changed (tenders past draft, and contracts without a tender); returns releases
    written. A batch job (demo city, after an import, the benchmark): processes are read and written a chunk at a
    time without row locks, so run it while nothing else publishes, or rely on the per-process publishers."""
    written = 0
    pks = list(Tender.objects.exclude(status="draft").order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(pks), chunk_size):
        processes = builder.gather_many([Tender(pk=pk) for pk in pks[i:i + chunk_size]])
        latest = _latest([p.ocid for p in processes])
        now = timezone.now()
        new = []
        for process in processes:
            last, count = latest.get(process.ocid, (None, 0))
            date = max(now, last.date + timezone.timedelta(microseconds=1)) if last else now
            data = builder.build_release(process, release_id="pending", date=date, tags=["tender"])
            if last is not None and builder.content_hash(last.data) == builder.content_hash(data):
                continue
            data["tag"] = builder.derive_tags(last.data if last else None, data)
            data["id"] = f"{process.ocid}-{count + 1:04d}"
            data["date"] = builder.iso(date, precise=True)
            new.append(OcdsRelease(ocid=process.ocid, release_id=data["id"], date=date, tags=data["tag"],
                                   project=process.project, data=data))
        OcdsRelease.objects.bulk_create(new, batch_size=chunk_size)
        written += len(new)
    for c in Contract.objects.filter(tender__isnull=True).order_by("pk").iterator(chunk_size=chunk_size):
        written += publish_for_contract(c) is not None
    return written


def payment_model() -> Any:
    return apps.get_model("finance", "PaymentRequest")
