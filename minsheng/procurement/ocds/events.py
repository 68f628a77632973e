"""The events the OCDS publisher (and insight's red flags) react to. Procurement's services send them on commit
with `minsheng.core.events.send_on_commit(NAME, <key>=<pk>)`; finance sends its own `finance.payment_approved`.

Each payload carries the primary key named in the comment.
"""

TENDER_PUBLISHED = "procurement.tender_published"  # tender_id
TENDER_OPENED = "procurement.tender_opened"  # tender_id (after the public opening)
TENDER_EVALUATED = "procurement.tender_evaluated"  # tender_id
TENDER_AWARDED = "procurement.award_made"  # tender_id, award_id (also when an award is cancelled)
TENDER_UNSUCCESSFUL = "procurement.tender_unsuccessful"  # tender_id (流标)
TENDER_CANCELLED = "procurement.tender_cancelled"  # tender_id
# The opening found a bid that does not match its commitment (red flag and alert); `tender_opened` also
# recomputes the tender's flags, tampered bids included.
BID_TAMPERED = "procurement.bid_tampered"  # bid_id
CONTRACT_SIGNED = "procurement.contract_signed"  # contract_id
CONTRACT_UPDATED = "procurement.contract_changed"  # contract_id (milestone met, completed, terminated)
VARIATION_APPROVED = "procurement.variation_approved"  # variation_id
PAYMENT_APPROVED = "finance.payment_approved"  # payment_id (sent by finance)
PAYMENT_PAID = "finance.payment_paid"  # payment_id (sent by finance)

TENDER_EVENTS = (TENDER_PUBLISHED, TENDER_OPENED, TENDER_EVALUATED, TENDER_AWARDED, TENDER_UNSUCCESSFUL,
                 TENDER_CANCELLED)
CONTRACT_EVENTS = (CONTRACT_SIGNED, CONTRACT_UPDATED)
PAYMENT_EVENTS = (PAYMENT_APPROVED, PAYMENT_PAID)
