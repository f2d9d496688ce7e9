"""The walking skeleton end to end: HTTP API → Temporal dev server → real worker."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client

from tests.history_events import readings, routes


async def _visible(client: Client, query: str) -> list[str]:
    """Visibility is eventually consistent: poll briefly for the rows a user would see."""
    for _ in range(50):
        ids = [wf.id async for wf in client.list_workflows(query)]
        if ids:
            return ids
        await asyncio.sleep(0.1)
    return []


async def test_conversation_over_http(http: httpx.AsyncClient, dev_client: Client) -> None:
    created = await http.post(
        "/tickets",
        json={
            "message": "I want to cancel order 5001",
            "customer": {"email": "alex@example.com", "name": "Alex"},
            "ticket_type": "Cancel order",
        },
    )
    assert created.status_code == 201, created.text
    first = created.json()
    ticket_id = first["ticket_id"]
    assert ticket_id.startswith("ticket-web-")
    # The order number came with the first message: the bot goes straight to the offers.
    assert len(first["replies"]) == 1
    assert first["replies"][0].startswith("Before we go ahead, here are some options")
    assert "1. Discount: Take 15% off this order." in first["replies"][0]
    assert first["status"] == "waiting_customer"

    shown = (await http.get(f"/tickets/{ticket_id}")).json()
    assert shown["state"]["status"] == "waiting_customer"
    assert shown["state"]["ticket_type"] == "Cancel order"
    assert shown["state"]["policy_id"] == "cancel_order_retention_bigcommerce_kustomer"
    assert shown["state"]["slots"] == {"order_id": "5001"}
    assert [(e["role"], e["text"]) for e in shown["transcript"]] == [
        ("customer", "I want to cancel order 5001"),
        ("bot", first["replies"][0]),
    ]

    # The operator's view: the ticket is found in Temporal by its search attributes.
    found = await _visible(
        dev_client,
        f'WorkflowId = "{ticket_id}" AND TicketStatus = "waiting_customer" '
        'AND Helpdesk = "web" AND TicketType = "Cancel order" '
        'AND PolicyId = "cancel_order_retention_bigcommerce_kustomer"',
    )
    assert found == [ticket_id]
    # No customer PII in search attributes; the UI's summary says what the ticket is.
    described = await dev_client.get_workflow_handle(ticket_id).describe()
    assert await described.static_summary() == "Cancel order — BigCommerce/Kustomer"
    indexed = {key.name: value for key, value in described.typed_search_attributes}
    assert "alex@example.com" not in repr(indexed)


async def test_the_api_routes_a_new_ticket_and_the_workflow_does_not_again(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    created = await http.post("/tickets", json={"message": "Please skip my next shipment"})
    assert created.status_code == 201, created.text
    handle = dev_client.get_workflow_handle(created.json()["ticket_id"])
    described = await handle.describe()
    assert await described.static_summary() == "Skip next shipment — Skio/Kustomer"
    # The message read and the start's plan loaded in one local activity, not routed.
    assert routes(await readings(handle, dev_client.data_converter)) == ["policy_id"]


async def test_resent_message_id_is_answered_once(http: httpx.AsyncClient) -> None:
    created = (await http.post("/tickets", json={"message": "Hello"})).json()
    ticket_id = created["ticket_id"]
    body = {"text": "Please skip my next shipment", "message_id": "client-7"}
    first = (await http.post(f"/tickets/{ticket_id}/messages", json=body)).json()
    again = (await http.post(f"/tickets/{ticket_id}/messages", json=body)).json()
    assert first["duplicate"] is False
    assert again["duplicate"] is True
    assert again["replies"] == first["replies"]
    transcript = (await http.get(f"/tickets/{ticket_id}")).json()["transcript"]
    assert [e["text"] for e in transcript if e["role"] == "customer"] == [
        "Hello",
        "Please skip my next shipment",
    ]


async def test_a_message_resent_after_the_ticket_ended_is_answered_once(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    """A client whose answer was lost (a timeout, a replica killed) sends the last message
    again after it ended the conversation: it gets the same replies, marked duplicate, and no
    new conversation starts on the ticket."""
    opened = await http.post(
        "/tickets",
        json={
            "message": "I want to cancel order 5001",
            "customer": {"email": "alex@example.com", "name": "Alex"},
            "message_id": "m1",
        },
    )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["ticket_id"]
    body = {"text": "1", "message_id": "m2"}
    ended = await http.post(f"/tickets/{ticket_id}/messages", json=body)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "resolved"
    handle = dev_client.get_workflow_handle(ticket_id)
    first_run = (await handle.describe()).run_id

    for resent in (body, {"text": "I want to cancel order 5001", "message_id": "m1"}):
        again = await http.post(f"/tickets/{ticket_id}/messages", json=resent)
        assert again.status_code == 200, again.text
        assert again.json()["duplicate"] is True
        wanted = (ended if resent is body else opened).json()["replies"]
        assert again.json()["replies"] == wanted
    assert (await handle.describe()).run_id == first_run  # no new run started

    # A new message (a new id) after the end is the customer's next conversation.
    later = await http.post(
        f"/tickets/{ticket_id}/messages", json={"text": "Hello again", "message_id": "m3"}
    )
    assert later.status_code == 200, later.text
    assert later.json()["duplicate"] is False
    assert (await handle.describe()).run_id != first_run


async def test_bad_input_gets_a_clear_error(http: httpx.AsyncClient) -> None:
    created = (await http.post("/tickets", json={"message": "Hello"})).json()
    ticket_id = created["ticket_id"]

    blank = await http.post(f"/tickets/{ticket_id}/messages", json={"text": "   "})
    assert blank.status_code == 422
    assert blank.json()["detail"] == "message text is empty"

    empty_ticket = await http.post("/tickets", json={"message": ""})
    assert empty_ticket.status_code == 422

    unknown = await http.get("/tickets/ticket-web-does-not-exist")
    assert unknown.status_code == 404
    not_a_ticket = await http.post("/tickets/not-a-ticket/messages", json={"text": "hi"})
    assert not_a_ticket.status_code == 404

    # The rejected message left no trace in the conversation.
    transcript = (await http.get(f"/tickets/{ticket_id}")).json()["transcript"]
    assert [e["role"] for e in transcript] == ["customer", "bot"]
