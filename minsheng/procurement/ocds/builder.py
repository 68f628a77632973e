"""OCDS 1.1 releases from model rows.

`gather(tender)` / `gather_contract(contract)` read one contracting process from the database into a `Process`;
`build_release(process, …)` turns it into a release dict without touching the ORM. Every release is a full
snapshot of the process (the merge of snapshots is the latest snapshot, plus anything since removed).

Layering (decision 0004): this module does not import finance's payment layer; payment rows are read through
the model registry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from minsheng.procurement.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Clarification,
    Contract,
    ContractStatus,
    Tender,
    TenderCancellation,
    TenderStatus,
    Variation,
)

OCDS_VERSION = "1.1"
USCC_SCHEME = "CN-USCC"  # 统一社会信用代码 (GB 32100-2015); org-id.guide list code, verify with the registry

METHOD = {"open": "open", "invited": "selective", "negotiation": "limited", "single_source": "direct"}
TENDER_STATUS = {
    TenderStatus.DRAFT: "planned",
    TenderStatus.PUBLISHED: "active",
    TenderStatus.OPENED: "active",
    TenderStatus.EVALUATED: "active",
    TenderStatus.AWARDED: "complete",
    TenderStatus.CONTRACTED: "complete",
    TenderStatus.UNSUCCESSFUL: "unsuccessful",
    TenderStatus.CANCELLED: "cancelled",
}
AWARD_STATUS = {AwardStatus.STANDSTILL: "pending", AwardStatus.ACTIVE: "active", AwardStatus.CANCELLED: "cancelled"}
CONTRACT_STATUS = {
    ContractStatus.ACTIVE: "active",
    ContractStatus.COMPLETED: "terminated",
    ContractStatus.TERMINATED: "terminated",
}
# Bids are sealed until the opening: before it not even their number may be disclosed (招标投标法 第二十二条).
_OPENED = {TenderStatus.OPENED, TenderStatus.EVALUATED, TenderStatus.AWARDED, TenderStatus.CONTRACTED,
           TenderStatus.UNSUCCESSFUL}
PAID_STATUSES = ("approved", "paid")


def ocid_prefix() -> str:
    return getattr(settings, "MINSHENG_OCID_PREFIX", "") or "ocds-minsheng"


def ocid_for_tender(tender: Tender) -> str:
    """The process id: the project's 24-digit code and the tender's number, both permanent."""
    return f"{ocid_prefix()}-{tender.project.code}-{tender.pk}"


def ocid_for_contract(contract: Contract) -> str:
    """A contract signed without a tender in the platform is a process of its own (direct award)."""
    if contract.tender_id:
        return ocid_for_tender(contract.tender)
    return f"{ocid_prefix()}-{contract.project.code}-c{contract.pk}"


@dataclass
class Process:
    """Everything one release is built from."""

    ocid: str
    project: Any
    tender: Tender | None
    budget: Any | None
    bids: list[Bid] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    milestones: dict[int, list[Any]] = field(default_factory=dict)  # contract id → milestones
    variations: dict[int, list[Variation]] = field(default_factory=dict)  # contract id → approved variations
    payments: dict[int, list[Any]] = field(default_factory=dict)  # contract id → approved/paid payments
    has_enquiries: bool = False
    cancellation: TenderCancellation | None = None


def _payment_model() -> Any:
    return apps.get_model("finance", "PaymentRequest")


def _contract_parts(processes: list[Process]) -> None:
    """Milestones, approved variations and approved/paid payments of the processes' contracts, in three queries."""
    by_contract = {c.pk: p for p in processes for c in p.contracts}
    ids = list(by_contract)
    if not ids:
        return
    from minsheng.procurement.models import ContractMilestone

    for m in ContractMilestone.objects.filter(contract_id__in=ids).order_by("contract_id", "position", "due_date",
                                                                           "id"):
        by_contract[m.contract_id].milestones.setdefault(m.contract_id, []).append(m)
    for v in Variation.objects.filter(contract_id__in=ids, status=Variation.Status.APPROVED).order_by(
        "contract_id", "number"
    ):
        by_contract[v.contract_id].variations.setdefault(v.contract_id, []).append(v)
    payments = _payment_model().objects.filter(contract_id__in=ids, status__in=PAID_STATUSES).order_by(
        "contract_id", "id"
    )
    for p in payments.prefetch_related("decisions"):
        by_contract[p.contract_id].payments.setdefault(p.contract_id, []).append(p)


TENDER_RELATED = ("project", "project__division", "project__lead_department", "project__lead_department__division",
                  "budget_version")


def gather_many(tenders: list[Tender]) -> list[Process]:
    """The processes of many tenders in a fixed number of queries (for publishing everything)."""
    rows = Tender.objects.filter(pk__in=[t.pk for t in tenders]).select_related(*TENDER_RELATED).prefetch_related(
        "bids__supplier", "awards__supplier", "contracts__supplier", "contracts__award"
    ).order_by("pk")
    asked = set(Clarification.objects.filter(tender__in=tenders).values_list("tender_id", flat=True).distinct())
    cancelled = {c.tender_id: c for c in TenderCancellation.objects.filter(tender__in=tenders)}
    processes = []
    for t in rows:
        process = Process(ocid=ocid_for_tender(t), project=t.project, tender=t, budget=t.budget_version,
                          has_enquiries=t.pk in asked, cancellation=cancelled.get(t.pk))
        process.bids = sorted(t.bids.all(), key=lambda b: (b.submitted_at, b.pk))
        process.awards = sorted(t.awards.all(), key=lambda a: (a.decided_at, a.pk))
        process.contracts = sorted(t.contracts.all(), key=lambda c: (c.signed_on, c.pk))
        processes.append(process)
    _contract_parts(processes)
    return processes


def gather(tender: Tender) -> Process:
    tender = Tender.objects.select_related(*TENDER_RELATED).get(pk=tender.pk)
    process = Process(
        ocid=ocid_for_tender(tender), project=tender.project, tender=tender, budget=tender.budget_version,
        has_enquiries=tender.clarifications.exists(),
        cancellation=TenderCancellation.objects.filter(tender=tender).first(),
    )
    process.bids = list(tender.bids.select_related("supplier").order_by("submitted_at", "id"))
    process.awards = list(tender.awards.select_related("supplier").order_by("decided_at", "id"))
    process.contracts = list(tender.contracts.select_related("supplier", "award").order_by("signed_on", "id"))
    _contract_parts([process])
    return process


def gather_contract(contract: Contract) -> Process:
    """The process a contract belongs to: its tender's, or its own when it has none."""
    contract = Contract.objects.select_related(
        "tender", "project", "project__division", "project__lead_department", "project__lead_department__division",
        "supplier", "award",
    ).get(pk=contract.pk)
    if contract.tender_id:
        return gather(contract.tender)
    process = Process(ocid=ocid_for_contract(contract), project=contract.project, tender=None, budget=None)
    process.contracts = [contract]
    _contract_parts([process])
    return process


# ---- pure part: rows → dict ---------------------------------------------------------------------------------------


def _money(amount: Decimal | None, currency: str = "CNY") -> dict[str, Any]:
    return {"amount": float(amount) if amount is not None else None, "currency": currency or "CNY"}


def iso(value: dt.datetime | dt.date | None, *, precise: bool = False) -> str | None:
    """RFC 3339 in Asia/Shanghai; a date is taken as the start of that day there. `precise` keeps microseconds
    (a release's own date, which orders releases)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).isoformat(timespec="microseconds" if precise else "seconds")


def _department_party_id(dept: Any) -> str:
    # Departments carry no credit code in the platform; this id is stable across databases.
    return f"MS-DEPT-{dept.division.code}-{dept.kind}"


def _supplier_party_id(supplier: Any) -> str:
    return f"{USCC_SCHEME}-{supplier.credit_code}"


def _ref(party: dict[str, Any]) -> dict[str, Any]:
    return {"id": party["id"], "name": party["name"]}


def _clean(obj: Any) -> Any:
    """Drop None values and empty containers, so releases carry only what is known."""
    if isinstance(obj, dict):
        out = {k: _clean(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def build_release(process: Process, *, release_id: str, date: dt.datetime, tags: list[str]) -> dict[str, Any]:
    project, tender = process.project, process.tender
    dept = project.lead_department
    buyer = {
        "id": _department_party_id(dept),
        "name": dept.name,
        "address": {"region": dept.division.name, "countryName": "中国"},
        "roles": ["buyer", "procuringEntity"],
    }
    suppliers: dict[int, dict[str, Any]] = {}

    def supplier_party(s: Any, role: str) -> dict[str, Any]:
        party = suppliers.get(s.pk)
        if party is None:
            party = suppliers[s.pk] = {
                "id": _supplier_party_id(s),
                "name": s.name,
                "identifier": {"scheme": USCC_SCHEME, "id": s.credit_code, "legalName": s.name},
                "address": {"streetAddress": s.address or None, "countryName": "中国"},
                "roles": [],
            }
        if role not in party["roles"]:
            party["roles"].append(role)
        return party

    release: dict[str, Any] = {
        "ocid": process.ocid,
        "id": release_id,
        "date": iso(date),
        "tag": list(tags),
        "initiationType": "tender",
        "language": "zh",
        "buyer": _ref(buyer),
    }
    budget = process.budget
    release["planning"] = {
        "rationale": project.summary or None,
        "budget": {
            "id": f"budget-{budget.pk}" if budget else None,
            "description": (f"{budget.get_kind_display()} v{budget.number}" if budget else None),
            "amount": _money(budget.total, getattr(budget, "currency", "CNY")) if budget else None,
            "project": project.name,
            "projectID": project.code,
        },
    }

    if tender is not None:
        release["tender"] = _tender(process, tender, buyer, supplier_party)
    else:
        release["tender"] = {
            "id": f"direct-{process.contracts[0].pk}",
            "title": process.contracts[0].title,
            "status": "complete",
            "procurementMethod": "direct",
            "procurementMethodDetails": "合同直接签订（平台外采购）",
            "procuringEntity": _ref(buyer),
        }

    awards = []
    for a in process.awards:
        awards.append({
            "id": f"award-{a.pk}",
            "status": AWARD_STATUS.get(a.status, "pending"),
            "date": iso(a.decided_at),
            "value": _money(a.value, tender.currency if tender else "CNY"),
            "suppliers": [_ref(supplier_party(a.supplier, "supplier"))],
        })
    contracts = []
    for c in process.contracts:
        award_id = f"award-{c.award_id}" if c.award_id else None
        if award_id is None:
            # A contract without an award row (signed outside the platform's award step): a synthetic direct award.
            award_id = f"award-direct-{c.pk}"
            awards.append({
                "id": award_id,
                "status": "active",
                "date": iso(c.signed_on),
                "value": _money(c.value, c.currency),
                "suppliers": [_ref(supplier_party(c.supplier, "supplier"))],
            })
        contracts.append(_contract(process, c, award_id, buyer, supplier_party))
    if awards:
        release["awards"] = awards
    if contracts:
        release["contracts"] = contracts
    if any(process.payments.values()):
        buyer["roles"].append("payer")
    release["parties"] = [buyer, *sorted(suppliers.values(), key=lambda p: p["id"])]
    return _clean(release)


def _tender(process: Process, tender: Tender, buyer: dict, supplier_party: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": tender.reference,
        "title": tender.title,
        "description": tender.description or None,
        "status": TENDER_STATUS.get(tender.status, "planned"),
        "procuringEntity": _ref(buyer),
        "value": _money(tender.value, tender.currency),
        "procurementMethod": METHOD[tender.method],
        "procurementMethodDetails": str(tender.get_method_display()),
        "procurementMethodRationale": tender.method_reason or None,
        "mainProcurementCategory": tender.category,
        "awardCriteria": tender.award_criteria,
        "awardCriteriaDetails": str(tender.get_award_criteria_display()),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "电子招标投标平台，投标文件加密递交，开标时公开解密验证",
        "tenderPeriod": {"startDate": iso(tender.submission_start or tender.published_at),
                         "endDate": iso(tender.submission_deadline)},
        "enquiryPeriod": {"startDate": iso(tender.published_at), "endDate": iso(tender.clarification_deadline)},
        "hasEnquiries": process.has_enquiries,
        "eligibilityCriteria": tender.quality_standards or None,
    }
    if tender.status in _OPENED or (tender.status == TenderStatus.CANCELLED and tender.opened_at is not None):
        live = [b for b in process.bids if b.status != BidStatus.WITHDRAWN]
        data["numberOfTenderers"] = len(live)
        seen: dict[int, dict[str, Any]] = {}
        for b in live:
            seen.setdefault(b.supplier_id, _ref(supplier_party(b.supplier, "tenderer")))
        data["tenderers"] = list(seen.values())
    cancellation = process.cancellation
    if tender.status == TenderStatus.CANCELLED and cancellation is not None:
        # The reason is published with the notice: a document of the open documentType code cancellationDetails.
        data["documents"] = [{
            "id": f"cancellation-{cancellation.pk}",
            "documentType": "cancellationDetails",
            "title": "终止招标公告",
            "description": cancellation.reason,
            "datePublished": iso(cancellation.cancelled_at),
            "language": "zh",
        }]
    if process.awards:
        first = min(a.decided_at for a in process.awards)
        data["awardPeriod"] = {"startDate": iso(tender.opened_at or tender.submission_deadline),
                               "endDate": iso(first)}
    return data


def _contract(process: Process, c: Contract, award_id: str, buyer: dict, supplier_party: Any) -> dict[str, Any]:
    variations = process.variations.get(c.pk, [])
    current = c.value + sum((v.amount for v in variations), Decimal(0))
    supplier_party(c.supplier, "supplier")
    data: dict[str, Any] = {
        "id": c.number,
        "awardID": award_id,
        "title": c.title,
        "description": c.quality_standards or None,
        "status": CONTRACT_STATUS.get(c.status, "active"),
        "period": {"startDate": iso(c.period_start), "endDate": iso(c.period_end)},
        "value": _money(current, c.currency),
        "dateSigned": iso(c.signed_on),
        "milestones": [
            {
                "id": f"milestone-{m.pk}",
                "title": m.title,
                "type": "delivery",
                "description": f"{m.description}（节点付款 {m.amount} 元）" if m.description
                else f"节点付款 {m.amount} 元",
                "dueDate": iso(m.due_date),
                "dateMet": iso(m.met_on),
                "status": m.status,
            }
            for m in process.milestones.get(c.pk, [])
        ],
        "amendments": [
            {
                "id": str(v.number),
                "date": iso(v.decided_at or v.requested_at),
                "rationale": v.reason,
                "description": f"变更金额 {v.amount} 元，工期变化 {v.days} 日",
            }
            for v in variations
        ],
    }
    transactions = []
    for p in process.payments.get(c.pk, []):
        decided = [d.at for d in p.decisions.all() if d.approve]
        when = p.paid_on or (max(decided) if decided else p.requested_at)
        payee = supplier_party(c.supplier, "payee")
        transactions.append({
            "id": f"payment-{p.pk}",
            "date": iso(when),
            "value": _money(p.amount, p.currency),
            "payer": _ref(buyer),
            "payee": _ref(payee),
        })
    if transactions:
        data["implementation"] = {"transactions": transactions}
    return data


# ---- identity of a state -------------------------------------------------------------------------------------------


def content_hash(release: dict[str, Any]) -> str:
    """The digest of what a release says, without its id, date and tags: equal states hash equal."""
    body = {k: v for k, v in release.items() if k not in ("id", "date", "tag")}
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def derive_tags(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """The release tags that describe what changed between two snapshots of a process."""
    if previous is None:
        tags = ["planning"] if current.get("tender", {}).get("status") == "planned" else ["tender"]
        if current.get("tender", {}).get("status") == "cancelled":
            tags.append("tenderCancellation")
        if current.get("awards"):
            tags.append("award")
        if current.get("contracts"):
            tags.append("contract")
            if any(c.get("implementation") for c in current["contracts"]):
                tags.append("implementation")
        return tags
    tags: list[str] = []
    prev_tender, cur_tender = previous.get("tender", {}), current.get("tender", {})
    if prev_tender != cur_tender:
        if cur_tender.get("status") == "cancelled":
            tags.append("tenderCancellation")
        elif prev_tender.get("status") == "planned" and cur_tender.get("status") != "planned":
            tags.append("tender")
        else:
            tags.append("tenderUpdate")
    elif previous.get("planning") != current.get("planning"):
        tags.append("planningUpdate")
    prev_awards = {a["id"]: a for a in previous.get("awards", [])}
    for a in current.get("awards", []):
        if a["id"] not in prev_awards:
            tags.append("award")
        elif prev_awards[a["id"]] != a:
            tags.append("awardCancellation" if a.get("status") == "cancelled" else "awardUpdate")
    prev_contracts = {c["id"]: c for c in previous.get("contracts", [])}
    for c in current.get("contracts", []):
        old = prev_contracts.get(c["id"])
        if old is None:
            tags.append("contract")
            if c.get("implementation"):
                tags.append("implementation")
            continue
        amended = len(c.get("amendments", [])) > len(old.get("amendments", []))
        if amended:
            tags.append("contractAmendment")
        if c.get("implementation") != old.get("implementation"):
            tags.append("implementation" if not old.get("implementation") else "implementationUpdate")
        # An amendment explains the new value; any other change to the contract is an update.
        skip = {"amendments", "implementation"} | ({"value"} if amended else set())
        rest = {k: v for k, v in c.items() if k not in skip}
        old_rest = {k: v for k, v in old.items() if k not in skip}
        if rest != old_rest:
            tags.append("contractTermination" if c.get("status") == "terminated" else "contractUpdate")
    if not tags:
        tags.append("tenderUpdate" if current.get("tender") else "planningUpdate")
    seen: list[str] = []
    for t in tags:
        if t not in seen:
            seen.append(t)
    return seen
