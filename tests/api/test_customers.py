"""Data-subject requests over real HTTP, a real worker and the dev server: tickets carry a
keyed hash of the customer's email (never the email) as CustomerKey; export returns every
ticket of one customer; erase terminates, deletes and reports, and a second erase removes
nothing (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from activities.customer_key import CustomerKeys, customer_key
from api.db import WebhookDelivery
from ticketflow.cli import app as cli
from ticketflow.settings import Settings, get_settings
from workflows import search_attributes as sa


async def _eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    """Visibility is eventually consistent: poll until `check` returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)


async def _gone(client: Client, ticket_id: str) -> bool:
    try:
        await client.get_workflow_handle(ticket_id).describe()
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND
    return False


def test_customer_key_is_a_keyed_hash_of_the_normalised_email() -> None:
    one = customer_key(b"secret", "Jane@Example.com ")
    assert one == customer_key(b"secret", "jane@example.com")
    assert one != customer_key(b"other secret", "jane@example.com")
    assert len(one) == 64 and "jane" not in one


async def test_export_and_erase_one_customer(
    http: httpx.AsyncClient,
    dev_client: Client,
    dev_settings: Settings,
    app_engine: Engine,
) -> None:
    run = uuid.uuid4().hex[:8]
    jane, other = f"Jane.{run}@Example.com", f"other.{run}@example.com"
    volunteered = f"sam.{run}@example.com"

    async def open_ticket(message: str, email: str | None) -> str:
        body: dict[str, Any] = {"message": message}
        if email:
            body["customer"] = {"email": email, "name": "Jane Doe"}
        created = await http.post("/tickets", json=body)
        assert created.status_code == 201, created.text
        ticket_id: str = created.json()["ticket_id"]
        return ticket_id

    open_one = await open_ticket("I want to cancel order 5001", jane)
    closed_one = await open_ticket("Please skip my next shipment", jane)
    assert (await http.post(f"/tickets/{closed_one}/close")).status_code == 202
    others = await open_ticket("Hello", other)
    # An email the customer volunteers mid-conversation keys the ticket too, and so does
    # one the caller passes in the context.
    told = await open_ticket(f"Hi, my email is {volunteered}, skip my next shipment", None)
    in_context = f"ctx.{run}@example.com"
    created = await http.post(
        "/tickets", json={"message": "Hello", "context": {"customer": {"email": in_context}}}
    )
    assert created.status_code == 201, created.text
    from_context = created.json()["ticket_id"]

    keys = CustomerKeys.from_settings(dev_settings)
    described = await dev_client.get_workflow_handle(open_one).describe()
    indexed = {key.name: value for key, value in described.typed_search_attributes}
    assert indexed[sa.CUSTOMER_KEY.name] == keys.key(jane.lower())
    assert jane.lower() not in repr(indexed).lower()

    async def indexed_key(ticket_id: str) -> str | None:
        described = await dev_client.get_workflow_handle(ticket_id).describe()
        return described.typed_search_attributes.get(sa.CUSTOMER_KEY)

    # Learnt while the first message is handled: set right after that turn.
    assert await _eventually(lambda: indexed_key(told)) == keys.key(volunteered)
    assert await indexed_key(from_context) == keys.key(in_context)

    # Export: the body form (preferred) and the deprecated path form agree.
    async def exported() -> list[dict[str, Any]]:
        answer = await http.post("/customers/export", json={"email": jane.upper()})
        assert answer.status_code == 200, answer.text
        tickets: list[dict[str, Any]] = answer.json()["tickets"]
        closed = [t for t in tickets if t["ticket_id"] == closed_one]
        return tickets if len(tickets) == 2 and closed and closed[0]["closed_at"] else []

    tickets = await _eventually(exported)
    assert {t["ticket_id"] for t in tickets} == {open_one, closed_one}
    by_id = {t["ticket_id"]: t for t in tickets}
    assert by_id[open_one]["transcript"][0]["text"] == "I want to cancel order 5001"
    assert by_id[open_one]["policy_id"] == "cancel_order_retention_bigcommerce_kustomer"
    assert by_id[open_one]["run_status"] == "RUNNING"
    assert by_id[closed_one]["run_status"] == "COMPLETED"
    assert by_id[closed_one]["outcome"] is not None
    by_path = await http.get(f"/customers/{jane}/export")
    assert by_path.status_code == 200
    assert {t["ticket_id"] for t in by_path.json()["tickets"]} == {open_one, closed_one}
    schema = (await http.get("/openapi.json")).json()
    assert schema["paths"]["/customers/{email}/export"]["get"]["deprecated"] is True

    # App-database rows tied to the tickets (webhook deliveries), one of someone else's.
    with Session(app_engine) as session:
        for ticket_id in (open_one, closed_one, others):
            session.add(WebhookDelivery(source="test", delivery_key=ticket_id, ticket_id=ticket_id))
        session.commit()

    erased = await http.post("/customers/erase", json={"email": jane})
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["tickets"] == sorted([open_one, closed_one])
    assert report["terminated"] == [open_one]
    assert report["executions_deleted"] == 2
    assert report["webhook_deliveries_deleted"] == 2
    # The open ticket goes at once; a closed one when the server's deletion task runs
    # (about half a minute on the dev server).
    assert await _eventually(lambda: _gone(dev_client, open_one))
    assert await _eventually(lambda: _gone(dev_client, closed_one), within=90)
    with Session(app_engine) as session:
        left = session.exec(
            select(WebhookDelivery.ticket_id).where(
                col(WebhookDelivery.ticket_id).in_([open_one, closed_one, others])
            )
        ).all()
    assert left == [others]
    assert not await _gone(dev_client, others)

    # Idempotent: the same request again (path form) removes and reports nothing.
    again = await http.delete(f"/customers/{jane}")
    assert again.status_code == 200, again.text
    assert again.json() == {
        "tickets": [],
        "terminated": [],
        "executions_deleted": 0,
        "webhook_deliveries_deleted": 0,
    }

    async def nothing_left() -> bool:
        answer = await http.post("/customers/export", json={"email": jane})
        return answer.json()["tickets"] == []

    assert await _eventually(nothing_left)

    # The CLI runs the same erasure, here for the other customer.
    env = {
        "TEMPORAL_ADDRESS": dev_settings.temporal_address,
        "TEMPORAL_NAMESPACE": dev_settings.temporal_namespace,
        "TICKETFLOW_DATABASE_URL": str(app_engine.url.render_as_string(hide_password=False)),
    }
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        shown = await asyncio.to_thread(
            runner.invoke, cli, ["customer", "export", "-"], input=other + "\n", env=env
        )
        result = await asyncio.to_thread(
            runner.invoke, cli, ["customer", "erase", other, "--yes"], env=env
        )
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert [t["ticket_id"] for t in json.loads(shown.stdout)["tickets"]] == [others]
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tickets"] == [others]
    assert await _eventually(lambda: _gone(dev_client, others), within=90)


async def test_bad_emails_are_refused(http: httpx.AsyncClient) -> None:
    for body in ({"email": "not an email"}, {"email": ""}, {}, {"email": "a@b@c"}):
        answer = await http.post("/customers/erase", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert (await http.get("/customers/nobody/export")).status_code == 422
