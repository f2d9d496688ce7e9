"""EasyPost webhooks: claim updates reach the ticket whose claim it is.

Signed ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC of the raw body>``. A claim is filed by
a ticket's ``@file_carrier_claim`` step with the step's idempotency key at the end of the
claim's documented ``description`` (``[ticketflow:<key>]``, read by ``claim_key``; EasyPost
has no reference field for claims); that key starts with the ticket's workflow id
(``ticket-{helpdesk}-{id}/…``), so the claim itself says which ticket it belongs to and no
mapping table is needed. ``claim.*`` events signal ``claim_update`` to that ticket (an
ended ticket is acknowledged, not retried). ``tracker.updated`` events are verified and
acknowledged but signal nothing: no ticket waits on a tracker (the claim follow-up polls
the carrier's decision, not the parcel). Deduplicated by the event id.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from activities.platforms.easypost import claim_key, verify_webhook
from api.deps import SettingsDep
from api.webhooks.protocol import (
    ClaimReport,
    Delivery,
    Ignored,
    Malformed,
    Unauthorized,
    external_id,
)
from api.webhooks.receiver import webhook_router
from workflows.ticket_models import ClaimUpdate, parse_ticket_workflow_id

SIGNATURE = "x-hmac-signature"


class EasyPostEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    description: str
    result: dict[str, Any]


def claim_ticket(key: Any) -> str | None:
    """The ticket a claim belongs to, from the filing step's key (`claim_key`)."""
    ticket_id = str(key or "").split("/", 1)[0]
    return ticket_id if parse_ticket_workflow_id(ticket_id) else None


def _amount(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class EasyPostWebhooks:
    def __init__(self, secret: str) -> None:
        self.secret = secret

    def verify(self, request: Request, body: bytes) -> None:
        if not verify_webhook(body, request.headers.get(SIGNATURE), self.secret):
            raise Unauthorized("bad or missing X-Hmac-Signature")

    def parse(self, body: bytes) -> list[Delivery | Ignored]:
        return [self._claim_update(body)]

    def _claim_update(self, body: bytes) -> Delivery | Ignored:
        try:
            event = EasyPostEvent.model_validate_json(body)
        except ValidationError as err:
            raise Malformed(f"not an EasyPost event: {str(err).splitlines()[0]}") from None
        event_id = external_id(event.id, "id")
        if not event.description.startswith("claim."):
            return Ignored(f"{event.description}: no ticket waits on it")
        claim = event.result
        ticket_id = claim_ticket(claim_key(claim))
        if ticket_id is None:
            return Ignored("the claim was not filed by a ticket")
        if not isinstance(claim.get("status"), str) or not claim["status"]:
            raise Malformed("result.status is missing")
        return ClaimReport(
            source="easypost",
            delivery_key=event_id,
            ticket_id=ticket_id,
            update=ClaimUpdate(
                claim_id=str(claim.get("id") or "") or None,
                status=claim["status"],
                approved_amount=_amount(claim.get("approved_amount")),
            ),
        )


def easypost_webhooks(settings: SettingsDep) -> EasyPostWebhooks:
    return EasyPostWebhooks(settings.easypost.webhook_secret.get_secret_value())


router = webhook_router(
    "easypost",
    easypost_webhooks,
    description="A tracker or claim changed at the carrier.",
    body_description="EasyPost's Event `{id, description, result, previous_attributes}`",
    headers={SIGNATURE: "`hmac-sha256-hex=` and the hex HMAC-SHA256 of the body"},
)
