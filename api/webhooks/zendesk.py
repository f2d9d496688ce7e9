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

from fastapi import APIRouter, Header
from pydantic import ValidationError

from activities.platforms.zendesk import ZendeskWebhookPayload, verify_webhook
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
    parse_timestamp,
    unauthorized,
)
from policies.library import PolicyLibrary
from workflows.ticket_models import Customer, CustomerMessage, TicketStart

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MAX_AGE = timedelta(minutes=5)
AGENT_ROLES = {"agent", "admin"}


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


def parse(body: bytes, bot_email: str, library: PolicyLibrary) -> InboundMessage | str:
    """The customer message in a trigger body, or why it is not one (Malformed if broken)."""
    try:
        raw = json.loads(body)
        payload = ZendeskWebhookPayload.model_validate(raw)
    except (ValueError, ValidationError) as err:
        raise Malformed(f"not the ticketflow trigger body: {str(err).splitlines()[0]}") from None
    comment, ticket = payload.comment, payload.ticket
    role = str((raw.get("comment") or {}).get("author_role") or "").lower()
    author = (comment.author_email or "").strip().lower()
    requester = (ticket.requester_email or "").strip().lower()
    ticket_id = external_id(ticket.id, "ticket.id")
    comment_id = external_id(comment.id, "comment.id")
    if payload.event != "comment_added":
        return f"event {payload.event!r} is not a new comment"
    if str(comment.public).strip().lower() not in ("true", "1"):
        return "internal note"
    if author and author == bot_email.strip().lower():
        return "ticketflow's own comment"
    if role in AGENT_ROLES or (author and requester and author != requester):
        return "comment by an agent, not the requester"
    text = message_text(comment.body)
    if not text:
        return "empty comment"
    return InboundMessage(
        source="zendesk",
        delivery_key=comment_id,
        start=TicketStart(
            helpdesk="zendesk",
            external_id=ticket_id,
            customer=Customer(email=requester or None),
            ticket_type=ticket_type_from_tags(ticket.tags, library),
        ),
        message=CustomerMessage(
            message_id=f"zendesk-comment-{comment_id}",
            text=text,
            sent_at=parse_timestamp(comment.created_at),
        ),
    )


@router.post(
    "/zendesk",
    responses=WEBHOOK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the rendered trigger template, signed by Zendesk",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def zendesk_webhook(
    body: RawBody,
    tickets: TicketServiceDep,
    engine: EngineDep,
    platforms: PlatformsDep,
    library: LibraryDep,
    signature: str | None = Header(default=None, alias="x-zendesk-webhook-signature"),
    timestamp: str | None = Header(default=None, alias="x-zendesk-webhook-signature-timestamp"),
) -> WebhookAck:
    """A comment was added to a Zendesk ticket."""
    secret = platforms.zendesk.webhook_secret.get_secret_value()
    if not verify_webhook(secret, body, signature, timestamp):
        raise unauthorized("bad or missing x-zendesk-webhook-signature")
    sent = parse_timestamp(timestamp)
    if sent is None or abs(datetime.now(UTC) - sent) > MAX_AGE:
        raise unauthorized("signature timestamp is more than 5 minutes off (replay?)")
    try:
        parsed = parse(body, platforms.zendesk.email, library)
    except Malformed as err:
        raise malformed(str(err)) from None
    if isinstance(parsed, str):
        return WebhookAck(accepted=False, ignored=parsed)
    return await deliver(parsed, tickets=tickets, engine=engine)
