"""EasyPost webhooks: claim updates reach the ticket whose claim it is.

Signed ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC of the raw body>``. A claim is filed by
a ticket's ``@file_carrier_claim`` step with the step's idempotency key as the claim's
``reference``; that key starts with the ticket's workflow id
(``ticket-{helpdesk}-{id}/…``), so the claim itself says which ticket it belongs to and no
mapping table is needed. ``claim.*`` events signal ``claim_update`` to that ticket.
``tracker.updated`` events are verified and acknowledged but signal nothing: no ticket
waits on a tracker (the claim follow-up polls the carrier's decision, not the parcel).
Deduplicated by the event id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, ConfigDict, ValidationError
from temporalio.service import RPCError, RPCStatusCode

from activities.platforms.easypost import claim_key, verify_webhook
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.webhooks.inbox import (
    WEBHOOK_RESPONSES,
    Malformed,
    RawBody,
    WebhookAck,
    already_seen,
    external_id,
    malformed,
    record,
    require_webhook_secret,
    unauthorized,
)
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import ClaimUpdate, parse_ticket_workflow_id

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class EasyPostEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    description: str
    result: dict[str, Any]


def claim_ticket(reference: Any) -> str | None:
    """The ticket a claim belongs to, from its reference (the filing step's key)."""
    ticket_id = str(reference or "").split("/", 1)[0]
    return ticket_id if parse_ticket_workflow_id(ticket_id) else None


def _amount(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@router.post(
    "/easypost",
    responses=WEBHOOK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "EasyPost's Event `{id, description, result, previous_attributes}`",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def easypost_webhook(
    body: RawBody,
    client: TemporalDep,
    engine: EngineDep,
    settings: SettingsDep,
    signature: str | None = Header(default=None, alias="x-hmac-signature"),
) -> WebhookAck:
    """A tracker or claim changed at the carrier."""
    require_webhook_secret(settings, "easypost")
    if not verify_webhook(body, signature, settings.easypost.webhook_secret.get_secret_value()):
        raise unauthorized("bad or missing X-Hmac-Signature")
    try:
        event = EasyPostEvent.model_validate_json(body)
        event_id = external_id(event.id, "id")
    except ValidationError as err:
        raise malformed(f"not an EasyPost event: {str(err).splitlines()[0]}") from None
    except Malformed as err:
        raise malformed(str(err)) from None
    if not event.description.startswith("claim."):
        return WebhookAck(accepted=False, ignored=f"{event.description}: no ticket waits on it")
    claim = event.result
    ticket_id = claim_ticket(claim_key(claim))
    if ticket_id is None:
        return WebhookAck(accepted=False, ignored="the claim was not filed by a ticket")
    if not isinstance(claim.get("status"), str) or not claim["status"]:
        raise malformed("result.status is missing")
    earlier = await already_seen(engine, "easypost", event_id)
    if earlier is not None:
        return earlier
    update = ClaimUpdate(
        claim_id=str(claim.get("id") or "") or None,
        status=claim["status"],
        approved_amount=_amount(claim.get("approved_amount")),
    )
    try:
        await client.get_workflow_handle(ticket_id).signal(TicketWorkflow.claim_update, update)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return WebhookAck(accepted=False, ticket_id=ticket_id, ignored="the ticket has ended")
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "could not reach Temporal; retry"
        ) from err
    await record(engine, "easypost", event_id, ticket_id)
    return WebhookAck(accepted=True, ticket_id=ticket_id)
