"""EasyPost emulator: trackers, claims on the sandbox clock, signed webhooks.

Held to EasyPost's official examples and the recorded cassettes of its Python client
(``EasyPost/easypost-python`` ``tests/cassettes/test_claim_*.yaml``, ``test_tracker_create.yaml``):
``POST /trackers`` answers 200 (an existing code's tracker or a new one); ``POST /claims``
takes flat JSON ``type, tracking_code, amount, description, contact_email?, recipient_name?``
and the three evidence lists (``email_evidence_attachments``, ``invoice_attachments``,
``supporting_documentation_attachments``, data URIs or URLs), answers 201 with a claim that
carries ``insurance_id``, ``shipment_id``, ``insurance_amount``, ``attachments`` (stored file
URLs) and ``history`` newest first; fields EasyPost does not document (``reference``) are
ignored, not stored. Every tracker counts as an insured shipment (see ``sandbox/FIDELITY.md``).

Auth: HTTP Basic with the API key as the user name. Errors are
``{"error": {"code", "message", "errors": []}}``. Claims move submitted -> in_review after
one sandbox day and are decided three sandbox days after filing: rejected when the tracker
shows a signed delivery (proof the parcel arrived), approved in full otherwise. Every
change is posted to registered webhooks with ``X-Hmac-Signature: hmac-sha256-hex=<hex>``.
"""

from __future__ import annotations

import base64
import json
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, and_, or_
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, col, select

from sandbox.core import (
    EmulatorError,
    SandboxModel,
    SessionDep,
    WebhookSubscription,
    aware,
    emit_webhook,
    hmac_sha256_hex,
    iso,
    now,
)
from sandbox.credentials import SANDBOX_EASYPOST_API_KEY
from sandbox.routes import record_request_write

PLATFORM = "easypost"
IN_REVIEW_AFTER = timedelta(days=1)
DECIDED_AFTER = timedelta(days=3)
CLAIM_TYPES = ("damage", "loss", "theft")


class EpTracker(SandboxModel, table=True):
    __tablename__ = "easypost_tracker"

    id: str = Field(primary_key=True)
    tracking_code: str = Field(index=True, unique=True)
    carrier: str
    status: str
    signed_by: str | None = None
    est_delivery_date: datetime | None = None
    tracking_details: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime
    updated_at: datetime


class EpClaim(SandboxModel, table=True):
    __tablename__ = "easypost_claim"

    id: str = Field(primary_key=True)
    tracking_code: str = Field(index=True)
    type: str
    requested_amount: float
    approved_amount: float | None = None
    status: str = "submitted"
    status_detail: str = "Claim submitted."
    description: str = ""
    contact_email: str = ""
    recipient_name: str | None = None
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime
    status_timestamp: datetime
    # When the record last changed (EasyPost's ``updated_at``): the moment the sandbox made
    # the change, which may be later than the status's own (backdated) moment.
    updated_at: datetime | None = None


def error_body(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "errors": []}}, status_code=status
    )


def error_response(status: int, message: str) -> JSONResponse:
    codes = {429: "RATE_LIMITED", 401: "APIKEY.REQUIRED", 404: "NOT_FOUND"}
    return error_body(status, codes.get(status, "INTERNAL_SERVER_ERROR"), message)


async def check_auth(request: Request) -> None:
    header = request.headers.get("Authorization", "")
    user = ""
    if header.startswith("Basic "):
        try:
            user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except ValueError:
            user = ""
    if user != SANDBOX_EASYPOST_API_KEY:
        raise EmulatorError(
            error_body(
                401,
                "APIKEY.REQUIRED",
                "We couldn't authenticate you. Please check your API key and try again.",
            )
        )


router = APIRouter(dependencies=[Depends(check_auth)])
NOT_FOUND = "The requested resource could not be found."


def tracker_json(tracker: EpTracker) -> dict[str, Any]:
    return {
        "id": tracker.id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": tracker.tracking_code,
        "carrier": tracker.carrier,
        "status": tracker.status,
        "signed_by": tracker.signed_by,
        "est_delivery_date": iso(tracker.est_delivery_date) if tracker.est_delivery_date else None,
        "tracking_details": tracker.tracking_details,
        "created_at": iso(tracker.created_at),
        "updated_at": iso(tracker.updated_at),
    }


def insured(code: str) -> tuple[str, str]:
    """(insurance id, shipment id) of the insured parcel behind a tracking code."""
    return f"ins_{code[-8:]}sandbox", f"shp_{code[-8:]}sandbox"


def claim_json(claim: EpClaim) -> dict[str, Any]:
    insurance_id, shipment_id = insured(claim.tracking_code)
    return {
        "id": claim.id,
        "object": "Claim",
        "mode": "test",
        "type": claim.type,
        "tracking_code": claim.tracking_code,
        "insurance_id": insurance_id,
        "shipment_id": shipment_id,
        "insurance_amount": f"{claim.requested_amount:.2f}",
        "payment_method": "easypost_wallet",
        "salvage_value": None,
        "check_delivery_address": None,
        "recipient_name": claim.recipient_name,
        "attachments": claim.attachments,
        "requested_amount": f"{claim.requested_amount:.2f}",
        "approved_amount": f"{claim.approved_amount:.2f}"
        if claim.approved_amount is not None
        else None,
        "status": claim.status,
        "status_detail": claim.status_detail,
        "status_timestamp": iso(claim.status_timestamp),
        "description": claim.description,
        "contact_email": claim.contact_email,
        "history": claim.history,
        "created_at": iso(claim.created_at),
        "updated_at": iso(claim.updated_at or claim.status_timestamp),
    }


@router.post("/trackers")
async def create_tracker(request: Request, session: SessionDep) -> Any:
    """Creating a tracker for a code EasyPost already tracks returns that tracker."""
    body = (await request.json()).get("tracker") or {}
    code = body.get("tracking_code")
    if not code:
        return error_body(422, "TRACKER.TRACKING_CODE.INVALID", "Invalid tracking_code.")
    tracker = session.exec(select(EpTracker).where(EpTracker.tracking_code == code)).first()
    if tracker is None:
        moment = now(session)
        tracker = EpTracker(
            id=f"trk_{secrets.token_hex(12)}",
            tracking_code=code,
            carrier=body.get("carrier") or "USPS",
            status="unknown",
            created_at=moment,
            updated_at=moment,
        )
        session.add(tracker)
        session.commit()
    return JSONResponse(tracker_json(tracker), status_code=200)


@router.get("/trackers/{tracker_id}")
async def get_tracker(tracker_id: str, session: SessionDep) -> Any:
    tracker = session.get(EpTracker, tracker_id)
    return tracker_json(tracker) if tracker else error_body(404, "NOT_FOUND", NOT_FOUND)


EVIDENCE_FIELDS = (
    "email_evidence_attachments",
    "invoice_attachments",
    "supporting_documentation_attachments",
)


@router.post("/claims")
async def create_claim(request: Request, session: SessionDep) -> Any:
    body = await request.json()
    if body.get("type") not in CLAIM_TYPES:
        return error_body(422, "CLAIM.TYPE.INVALID", "type must be damage, loss or theft.")
    try:
        amount = float(body.get("amount"))
    except (TypeError, ValueError):
        return error_body(422, "CLAIM.AMOUNT.INVALID", "amount is required.")
    code = body.get("tracking_code", "")
    if session.exec(select(EpTracker).where(EpTracker.tracking_code == code)).first() is None:
        # As EasyPost's recording answers a claim on a parcel it insures nothing for.
        return JSONResponse(
            {
                "error": {
                    "code": "NOT_FOUND",
                    "message": NOT_FOUND,
                    "errors": ["No eligible insurance found with provided tracking code."],
                }
            },
            status_code=404,
        )
    evidence: list[str] = []
    for field in EVIDENCE_FIELDS:
        files = body.get(field) or []
        if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
            return error_body(422, "CLAIM.ATTACHMENT.INVALID", f"{field} must be a list of files.")
        evidence += files
    moment = now(session)
    claim_id = f"clm_{secrets.token_hex(12)}"
    claim = EpClaim(
        id=claim_id,
        tracking_code=code,
        type=body["type"],
        requested_amount=amount,
        description=str(body.get("description", "")),
        contact_email=str(body.get("contact_email", "")),
        recipient_name=body.get("recipient_name"),
        attachments=[
            f"https://easypost-files.sandbox.invalid/insurance/{claim_id}/{n}.png"
            for n in range(1, len(evidence) + 1)
        ],
        history=[
            {"status": "submitted", "status_detail": "Claim was created.", "timestamp": iso(moment)}
        ],
        status_detail="Claim was created.",
        created_at=moment,
        status_timestamp=moment,
        updated_at=moment,
    )
    session.add(claim)
    session.commit()
    result = claim_json(claim)
    record_request_write(
        session,
        request,
        PLATFORM,
        "claim.create",
        body=body,
        response=result,
        resource_id=claim.id,
        status_code=201,
    )
    return JSONResponse(result, status_code=201)


@router.get("/claims")
async def list_claims(
    session: SessionDep, page_size: int = 20, before_id: str | None = None
) -> Any:
    """Newest first, at most 100 a page; ``before_id`` pages on past a claim (EasyPost's
    list pagination)."""
    page_size = max(1, min(page_size, 100))
    query = select(EpClaim).order_by(EpClaim.created_at.desc(), EpClaim.id.desc())  # type: ignore[attr-defined]
    anchor = session.get(EpClaim, before_id) if before_id else None
    if anchor is not None:
        query = query.where(
            or_(
                col(EpClaim.created_at) < anchor.created_at,
                and_(col(EpClaim.created_at) == anchor.created_at, col(EpClaim.id) < anchor.id),
            )
        )
    claims = session.exec(query.limit(page_size + 1)).all()
    return {
        "claims": [claim_json(c) for c in claims[:page_size]],
        "has_more": len(claims) > page_size,
    }


@router.get("/claims/{claim_id}")
async def get_claim(claim_id: str, session: SessionDep) -> Any:
    claim = session.get(EpClaim, claim_id)
    return claim_json(claim) if claim else error_body(404, "NOT_FOUND", NOT_FOUND)


@router.post("/claims/{claim_id}/cancel")
async def cancel_claim(claim_id: str, request: Request, session: SessionDep) -> Any:
    claim = session.get(EpClaim, claim_id)
    if claim is None:
        return error_body(404, "NOT_FOUND", NOT_FOUND)
    if claim.status not in ("submitted", "in_review", "cancelled"):
        return error_body(
            422, "CLAIM.NOT_CANCELLABLE", f"A claim that is {claim.status} cannot be cancelled."
        )
    if claim.status != "cancelled":
        move_claim(session, claim, "cancelled", "Claim cancelled.", now(session))
        record_request_write(
            session,
            request,
            PLATFORM,
            "claim.cancel",
            response=claim_json(claim),
            resource_id=claim.id,
        )
    return claim_json(claim)


@router.post("/webhooks")
async def create_webhook(request: Request, session: SessionDep) -> Any:
    body = (await request.json()).get("webhook") or {}
    if not body.get("url"):
        return error_body(422, "WEBHOOK.URL.INVALID", "url is required.")
    subscription = WebhookSubscription(
        platform=PLATFORM, url=body["url"], secret=body.get("webhook_secret") or ""
    )
    session.add(subscription)
    session.commit()
    return JSONResponse(
        {
            "id": f"hook_{subscription.id}",
            "object": "Webhook",
            "url": subscription.url,
            "mode": "test",
        },
        status_code=201,
    )


def sign(secret: str, body: str) -> dict[str, str]:
    """EasyPost NFKD-normalises the webhook secret before computing the HMAC."""
    key = unicodedata.normalize("NFKD", secret)
    return {"X-Hmac-Signature": f"hmac-sha256-hex={hmac_sha256_hex(key, body)}"}


def move_claim(session: Session, claim: EpClaim, status: str, detail: str, at: datetime) -> None:
    previous = claim.status
    claim.status = status
    claim.status_detail = detail
    claim.status_timestamp = at
    claim.updated_at = max(aware(at), now(session))
    claim.history = [  # newest first, as EasyPost lists it
        {"status": status, "status_detail": detail, "timestamp": iso(at)},
        *claim.history,
    ]
    if status == "approved":
        claim.approved_amount = claim.requested_amount
    session.add(claim)
    session.commit()
    event = {"approved": "claim.approved", "rejected": "claim.rejected"}.get(
        status, "claim.updated"
    )
    body = json.dumps(
        {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "Event",
            "mode": "test",
            "description": event,
            "created_at": iso(at),
            "result": claim_json(claim),
            "previous_attributes": {"status": previous},
        }
    )
    emit_webhook(session, PLATFORM, event, body, sign)


def on_clock(session: Session, moment: datetime) -> None:
    """Advance claims that the sandbox clock has carried past their next step."""
    for claim in session.exec(select(EpClaim)).all():
        created = aware(claim.created_at)
        if claim.status == "submitted" and moment - created >= IN_REVIEW_AFTER:
            move_claim(
                session,
                claim,
                "in_review",
                "The carrier is reviewing the claim.",
                created + IN_REVIEW_AFTER,
            )
        if claim.status == "in_review" and moment - created >= DECIDED_AFTER:
            tracker = session.exec(
                select(EpTracker).where(EpTracker.tracking_code == claim.tracking_code)
            ).first()
            at = created + DECIDED_AFTER
            if tracker is not None and tracker.status == "delivered" and tracker.signed_by:
                move_claim(
                    session,
                    claim,
                    "rejected",
                    f"Delivery was signed for by {tracker.signed_by}.",
                    at,
                )
            else:
                move_claim(session, claim, "approved", "Claim approved in full.", at)


def _detail(status: str, message: str, at: datetime, city: str) -> dict[str, Any]:
    return {
        "object": "TrackingDetail",
        "status": status,
        "message": message,
        "datetime": iso(at),
        "tracking_location": {
            "object": "TrackingLocation",
            "city": city,
            "state": None,
            "country": "US",
        },
    }


def seed(session: Session) -> None:
    moment = now(session)
    day = timedelta(days=1)

    def tracker(
        code: str, status: str, details: list[dict[str, Any]], signed_by: str | None = None
    ) -> EpTracker:
        return EpTracker(
            id=f"trk_{code[-4:]}sandbox",
            tracking_code=code,
            carrier="USPS",
            status=status,
            signed_by=signed_by,
            tracking_details=details,
            created_at=moment - 14 * day,
            updated_at=moment,
        )

    session.add_all(
        [
            # jo@example.com, Skio order 9001: delivered (no signature), never received.
            tracker(
                "9400100000000000009001",
                "delivered",
                [
                    _detail("pre_transit", "Shipping label created", moment - 6 * day, "Reno"),
                    _detail("in_transit", "Departed facility", moment - 5 * day, "Reno"),
                    _detail("out_for_delivery", "Out for delivery", moment - 3 * day, "Denver"),
                    _detail("delivered", "Delivered, front door", moment - 3 * day, "Denver"),
                ],
            ),
            # lee@example.com, Skio order 9002: stuck in transit for 10 days.
            tracker(
                "9400100000000000009002",
                "in_transit",
                [
                    _detail("pre_transit", "Shipping label created", moment - 12 * day, "Reno"),
                    _detail(
                        "in_transit", "Arrived at facility", moment - 10 * day, "Salt Lake City"
                    ),
                ],
            ),
            # blair@example.com, BigCommerce order 5002: on its way.
            tracker(
                "9400100000000000005002",
                "in_transit",
                [_detail("in_transit", "Departed facility", moment - 1 * day, "Austin")],
            ),
            # sam@example.com, Stay AI order 7001: delivered, signed (arrived damaged).
            tracker(
                "9400100000000000007001",
                "delivered",
                [_detail("delivered", "Delivered, signed by S. Park", moment - 3 * day, "Boston")],
                signed_by="S. Park",
            ),
            # casey@example.com, Stay AI order 7002: delivered long ago.
            tracker(
                "9400100000000000007002",
                "delivered",
                [_detail("delivered", "Delivered", moment - 58 * day, "Chicago")],
            ),
        ]
    )
    session.commit()
