"""Sealed bids: submission (seal, commit, anchor, receipt), withdrawal, and the opening."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.events import send_on_commit
from minsheng.core.money import parse_yuan
from minsheng.core.services import notify
from minsheng.ledger.models import Leaf
from minsheng.ledger.services import anchor, log_default
from minsheng.procurement import sealing
from minsheng.procurement.models import Bid, BidStatus, KeyShareHolder, Supplier, Tender, TenderStatus
from minsheng.procurement.services.common import clean_text, now_or, require_manage

LEDGER_KIND = "bid_commitment"
BID_RECORD = "procurement.bid"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ATTACHMENTS = 20


def supplier_for(user: Any, supplier_id: int | None = None) -> Supplier:
    """The supplier a contractor account acts for (the first one, unless it names which)."""
    if not user.is_authenticated or not user.can(Cap.BID_SUBMIT):
        raise PermissionDenied(_("只有投标单位的账号可以投标。"))
    qs = Supplier.objects.filter(users=user).order_by("pk")
    found = qs.filter(pk=supplier_id).first() if supplier_id else qs.first()
    if found is None:
        raise PermissionDenied(_("您的账号没有关联投标单位，请联系管理员。"))
    return found


def aad(tender: Tender, supplier: Supplier) -> bytes:
    """Associated data: a ciphertext only decrypts as the bid of this supplier on this tender."""
    return f"minsheng-bid|{tender.reference}|{supplier.credit_code}".encode()


def _attachments(value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            fields={"attachments": [_("附件清单格式有误（最多 %(n)d 项）。") % {"n": MAX_ATTACHMENTS}]})
    out = []
    for item in value:
        name = str((item or {}).get("name", "")).strip() if isinstance(item, dict) else ""
        digest = str((item or {}).get("sha256", "")).strip().lower() if isinstance(item, dict) else ""
        if not name or len(name) > 128 or not _SHA256.match(digest):
            raise ValidationFailed(fields={"attachments": [_("每个附件须有名称和 64 位十六进制 SHA-256 摘要。")]})
        out.append({"name": name, "sha256": digest})
    return out


@dataclass(frozen=True)
class Receipt:
    """What the bidder keeps: with the salt they can check the opening's commitment themselves."""

    bid: Bid
    commitment: str
    salt: str
    ledger_index: int
    submitted_at: dt.datetime


@transaction.atomic
def bid_submit(
    *,
    actor: Any,
    tender: Tender,
    price: Any,
    technical: str,
    attachments: Any = None,
    supplier: Supplier | None = None,
    now: dt.datetime | None = None,
) -> Receipt:
    """Seal and lodge a bid. The server sees the document only while it canonicalises, commits to and
    encrypts it; it keeps the ciphertext, the ephemeral key, the nonce and the commitment, anchors the
    commitment in the evidence ledger, and returns the receipt."""
    supplier = supplier or supplier_for(actor)
    if not actor.can(Cap.BID_SUBMIT) or not supplier.users.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("您不能代表该单位投标。"))
    tender = Tender.objects.select_for_update().select_related("project").get(pk=tender.pk)
    at = now_or(now)
    if tender.status != TenderStatus.PUBLISHED or not tender.sealing_public_key:
        raise Conflict(_("该项目不在投标期。"), code="not_open_for_bids")
    if tender.submission_deadline and at >= tender.submission_deadline:
        raise Conflict(_("投标截止时间已过，不再接受投标。"), code="deadline_passed")
    if tender.invited_suppliers.exists() and not tender.invited_suppliers.filter(pk=supplier.pk).exists():
        raise PermissionDenied(_("本项目只接受受邀供应商的投标。"))
    if Bid.objects.filter(tender=tender, supplier=supplier, status=BidStatus.SEALED).exists():
        raise Conflict(_("贵单位已有一份有效投标；如需修改，请先撤回原投标再重新递交。"), code="duplicate_bid")
    amount = parse_yuan(price, field="price", allow_zero=False)
    if amount > tender.value:
        raise ValidationFailed(fields={"price": [_("投标报价超过最高投标限价 %(v)s 元。") % {"v": tender.value}]})
    document = {
        "tender": tender.reference,
        "supplier": supplier.credit_code,
        "price": str(amount),
        "technical": clean_text(technical, field="technical", max_length=20000),
        "attachments": _attachments(attachments),
        "submitted_at": at.isoformat(),
    }
    sealed = sealing.seal(document, public_key=bytes(tender.sealing_public_key), aad=aad(tender, supplier))
    del document
    try:
        with transaction.atomic():
            bid = Bid.objects.create(
                tender=tender, supplier=supplier, submitted_by=actor, submitted_at=at,
                ephemeral_public_key=sealed.ephemeral_public_key, nonce=sealed.nonce,
                ciphertext=sealed.ciphertext, commitment=sealed.commitment,
            )
    except IntegrityError:  # a concurrent submission by the same supplier won
        raise Conflict(_("贵单位已有一份有效投标；如需修改，请先撤回原投标再重新递交。"),
                       code="duplicate_bid") from None
    leaf = anchor(kind=LEDGER_KIND, project_code=tender.project.code, record=(BID_RECORD, str(bid.pk)),
                  digest=sealed.commitment, actor=actor, at=at)
    bid.ledger_index = leaf.index
    bid.save(update_fields=["ledger_index"])
    audit.record(actor=actor, action="bid.submit", obj=bid,
                 after={"tender": tender.pk, "supplier": supplier.pk, "commitment": sealed.commitment,
                        "ledger_index": leaf.index},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    send_on_commit("procurement.bid_submitted", tender_id=tender.pk, bid_id=bid.pk)
    return Receipt(bid, sealed.commitment, sealed.salt.hex(), leaf.index, at)


@transaction.atomic
def bid_withdraw(*, actor: Any, bid: Bid, now: dt.datetime | None = None) -> Bid:
    bid = Bid.objects.select_for_update().select_related("tender", "tender__project", "supplier").get(pk=bid.pk)
    if not bid.supplier.users.filter(pk=actor.pk).exists():
        raise NotFound()
    at = now_or(now)
    if bid.status != BidStatus.SEALED:
        raise Conflict(_("只有已密封递交的投标可以撤回。"))
    if bid.tender.status != TenderStatus.PUBLISHED:
        raise Conflict(_("该项目不在投标期，不能撤回。"), code="not_open_for_bids")
    if bid.tender.submission_deadline and at >= bid.tender.submission_deadline:
        raise Conflict(_("投标截止时间已过，不能撤回。"), code="deadline_passed")
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = at
    bid.save(update_fields=["status", "withdrawn_at"])
    audit.record(actor=actor, action="bid.withdraw", obj=bid, after={"status": bid.status},
                 project_code=bid.tender.project.code, division_path=bid.tender.project.division_path)
    return bid


@dataclass
class OpeningResult:
    tender: Tender
    opened: list[Bid] = field(default_factory=list)
    tampered: list[Bid] = field(default_factory=list)


def _shares_from(tender: Tender, texts: list[str]) -> list[sealing.Share]:
    registered = {h.index: h.share_digest for h in KeyShareHolder.objects.filter(tender=tender)}
    shares: dict[int, sealing.Share] = {}
    for raw in texts:
        if not str(raw or "").strip():
            continue
        try:
            label, share = sealing.parse_share(raw)
        except sealing.SealingError:
            raise ValidationFailed(fields={"shares": [_("密钥分片格式有误或校验位不符，请逐字核对。")]}) from None
        if label != str(tender.pk) or registered.get(share.index) != sealing.share_digest(raw):
            raise ValidationFailed(fields={"shares": [_("有分片不是本项目登记的开标密钥分片。")]})
        shares[share.index] = share
    if len(shares) < tender.key_threshold:
        raise ValidationFailed(fields={"shares": [_("开标须由至少 %(k)d 名分持人输入各自的密钥分片。")
                                                  % {"k": tender.key_threshold}]})
    return list(shares.values())


def _auditors_of(tender: Tender) -> list[User]:
    path = tender.project.division_path
    return [u for u in User.objects.filter(role=Role.AUDITOR, is_active=True, division__isnull=False)
            .select_related("division") if path.startswith(u.division.path)]


def _alert_tampered(*, actor: Any, tender: Tender, bid: Bid) -> None:
    audit.record(actor=actor, action="bid.tampered", obj=bid,
                 after={"commitment_ok": bid.commitment_ok, "ledger_ok": bid.ledger_ok,
                        "commitment": bid.commitment},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    message = gettext("开标校验失败：%(ref)s 中 %(supplier)s 的投标与递交时的承诺或存证不一致，请核查。") % {
        "ref": tender.reference, "supplier": bid.supplier.name}
    link = reverse("procurement_console:tender", args=[tender.pk])
    for person in [*_auditors_of(tender), tender.created_by]:
        notify(recipient=person, kind="bid_tampered", text=message, link=link,
               dedupe_key=f"bid_tampered:{bid.pk}:{person.pk}")


@transaction.atomic
def tender_open(*, actor: Any, tender: Tender, shares: list[str], now: dt.datetime | None = None) -> OpeningResult:
    """The public opening: rebuild the key from k shares (in memory only), decrypt each sealed bid, and
    check it against its commitment and the ledger leaf. A bid that fails is marked TAMPERED and raises
    an alert to the auditors; the others are opened with their prices."""
    tender = Tender.objects.select_for_update().select_related("project", "created_by").get(pk=tender.pk)
    require_manage(actor, tender.project)
    at = now_or(now)
    if tender.status == TenderStatus.CANCELLED:
        raise Conflict(_("该招标项目已终止，密封投标不再开启。"), code="cancelled")
    if tender.status != TenderStatus.PUBLISHED:
        raise Conflict(_("该项目不在待开标状态。"))
    if tender.submission_deadline is None or at < tender.submission_deadline:
        raise Conflict(_("未到开标时间（投标截止时间），不能开标。"), code="too_early")
    private = sealing.combine(_shares_from(tender, shares))
    if sealing.public_of(private) != bytes(tender.sealing_public_key):
        raise ValidationFailed(fields={"shares": [_("输入的分片无法还原本项目的开标密钥。")]})
    result = OpeningResult(tender)
    log_obj = log_default()
    for bid in tender.bids.filter(status=BidStatus.SEALED).select_related("supplier").order_by("submitted_at", "pk"):
        leaf = Leaf.objects.filter(log=log_obj, kind=LEDGER_KIND, record_model=BID_RECORD,
                                   record_id=str(bid.pk)).order_by("index").first()
        bid.ledger_ok = leaf is not None and leaf.index == bid.ledger_index and leaf.digest == bid.commitment
        try:
            opened = sealing.unseal(private_key=private, ephemeral_public_key=bytes(bid.ephemeral_public_key),
                                    nonce=bytes(bid.nonce), ciphertext=bytes(bid.ciphertext),
                                    aad=aad(tender, bid.supplier))
        except sealing.SealingError:
            opened = None
        doc = opened.document if opened else {}
        bid.commitment_ok = bool(
            opened and opened.commitment == bid.commitment and doc.get("tender") == tender.reference
            and doc.get("supplier") == bid.supplier.credit_code)
        bid.opened_at = at
        if bid.commitment_ok and bid.ledger_ok:
            bid.status = BidStatus.OPENED
            bid.content = doc
            bid.price = parse_yuan(doc["price"], field="price")
            result.opened.append(bid)
        else:
            bid.status = BidStatus.TAMPERED
            result.tampered.append(bid)
        bid.save(update_fields=["status", "content", "price", "opened_at", "commitment_ok", "ledger_ok"])
        if bid.status == BidStatus.TAMPERED:
            _alert_tampered(actor=actor, tender=tender, bid=bid)
    del private
    tender.status = TenderStatus.OPENED
    tender.opened_at = at
    tender.save(update_fields=["status", "opened_at"])
    audit.record(actor=actor, action="tender.open", obj=tender,
                 after={"opened": [b.pk for b in result.opened], "tampered": [b.pk for b in result.tampered]},
                 project_code=tender.project.code, division_path=tender.project.division_path)
    send_on_commit("procurement.tender_opened", tender_id=tender.pk)
    return result
