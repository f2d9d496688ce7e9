"""EasyPost connector against its emulator: trackers, claims on the sandbox clock, webhooks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from activities.platforms.easypost import EasyPostConnector, verify_webhook
from sandbox.credentials import SANDBOX_EASYPOST_WEBHOOK_SECRET
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

JO = "9400100000000000009001"  # delivered, unsigned
SAM = "9400100000000000007001"  # delivered, signed for
LEE = "9400100000000000009002"  # stuck in transit


@pytest.fixture
async def easypost(sandbox_settings: Settings):
    connector = EasyPostConnector(sandbox_settings.easypost)
    yield connector
    await connector.aclose()


class Receiver:
    """A real HTTP endpoint that keeps every POST (raw body and headers)."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((body, dict(self.headers)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/easypost"

    def wait_for(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        deadline = time.monotonic() + 5
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()


async def test_tracking_delivered_and_stuck(easypost: EasyPostConnector) -> None:
    delivered = await easypost.track(JO, "USPS")
    assert delivered.delivered and delivered.status == "delivered"
    assert delivered.delivered_at is not None
    stuck = await easypost.track(LEE)
    assert not stuck.delivered and stuck.status == "in_transit"
    assert stuck.events[-1].location == "Salt Lake City"


async def test_unknown_tracker_id_is_not_found(easypost: EasyPostConnector) -> None:
    with pytest.raises(NotFound):
        await easypost.get_tracker("trk_nope")


async def test_bad_key_is_auth_error(sandbox_settings: Settings) -> None:
    settings = sandbox_settings.easypost.model_copy(update={"api_key": SecretStr("EZAKwrong")})
    connector = EasyPostConnector(settings)
    with pytest.raises(PlatformAuthError, match="authenticate"):
        await connector.track(JO)
    await connector.aclose()


async def test_429_then_500_then_success(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("easypost", rate_limit_next=1, retry_after=3, fail_next=1)
    with pytest.raises(PlatformRateLimited) as limited:
        await easypost.track(JO)
    assert limited.value.next_retry_delay == timedelta(seconds=3)
    with pytest.raises(PlatformUnavailable):
        await easypost.track(JO)
    assert (await easypost.track(JO)).delivered


async def test_claim_for_unknown_parcel_is_rejected(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    """As EasyPost's recording shows: 404 NOT_FOUND, the reason in ``errors``; the
    connector's message carries that reason."""
    with pytest.raises(NotFound, match="No eligible insurance"):
        await easypost.file_claim(
            tracking_code="0000",
            amount=10,
            claim_type="loss",
            description="lost",
            contact_email="x@example.com",
            idempotency_key="k",
        )
    (filed,) = [r for r in sandbox.requests("easypost", "POST") if r["path"] == "/claims"]
    assert filed["status"] == 404
    assert filed["response"]["error"]["code"] == "NOT_FOUND"
    assert filed["response"]["error"]["errors"] == [
        "No eligible insurance found with provided tracking code."
    ]


async def test_claim_replay_files_once_and_is_approved_after_three_days(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    args = {
        "tracking_code": JO,
        "amount": 64.0,
        "claim_type": "theft",
        "description": "Marked delivered, never received",
        "contact_email": "jo@example.com",
        "idempotency_key": "ticket-zendesk-1/claim",
    }
    first = await easypost.file_claim(**args)
    again = await easypost.file_claim(**args)
    assert first.id == again.id and first.status == "submitted"
    assert len(sandbox.side_effects("easypost", "claim.create")) == 1

    sandbox.advance(days=1)
    assert (await easypost.get_claim(first.id)).status == "in_review"
    sandbox.advance(days=2)
    decided = await easypost.get_claim(first.id)
    assert decided.status == "approved" and decided.approved_amount == 64.0


async def test_signed_delivery_claim_is_rejected(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    claim = await easypost.file_claim(
        tracking_code=SAM,
        amount=30,
        claim_type="loss",
        description="not received",
        contact_email="sam@example.com",
        idempotency_key="k-sam",
    )
    sandbox.advance(days=4)
    assert (await easypost.get_claim(claim.id)).status == "rejected"
    with pytest.raises(PlatformRejected, match="cannot be cancelled"):
        await easypost.cancel_claim(claim.id, "k-sam-cancel")


async def test_webhook_signature_round_trip(
    easypost: EasyPostConnector, sandbox: SandboxControl, receiver: Receiver
) -> None:
    """Claim events reach a real endpoint signed with X-Hmac-Signature over the raw body."""
    secret = "whsec-test-Ä"  # non-ASCII: exercises the NFKD normalisation
    await easypost.register_webhook(receiver.url, secret)
    claim = await easypost.file_claim(
        tracking_code=LEE,
        amount=40,
        claim_type="loss",
        description="stuck in transit",
        contact_email="lee@example.com",
        idempotency_key="k-lee",
    )
    sandbox.advance(days=3)
    await easypost.get_claim(claim.id)  # any request flushes pending deliveries
    deliveries = receiver.wait_for(2)
    assert len(deliveries) == 2
    for body, headers in deliveries:
        assert verify_webhook(body, headers.get("X-Hmac-Signature"), secret)
        assert not verify_webhook(body + b" ", headers.get("X-Hmac-Signature"), secret)
        assert not verify_webhook(body, headers.get("X-Hmac-Signature"), "other")
    assert b'"claim.approved"' in deliveries[-1][0]
    assert SANDBOX_EASYPOST_WEBHOOK_SECRET != secret


# --- issue 19: EasyPost's official examples and its Python client's recorded cassettes -----

# What the official claim examples send; nothing else (no `reference`).
DOCUMENTED_CLAIM_FIELDS = {
    "type",
    "tracking_code",
    "amount",
    "description",
    "contact_email",
    "recipient_name",
    "email_evidence_attachments",
    "invoice_attachments",
    "supporting_documentation_attachments",
}
CLAIM = {
    "tracking_code": JO,
    "amount": 64.0,
    "claim_type": "theft",
    "description": "Order 9001: marked delivered but not received",
    "contact_email": "jo@example.com",
    "idempotency_key": "ticket-zendesk-7/0/shipment_not_received/3",
}


def test_tracker_creation_answers_200(sandbox: SandboxControl) -> None:
    answer = sandbox.client.post(
        "/easypost/trackers",
        json={"tracker": {"tracking_code": JO}},
        auth=("EZTKsandbox", ""),
    )
    assert answer.status_code == 200 and answer.json()["object"] == "Tracker"


async def test_claim_is_filed_with_documented_fields_only(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    await easypost.file_claim(**CLAIM, recipient_name="Jo Rivera")
    (filed,) = [r for r in sandbox.requests("easypost", "POST") if r["path"] == "/claims"]
    assert set(filed["body"]) <= DOCUMENTED_CLAIM_FIELDS
    assert "reference" not in filed["body"]
    assert filed["body"]["amount"] == "64.00" and filed["body"]["recipient_name"] == "Jo Rivera"


async def test_our_key_round_trips_in_the_claim_description(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    """The key the webhook maps a claim to its ticket by travels in ``description``, a
    field EasyPost documents and answers back verbatim."""
    claim = await easypost.file_claim(**CLAIM)
    assert claim.key == CLAIM["idempotency_key"]
    read = await easypost.get_claim(claim.id)
    assert read.key == CLAIM["idempotency_key"]
    assert read.description.startswith("Order 9001: marked delivered but not received")


async def test_evidence_attachments_are_sent_and_come_back_as_files(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    image = "data:image/png;base64,iVBORw0KGgo="
    claim = await easypost.file_claim(
        **CLAIM,
        email_evidence=[image],
        invoices=[image],
        supporting_documents=[image, image],
    )
    (filed,) = [r for r in sandbox.requests("easypost", "POST") if r["path"] == "/claims"]
    assert filed["body"]["email_evidence_attachments"] == [image]
    assert filed["body"]["invoice_attachments"] == [image]
    assert len(filed["body"]["supporting_documentation_attachments"]) == 2
    assert len(claim.attachments) == 4
    assert all(url.startswith("https://") for url in claim.attachments)


def test_emulated_claim_has_the_fields_of_a_recorded_claim(sandbox: SandboxControl) -> None:
    auth = ("EZTKsandbox", "")
    made = sandbox.client.post(
        "/easypost/claims",
        json={"type": "loss", "tracking_code": LEE, "amount": "32.00", "reference": "x"},
        auth=auth,
    )
    assert made.status_code == 201
    claim = made.json()
    for field in (
        "insurance_id",
        "shipment_id",
        "attachments",
        "insurance_amount",
        "recipient_name",
        "check_delivery_address",
        "payment_method",
        "salvage_value",
        "history",
    ):
        assert field in claim, field
    assert claim["insurance_id"].startswith("ins_") and claim["shipment_id"].startswith("shp_")
    assert "reference" not in claim  # not a field of EasyPost's claim


async def test_claim_list_pages_on_with_before_id(
    easypost: EasyPostConnector, sandbox: SandboxControl
) -> None:
    ids = [await _file_theft_claim(easypost, n) for n in range(5)]
    first, more = await easypost.list_claims(page_size=2)
    assert more and len(first) == 2
    seen = [c.id for c in first]
    while more:
        page, more = await easypost.list_claims(page_size=2, before_id=seen[-1])
        seen += [c.id for c in page]
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)


async def _file_theft_claim(easypost: EasyPostConnector, n: int) -> str:
    await easypost.track(JO)
    response = await easypost.request(
        "POST",
        "/claims",
        json={
            "type": "theft",
            "tracking_code": JO,
            "amount": "30.00",
            "description": f"list test {n} [ticketflow:test/list-{n}]",
        },
    )
    return str(response.json()["id"])
