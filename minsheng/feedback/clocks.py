"""Stored SLA clocks and the set-based SLA scan.

Each running phase of an open request (first contact, reply, closure) has one `SlaClock` row holding
its four thresholds — 75 % (warning), 100 %, 150 %, 200 % (escalation steps 1–3) — as wall-clock
instants, already converted from working time on the jurisdiction's working-day calendar
(`sla.threshold_instants`, the same measure as `sla.clock`). They are written when a clock starts
(submission), stops (contact made, reply, closure), pauses or resumes (waiting for the citizen) —
`reschedule` after every change — so the scan does no calendar arithmetic at all:

    SELECT … FROM feedback_slaclock WHERE next_at <= now ORDER BY next_at LIMIT 5000   -- partial index

then, per chunk and in one transaction: bulk notification inserts (their dedupe keys make a repeat a
no-op), bulk timeline and audit inserts for the escalations, the requests' `escalation` levels in one
bulk update, and one set-based UPDATE moving each clock's `level` and `next_at` past `now`. A rerun
finds nothing (idempotent); a scan that ran late takes every escalation step not yet taken, and sends
no 75 % warning for a clock already in breach (as before).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, PositiveSmallIntegerField, Value, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import AuditEvent, Department, Division, JurisdictionSetting, Notification
from minsheng.feedback import sla
from minsheng.feedback.models import CitizenRequest, RequestEvent, SlaClock, Status

PHASES = (("first_contact", "first_contact_at"), ("reply", "replied_at"), ("closure", "closed_at"))
CHUNK = 5000


class Rules:
    """The calendar and SLA table per division, read once per division (a scan, a rebuild)."""

    def __init__(self) -> None:
        self._by_division: dict[int, tuple[sla.WorkCalendar, dict]] = {}

    def get(self, division: Division) -> tuple[sla.WorkCalendar, dict]:
        found = self._by_division.get(division.pk)
        if found is None:
            calendar = sla.WorkCalendar.from_table(rule_for("feedback.holiday_table", division).value)
            found = self._by_division[division.pk] = (calendar, rule_for("feedback.sla", division).value)
        return found


class _RecentRules(Rules):
    """For single writes (a submission, a status change): the rules per division as read at most
    RULES_TTL seconds ago in this process — two queries fewer per write. A changed SLA table or holiday
    table applies to clocks started or rescheduled after that, as it always did to the running ones."""

    def __init__(self) -> None:
        super().__init__()
        self._read_at: dict[int, float] = {}

    def get(self, division: Division) -> tuple[sla.WorkCalendar, dict]:
        now = time.monotonic()
        if now - self._read_at.get(division.pk, -RULES_TTL) >= RULES_TTL:
            self._by_division.pop(division.pk, None)
            self._read_at[division.pk] = now
        return super().get(division)


RULES_TTL = 60.0
_recent = _RecentRules()


@receiver([post_save, post_delete], sender=JurisdictionSetting)
def _rules_changed(**_kwargs: Any) -> None:
    """A setting saved in this process applies at once."""
    _recent._by_division.clear()


def thresholds(req: CitizenRequest, phase: str, rules: Rules | None = None) -> list[dt.datetime]:
    """The 75/100/150/200 % instants of `phase` for `req` as it stands (pauses so far pushed out)."""
    from minsheng.feedback.services import budget_text

    calendar, table = (rules or Rules()).get(req.division)
    budget = sla.Budget.parse(budget_text(req, phase, table))
    return sla.threshold_instants(calendar, budget=budget, received=req.created_at,
                                  paused_seconds=req.paused_seconds)


def _running(req: CitizenRequest) -> list[str]:
    if req.status == Status.CLOSED:
        return []
    return [phase for phase, field in PHASES if getattr(req, field) is None]


def _next(instants: list[dt.datetime], level: int, paused: bool) -> dt.datetime | None:
    return None if paused or level >= len(instants) else instants[level]


def _initial_level(req: CitizenRequest, phase: str) -> int:
    """A clock started again (a reopened case) resumes above the escalation steps already taken."""
    step = int((req.escalation or {}).get(phase, 0))
    return step + 1 if step else 0


def _clock(req: CitizenRequest, phase: str, instants: list[dt.datetime], level: int) -> SlaClock:
    warn, due, step2, step3 = instants
    return SlaClock(request_id=req.pk, phase=phase, warn_at=warn, due_at=due, step2_at=step2, step3_at=step3,
                    level=level, next_at=_next(instants, level, req.waiting_since is not None))


def start(req: CitizenRequest, rules: Rules | None = None) -> None:
    """A new request: its three clocks start (one INSERT)."""
    rules = rules or _recent
    SlaClock.objects.bulk_create([_clock(req, phase, thresholds(req, phase, rules), _initial_level(req, phase))
                                  for phase in _running(req)])


def reschedule(req: CitizenRequest, rules: Rules | None = None) -> None:
    """After any change to a request: stopped clocks go, running ones get their instants recomputed
    (a resume pushes them out by the pause), a paused one has no next instant."""
    rules = rules or _recent
    running = _running(req)
    existing = {c.phase: c for c in SlaClock.objects.filter(request_id=req.pk)}
    gone = [c.pk for phase, c in existing.items() if phase not in running]
    if gone:
        SlaClock.objects.filter(pk__in=gone).delete()
    changed, new = [], []
    for phase in running:
        instants = thresholds(req, phase, rules)
        old = existing.get(phase)
        clock = _clock(req, phase, instants, old.level if old else _initial_level(req, phase))
        if old is None:
            new.append(clock)
            continue
        clock.pk = old.pk
        if any(getattr(clock, f) != getattr(old, f) for f in ("warn_at", "due_at", "step2_at", "step3_at", "next_at")):
            changed.append(clock)
    if new:
        SlaClock.objects.bulk_create(new)
    if changed:
        SlaClock.objects.bulk_update(changed, ["warn_at", "due_at", "step2_at", "step3_at", "next_at"])


def rebuild(*, request_ids: list[int] | None = None, using: str = "default", defer: list[str] | None = None) -> int:
    """Write the clocks of open requests from scratch (after a bulk load, or a migration). Returns how
    many clocks were written. `defer`: columns not to read (a migration's: not in the table yet)."""
    qs = CitizenRequest.objects.using(using).exclude(status=Status.CLOSED).select_related("division")
    if defer:
        qs = qs.defer(*defer)
    if request_ids is not None:
        qs = qs.filter(pk__in=request_ids)
    rules = Rules()
    written = 0
    batch: list[SlaClock] = []
    for req in qs.iterator(chunk_size=CHUNK):
        batch.extend(_clock(req, phase, thresholds(req, phase, rules), _initial_level(req, phase))
                     for phase in _running(req))
        if len(batch) >= CHUNK:
            written += _replace(batch, using)
            batch = []
    return written + _replace(batch, using)


def _replace(batch: list[SlaClock], using: str) -> int:
    if batch:
        with transaction.atomic(using=using):
            SlaClock.objects.using(using).filter(request_id__in={c.request_id for c in batch}).delete()
            SlaClock.objects.using(using).bulk_create(batch, batch_size=CHUNK)
    return len(batch)


# ---------------------------------------------------------------------------------------------
# The scan


class _Directory:
    """Who receives what, read once per scan: unit staff, division leaders, coordinating offices."""

    def __init__(self) -> None:
        self.staff: dict[int, list[int]] = {}
        self.leaders: dict[int, list[int]] = {}
        self.unit_division: dict[int, int] = {}
        self.coordinator: dict[int, int | None] = {}
        self.division: dict[int, Division] = {}
        self._own: set[int] | None = None

    def load(self, reqs: list[dict[str, Any]]) -> None:
        divisions = {r["division_id"] for r in reqs} - self.division.keys()
        if divisions:
            self._coordinators(divisions)
        units = {r["owner_id"] for r in reqs} | {c for c in self.coordinator.values() if c}
        units -= self.unit_division.keys()
        self.unit_division.update(Department.objects.filter(pk__in=units).values_list("pk", "division_id"))
        for unit in units:
            self.staff[unit] = []
        for unit, user in User.objects.filter(department_id__in=units, is_active=True).values_list(
                "department_id", "pk").order_by("pk"):
            self.staff[unit].append(user)
        lead_divisions = {self.unit_division[u] for u in units} - self.leaders.keys()
        for d in lead_divisions:
            self.leaders[d] = []
        leaders = User.objects.filter(division_id__in=lead_divisions, is_active=True, role=Role.LEADER)
        for d, user in leaders.values_list("division_id", "pk").order_by("pk"):
            self.leaders[d].append(user)

    def _coordinators(self, divisions: set[int]) -> None:
        """`services.coordinator_for` per division, asked only where the answer can differ from the
        parent's: a division with no workflow setting and no department of its own has its parent's
        coordinating office (the rule is the deepest ancestor's, the office the nearest ancestor's)."""
        from minsheng.feedback.services import coordinator_for

        paths = Division.objects.filter(pk__in=divisions).values_list("path", flat=True)
        ancestors = {int(p) for path in paths for p in path.strip("/").split("/") if p} - self.division.keys()
        if self._own is None:
            self._own = set(JurisdictionSetting.objects.filter(key="feedback.workflow", division__isnull=False)
                            .values_list("division_id", flat=True))
            self._own |= set(Department.objects.values_list("division_id", flat=True).distinct())
        for d in sorted(Division.objects.filter(pk__in=ancestors), key=lambda d: d.path.count("/")):
            self.division[d.pk] = d
            if d.pk in self._own or d.parent_id is None or d.parent_id not in self.coordinator:
                coordinator = coordinator_for(d)
                self.coordinator[d.pk] = coordinator.pk if coordinator else None
            else:
                self.coordinator[d.pk] = self.coordinator[d.parent_id]

    def recipients(self, req: dict[str, Any], step: int) -> list[int]:
        """1: the handling unit; 2: the leaders of the unit's division; 3: the coordinating office."""
        if step == 1:
            return self.staff[req["owner_id"]]
        if step == 2:
            return self.leaders[self.unit_division[req["owner_id"]]]
        coordinator = self.coordinator[req["division_id"]]
        return self.staff[coordinator] if coordinator else []


def _level_at(now: dt.datetime) -> Case:
    return Case(When(step3_at__lte=now, then=Value(4)), When(step2_at__lte=now, then=Value(3)),
                When(due_at__lte=now, then=Value(2)), When(warn_at__lte=now, then=Value(1)), default=F("level"),
                output_field=PositiveSmallIntegerField())


def _next_at(now: dt.datetime) -> Case:
    return Case(When(step3_at__lte=now, then=Value(None)), When(step2_at__lte=now, then=F("step3_at")),
                When(due_at__lte=now, then=F("step2_at")), When(warn_at__lte=now, then=F("due_at")),
                default=F("warn_at"), output_field=DateTimeField())


def scan(*, now: dt.datetime | None = None, chunk: int = CHUNK) -> dict[str, int]:
    """Warn at 75 %, escalate on breach step by step, for every clock whose next threshold has come."""
    from minsheng.feedback.services import PHASE_LABELS

    now = now or timezone.now()
    counts = {"warnings": 0, "escalations": 0}
    directory = _Directory()
    warn_text, breach_text = _("诉求 %(code)s 的%(phase)s时限已用 75%%，截止 %(at)s。"), _(
        "督办：诉求 %(code)s 的%(phase)s已超时（第 %(n)d 级督办）。")
    labels = {phase: str(label) for phase, label in PHASE_LABELS.items()}
    while True:
        with transaction.atomic():
            qs = SlaClock.objects.filter(next_at__lte=now).order_by("next_at")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            clocks = list(qs.values("id", "request_id", "phase", "warn_at", "due_at", "step2_at", "step3_at",
                                    "level")[:chunk])
            if not clocks:
                return counts
            reqs = {r["id"]: r for r in CitizenRequest.objects.filter(pk__in={c["request_id"] for c in clocks}).values(
                "id", "receipt_code", "kind", "owner_id", "division_id", "escalation", "status")}
            # A request closed behind the services' back (a bulk update) has no running clocks.
            stale = [c["id"] for c in clocks if reqs[c["request_id"]]["status"] == Status.CLOSED]
            if stale:
                SlaClock.objects.filter(pk__in=stale).delete()
                clocks = [c for c in clocks if reqs[c["request_id"]]["status"] != Status.CLOSED]
            directory.load(list(reqs.values()))
            notes: list[Notification] = []
            events: list[RequestEvent] = []
            audits: list[AuditEvent] = []
            raised: dict[int, dict[str, int]] = {}
            for c in clocks:
                req = reqs[c["request_id"]]
                instants = (c["warn_at"], c["due_at"], c["step2_at"], c["step3_at"])
                level = sum(1 for at in instants if at <= now)
                phase, pk, code = c["phase"], req["id"], req["receipt_code"]
                link = f"/console/feedback/{pk}/"
                if level == 1 and c["level"] == 0:
                    text = (warn_text % {"code": code, "phase": labels[phase],
                                         "at": timezone.localtime(c["due_at"]).strftime("%Y-%m-%d %H:%M")})[:255]
                    notes.extend(Notification(recipient_id=u, kind="feedback.sla_warning", text=text, link=link,
                                              dedupe_key=f"fb:{pk}:{phase}:w")
                                 for u in directory.staff[req["owner_id"]])
                    counts["warnings"] += 1
                escalation = raised.get(pk, req["escalation"] or {})
                for step in range(int(escalation.get(phase, 0)) + 1, level):
                    before = dict(escalation)
                    escalation = {**escalation, phase: step}
                    text = breach_text % {"code": code, "phase": labels[phase], "n": step}
                    notes.extend(Notification(recipient_id=u, kind="feedback.sla_breach", text=text[:255], link=link,
                                              dedupe_key=f"fb:{pk}:{phase}:{step}")
                                 for u in directory.recipients(req, step))
                    events.append(RequestEvent(request_id=pk, at=now, action="escalated", text=text,
                                               unit_id=req["owner_id"], public=False))
                    audits.append(_audit(req, before, escalation, directory))
                    counts["escalations"] += 1
                if escalation != (req["escalation"] or {}):
                    raised[pk] = escalation
            Notification.objects.bulk_create(notes, batch_size=2000, ignore_conflicts=True)
            RequestEvent.objects.bulk_create(events, batch_size=2000)
            AuditEvent.objects.bulk_create(audits, batch_size=2000)
            # Few distinct values ({"reply": 2, …}): one UPDATE per value, not a CASE per row.
            by_value: dict[str, list[int]] = defaultdict(list)
            for pk, escalation in raised.items():
                by_value[json.dumps(escalation, sort_keys=True)].append(pk)
            for value, pks in by_value.items():
                CitizenRequest.objects.filter(pk__in=pks).update(escalation=json.loads(value))
            SlaClock.objects.filter(pk__in=[c["id"] for c in clocks]).update(level=_level_at(now),
                                                                             next_at=_next_at(now))


def _audit(req: dict[str, Any], before: dict, after: dict, directory: _Directory) -> AuditEvent:
    """What `audit.record` writes for a system escalation, built for a bulk insert."""
    kind = dict(CitizenRequest._meta.get_field("kind").flatchoices).get(req["kind"], req["kind"])
    return AuditEvent(actor=None, actor_label="system", actor_role="", action="feedback.escalate",
                      object_type="feedback.citizenrequest", object_id=str(req["id"]),
                      object_repr=f"{req['receipt_code']} {kind}"[:255],
                      division_path=directory.division[req["division_id"]].path,
                      before={"escalation": before}, after={"escalation": after})


def pending(*, now: dt.datetime) -> int:
    """How many clocks a scan at `now` would handle (for the bench and the console)."""
    return SlaClock.objects.filter(next_at__lte=now).count()
