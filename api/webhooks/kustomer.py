"""Kustomer webhooks: ``kustomer.message.create`` with direction ``in`` is a customer message.

The signature is the lowercase hex HMAC-SHA256 of the raw body with the webhook token
(``X-Kustomer-Webhook-Signature``). The ticket is the conversation
(``ticket-kustomer-{conversation id}``); the Kustomer customer id travels as the ticket's
customer ``external_id``. Outbound messages (ours: ``externalId`` ``ticketflow:…``, or an
agent's) are acknowledged and dropped. Deduplicated by the message id, since Kustomer
retries for an hour and may send an event twice.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request

from activities.platforms.kustomer import (
    EXTERNAL_ID_PREFIX,
    KustomerWebhookEvent,
    verify_webhook,
)
from api.deps import SettingsDep
from api.webhooks.protocol import (
    Delivery,
    Ignored,
    InboundMessage,
    Malformed,
    Unauthorized,
    external_id,
    message_text,
)
from api.webhooks.receiver import webhook_router
from workflows.ticket_models import Customer, CustomerMessage, TicketStart

MESSAGE_CREATED = "kustomer.message.create"
SIGNATURE = "x-kustomer-webhook-signature"


class KustomerWebhooks:
    def __init__(self, secret: str) -> None:
        self.secret = secret

    def verify(self, request: Request, body: bytes) -> None:
        if not verify_webhook(self.secret, body, request.headers.get(SIGNATURE)):
            raise Unauthorized("bad or missing X-Kustomer-Webhook-Signature")

    def parse(self, body: bytes) -> list[Delivery | Ignored]:
        try:
            return [self._message(body)]
        except AttributeError as err:  # a field of the wrong shape deep in `data`
            raise Malformed(str(err) or "not a Kustomer event") from None

    def _message(self, body: bytes) -> Delivery | Ignored:
        try:
            event = KustomerWebhookEvent.model_validate_json(body)
        except ValidationError as err:
            raise Malformed(f"not a Kustomer event: {str(err).splitlines()[0]}") from None
        if event.name != MESSAGE_CREATED:
            return Ignored(f"event {event.name!r} is not a new message")
        attributes = event.data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise Malformed("data.attributes is not an object")
        message_id = external_id(event.data.get("id"), "data.id")
        conversation_id = external_id(event.conversation_id, "the message's conversation")
        if str(attributes.get("externalId") or "").startswith(EXTERNAL_ID_PREFIX):
            return Ignored("ticketflow's own message")
        if event.direction != "in":
            return Ignored(f"direction {event.direction!r} is not from the customer")
        text = message_text(str(attributes.get("body") or event.text))
        if not text:
            return Ignored("empty message")
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


def kustomer_webhooks(settings: SettingsDep) -> KustomerWebhooks:
    return KustomerWebhooks(settings.kustomer.webhook_secret.get_secret_value())


router = webhook_router(
    "kustomer",
    kustomer_webhooks,
    description="A Kustomer event (only new inbound messages act).",
    body_description="Kustomer's event envelope `{id, name, org, data, changes}`",
    headers={SIGNATURE: "lowercase hex HMAC-SHA256 of the body with the webhook token"},
)
