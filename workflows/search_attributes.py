"""Typed keys for the custom search attributes (Keyword; never customer PII)."""

from temporalio.common import SearchAttributeKey

TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
POLICY_ID = SearchAttributeKey.for_keyword("PolicyId")
POLICY_VERSION = SearchAttributeKey.for_keyword("PolicyVersion")
TICKET_TYPE = SearchAttributeKey.for_keyword("TicketType")
HELPDESK = SearchAttributeKey.for_keyword("Helpdesk")
VARIANT = SearchAttributeKey.for_keyword("Variant")
OUTCOME = SearchAttributeKey.for_keyword("Outcome")
# HMAC-SHA256 of the customer's email with a server secret (activities/customer_key.py):
# finds a customer's tickets for export and erasure; never the email itself.
CUSTOMER_KEY = SearchAttributeKey.for_keyword("CustomerKey")

ALL_KEYS = (
    TICKET_STATUS,
    POLICY_ID,
    POLICY_VERSION,
    TICKET_TYPE,
    HELPDESK,
    VARIANT,
    OUTCOME,
    CUSTOMER_KEY,
)
