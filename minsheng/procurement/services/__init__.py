"""Writes for procurement: tenders, sealed bids and the opening, evaluation and award, contracts and
variations. Every function takes the acting user (`actor=`), validates, writes, records the audit trail
and sends its event on commit (for the OCDS publisher and red flags)."""

from minsheng.procurement.services.bids import (
    OpeningResult,
    Receipt,
    bid_submit,
    bid_withdraw,
    supplier_for,
    tender_open,
)
from minsheng.procurement.services.contracts import (
    contract_sign,
    milestone_add,
    variation_decide,
    variation_propose,
)
from minsheng.procurement.services.evaluation import (
    award_make,
    bid_disqualify,
    complaint_file,
    complaint_resolve,
    conflict_declare,
    evaluation_finish,
    panel_add,
    score_record,
)
from minsheng.procurement.services.suppliers import (
    supplier_create,
    supplier_update,
    supplier_user_link,
    supplier_user_unlink,
)
from minsheng.procurement.services.tenders import (
    Published,
    clarification_answer,
    clarification_ask,
    share_confirm,
    tender_cancel,
    tender_create,
    tender_publish,
)

__all__ = [
    "OpeningResult", "Published", "Receipt", "award_make", "bid_disqualify", "bid_submit", "bid_withdraw",
    "clarification_answer", "clarification_ask", "complaint_file", "complaint_resolve", "conflict_declare",
    "contract_sign", "evaluation_finish", "milestone_add", "panel_add", "score_record", "share_confirm",
    "supplier_create", "supplier_for", "supplier_update", "supplier_user_link", "supplier_user_unlink",
    "tender_cancel", "tender_create", "tender_open", "tender_publish", "variation_decide", "variation_propose",
]
