"""Computing red flags (per tender, contract, payment, and in one set-based pass over everything), deciding them,
and drawing internal-audit samples of payments.

Flags are kept in step with the data: recomputing a subject updates its open flags, adds new ones and deletes open
ones whose condition no longer holds; confirmed and dismissed flags are kept as decided.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import CharField, Count, DecimalField, F, Max, Min, Q, Sum, Value, Window
from django.db.models.functions import Cast, Coalesce, Floor, Substr
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from minsheng.accounts.roles import Cap, Role, has_cap
from minsheng.core import audit
from minsheng.core.errors import PermissionDenied, ValidationFailed
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import Department, Notification
from minsheng.insight import detectors, reasons
from minsheng.insight.detectors import Finding, Rules
from minsheng.insight.models import (
    AuditSample,
    AuditSampleItem,
    FindingResult,
    FlagKind,
    FlagStatus,
    RedFlag,
    Severity,
)
from minsheng.procurement.models import Bid, Contract, Supplier, Tender, Variation

TENDER_KINDS = [FlagKind.SHORT_PERIOD, FlagKind.SINGLE_BID, FlagKind.IDENTICAL_PRICES, FlagKind.CLOSE_TO_WINNER,
                FlagKind.LATE_BID_WON, FlagKind.OTHERS_DISQUALIFIED, FlagKind.LOWEST_DISQUALIFIED,
                FlagKind.HEAVY_DISCOUNT, FlagKind.TAMPERED_BID]
CONTRACT_KINDS = [FlagKind.AWARD_CONTRACT_CHANGE, FlagKind.CHANGE_ORDERS]
SPLIT_KINDS = [FlagKind.SPLIT_NEAR_THRESHOLD, FlagKind.SPLIT_SAME_SUPPLIER, FlagKind.SPLIT_SEQUENTIAL]
PAYMENT_KINDS = [FlagKind.DUPLICATE_INVOICE]
BENFORD_KINDS = [FlagKind.BENFORD_DEPARTMENT, FlagKind.BENFORD_SUPPLIER]
COMPETITIVE = ("open", "invited")
LIVE_PAYMENT = ("awaiting_signoff", "submitted", "dept_approved", "approved", "paid")
CHUNK = 2000


def _payments() -> Any:
    return apps.get_model("finance", "PaymentRequest")


def rules_for(division: Any = None) -> Rules:
    return Rules.from_values(
        rule_for("insight.redflags", division).value,
        rule_for("procurement.must_tender_from", division).value,
        rule_for("procurement.min_submission_days", division).value,
        rule_for("procurement.variation_share", division).value,
    )


# ---- who a flag goes to, and who may see it ------------------------------------------------------------------------


class Router:
    """Routes flags to a named person: procurement flags to the project's responsible officer, payment flags to
    the finance officer of the nearest division above the project (or department)."""

    def __init__(self) -> None:
        User = apps.get_model("accounts", "User")
        officers = User.objects.filter(role=Role.FINANCE_OFFICER, is_active=True, division__isnull=False)
        self._finance = sorted(officers.values_list("division__path", "pk"), key=lambda r: (-len(r[0]), r[1]))

    def finance_officer(self, path: str) -> int | None:
        for division_path, pk in self._finance:
            if path.startswith(division_path):
                return pk
        return None


@dataclass
class Context:
    project_id: int | None
    department_id: int | None
    division_path: str
    owner_id: int | None
    label: str


def _project_contexts(project_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    Project = apps.get_model("projects", "Project")
    ids = list(set(project_ids))
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), CHUNK):
        for row in Project.objects.filter(pk__in=ids[i:i + CHUNK]).values(
            "pk", "division_path", "responsible_person_id", "lead_department_id", "code"
        ):
            out[row["pk"]] = row
    return out


# ---- writing flags -------------------------------------------------------------------------------------------------


def _reason_zh(kind: str, figures: dict[str, Any]) -> str:
    with translation.override("zh-hans"):
        return reasons.render(kind, figures)


COMPARED = ("severity", "figures", "reason", "project_id", "department_id", "division_path", "owner_id",
            "subject_label")


def _sync(findings: list[Finding], contexts: dict[tuple[str, int], Context], *, kinds: list[str],
          subjects: set[tuple[str, int]] | None) -> tuple[int, int]:
    """Make the open flags of `kinds` on `subjects` (None: on every subject) equal to `findings`.
    Returns (created, deleted)."""
    now = timezone.now()
    wanted = {(f.kind, f.subject_type, f.subject_id): f for f in findings}
    scope = RedFlag.objects.filter(kind__in=kinds)
    if subjects is not None:
        by_type: dict[str, list[int]] = defaultdict(list)
        for stype, sid in subjects:
            by_type[stype].append(sid)
        q = Q(pk__in=[])
        for stype, ids in by_type.items():
            q |= Q(subject_type=stype, subject_id__in=ids)
        scope = scope.filter(q)
    existing: dict[tuple[str, str, int], RedFlag] = {}
    stale: list[int] = []
    for flag in scope.only(
        "pk", "kind", "subject_type", "subject_id", "status", *(name for name in COMPARED)
    ).iterator(chunk_size=CHUNK):
        key = (flag.kind, flag.subject_type, flag.subject_id)
        if key in wanted:
            existing[key] = flag
        elif flag.status == FlagStatus.OPEN:
            stale.append(flag.pk)
    for i in range(0, len(stale), CHUNK):
        RedFlag.objects.filter(pk__in=stale[i:i + CHUNK]).delete()
    new: list[RedFlag] = []
    changed: list[RedFlag] = []
    unchanged: list[int] = []
    for key, f in wanted.items():
        ctx = contexts.get((f.subject_type, f.subject_id)) or Context(None, None, "", None, "")
        values = {
            "severity": f.severity, "figures": f.figures, "reason": _reason_zh(f.kind, f.figures),
            "project_id": ctx.project_id, "department_id": ctx.department_id, "division_path": ctx.division_path,
            "owner_id": ctx.owner_id, "subject_label": ctx.label[:160], "computed_at": now,
        }
        flag = existing.get(key)
        if flag is None:
            new.append(RedFlag(kind=f.kind, subject_type=f.subject_type, subject_id=f.subject_id, first_seen_at=now,
                               **values))
        elif all(getattr(flag, name) == values[name] for name in COMPARED):
            unchanged.append(flag.pk)  # the common case on a nightly run: one UPDATE of computed_at per chunk
        else:
            for name, value in values.items():
                setattr(flag, name, value)
            changed.append(flag)
    RedFlag.objects.bulk_create(new, batch_size=CHUNK)
    RedFlag.objects.bulk_update(changed, [*COMPARED, "computed_at"], batch_size=CHUNK)
    for i in range(0, len(unchanged), CHUNK):
        RedFlag.objects.filter(pk__in=unchanged[i:i + CHUNK]).update(computed_at=now)
    _notify_new(new)
    return len(new), len(stale)


def _notify_new(flags: list[RedFlag]) -> None:
    """An alert to the owner of each new high-severity flag (a tampered bid, a duplicate invoice …)."""
    high = [f for f in flags if f.severity == Severity.HIGH and f.owner_id]
    if not high:
        return
    missing = [f for f in high if f.pk is None]  # backends that do not return ids from bulk inserts
    if missing:
        ids = {(k, st, sid): pk for k, st, sid, pk in RedFlag.objects.filter(
            kind__in={f.kind for f in missing}, subject_id__in=[f.subject_id for f in missing]
        ).values_list("kind", "subject_type", "subject_id", "pk")}
        for f in missing:
            f.pk = ids.get((f.kind, f.subject_type, f.subject_id))
    notes = []
    with translation.override("zh-hans"):
        for flag in high:
            pk = flag.pk
            if pk is None:
                continue
            text = _("风险线索：%(kind)s — %(subject)s") % {"kind": FlagKind(flag.kind).label,
                                                         "subject": flag.subject_label}
            notes.append(Notification(recipient_id=flag.owner_id, kind="insight.redflag", text=text[:255],
                                      link=reverse("insight:flag", args=[pk]), dedupe_key=f"redflag:{pk}"))
    Notification.objects.bulk_create(notes, batch_size=CHUNK, ignore_conflicts=True)


# ---- tenders -------------------------------------------------------------------------------------------------------

OPENED = ("opened", "evaluated", "awarded", "contracted", "unsuccessful")


def _tender_row(t: Tender, bids: list[Bid]) -> tuple[detectors.TenderRow, list[detectors.BidRow]]:
    winner = next((b.pk for b in bids if b.status == "winner"), None)
    if winner is None:
        awards = [a for a in t.awards.all() if a.status != "cancelled"]
        winner = awards[0].bid_id if awards else None
    row = detectors.TenderRow(
        id=t.pk, method=t.method, award_criteria=t.award_criteria, value=t.value, published_at=t.published_at,
        submission_start=t.submission_start, submission_deadline=t.submission_deadline,
        opened=t.status in OPENED or t.opened_at is not None, winner_bid_id=winner,
    )
    rows = [detectors.BidRow(id=b.pk, supplier=b.supplier.name, price=b.price, status=b.status,
                             submitted_at=b.submitted_at) for b in bids]
    return row, rows


def _procurement_contexts(findings: list[Finding], project_of: dict[tuple[str, int], int],
                          labels: dict[tuple[str, int], str]) -> dict[tuple[str, int], Context]:
    projects = _project_contexts(project_of.values())
    out = {}
    for f in findings:
        key = (f.subject_type, f.subject_id)
        p = projects.get(project_of.get(key, -1))
        if p is None:
            continue
        out[key] = Context(p["pk"], p["lead_department_id"], p["division_path"], p["responsible_person_id"],
                           labels.get(key, ""))
    return out


def _tender_findings(tenders: Iterable[Tender], rules: Rules | None) -> tuple[list[Finding], dict, dict, set]:
    findings: list[Finding] = []
    project_of: dict[tuple[str, int], int] = {}
    labels: dict[tuple[str, int], str] = {}
    subjects: set[tuple[str, int]] = set()
    for t in tenders:
        bids = list(t.bids.all())
        trow, brows = _tender_row(t, bids)
        found = detectors.tender_findings(trow, brows, rules or rules_for(t.project.division))
        findings += found
        subjects.add(("procurement.tender", t.pk))
        project_of[("procurement.tender", t.pk)] = t.project_id
        labels[("procurement.tender", t.pk)] = f"{t.reference} {t.title}"
        for b in bids:
            subjects.add(("procurement.bid", b.pk))
            project_of[("procurement.bid", b.pk)] = t.project_id
            labels[("procurement.bid", b.pk)] = f"{t.reference} · {b.supplier.name}"
    return findings, project_of, labels, subjects


def compute_for_tender(tender: Tender) -> list[RedFlag]:
    tender = Tender.objects.select_related("project__division").prefetch_related("bids__supplier", "awards").get(
        pk=tender.pk)
    findings, project_of, labels, subjects = _tender_findings([tender], None)
    with transaction.atomic():
        _sync(findings, _procurement_contexts(findings, project_of, labels), kinds=TENDER_KINDS, subjects=subjects)
    return list(RedFlag.objects.filter(Q(subject_type="procurement.tender", subject_id=tender.pk)
                                       | Q(subject_type="procurement.bid",
                                           subject_id__in=[s[1] for s in subjects if s[0] == "procurement.bid"])))


# ---- contracts -----------------------------------------------------------------------------------------------------


def _contracts_annotated() -> Any:
    approved = Q(variations__status=Variation.Status.APPROVED)
    return Contract.objects.annotate(
        variation_count=Count("variations", filter=approved),
        variation_total=Coalesce(Sum("variations__amount", filter=approved), Value(Decimal(0)),
                                 output_field=DecimalField(max_digits=14, decimal_places=2)),
    )


def _contract_findings(rows: Iterable[dict[str, Any]], rules: Rules) -> list[Finding]:
    found: list[Finding] = []
    for r in rows:
        found += detectors.contract_findings(
            detectors.ContractRow(id=r["pk"], number=r["number"], value=r["value"], award_value=r["award__value"],
                                  variation_count=r["variation_count"], variation_total=r["variation_total"]),
            rules,
        )
    return found


def _purchases(qs: Any) -> list[detectors.PurchaseRow]:
    """Contracts signed without competition, as purchase rows."""
    rows = qs.filter(Q(tender__isnull=True) | ~Q(tender__method__in=COMPETITIVE)).values_list(
        "pk", "number", "supplier_id", "supplier__name", "project__lead_department_id", "tender__category", "value",
        "signed_on",
    )
    return [detectors.PurchaseRow(id=r[0], number=r[1], supplier_id=r[2], supplier=r[3], buyer_id=r[4],
                                  category=r[5] or "", value=r[6], signed_on=r[7]) for r in rows.iterator(CHUNK)]


CONTRACT_FIELDS = ("pk", "number", "value", "award__value", "variation_count", "variation_total", "project_id",
                   "title")


def compute_for_contract(contract: Contract) -> list[RedFlag]:
    contract = Contract.objects.select_related("project__division").get(pk=contract.pk)
    rules = rules_for(contract.project.division)
    row = _contracts_annotated().filter(pk=contract.pk).values(*CONTRACT_FIELDS).get()
    findings = _contract_findings([row], rules)
    # Splitting is a property of a buyer's purchases together: recompute the buyer's set.
    siblings = Contract.objects.filter(project__lead_department_id=contract.project.lead_department_id)
    purchases = _purchases(siblings)
    split = detectors.split_findings(purchases, rules)
    ids = {p.id for p in purchases} | {contract.pk}
    meta = {r["pk"]: r for r in Contract.objects.filter(pk__in=ids).values("pk", "project_id", "number", "title")}
    project_of = {("procurement.contract", pk): m["project_id"] for pk, m in meta.items()}
    labels = {("procurement.contract", pk): f"{m['number']} {m['title']}" for pk, m in meta.items()}
    with transaction.atomic():
        _sync(findings, _procurement_contexts(findings, project_of, labels), kinds=CONTRACT_KINDS,
              subjects={("procurement.contract", contract.pk)})
        _sync(split, _procurement_contexts(split, project_of, labels), kinds=SPLIT_KINDS,
              subjects={("procurement.contract", pk) for pk in ids})
    return list(RedFlag.objects.filter(subject_type="procurement.contract", subject_id=contract.pk))


# ---- payments ------------------------------------------------------------------------------------------------------


def _duplicate_findings(rows: Iterable[tuple]) -> list[Finding]:
    """rows: (id, invoice_number, supplier_id, invoice_amount, invoice_date) of payments that share a number or a
    (supplier, amount, date) with another; the earliest of each group is the original, the others are flagged."""
    rows = sorted(rows, key=lambda r: r[0])
    first_by_number: dict[str, int] = {}
    first_by_same: dict[tuple, int] = {}
    found: dict[int, Finding] = {}
    for pk, number, supplier_id, amount, date in rows:
        if number in first_by_number:
            found[pk] = Finding(FlagKind.DUPLICATE_INVOICE, Severity.HIGH, "finance.paymentrequest", pk,
                                {"by": "number", "invoice": number, "first": first_by_number[number]})
        else:
            first_by_number[number] = pk
        same = (supplier_id, amount, date)
        if same in first_by_same:
            found.setdefault(pk, Finding(FlagKind.DUPLICATE_INVOICE, Severity.HIGH, "finance.paymentrequest", pk,
                                         {"by": "same", "amount": f"{amount:,.2f}", "date": date.isoformat(),
                                          "first": first_by_same[same]}))
        else:
            first_by_same[same] = pk
    return list(found.values())


DUP_FIELDS = ("pk", "invoice_number", "contract__supplier_id", "invoice_amount", "invoice_date")


def _payment_contexts(pks: Iterable[int], router: Router) -> dict[tuple[str, int], Context]:
    out = {}
    pks = list(pks)
    for i in range(0, len(pks), CHUNK):
        for r in _payments().objects.filter(pk__in=pks[i:i + CHUNK]).values(
            "pk", "project_id", "project__division_path", "project__lead_department_id", "invoice_number",
            "project__code",
        ):
            out[("finance.paymentrequest", r["pk"])] = Context(
                r["project_id"], r["project__lead_department_id"], r["project__division_path"],
                router.finance_officer(r["project__division_path"]),
                _("拨付申请 #%(pk)s 发票 %(invoice)s") % {"pk": r["pk"], "invoice": r["invoice_number"]},
            )
    return out


def compute_for_payment(payment: Any) -> list[RedFlag]:
    p = _payments().objects.select_related("contract").get(pk=payment.pk)
    live = _payments().objects.filter(status__in=LIVE_PAYMENT)
    rows = live.filter(
        Q(invoice_number=p.invoice_number)
        | Q(contract__supplier_id=p.contract.supplier_id, invoice_amount=p.invoice_amount,
            invoice_date=p.invoice_date)
    ).filter(pk__lte=p.pk).values_list(*DUP_FIELDS)
    findings = [f for f in _duplicate_findings(rows) if f.subject_id == p.pk]
    with transaction.atomic():
        _sync(findings, _payment_contexts([p.pk], Router()), kinds=PAYMENT_KINDS,
              subjects={("finance.paymentrequest", p.pk)})
    return list(RedFlag.objects.filter(subject_type="finance.paymentrequest", subject_id=p.pk))


# ---- the full, set-based pass --------------------------------------------------------------------------------------


def _first_digit_counts(group_by: str) -> dict[int, dict[int, int]]:
    """Counts of first digits of live payment amounts ≥ 10 yuan, per `group_by`, in one GROUP BY query."""
    digit = Substr(Cast(Floor("amount"), CharField()), 1, 1)
    rows = (
        _payments().objects.filter(status__in=LIVE_PAYMENT, amount__gte=10)
        .annotate(d=digit).values(group_by, "d").annotate(n=Count("pk")).order_by()
    )
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for r in rows:
        if r["d"] and r["d"].isdigit() and r["d"] != "0":
            out[r[group_by]][int(r["d"])] = r["n"]
    return out


def _common_path(lo: str, hi: str) -> str:
    i = 0
    while i < min(len(lo), len(hi)) and lo[i] == hi[i]:
        i += 1
    return lo[: lo.rfind("/", 0, i + 1) + 1] if i < len(lo) else lo


def benford_findings(rules: Rules, router: Router) -> tuple[list[Finding], dict[tuple[str, int], Context]]:
    findings: list[Finding] = []
    contexts: dict[tuple[str, int], Context] = {}
    for dept_id, counts in _first_digit_counts("project__lead_department_id").items():
        f = detectors.benford_finding(FlagKind.BENFORD_DEPARTMENT, "core.department", dept_id, counts, rules)
        if f:
            findings.append(f)
    depts = {d.pk: d for d in Department.objects.filter(
        pk__in=[f.subject_id for f in findings]).select_related("division")}
    for f in findings:
        d = depts[f.subject_id]
        contexts[("core.department", d.pk)] = Context(None, d.pk, d.division.path,
                                                      router.finance_officer(d.division.path), d.name)
    supplier_found = []
    for supplier_id, counts in _first_digit_counts("contract__supplier_id").items():
        f = detectors.benford_finding(FlagKind.BENFORD_SUPPLIER, "procurement.supplier", supplier_id, counts, rules)
        if f:
            supplier_found.append(f)
    if supplier_found:
        ids = [f.subject_id for f in supplier_found]
        spans = _payments().objects.filter(contract__supplier_id__in=ids, status__in=LIVE_PAYMENT).values(
            "contract__supplier_id").annotate(lo=Min("project__division_path"), hi=Max("project__division_path"))
        span = {r["contract__supplier_id"]: _common_path(r["lo"], r["hi"]) for r in spans}
        names = dict(Supplier.objects.filter(pk__in=ids).values_list("pk", "name"))
        for f in supplier_found:
            path = span.get(f.subject_id, "/")
            contexts[("procurement.supplier", f.subject_id)] = Context(
                None, None, path, router.finance_officer(path), names.get(f.subject_id, ""))
    return findings + supplier_found, contexts


def recompute_all(timings: dict[str, float] | None = None) -> dict[str, int]:
    """Every detector over everything, set-based where the data is large (payments). Returns counts per kind;
    `timings`, when given, receives the seconds of each phase."""
    import time

    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    rules = rules_for(None)
    router = Router()
    # Tenders: bids prefetched per chunk, detectors in memory.
    tenders = Tender.objects.exclude(status="draft").select_related("project__division").prefetch_related(
        "bids__supplier", "awards").order_by("pk")
    findings, project_of, labels, _subjects = _tender_findings(tenders.iterator(chunk_size=CHUNK), rules)
    with transaction.atomic():
        _sync(findings, _procurement_contexts(findings, project_of, labels), kinds=TENDER_KINDS, subjects=None)
    lap("tenders")
    # Contracts: award change and change orders from one annotated query; splitting over all purchases.
    rows = list(_contracts_annotated().filter(
        Q(variation_count__gt=0) | Q(award__isnull=False)).values(*CONTRACT_FIELDS).iterator(CHUNK))
    cfound = _contract_findings(rows, rules)
    split = detectors.split_findings(_purchases(Contract.objects.all()), rules)
    flagged = {f.subject_id for f in cfound + split}
    meta = Contract.objects.filter(pk__in=flagged).values("pk", "project_id", "number", "title")
    project_of = {("procurement.contract", m["pk"]): m["project_id"] for m in meta}
    labels = {("procurement.contract", m["pk"]): f"{m['number']} {m['title']}" for m in meta}
    with transaction.atomic():
        _sync(cfound, _procurement_contexts(cfound, project_of, labels), kinds=CONTRACT_KINDS, subjects=None)
        _sync(split, _procurement_contexts(split, project_of, labels), kinds=SPLIT_KINDS, subjects=None)
    lap("contracts")
    # Payments: duplicates by GROUP BY … HAVING COUNT(*) > 1; only the members of such groups are read.
    live = _payments().objects.filter(status__in=LIVE_PAYMENT)
    by_number = Window(Count("pk"), partition_by=[F("invoice_number")])
    by_same = Window(Count("pk"), partition_by=[F("contract__supplier_id"), F("invoice_amount"), F("invoice_date")])
    dup_rows = list(
        live.annotate(n_number=by_number, n_same=by_same).filter(Q(n_number__gt=1) | Q(n_same__gt=1))
        .values_list(*DUP_FIELDS).iterator(CHUNK)
    )
    dups = _duplicate_findings(dup_rows)
    lap("duplicates_query")
    bfound, bcontexts = benford_findings(rules, router)
    lap("benford_query")
    with transaction.atomic():
        _sync(dups, _payment_contexts([f.subject_id for f in dups], router), kinds=PAYMENT_KINDS, subjects=None)
        _sync(bfound, bcontexts, kinds=BENFORD_KINDS, subjects=None)
    lap("payment_flags_written")
    counts: dict[str, int] = defaultdict(int)
    for f in findings + cfound + split + dups + bfound:
        counts[f.kind] += 1
    return dict(counts)


# ---- deciding flags ------------------------------------------------------------------------------------------------


def redflag_decide(*, actor: Any, flag: RedFlag, status: str, comment: str) -> RedFlag:
    """An auditor, finance officer or leader confirms or dismisses a flag, always with a comment."""
    if not has_cap(actor.role, Cap.REDFLAG_VIEW) and not actor.is_superuser:
        raise PermissionDenied()
    if status not in (FlagStatus.CONFIRMED, FlagStatus.DISMISSED, FlagStatus.OPEN):
        raise ValidationFailed(fields={"status": [_("请选择核查结论。")]})
    comment = (comment or "").strip()
    if status != FlagStatus.OPEN and not comment:
        raise ValidationFailed(fields={"comment": [_("请填写核查意见。")]})
    with transaction.atomic():
        flag = RedFlag.objects.select_for_update().get(pk=flag.pk)
        before = audit.snapshot(flag, ["status", "comment"])
        flag.status, flag.comment = status, comment
        flag.decided_by, flag.decided_at = (actor, timezone.now()) if status != FlagStatus.OPEN else (None, None)
        flag.save(update_fields=["status", "comment", "decided_by", "decided_at"])
        audit.record(actor=actor, action="redflag.decide", obj=flag, before=before,
                     after=audit.snapshot(flag, ["status", "comment"]), division_path=flag.division_path,
                     project_code=flag.project.code if flag.project_id else "")
    return flag


# ---- internal audit samples ----------------------------------------------------------------------------------------


def sample_draw(*, actor: Any, title: str, size: int, seed: int | None = None, department_id: int | None = None,
                date_from: Any = None, date_to: Any = None, stratify: bool = False) -> AuditSample:
    """Draw a reproducible random sample of approved or paid payments visible to `actor`: the same seed over the
    same frame draws the same payments. With `stratify`, sizes per department are proportional (largest
    remainder) and each department is sampled on its own."""
    from minsheng.insight.selectors import payments_visible

    if not has_cap(actor.role, Cap.AUDIT_SAMPLE) and not actor.is_superuser:
        raise PermissionDenied()
    title = (title or "").strip()
    errors: dict[str, list[Any]] = {}
    if not title:
        errors["title"] = [_("请填写抽查名称。")]
    if not isinstance(size, int) or size < 1 or size > 1000:
        errors["size"] = [_("样本量须为 1 到 1000 之间的整数。")]
    if errors:
        raise ValidationFailed(fields=errors)
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    frame = payments_visible(actor).filter(status__in=("approved", "paid"))
    if department_id:
        frame = frame.filter(project__lead_department_id=department_id)
    if date_from:
        frame = frame.filter(requested_at__date__gte=date_from)
    if date_to:
        frame = frame.filter(requested_at__date__lte=date_to)
    rng = random.Random(seed)  # noqa: S311 - reproducible audit sampling, not secrecy
    if stratify:
        strata: dict[int, list[int]] = defaultdict(list)
        for pk, dept in frame.order_by("pk").values_list("pk", "project__lead_department_id").iterator(CHUNK):
            strata[dept].append(pk)
        total = sum(len(v) for v in strata.values())
        take = min(size, total)
        quotas = {k: take * len(v) / total for k, v in strata.items()} if total else {}
        alloc = {k: int(q) for k, q in quotas.items()}
        for k in sorted(quotas, key=lambda k: (-(quotas[k] - alloc[k]), k))[: take - sum(alloc.values())]:
            alloc[k] += 1
        chosen = [pk for k in sorted(strata) for pk in rng.sample(strata[k], alloc[k])]
    else:
        ids = list(frame.order_by("pk").values_list("pk", flat=True).iterator(CHUNK))
        total = len(ids)
        chosen = rng.sample(ids, min(size, total))
    scope_path = getattr(getattr(actor, "division", None), "path", "") or ""
    with transaction.atomic():
        sample = AuditSample.objects.create(
            title=title, seed=seed, size=len(chosen), division_path=scope_path, frame_count=total,
            frame={"department": department_id, "from": str(date_from or ""), "to": str(date_to or ""),
                   "statuses": ["approved", "paid"]},
            stratify_by_department=stratify, drawn_by=actor,
        )
        AuditSampleItem.objects.bulk_create(
            [AuditSampleItem(sample=sample, position=i + 1, payment_id=pk) for i, pk in enumerate(chosen)]
        )
        audit.record(actor=actor, action="audit_sample.draw", obj=sample,
                     after={"seed": seed, "size": len(chosen), "frame_count": total}, division_path=scope_path)
    return sample


def sample_record_finding(*, actor: Any, item: AuditSampleItem, result: str, finding: str) -> AuditSampleItem:
    if not has_cap(actor.role, Cap.AUDIT_SAMPLE) and not actor.is_superuser:
        raise PermissionDenied()
    if result not in (FindingResult.COMPLIANT, FindingResult.ISSUE):
        raise ValidationFailed(fields={"result": [_("请选择检查结论。")]})
    finding = (finding or "").strip()
    if result == FindingResult.ISSUE and not finding:
        raise ValidationFailed(fields={"finding": [_("发现问题时须写明检查发现。")]})
    with transaction.atomic():
        item = AuditSampleItem.objects.select_for_update().get(pk=item.pk)
        before = audit.snapshot(item, ["result", "finding"])
        item.result, item.finding, item.checked_by, item.checked_at = result, finding, actor, timezone.now()
        item.save(update_fields=["result", "finding", "checked_by", "checked_at"])
        audit.record(actor=actor, action="audit_sample.finding", obj=item, before=before,
                     after=audit.snapshot(item, ["result", "finding"]))
    return item



