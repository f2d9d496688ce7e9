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

from fastapi import APIRouter, HTTPException, Query, Response

from activities.platforms.salesforce import (
    OutboundNotification,
    outbound_message_ack,
    parse_outbound_message,
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
    parse_timestamp,
    unauthorized,
)
from workflows.ticket_models import CustomerMessage, TicketStart

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

OWN_REFERENCE = "[ref:tf-"
SOAP_XML = "text/xml; charset=utf-8"


def parse_notification(item: OutboundNotification) -> InboundMessage | str:
    fields = item.fields
    notification_id = external_id(item.notification_id, "Notification Id")
    if item.sobject_type == "CaseComment":
        if fields.get("IsPublished", "").lower() != "true":
            return "private case comment"
        text = fields.get("CommentBody", "")
    elif item.sobject_type == "EmailMessage":
        if fields.get("Incoming", "").lower() != "true":
            return "outgoing email"
        text = fields.get("TextBody", "")
    else:
        return f"sObject {item.sobject_type!r} is not a case comment or email"
    if OWN_REFERENCE in text:
        return "ticketflow's own comment"
    case_id = external_id(fields.get("ParentId"), "ParentId")
    record_id = external_id(fields.get("Id"), "the record Id")
    text = message_text(text)
    if not text:
        return "empty comment"
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


@router.post(
    "/salesforce",
    responses={
        200: {
            "description": "`Ack=true` (SOAP); header `X-Ticketflow-Duplicate` tells repeats",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
        **WEBHOOK_RESPONSES,
    },
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a SOAP `notifications` envelope (outbound message)",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    },
)
async def salesforce_webhook(
    body: RawBody,
    tickets: TicketServiceDep,
    engine: EngineDep,
    platforms: PlatformsDep,
    library: LibraryDep,
    token: str | None = Query(default=None, description="the shared webhook token, if set"),
) -> Response:
    """An outbound message from Salesforce; answered with the SOAP `Ack` it expects."""
    expected = platforms.salesforce.webhook_token
    if expected is not None and not hmac.compare_digest(
        (token or "").encode(), expected.get_secret_value().encode()
    ):
        raise unauthorized("bad or missing webhook token")
    try:
        message = parse_outbound_message(body)
    except ValueError as err:
        raise malformed(f"not an outbound message: {err}") from None
    org = platforms.salesforce.organization_id
    if not org or message.organization_id[:15] != org[:15]:
        raise unauthorized("outbound message from another organization")
    try:
        parsed = [parse_notification(item) for item in message.notifications]
    except Malformed as err:
        raise malformed(str(err)) from None
    acks: list[WebhookAck] = []
    for item in parsed:
        if isinstance(item, str):
            acks.append(WebhookAck(accepted=False, ignored=item))
        else:
            acks.append(await deliver(item, tickets=tickets, engine=engine))
    if not acks:
        raise HTTPException(422, "the outbound message has no notifications")
    return Response(
        outbound_message_ack(),
        media_type=SOAP_XML,
        headers={
            "X-Ticketflow-Duplicate": "true" if all(a.duplicate for a in acks) else "false",
            "X-Ticketflow-Tickets": ",".join(sorted({a.ticket_id for a in acks if a.ticket_id})),
        },
    )
