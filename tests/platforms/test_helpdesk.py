"""Helpdesk activities in Temporal's ActivityEnvironment, against the sandbox over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from activities.platforms import kustomer, salesforce, zendesk
from activities.tools import NoteCall
from policies.tool_models import EmailParams, HandoffParams, MessageParams
from sandbox.credentials import SANDBOX_KUSTOMER_WEBHOOK_SECRET, SANDBOX_ZENDESK_WEBHOOK_SECRET
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from tests.ports import free_port
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

TICKETS = {
    "zendesk": "1003",
    "kustomer": "5f000000000000000000d003",
    "salesforce": "500000000000001AAA",
}


@pytest.fixture
async def helpdesk(sandbox_settings: Settings) -> AsyncIterator[ToolRunner]:
    async with tool_runner(sandbox_settings) as runner:
        yield runner


@pytest.mark.parametrize("name", list(TICKETS))
async def test_retried_reply_is_posted_once(
    helpdesk: ToolRunner, sandbox: SandboxControl, name: str
) -> None:
    request = TicketCall(
        helpdesk=name,
        ticket_id=TICKETS[name],
        idempotency_key="ticket-x/node-2",
        params=MessageParams(message="Your replacement order has been processed."),
    )
    first = await helpdesk.run("send_async_message", request)
    again = await helpdesk.run("send_async_message", request)
    assert first.message_id and again.message_id
    writes = [
        e
        for e in sandbox.state(name)["side_effects"]
        if e["operation"] in ("ticket.update", "draft.create", "casecomment.create")
    ]
    assert len(writes) == 1


@pytest.mark.parametrize("name", list(TICKETS))
async def test_handoff_assigns_the_escalation_group(helpdesk: ToolRunner, name: str) -> None:
    done = await helpdesk.run(
        "handoff_to_agent",
        TicketCall(
            helpdesk=name,
            ticket_id=TICKETS[name],
            idempotency_key="ticket-y/node-9",
            params=HandoffParams(reason="customer insists on cancelling", note="offered 15%"),
        ),
    )
    assert done.assigned_group == "Escalations"
    if name == "zendesk":
        ticket = await helpdesk.platforms.connectors["zendesk"].get_ticket(TICKETS[name])
        assert ticket.group_id == 360002 and "ticketflow_handoff" in ticket.tags
        assert (await helpdesk.platforms.connectors["zendesk"].list_comments(TICKETS[name]))[
            -1
        ].public is False
    elif name == "kustomer":
        conversation = await helpdesk.platforms.connectors["kustomer"].get_conversation(
            TICKETS[name]
        )
        assert conversation.assigned_teams == ["5f00000000000000000000b2"]
        notes = await helpdesk.platforms.connectors["kustomer"].conversation_notes(TICKETS[name])
        assert [n.external_id for n in notes] == ["ticketflow:ticket-y/node-9"]
    else:
        case = await helpdesk.platforms.connectors["salesforce"].get_case(TICKETS[name])
        assert (case.owner_id, case.status) == ("00G000000000002AAA", "Escalated")


@pytest.mark.parametrize("name", list(TICKETS))
async def test_internal_note_is_private_and_written_once(
    helpdesk: ToolRunner, sandbox: SandboxControl, name: str
) -> None:
    note = NoteCall(
        platform=name,
        ticket_id=TICKETS[name],
        body="Customer was offered 15% and declined.",
        idempotency_key="ticket-z/note-1",
    )
    first = await helpdesk.note(note)
    again = await helpdesk.note(note)
    assert first.message_id == again.message_id
    writes = [
        e
        for e in sandbox.state(name)["side_effects"]
        if e["operation"] in ("ticket.update", "note.create", "casecomment.create")
    ]
    assert len(writes) == 1
    if name == "zendesk":
        comments = await helpdesk.platforms.connectors["zendesk"].list_comments(TICKETS[name])
        assert comments[-1].public is False


async def test_kustomer_tools(helpdesk: ToolRunner) -> None:
    account = await helpdesk.run(
        "get_kustomer_account_details",
        TicketCall(params=EmailParams(email="jo@example.com")),
    )
    assert account.exists and account.address is not None and account.address.city == "Denver"
    missing = await helpdesk.run(
        "get_kustomer_account_details",
        TicketCall(params=EmailParams(email="ghost@example.com")),
    )
    assert not missing.exists
    sent = await helpdesk.run(
        "kustomer_send_async_message",
        TicketCall(
            helpdesk="kustomer",
            ticket_id="5f000000000000000000d005",
            idempotency_key="t/1",
            params=MessageParams(message="Hi Jo"),
        ),
    )
    assert sent.channel == "email"
    contact = await helpdesk.run(
        "get_account_details",
        TicketCall(helpdesk="salesforce", params=EmailParams(email="blair@example.com")),
    )
    assert contact.address is not None and contact.address.postal_code == "60601"


# --- webhooks: the sandbox posts them over HTTP to a receiver that verifies them ------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/webhooks/{platform}")
    async def hook(platform: str, request: Request) -> Response:
        received.append(
            {"platform": platform, "headers": dict(request.headers), "body": await request.body()}
        )
        if platform == "salesforce":
            return Response(salesforce.outbound_message_ack(), media_type="text/xml")
        return Response(status_code=200)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", received
    server.should_exit = True
    thread.join(timeout=5)


def _wait_for(received: list[dict[str, Any]], platform: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for item in received:
            if item["platform"] == platform:
                return item
        time.sleep(0.02)
    raise AssertionError(f"no {platform} webhook arrived")


def test_webhooks_signed_the_real_way(
    sandbox: SandboxControl, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    received.clear()
    client = sandbox.client
    for name in TICKETS:
        client.put(f"/{name}/_sandbox/webhook", json={"url": f"{url}/webhooks/{name}"})
    client.post("/zendesk/_sandbox/tickets/1003/customer_reply", json={"body": "Yes please"})
    client.post(
        "/kustomer/_sandbox/conversations/5f000000000000000000d003/customer_reply",
        json={"body": "Same address"},
    )
    client.post(
        "/salesforce/_sandbox/cases/500000000000001AAA/customer_reply", json={"body": "Keep it"}
    )

    zd = _wait_for(received, "zendesk")
    assert zendesk.verify_webhook(
        SANDBOX_ZENDESK_WEBHOOK_SECRET,
        zd["body"],
        zd["headers"]["x-zendesk-webhook-signature"],
        zd["headers"]["x-zendesk-webhook-signature-timestamp"],
    )
    assert not zendesk.verify_webhook(
        "wrong",
        zd["body"],
        zd["headers"]["x-zendesk-webhook-signature"],
        zd["headers"]["x-zendesk-webhook-signature-timestamp"],
    )
    payload = zendesk.ZendeskWebhookPayload.model_validate(json.loads(zd["body"]))
    assert (payload.ticket.id, payload.comment.body) == ("1003", "Yes please")

    ku = _wait_for(received, "kustomer")
    assert ku["headers"]["x-kustomer-webhook-event"] == "kustomer.message.create"
    assert kustomer.verify_webhook(
        SANDBOX_KUSTOMER_WEBHOOK_SECRET, ku["body"], ku["headers"]["x-kustomer-webhook-signature"]
    )
    event = kustomer.KustomerWebhookEvent.model_validate(json.loads(ku["body"]))
    assert (event.conversation_id, event.text, event.direction) == (
        "5f000000000000000000d003",
        "Same address",
        "in",
    )

    sf = _wait_for(received, "salesforce")
    assert sf["headers"]["content-type"].startswith("text/xml")
    message = salesforce.verify_outbound_message(sf["body"], "00D000000000001EAA")
    assert message is not None
    assert message.notifications[0].fields["CommentBody"] == "Keep it"
