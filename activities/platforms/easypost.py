"""EasyPost connector: trackers and claims, and webhook signature checks.

Auth: HTTP Basic with the API key as the user name and no password. Errors are
``{"error": {"code", "message", "errors"}}``. EasyPost publishes no OpenAPI file; the shapes
below are held to its official examples and the recorded cassettes of its Python client
(``EasyPost/easypost-python`` ``tests/cassettes``), checked request by request in
``tests/platforms/contracts/test_easypost_contract.py``:

- ``POST /trackers {"tracker": {tracking_code, carrier?}}`` answers 200 with the tracker;
  a code EasyPost already tracks returns the existing tracker, so trackers need no key.
- ``POST /claims`` takes flat JSON: ``type`` (damage|loss|theft), ``tracking_code``,
  ``amount`` (a string), ``description``, ``contact_email``, ``recipient_name`` and the
  evidence lists ``email_evidence_attachments``, ``invoice_attachments``,
  ``supporting_documentation_attachments`` (sent only when there is evidence). The claim
  answered carries ``insurance_id``, ``shipment_id``, ``attachments``, ``requested_amount``,
  ``approved_amount``, ``status``, ``history``. ``GET /claims?page_size`` answers
  ``{claims, has_more}``; ``POST /claims/{id}/cancel`` answers the claim.
- Our key: EasyPost documents no client reference on a claim, so the filing step's
  idempotency key travels at the end of the documented ``description``, as
  ``[ticketflow:<key>]`` (``claim_key`` reads it back). The key starts with the ticket's
  workflow id, which is how a claim webhook finds its ticket; and a retry looks before it
  writes (lists recent claims and reuses a live claim for the same tracking code). The key
  is also sent as ``Idempotency-Key`` (recorded by the sandbox).

⚠ Unconfirmed, kept in step with ``sandbox/easypost.py``: the most ``description`` may hold
and that EasyPost never rewrites it (the recordings echo it verbatim); which evidence a
claim type needs before EasyPost reviews it (we file without evidence; EasyPost asks for it
through ``needs_action`` / ``claim.message``, which no step handles yet); the event names
``claim.approved`` / ``claim.rejected`` beside ``claim.updated``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from activities.platforms.base import PlatformConnector, path_id
from policies.tool_models import TrackingEvent, TrackingInfo
from ticketflow.settings import EasyPostSettings

LIVE_CLAIM = ("submitted", "in_review", "approved", "approved_partial")
# Our key at the end of a claim's description: ``... [ticketflow:<key>]``.
KEY_MARK = re.compile(r"\[ticketflow:([^\]\s]+)\]\s*$")


def claim_key(claim: dict[str, Any]) -> str | None:
    """The idempotency key a claim was filed under, from its ``description`` (None for a
    claim ticketflow did not file)."""
    found = KEY_MARK.search(str(claim.get("description") or ""))
    return found.group(1) if found else None


class Claim(BaseModel):
    id: str
    tracking_code: str
    type: str
    status: str
    requested_amount: float
    approved_amount: float | None = None
    description: str = ""
    key: str | None = None
    attachments: list[str] = []
    insurance_id: str | None = None
    shipment_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


def verify_webhook(raw_body: bytes, signature_header: str | None, secret: str) -> bool:
    """Check ``X-Hmac-Signature: hmac-sha256-hex=<hex>`` over the raw body.

    EasyPost's client libraries NFKD-normalise the secret before use; so do we.
    """
    if not signature_header or not signature_header.startswith("hmac-sha256-hex="):
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    expected = hmac.new(key, raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header.removeprefix("hmac-sha256-hex="))


def _claim(body: dict[str, Any]) -> Claim:
    return Claim(
        id=body["id"],
        tracking_code=body["tracking_code"],
        type=body["type"],
        status=body["status"],
        requested_amount=float(body["requested_amount"]),
        approved_amount=float(body["approved_amount"]) if body.get("approved_amount") else None,
        description=str(body.get("description") or ""),
        key=claim_key(body),
        attachments=[str(url) for url in body.get("attachments") or []],
        insurance_id=body.get("insurance_id"),
        shipment_id=body.get("shipment_id"),
        created_at=body["created_at"],
        updated_at=body.get("updated_at"),
    )


class EasyPostConnector(PlatformConnector):
    platform = "easypost"

    def __init__(self, settings: EasyPostSettings) -> None:
        super().__init__(settings.base_url or "https://api.easypost.com/v2")
        self._key = settings.api_key

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(self._key.get_secret_value(), "")

    def error_message(self, response: httpx.Response) -> str:
        """``error.message`` and, after it, what ``error.errors`` details (strings, or
        ``{field, message}`` objects): a 404 on a claim says why only there."""
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            return super().error_message(response)
        details = []
        for item in error.get("errors") or []:
            if isinstance(item, dict):
                item = " ".join(str(item.get(k) or "") for k in ("field", "message")).strip()
            if item:
                details.append(str(item))
        message = str(error.get("message") or error.get("code") or "")
        return " ".join([message, *details]).strip()[:1000] or super().error_message(response)

    def _claim_path(self, claim_id: str) -> str:
        return path_id(claim_id, what="claim id", platform=self.platform)

    async def track(self, tracking_code: str, carrier: str | None = None) -> TrackingInfo:
        tracker: dict[str, Any] = {"tracking_code": tracking_code}
        if carrier:
            tracker["carrier"] = carrier
        body = (await self.request("POST", "/trackers", json={"tracker": tracker})).json()
        return self._tracking(body)

    async def get_tracker(self, tracker_id: str) -> TrackingInfo:
        tracker = path_id(tracker_id, what="tracker id", platform=self.platform)
        return self._tracking((await self.request("GET", f"/trackers/{tracker}")).json())

    @staticmethod
    def _tracking(body: dict[str, Any]) -> TrackingInfo:
        events = [
            TrackingEvent(
                at=d["datetime"],
                status=d["status"],
                location=(d.get("tracking_location") or {}).get("city"),
            )
            for d in body.get("tracking_details") or []
        ]
        delivered = body["status"] == "delivered"
        delivered_at = next((e.at for e in reversed(events) if e.status == "delivered"), None)
        return TrackingInfo(
            tracking_number=body["tracking_code"],
            carrier=body.get("carrier") or "",
            status=body["status"],
            delivered=delivered,
            delivered_at=delivered_at if delivered else None,
            events=events,
        )

    async def list_claims(
        self, *, page_size: int = 100, before_id: str | None = None
    ) -> tuple[list[Claim], bool]:
        """One page of the account's claims, newest first, and whether more follow."""
        params: dict[str, Any] = {"page_size": page_size}
        if before_id:
            params["before_id"] = before_id
        body = (await self.request("GET", "/claims", params=params)).json()
        return [_claim(item) for item in body.get("claims", [])], bool(body.get("has_more"))

    async def find_claim(self, tracking_code: str) -> Claim | None:
        body = (await self.request("GET", "/claims", params={"page_size": 100})).json()
        for item in body.get("claims", []):
            if item["tracking_code"] == tracking_code and item["status"] in LIVE_CLAIM:
                return _claim(item)
        return None

    async def file_claim(
        self,
        *,
        tracking_code: str,
        amount: float,
        claim_type: str,
        description: str,
        contact_email: str,
        idempotency_key: str,
        recipient_name: str | None = None,
        email_evidence: list[str] | None = None,
        invoices: list[str] | None = None,
        supporting_documents: list[str] | None = None,
    ) -> Claim:
        """File a claim at most once per tracking code (a retry finds the first claim).
        Evidence lists hold files as data URIs or URLs."""
        existing = await self.find_claim(tracking_code)
        if existing is not None:
            return existing
        body: dict[str, Any] = {
            "type": claim_type,
            "tracking_code": tracking_code,
            "amount": f"{amount:.2f}",
            "description": f"{description} [ticketflow:{idempotency_key}]",
            "contact_email": contact_email,
        }
        if recipient_name:
            body["recipient_name"] = recipient_name
        for field, files in (
            ("email_evidence_attachments", email_evidence),
            ("invoice_attachments", invoices),
            ("supporting_documentation_attachments", supporting_documents),
        ):
            if files:
                body[field] = list(files)
        response = await self.request("POST", "/claims", json=body, idempotency_key=idempotency_key)
        return _claim(response.json())

    async def get_claim(self, claim_id: str) -> Claim:
        return _claim((await self.request("GET", f"/claims/{self._claim_path(claim_id)}")).json())

    async def cancel_claim(self, claim_id: str, idempotency_key: str) -> Claim:
        response = await self.request(
            "POST", f"/claims/{self._claim_path(claim_id)}/cancel", idempotency_key=idempotency_key
        )
        return _claim(response.json())

    async def register_webhook(self, url: str, secret: str) -> str:
        body = {"webhook": {"url": url, "webhook_secret": secret}}
        return str((await self.request("POST", "/webhooks", json=body)).json()["id"])
