"""Salesforce Service Cloud: outbound messages (SOAP) for new public case comments.

ticketflow's choice is the **outbound message**: a flow / workflow rule on ``CaseComment``
(``IsPublished = true``, created by a portal or community user) — or on ``EmailMessage``
(``Incoming = true``) for Email-to-Case — sends a SOAP ``notifications`` envelope to
``/webhooks/salesforce``. It needs no code in the org, and Salesforce retries it for 24
hours until it is answered ``Ack=true``. Outbound messages carry no body signature, so the
receiver checks the ``OrganizationId`` and, when ``TICKETFLOW_SALESFORCE__WEBHOOK_TOKEN``
is set, a shared secret in the endpoint URL (``/webhooks/salesforce?token=…``).

The ticket is the case (``ticket-salesforce-{ParentId}``). ticketflow's own comments end
with a ``[ref:tf-…]`` line and are dropped (no echo loops), as are private comments and
outgoing emails. Each notification is deduplicated by its notification ``Id``.
"""

from __future__ import annotations

import hmac

from fastapi import Response
from starlette.requests import Request

from activities.platforms.salesforce import (
    OutboundMessage,
    OutboundNotification,
    outbound_message_ack,
    parse_outbound_message,
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
    parse_timestamp,
)
from api.webhooks.receiver import WebhookAck, webhook_router
from workflows.ticket_models import CustomerMessage, TicketStart

OWN_REFERENCE = "[ref:tf-"
SOAP_XML = "text/xml; charset=utf-8"


def parse_notification(item: OutboundNotification) -> Delivery | Ignored:
    fields = item.fields
    notification_id = external_id(item.notification_id, "Notification Id")
    if item.sobject_type == "CaseComment":
        if fields.get("IsPublished", "").lower() != "true":
            return Ignored("private case comment")
        text = fields.get("CommentBody", "")
    elif item.sobject_type == "EmailMessage":
        if fields.get("Incoming", "").lower() != "true":
            return Ignored("outgoing email")
        text = fields.get("TextBody", "")
    else:
        return Ignored(f"sObject {item.sobject_type!r} is not a case comment or email")
    if OWN_REFERENCE in text:
        return Ignored("ticketflow's own comment")
    case_id = external_id(fields.get("ParentId"), "ParentId")
    record_id = external_id(fields.get("Id"), "the record Id")
    text = message_text(text)
    if not text:
        return Ignored("empty comment")
    return InboundMessage(
        source="salesforce",
        delivery_key=notification_id,
        start=TicketStart(helpdesk="salesforce", external_id=case_id),
        message=CustomerMessage(
            message_id=f"salesforce-{record_id}",
            text=text,
            sent_at=parse_timestamp(fields.get("CreatedDate") or fields.get("MessageDate")),
        ),
    )


def _envelope(body: bytes) -> OutboundMessage:
    try:
        return parse_outbound_message(body)
    except ValueError as err:
        raise Malformed(f"not an outbound message: {err}") from None


class SalesforceOutboundMessages:
    """`token`: the shared secret the endpoint URL must carry (None: not required);
    `organization_id`: the only org whose messages count."""

    def __init__(self, token: str | None, organization_id: str | None) -> None:
        self.token = token
        self.organization_id = organization_id

    def verify(self, request: Request, body: bytes) -> None:
        """The URL's token, then the envelope's organization (no body signature exists)."""
        given = request.query_params.get("token") or ""
        if self.token is not None and not hmac.compare_digest(given.encode(), self.token.encode()):
            raise Unauthorized("bad or missing webhook token")
        envelope, org = _envelope(body), self.organization_id
        if not org or envelope.organization_id[:15] != org[:15]:
            raise Unauthorized("outbound message from another organization")

    def parse(self, body: bytes) -> list[Delivery | Ignored]:
        """One entry per notification (Salesforce batches them)."""
        parsed = [parse_notification(item) for item in _envelope(body).notifications]
        if not parsed:
            raise Malformed("the outbound message has no notifications")
        return parsed


def soap_ack(acks: list[WebhookAck]) -> Response:
    """The SOAP `Ack` Salesforce expects, with what happened in two headers."""
    return Response(
        outbound_message_ack(),
        media_type=SOAP_XML,
        headers={
            "X-Ticketflow-Duplicate": "true" if all(a.duplicate for a in acks) else "false",
            "X-Ticketflow-Tickets": ",".join(sorted({a.ticket_id for a in acks if a.ticket_id})),
        },
    )


def salesforce_outbound_messages(settings: SettingsDep) -> SalesforceOutboundMessages:
    salesforce = settings.salesforce
    token = salesforce.webhook_token
    return SalesforceOutboundMessages(
        token.get_secret_value() if token is not None else None, salesforce.organization_id
    )


router = webhook_router(
    "salesforce",
    salesforce_outbound_messages,
    description="An outbound message from Salesforce; answered with the SOAP `Ack` it expects.",
    body_description="a SOAP `notifications` envelope (outbound message)",
    body_type="text/xml",
    query={"token": "the shared webhook token, if set"},
    reply=soap_ack,
    reply_docs={
        200: {
            "description": "`Ack=true` (SOAP); header `X-Ticketflow-Duplicate` tells repeats",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    },
)
