"""Zendesk trigger webhooks: a requester's public comment becomes a customer message.

The trigger's JSON body is ``activities.platforms.zendesk.WEBHOOK_TEMPLATE`` (see the
README). The signature is base64 HMAC-SHA256(signing secret, timestamp + raw body); a
timestamp more than five minutes off is a replay and is refused like a bad signature.
Only public comments written by the requester count: internal notes, agents' replies and
ticketflow's own comments (made as the API user) are acknowledged and dropped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from starlette.requests import Request

from activities.platforms.zendesk import ZendeskWebhookPayload, verify_webhook
from api.deps import LibraryDep, SettingsDep
from api.webhooks.protocol import (
    Delivery,
    Ignored,
    InboundMessage,
    Malformed,
    Unauthorized,
    external_id,
    message_text,
    parse_timestamp,
)
from api.webhooks.receiver import webhook_router
from policies.library import PolicyLibrary
from workflows.ticket_models import Customer, CustomerMessage, TicketStart

MAX_AGE = timedelta(minutes=5)
AGENT_ROLES = {"agent", "admin"}
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"


def ticket_type_from_tags(tags: str | None, library: PolicyLibrary) -> str | None:
    """The first tag that names a library ticket type (`cancel_order` → "Cancel order")."""
    known = {
        " ".join(t.lower().replace("_", " ").split()): t
        for plan in library.plans.values()
        for t in plan.ticket_types
    }
    for tag in (tags or "").split():
        found = known.get(" ".join(tag.lower().replace("_", " ").split()))
        if found:
            return found
    return None


class ZendeskWebhooks:
    """Needs the webhook's signing secret, the API user's email (to know our own comments)
    and the library (a ticket's tags may name its ticket type)."""

    def __init__(self, secret: str, bot_email: str, library: PolicyLibrary) -> None:
        self.secret = secret
        self.bot_email = bot_email.strip().lower()
        self.library = library

    def verify(self, request: Request, body: bytes) -> None:
        timestamp = request.headers.get(TIMESTAMP)
        if not verify_webhook(self.secret, body, request.headers.get(SIGNATURE), timestamp):
            raise Unauthorized(f"bad or missing {SIGNATURE}")
        sent = parse_timestamp(timestamp)
        if sent is None or abs(datetime.now(UTC) - sent) > MAX_AGE:
            raise Unauthorized("signature timestamp is more than 5 minutes off (replay?)")

    def parse(self, body: bytes) -> list[Delivery | Ignored]:
        return [self._comment(body)]

    def _comment(self, body: bytes) -> Delivery | Ignored:
        """The customer message in a trigger body, or why it is not one."""
        try:
            raw = json.loads(body)
            payload = ZendeskWebhookPayload.model_validate(raw)
        except (ValueError, ValidationError) as err:
            raise Malformed(
                f"not the ticketflow trigger body: {str(err).splitlines()[0]}"
            ) from None
        comment, ticket = payload.comment, payload.ticket
        role = str((raw.get("comment") or {}).get("author_role") or "").lower()
        author = (comment.author_email or "").strip().lower()
        requester = (ticket.requester_email or "").strip().lower()
        ticket_id = external_id(ticket.id, "ticket.id")
        comment_id = external_id(comment.id, "comment.id")
        if payload.event != "comment_added":
            return Ignored(f"event {payload.event!r} is not a new comment")
        if str(comment.public).strip().lower() not in ("true", "1"):
            return Ignored("internal note")
        if author and author == self.bot_email:
            return Ignored("ticketflow's own comment")
        if role in AGENT_ROLES or (author and requester and author != requester):
            return Ignored("comment by an agent, not the requester")
        text = message_text(comment.body)
        if not text:
            return Ignored("empty comment")
        return InboundMessage(
            source="zendesk",
            delivery_key=comment_id,
            start=TicketStart(
                helpdesk="zendesk",
                external_id=ticket_id,
                customer=Customer(email=requester or None),
                ticket_type=ticket_type_from_tags(ticket.tags, self.library),
            ),
            message=CustomerMessage(
                message_id=f"zendesk-comment-{comment_id}",
                text=text,
                sent_at=parse_timestamp(comment.created_at),
            ),
        )


def zendesk_webhooks(settings: SettingsDep, library: LibraryDep) -> ZendeskWebhooks:
    zendesk = settings.zendesk
    return ZendeskWebhooks(zendesk.webhook_secret.get_secret_value(), zendesk.email, library)


router = webhook_router(
    "zendesk",
    zendesk_webhooks,
    description="A comment was added to a Zendesk ticket.",
    body_description="the rendered trigger template, signed by Zendesk",
    headers={
        SIGNATURE: "base64 HMAC-SHA256(signing secret, timestamp + body)",
        TIMESTAMP: "when Zendesk signed the delivery",
    },
)
