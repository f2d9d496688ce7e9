"""EasyPost's contract, per operation the connector uses, checked on real traffic.

Source of truth: EasyPost publishes no OpenAPI file. Its official Python client records
every call it tests against the live API (github.com/EasyPost/easypost-python,
``tests/cassettes/test_claim_create.yaml``, ``test_claim_all.yaml``,
``test_claim_cancel.yaml``, ``test_tracker_create.yaml``, ``test_tracker_retrieve.yaml``,
``test_webhook_create.yaml``, ``test_error*.yaml``; recorded 2025-03-06 against API v2), and
its docs (docs.easypost.com, Claims) list the claim statuses. The fields below are written
from those recordings in our own words; every check runs on the request the connector sent
and the answer the emulator gave (the sandbox's request log).

What the recordings cannot settle (required evidence per claim type, the longest
description) is marked ⚠ in the connector's docstring.
"""

from __future__ import annotations

import pytest

from activities.platforms.base import NotFound
from activities.platforms.easypost import EasyPostConnector
from tests.platforms.contracts.shapes import (
    BOOL,
    MONEY_STRING,
    NULL_OR_STR,
    STR,
    Shape,
    assert_all,
    kind,
    list_of,
    one_of,
    pattern,
    problems,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

JO = "9400100000000000009001"
TIMESTAMP = pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", "an ISO 8601 timestamp")
TRACKER_STATUS = one_of(
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "available_for_pickup",
    "delivered",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
)
CLAIM_STATUS = one_of(
    "submitted",
    "in_review",
    "approved",
    "approved_partial",
    "rejected",
    "cancelled",
    "needs_action",
)

# --- trackers -------------------------------------------------------------------------------

# The tracker is wrapped: {"tracker": {tracking_code, carrier?}}.
TRACKER_POST = Shape(
    required={
        "tracker": Shape(required={"tracking_code": STR}, optional={"carrier": STR}, closed=True)
    },
    closed=True,
)
# What the connector reads of a tracker.
TRACKER = Shape(
    required={
        "id": pattern(r"trk_\w+", "a trk_ id"),
        "object": one_of("Tracker"),
        "tracking_code": STR,
        "status": TRACKER_STATUS,
        "carrier": STR,
        "tracking_details": list_of(
            Shape(
                required={"status": TRACKER_STATUS, "datetime": TIMESTAMP},
                optional={
                    "message": STR,
                    "tracking_location": Shape(optional={"city": NULL_OR_STR}),
                },
            )
        ),
    },
    optional={"signed_by": NULL_OR_STR, "est_delivery_date": NULL_OR_STR},
)

# --- claims ---------------------------------------------------------------------------------

# Flat JSON (not wrapped): type, tracking_code, amount (a decimal string), description;
# optional contact_email, recipient_name and three lists of evidence files. Nothing else.
FILES = list_of(STR, min_items=1)
CLAIM_POST = Shape(
    required={
        "type": one_of("damage", "loss", "theft"),
        "tracking_code": STR,
        "amount": MONEY_STRING,
        "description": STR,
    },
    optional={
        "contact_email": STR,
        "recipient_name": STR,
        "email_evidence_attachments": FILES,
        "invoice_attachments": FILES,
        "supporting_documentation_attachments": FILES,
    },
    closed=True,
)
MONEY_OR_NULL = kind(str, type(None), what="money string or null")
CLAIM = Shape(
    required={
        "id": pattern(r"clm_\w+", "a clm_ id"),
        "object": one_of("Claim"),
        "type": one_of("damage", "loss", "theft"),
        "tracking_code": STR,
        "status": CLAIM_STATUS,
        "status_detail": STR,
        "requested_amount": MONEY_STRING,
        "approved_amount": MONEY_OR_NULL,
        "insurance_id": pattern(r"ins_\w+", "an ins_ id"),
        "shipment_id": NULL_OR_STR,
        "attachments": list_of(STR),
        "description": STR,
        "history": list_of(
            Shape(required={"status": CLAIM_STATUS, "status_detail": STR, "timestamp": TIMESTAMP}),
            min_items=1,
        ),
        "created_at": TIMESTAMP,
    },
    optional={"contact_email": NULL_OR_STR, "recipient_name": NULL_OR_STR},
)
CLAIM_LIST = Shape(required={"claims": list_of(CLAIM), "has_more": BOOL})

# --- webhooks and errors --------------------------------------------------------------------

WEBHOOK_POST = Shape(
    required={
        "webhook": Shape(required={"url": STR}, optional={"webhook_secret": STR}, closed=True)
    },
    closed=True,
)
WEBHOOK = Shape(required={"id": pattern(r"hook_\w+", "a hook_ id"), "url": STR})
ERROR = Shape(
    required={
        "error": Shape(
            required={"code": STR, "message": STR},
            optional={"errors": list_of(lambda v, p: [] if isinstance(v, str | dict) else [p])},
        )
    }
)


@pytest.fixture
async def easypost(sandbox_settings: Settings):
    connector = EasyPostConnector(sandbox_settings.easypost)
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path: str) -> list[dict]:
    return [r for r in sandbox.requests("easypost", method) if r["path"].startswith(path)]


async def test_trackers(easypost: EasyPostConnector, sandbox: SandboxControl) -> None:
    tracked = await easypost.track(JO, "USPS")
    await easypost.track("9400100000000000009002")
    created = traffic(sandbox, "POST", "/trackers")
    assert_all(TRACKER_POST, [r["body"] for r in created])
    assert_all(TRACKER, [r["response"] for r in created])
    assert all(r["status"] == 200 for r in created)
    tracker_id = created[0]["response"]["id"]
    assert (await easypost.get_tracker(tracker_id)).status == tracked.status
    read = traffic(sandbox, "GET", "/trackers/")
    assert_all(TRACKER, [r["response"] for r in read])
    assert all(r["headers"]["authorization"] == "<redacted>" for r in created + read)


async def test_claims(easypost: EasyPostConnector, sandbox: SandboxControl) -> None:
    claim = await easypost.file_claim(
        tracking_code=JO,
        amount=64.0,
        claim_type="theft",
        description="Order 9001: marked delivered but not received",
        contact_email="jo@example.com",
        idempotency_key="ticket-zendesk-7/0/shipment_not_received/3",
        recipient_name="Jo Rivera",
        supporting_documents=["data:image/png;base64,iVBORw0KGgo="],
    )
    await easypost.get_claim(claim.id)
    await easypost.cancel_claim(claim.id, "k-cancel")
    listed = traffic(sandbox, "GET", "/claims")
    lists = [r for r in listed if r["path"] == "/claims"]
    assert all(set(r["query"]) == {"page_size"} for r in lists)
    assert_all(CLAIM_LIST, [r["response"] for r in lists])
    (filed,) = [r for r in traffic(sandbox, "POST", "/claims") if r["path"] == "/claims"]
    assert_all(CLAIM_POST, [filed["body"]])
    assert filed["status"] == 201
    assert_all(CLAIM, [filed["response"]])
    read = [r for r in listed if r["path"] == f"/claims/{claim.id}"]
    assert_all(CLAIM, [r["response"] for r in read])
    (cancelled,) = traffic(sandbox, "POST", f"/claims/{claim.id}/cancel")
    assert cancelled["body"] in (None, {}) and cancelled["status"] == 200
    assert_all(CLAIM, [cancelled["response"]])
    history = cancelled["response"]["history"]
    assert history[0]["status"] == "cancelled"  # newest first, as recorded


async def test_webhook_registration(easypost: EasyPostConnector, sandbox: SandboxControl) -> None:
    await easypost.register_webhook("http://127.0.0.1:9/webhooks/easypost", "sécret")
    (made,) = traffic(sandbox, "POST", "/webhooks")
    assert_all(WEBHOOK_POST, [made["body"]])
    assert made["status"] == 201
    assert_all(WEBHOOK, [made["response"]])


async def test_error_bodies(easypost: EasyPostConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(NotFound):
        await easypost.get_tracker("trk_nosuch")
    with pytest.raises(NotFound):
        await easypost.file_claim(
            tracking_code="0000",
            amount=1,
            claim_type="loss",
            description="x",
            contact_email="x@example.com",
            idempotency_key="k",
        )
    failed = [r for r in sandbox.requests("easypost") if r["status"] >= 400]
    assert len(failed) == 2
    assert_all(ERROR, [r["response"] for r in failed])


def test_the_vocabulary_sees_drift() -> None:
    """The request the connector sent before issue 19 fails the claim contract."""
    old = {
        "type": "theft",
        "tracking_code": JO,
        "amount": "64.00",
        "description": "x",
        "contact_email": "jo@example.com",
        "reference": "ticket-zendesk-1/claim",
    }
    assert problems(CLAIM_POST, old) == ["$.reference: not a documented field"]
