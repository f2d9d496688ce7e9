"""Kustomer webhooks: ``kustomer.message.create`` with direction ``in`` is a customer message.

The signature is the lowercase hex HMAC-SHA256 of the raw body with the webhook token
(``X-Kustomer-Webhook-Signature``). The ticket is the conversation
(``ticket-kustomer-{conversation id}``); the Kustomer customer id travels as the ticket's
customer ``external_id``. Outbound messages (ours: ``externalId`` ``ticketflow:…``, or an
agent's) are acknowledged and dropped. Deduplicated by the message id, since Kustomer
retries for an hour and may send an event twice.
"""

from __future__ import annotations

from fastapi import APIRouter, Header
from pydantic import ValidationError

from activities.platforms.kustomer import (
    EXTERNAL_ID_PREFIX,
    KustomerWebhookEvent,
    verify_webhook,
)
from api.deps import EngineDep, LibraryDep, PlatformsDep, TicketServiceDep
from api.webhooks.inbox import (
    WEBHOOK_RESPONSES,
    InboundMessage,
    Malformed,
    RawBody,
    WebhookAck,
    deliver,
    external_id,
    malformed,
    message_text,
    unauthorized,
)
from workflows.ticket_models import Customer, CustomerMessage, TicketStart

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MESSAGE_CREATED = "kustomer.message.create"


def parse(body: bytes) -> InboundMessage | str:
    try:
        event = KustomerWebhookEvent.model_validate_json(body)
    except ValidationError as err:
        raise Malformed(f"not a Kustomer event: {str(err).splitlines()[0]}") from None
    if event.name != MESSAGE_CREATED:
        return f"event {event.name!r} is not a new message"
    attributes = event.data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise Malformed("data.attributes is not an object")
    message_id = external_id(event.data.get("id"), "data.id")
    conversation_id = external_id(event.conversation_id, "the message's conversation")
    if str(attributes.get("externalId") or "").startswith(EXTERNAL_ID_PREFIX):
        return "ticketflow's own message"
    if event.direction != "in":
        return f"direction {event.direction!r} is not from the customer"
    text = message_text(str(attributes.get("body") or event.text))
    if not text:
        return "empty message"
    relationships = event.data.get("relationships") or {}
    customer = ((relationships.get("customer") or {}).get("data") or {}).get("id")
    return InboundMessage(
        source="kustomer",
        delivery_key=message_id,
        start=TicketStart(
            helpdesk="kustomer",
            external_id=conversation_id,
            customer=Customer(external_id=str(customer) if customer else None),
        ),
        message=CustomerMessage(message_id=f"kustomer-message-{message_id}", text=text),
    )


@router.post(
    "/kustomer",
    responses=WEBHOOK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Kustomer's event envelope `{id, name, org, data, changes}`",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def kustomer_webhook(
    body: RawBody,
    tickets: TicketServiceDep,
    engine: EngineDep,
    platforms: PlatformsDep,
    library: LibraryDep,
    signature: str | None = Header(default=None, alias="x-kustomer-webhook-signature"),
) -> WebhookAck:
    """A Kustomer event (only new inbound messages act)."""
    if not verify_webhook(platforms.kustomer.webhook_secret.get_secret_value(), body, signature):
        raise unauthorized("bad or missing X-Kustomer-Webhook-Signature")
    try:
        parsed = parse(body)
    except (Malformed, AttributeError) as err:
        raise malformed(str(err) or "not a Kustomer event") from None
    if isinstance(parsed, str):
        return WebhookAck(accepted=False, ignored=parsed)
    return await deliver(parsed, tickets=tickets, engine=engine)
