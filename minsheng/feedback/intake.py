"""The intake of submissions from the public portal: received in one INSERT, registered within seconds.

A citizen's submission is checked completely in the web request (`services.check_submission`: fields,
place, photo, the phone's hourly limit; a complaint's one-time code) and stored as an `Intake` row with
its receipt code, which the citizen sees at once. The registration worker (`register_pending`, queued
every few seconds by the scheduler) turns each row into a CitizenRequest with the same receipt code and
the submission's own time as `created_at`: routing and the first responder (首问负责制), SLA clocks from
the moment of submission, the timeline, the audit trail, the officers' and the citizen's notices, and
the merge into a nearby open case — the same `services.register` the hotline and Open311 use. Why the
portal does not register in the web request: docs/decisions/0006-citizen-intake.md.

At least once, exactly one request: a row is registered in the same transaction that marks it
registered, rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer), and a
registration that fails is retried with a growing delay; after FAIL_NOTIFY_AFTER attempts the row is
marked failed, the system administrators are told, and it is still retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core.errors import Conflict
from minsheng.feedback import services
from minsheng.feedback.models import VERIFIED_KINDS, CitizenRequest, Intake, IntakeStatus

log = logging.getLogger(__name__)

BATCH = 100  # rows per transaction: one commit (one WAL flush) for the batch, a savepoint per row
FAIL_NOTIFY_AFTER = 3
KEEP_DAYS = 30  # registered rows are kept this long (receipt codes and idempotency keys of recent submissions)
MAX_RETRY_DELAY = dt.timedelta(hours=1)
_PERSONAL = {"name": "", "phone": "", "email": "", "description": "", "address": "", "latitude": None,
             "longitude": None, "photo": ""}


class _InsertOne:
    """One row's INSERT with its SQL built once per database. The ORM compiles the statement on every
    save — for this 26-column row that is two thirds of the cost of the portal's whole write (about
    0.65 ms of CPU against 0.25 ms; bench/feedback_http_bench.py) — while the values still go through each
    field's own conversion (`pre_save`, `get_db_prep_save`), exactly as the ORM sends them."""

    def __init__(self, model: type) -> None:
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.sql: dict[str, str] = {}

    def __call__(self, obj: Any) -> None:
        vendor = connection.vendor
        sql = self.sql.get(vendor)
        if sql is None:
            q = connection.ops.quote_name
            # Only the model's own table and column names are interpolated; every value is a parameter.
            sql = (f"INSERT INTO {q(obj._meta.db_table)} ({', '.join(q(f.column) for f in self.fields)}) "  # noqa: S608
                   f"VALUES ({', '.join(['%s'] * len(self.fields))})")
            if connection.features.can_return_columns_from_insert:
                sql += f" RETURNING {q(obj._meta.pk.column)}"
            self.sql[vendor] = sql
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            obj.pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
        obj._state.adding, obj._state.db = False, connection.alias


_insert_row = _InsertOne(Intake)


def _insert(item: Intake) -> Intake:
    """INSERT `item` with a new receipt code: one statement, committed at once outside a transaction. A
    repeated idempotency key returns the row that has it."""
    for _attempt in range(5):
        item.receipt_code = services.new_receipt_code()
        try:
            if connection.in_atomic_block:
                with transaction.atomic():
                    _insert_row(item)
            else:
                _insert_row(item)
            return item
        except IntegrityError:
            if item.idempotency_key:
                first = Intake.objects.filter(idempotency_key=item.idempotency_key).first()
                if first is not None:
                    return first
            item.pk = None
    raise Conflict()  # pragma: no cover - 31^10 codes


def store(checked: services.Checked, *, code: str = "", idempotency_key: str = "",
          now: dt.datetime | None = None) -> Intake:
    """Receive a checked submission from the public: a complaint's or report's one-time code is consumed
    (in its own transaction, so a wrong attempt counts), then one INSERT. A submission sent again with the
    same idempotency key (a double click, the phone's offline queue resending after a lost answer) gets
    the first one's row back and changes nothing."""
    now = now or timezone.now()
    key = (idempotency_key or "").strip()[:64] or None
    verified = checked.kind in VERIFIED_KINDS
    if key and verified:
        # Before the code check: the code was used by the first submission.
        first = Intake.objects.filter(idempotency_key=key).first()
        if first is not None:
            return first
    if verified:
        services.phone_code_check(phone=checked.phone, code=code, now=now)
    item = Intake(
        idempotency_key=key, created_at=now, channel=checked.channel, kind=checked.kind, category=checked.category,
        urgency=checked.urgency, description=checked.description, address=checked.address,
        latitude=checked.latitude, longitude=checked.longitude, division=checked.division,
        project=checked.project, name=checked.name, phone=checked.phone,
        phone_key=services.phone_key(checked.phone) if checked.phone else "",
        phone_verified=bool(checked.phone) and verified, email=checked.email,
    )
    if checked.photo is not None:
        item.photo.save(checked.photo.name, checked.photo, save=False)
    return _insert(item)


def intake_submit(*, data: services.Submission, idempotency_key: str = "", now: dt.datetime | None = None) -> Intake:
    """The portal's submission: every check now, registration by the worker."""
    now = now or timezone.now()
    checked = services.check_submission(actor=None, data=data, now=now)
    return store(checked, code=data.code, idempotency_key=idempotency_key, now=now)


@transaction.atomic
def intake_register(item: Intake, *, now: dt.datetime | None = None, memo: dict | None = None) -> CitizenRequest:
    """Register one received submission as a CitizenRequest (see the module docstring) and mark it
    registered, keeping only the receipt, its time, the idempotency key and the phone's keyed hash."""
    now = now or timezone.now()
    checked = services.Checked(
        kind=item.kind, category=item.category, urgency=item.urgency, channel=item.channel,
        description=item.description, address=item.address, latitude=item.latitude, longitude=item.longitude,
        division=item.division, project=item.project, name=item.name, phone=item.phone, email=item.email,
        photo=None, staff_entry=False,
    )
    # Within one batch's transaction the units and their staff do not change: look each up once.
    memo = {} if memo is None else memo
    key = ("route", item.category, item.division_id, item.project_id)
    unit = memo.get(key)
    if unit is None:
        unit = memo[key] = services.route(category=item.category, division=item.division, project=item.project)
    req = services.register(checked, unit=unit, actor=None, created_at=item.created_at,
                            phone_verified=item.phone_verified, receipt_code=item.receipt_code,
                            photo_name=item.photo.name if item.photo else "", memo=memo)
    Intake.objects.filter(pk=item.pk).update(status=IntakeStatus.REGISTERED, request=req, registered_at=now,
                                             error="", retry_at=None, **_PERSONAL)
    return req


def _ready(now: dt.datetime):
    """Rows waiting for registration that may be tried now."""
    return (Intake.objects.exclude(status=IntakeStatus.REGISTERED)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now)))


def _claim(now: dt.datetime, limit: int) -> list[Intake]:
    qs = _ready(now).select_related("division", "project", "project__division",
                                    "project__lead_department").order_by("id")
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs[:limit])


def _why(exc: Exception) -> str:
    fields = getattr(exc, "fields", None)
    if fields:
        return "；".join(str(m) for messages in fields.values() for m in messages)
    return str(getattr(exc, "message", exc))


def _failed(item: Intake, exc: Exception, now: dt.datetime) -> None:
    attempts = item.attempts + 1
    why = _why(exc)
    delay = min(MAX_RETRY_DELAY, dt.timedelta(seconds=30 * 2 ** (attempts - 1)))
    status = IntakeStatus.FAILED if attempts >= FAIL_NOTIFY_AFTER else item.status
    Intake.objects.filter(pk=item.pk).update(attempts=attempts, error=why[:2000],
                                             retry_at=now + delay, status=status)
    if attempts == FAIL_NOTIFY_AFTER:
        from minsheng.accounts.models import User
        from minsheng.accounts.roles import Role
        from minsheng.core.services import notify_many

        admins = User.objects.filter(role=Role.SYSADMIN, is_active=True).values_list("pk", flat=True)
        notify_many(recipient_ids=list(admins), kind="feedback.intake_failed", link="/admin/feedback/intake/",
                    text=_("群众诉求 %(code)s 多次分派失败：%(why)s") % {"code": item.receipt_code,
                                                                  "why": why[:120]},
                    dedupe_key=f"intake-failed:{item.pk}")


def register_pending(*, now: dt.datetime | None = None, batch: int = BATCH,
                     budget_seconds: float | None = 50.0) -> dict[str, int]:
    """Register what is waiting, a batch per transaction, until nothing is left or the time budget is
    spent (the scheduler queues this every few seconds; the next run takes over). Returns counts."""
    counts = {"registered": 0, "failed": 0}
    started = time.monotonic()
    while budget_seconds is None or time.monotonic() - started < budget_seconds:
        at = now or timezone.now()
        with transaction.atomic():
            items = _claim(at, batch)
            memo: dict = {}
            for item in items:
                try:
                    intake_register(item, now=at, memo=memo)
                    counts["registered"] += 1
                except Exception as exc:  # one bad row must not hold up the queue; it is retried later
                    log.exception("intake %s: registration failed", item.receipt_code)
                    _failed(item, exc, at)
                    counts["failed"] += 1
        if len(items) < batch:
            break
    return counts


def purge(*, now: dt.datetime | None = None, days: int = KEEP_DAYS) -> int:
    """Delete registered rows older than `days` (daily, with the retention job)."""
    now = now or timezone.now()
    deleted, _by_model = Intake.objects.filter(status=IntakeStatus.REGISTERED,
                                               created_at__lt=now - dt.timedelta(days=days)).delete()
    return deleted


def waiting(now: dt.datetime | None = None) -> bool:
    """Anything to register now (the scheduler's cheap check before it queues `register_pending`)."""
    return _ready(now or timezone.now()).exists()


def counts() -> dict[str, Any]:
    """Waiting and failed rows, and the oldest waiting submission's time (the operator's health view)."""
    waiting = Intake.objects.exclude(status=IntakeStatus.REGISTERED)
    oldest = waiting.order_by("id").values_list("created_at", flat=True).first()
    return {"waiting": waiting.count(), "failed": waiting.filter(status=IntakeStatus.FAILED).count(),
            "oldest": oldest}
