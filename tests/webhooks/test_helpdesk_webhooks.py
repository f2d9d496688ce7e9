"""Helpdesk webhooks end to end: a signed delivery → API → Temporal → worker → the
helpdesk's own API (the sandbox), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.platforms.kustomer import KustomerConnector
from activities.platforms.salesforce import SalesforceConnector
from activities.platforms.zendesk import ZendeskConnector
from sandbox.credentials import SANDBOX_KUSTOMER_WEBHOOK_SECRET, SANDBOX_ZENDESK_WEBHOOK_SECRET
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

T = TypeVar("T")

RIO_CONVERSATION = "5f000000000000000000d007"
ALEX_CASE = "500000000000001AAA"


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 20) -> T:
    """Poll until `probe` returns something truthy (the workflow works asynchronously)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture(loop_scope="session")
async def tickets(dev_client: Client) -> AsyncIterator[list[str]]:
    """Ticket ids a test creates; terminated afterwards, since the sandbox's helpdesk
    tickets have fixed ids and the Temporal server lives for the whole session."""
    created: list[str] = []
    yield created
    for ticket_id in created:
        try:
            await dev_client.get_workflow_handle(ticket_id).terminate("test finished")
        except RPCError:
            pass


async def exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def zendesk_delivery(
    ticket_id: str,
    comment_id: str,
    text: str,
    *,
    requester: str,
    tags: str = "",
    timestamp: datetime | None = None,
    secret: str = SANDBOX_ZENDESK_WEBHOOK_SECRET,
) -> tuple[bytes, dict[str, str]]:
    """A trigger webhook exactly as Zendesk sends it: the rendered template, signed with
    base64(HMAC-SHA256(secret, timestamp + body))."""
    body = json.dumps(
        {
            "event": "comment_added",
            "ticket": {
                "id": ticket_id,
                "status": "open",
                "tags": tags,
                "subject": "Help",
                "requester_email": requester,
            },
            "comment": {
                "id": comment_id,
                "body": text,
                "public": "true",
                "author_email": requester,
                "created_at": "2026-11-20T10:00:00Z",
            },
        }
    ).encode()
    sent = (timestamp or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), sent.encode() + body, hashlib.sha256).digest()
    return body, {
        "content-type": "application/json",
        "x-zendesk-webhook-id": "01HWEBHOOK",
        "x-zendesk-webhook-invocation-id": str(uuid.uuid4().int)[:12],
        "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
        "x-zendesk-webhook-signature-timestamp": sent,
    }


async def bot_comments(zendesk: ZendeskConnector, ticket_id: str, public: bool) -> list[str]:
    comments = await zendesk.list_comments(ticket_id)
    return [c.body for c in comments if c.author_id == 900001 and c.public is public]


async def customer_texts(http: httpx.AsyncClient, ticket_id: str) -> list[str]:
    shown = await http.get(f"/tickets/{ticket_id}")
    assert shown.status_code == 200, shown.text
    return [e["text"] for e in shown.json()["transcript"] if e["role"] == "customer"]


@pytest_asyncio.fixture(loop_scope="session")
async def zendesk(sandbox_settings: Settings) -> AsyncIterator[ZendeskConnector]:
    connector = ZendeskConnector(sandbox_settings.zendesk)
    yield connector
    await connector.aclose()


async def test_zendesk_comment_gets_a_public_reply_once(
    http: httpx.AsyncClient,
    dev_client: Client,
    zendesk: ZendeskConnector,
    tickets: list[str],
) -> None:
    tickets.append("ticket-zendesk-1001")
    body, headers = zendesk_delivery(
        "1001", "77001", "Please skip my next shipment", requester="max@example.com"
    )
    first = await http.post("/webhooks/zendesk", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "accepted": True,
        "duplicate": False,
        "ticket_id": "ticket-zendesk-1001",
        "ignored": None,
    }
    again = await http.post("/webhooks/zendesk", content=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True

    replies = await eventually(
        lambda: bot_comments(zendesk, "1001", public=True), "the bot's public comment"
    )
    assert replies[0].strip()
    assert await customer_texts(http, "ticket-zendesk-1001") == ["Please skip my next shipment"]
    assert await exists(dev_client, "ticket-zendesk-1001")


async def test_zendesk_escalation_and_release(
    http: httpx.AsyncClient, zendesk: ZendeskConnector, tickets: list[str]
) -> None:
    tickets.append("ticket-zendesk-1002")
    body, headers = zendesk_delivery(
        "1002", "77002", "I want to talk to a human", requester="kim@example.com"
    )
    assert (await http.post("/webhooks/zendesk", content=body, headers=headers)).json()["accepted"]

    async def escalated() -> bool:
        ticket = await zendesk.get_ticket("1002")
        return ticket.group_id == 360002 and bool(await bot_comments(zendesk, "1002", False))

    await eventually(escalated, "the hand-off to the Escalations group")
    notes = await bot_comments(zendesk, "1002", public=False)
    assert "Handed over by ticketflow" in notes[0]
    state = (await http.get("/tickets/ticket-zendesk-1002")).json()["state"]
    assert state["status"] == "escalated"
    replies_before = len(await bot_comments(zendesk, "1002", public=True))

    released = await http.post(
        "/tickets/ticket-zendesk-1002/agent", json={"action": "release", "agent": "Dana"}
    )
    assert released.status_code == 202, released.text

    async def with_bot() -> bool:
        shown = (await http.get("/tickets/ticket-zendesk-1002")).json()
        return shown["state"]["status"] == "waiting_customer"

    await eventually(with_bot, "the ticket back with the bot")
    body, headers = zendesk_delivery(
        "1002", "77003", "Can I swap my subscription?", requester="kim@example.com"
    )
    await http.post("/webhooks/zendesk", content=body, headers=headers)

    async def answered() -> bool:
        return len(await bot_comments(zendesk, "1002", public=True)) > replies_before

    await eventually(answered, "a bot reply after the release")


@pytest.mark.parametrize(
    ("case", "expected"),
    [("bad signature", 401), ("replayed", 401), ("malformed", 422), ("1 MiB", 413)],
)
async def test_zendesk_rejections_never_reach_temporal(
    http: httpx.AsyncClient, dev_client: Client, case: str, expected: int
) -> None:
    external = str(800000 + uuid.uuid4().int % 100000)
    body, headers = zendesk_delivery(external, "1", "hello", requester="x@example.com")
    if case == "bad signature":
        body, headers = body, {**headers, "x-zendesk-webhook-signature": "AAAA" + "=" * 40}
    elif case == "replayed":
        old = datetime.now(UTC) - timedelta(minutes=6)
        body, headers = zendesk_delivery(
            external, "1", "hello", requester="x@example.com", timestamp=old
        )
    elif case == "malformed":
        body = b'{"ticket": "not the template"'
        sent = headers["x-zendesk-webhook-signature-timestamp"]
        digest = hmac.new(
            SANDBOX_ZENDESK_WEBHOOK_SECRET.encode(), sent.encode() + body, hashlib.sha256
        ).digest()
        headers["x-zendesk-webhook-signature"] = base64.b64encode(digest).decode()
    else:
        body = body[:-1] + b', "pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = await http.post("/webhooks/zendesk", content=body, headers=headers)
    assert response.status_code == expected, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == expected and problem["detail"]
    assert not await exists(dev_client, f"ticket-zendesk-{external}")


async def test_zendesk_drops_notes_and_our_own_comments(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    external = str(700000 + uuid.uuid4().int % 100000)
    body, headers = zendesk_delivery(external, "5", "Our reply", requester="agent@example.com")
    response = await http.post("/webhooks/zendesk", content=body, headers=headers)
    assert response.json()["accepted"] is False
    assert response.json()["ignored"] == "ticketflow's own comment"
    payload = json.loads(
        zendesk_delivery(external, "6", "note", requester="max@example.com")[0].decode()
    )
    payload["comment"]["public"] = "false"
    raw = json.dumps(payload).encode()
    sent = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(
        SANDBOX_ZENDESK_WEBHOOK_SECRET.encode(), sent.encode() + raw, hashlib.sha256
    ).digest()
    note = await http.post(
        "/webhooks/zendesk",
        content=raw,
        headers={
            "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
            "x-zendesk-webhook-signature-timestamp": sent,
        },
    )
    assert note.json()["ignored"] == "internal note"
    assert not await exists(dev_client, f"ticket-zendesk-{external}")


async def _delivered(sandbox: SandboxControl, platform: str) -> dict[str, Any] | None:
    hooks = [h for h in sandbox.webhooks(platform) if h["delivered_status"] is not None]
    return hooks[-1] if hooks else None


async def test_kustomer_message_gets_a_reply_once(
    http: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    tickets: list[str],
) -> None:
    ticket_id = f"ticket-kustomer-{RIO_CONVERSATION}"
    tickets.append(ticket_id)
    sandbox.client.put("/kustomer/_sandbox/webhook", json={"url": f"{api_url}/webhooks/kustomer"})
    sandbox.client.post(
        f"/kustomer/_sandbox/conversations/{RIO_CONVERSATION}/customer_reply",
        json={"body": "Please skip my next shipment", "channel": "chat"},
    ).raise_for_status()
    delivery = await eventually(lambda: _delivered(sandbox, "kustomer"), "the sandbox webhook")
    assert delivery["delivered_status"] == 200

    # The platform retries: the same signed delivery again is a duplicate.
    again = await http.post(
        "/webhooks/kustomer", content=delivery["body"].encode(), headers=delivery["headers"]
    )
    assert again.status_code == 200
    assert again.json() == {
        "accepted": True,
        "duplicate": True,
        "ticket_id": ticket_id,
        "ignored": None,
    }

    kustomer = KustomerConnector(sandbox_settings.kustomer)
    try:

        async def replies() -> list[str]:
            messages = await kustomer.conversation_messages(RIO_CONVERSATION)
            return [
                m.preview or ""
                for m in messages
                if m.direction == "out" and (m.external_id or "").startswith("ticketflow:")
            ]

        assert (await eventually(replies, "the bot's Kustomer reply"))[0]
    finally:
        await kustomer.aclose()
    assert await customer_texts(http, ticket_id) == ["Please skip my next shipment"]


async def test_kustomer_bad_signature_and_outbound_echo(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    conversation = uuid.uuid4().hex[:24]
    envelope = {
        "id": uuid.uuid4().hex[:24],
        "name": "kustomer.message.create",
        "org": "org",
        "data": {
            "type": "message",
            "id": uuid.uuid4().hex[:24],
            "attributes": {"body": "Thanks!", "direction": "out", "externalId": "ticketflow:k"},
            "relationships": {
                "conversation": {"data": {"type": "conversation", "id": conversation}}
            },
        },
    }
    body = json.dumps(envelope).encode()
    good = hmac.new(SANDBOX_KUSTOMER_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    bad = await http.post(
        "/webhooks/kustomer", content=body, headers={"x-kustomer-webhook-signature": "0" * 64}
    )
    assert bad.status_code == 401
    echo = await http.post(
        "/webhooks/kustomer", content=body, headers={"x-kustomer-webhook-signature": good}
    )
    assert echo.status_code == 200
    assert echo.json()["ignored"] == "ticketflow's own message"
    assert not await exists(dev_client, f"ticket-kustomer-{conversation}")


async def test_salesforce_comment_gets_a_reply_once(
    http: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    tickets: list[str],
) -> None:
    ticket_id = f"ticket-salesforce-{ALEX_CASE}"
    tickets.append(ticket_id)
    sandbox.client.put(
        "/salesforce/_sandbox/webhook", json={"url": f"{api_url}/webhooks/salesforce"}
    )
    sandbox.client.post(
        f"/salesforce/_sandbox/cases/{ALEX_CASE}/customer_reply",
        json={"body": "Please cancel my order 5001"},
    ).raise_for_status()
    delivery = await eventually(lambda: _delivered(sandbox, "salesforce"), "the outbound message")
    assert delivery["delivered_status"] == 200

    again = await http.post(
        "/webhooks/salesforce", content=delivery["body"].encode(), headers=delivery["headers"]
    )
    assert again.status_code == 200
    assert "<Ack>true</Ack>" in again.text
    assert again.headers["x-ticketflow-duplicate"] == "true"
    assert again.headers["x-ticketflow-tickets"] == ticket_id

    salesforce = SalesforceConnector(sandbox_settings.salesforce)
    try:

        async def replies() -> list[str]:
            comments = await salesforce.case_comments(ALEX_CASE)
            return [c.body for c in comments if c.is_published and "[ref:tf-" in c.body]

        assert (await eventually(replies, "the bot's public case comment"))[0]
    finally:
        await salesforce.aclose()
    assert await customer_texts(http, ticket_id) == ["Please cancel my order 5001"]


async def test_salesforce_other_org_is_refused(
    http: httpx.AsyncClient, sandbox: SandboxControl
) -> None:
    # Record an outbound message without letting it through, then forge the org id.
    sandbox.client.put("/salesforce/_sandbox/webhook", json={"url": "http://127.0.0.1:9/none"})
    sandbox.client.post(
        f"/salesforce/_sandbox/cases/{ALEX_CASE}/customer_reply", json={"body": "hi"}
    ).raise_for_status()
    recorded = sandbox.webhooks("salesforce")[-1]
    forged = recorded["body"].replace("00D000000000001EAA", "00D999999999999EAA")
    response = await http.post(
        "/webhooks/salesforce", content=forged.encode(), headers=recorded["headers"]
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    broken = await http.post(
        "/webhooks/salesforce", content=b"<notifications>", headers=recorded["headers"]
    )
    assert broken.status_code == 422
