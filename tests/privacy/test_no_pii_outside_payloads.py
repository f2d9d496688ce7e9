"""A customer with a distinctive name, email and street address writes in on Kustomer and on
the web channel; the conversations run for real (the sandbox's Kustomer posts a signed
webhook to the API, Temporal's dev server, the production worker, Stay AI and Shopify
emulators). Afterwards none of the three appears anywhere outside the payloads that
encryption covers:

- any log line of the worker and the API (JSON, DEBUG level, everything they log), nor any
  log record before the pipeline's last-resort masking;
- any search attribute, memo, static summary or details, or current details;
- any failure message or stack trace in the tickets' histories, any activity summary;
- any trace row, and any internal note sent to the helpdesk.

The transcript, the queries' answers and the activities' inputs and results are payloads:
they hold the customer's words and data by design, and payload encryption covers them.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.service import RPCError

from activities.platforms.kustomer import KustomerConnector
from activities.platforms.shopify import ShopifyConnector
from tests.codec_keys import TEST_KEYRING
from tests.sandbox_fixtures import SandboxControl
from ticketflow.logs import (
    TEMPORAL_WORKER_LOGGER,
    URL_LOGGERS,
    configure_logging,
    unconfigure_logging,
)
from ticketflow.settings import Settings
from workflows.payload_codec import EncryptionCodec

FIRST, LAST = "Zephyrine", "Quillfeather-Obuya"
NAME = f"{FIRST} {LAST}"
EMAIL = "zephyrine.quillfeather@privacy-check.example"
STREET = "4187 Wisteria Lantern Lane"
CITY, REGION, ZIP = "Tacoma", "WA", "98402"
# Any of these, in any case, is the customer's personal data.
PII = (FIRST, "Quillfeather", EMAIL, "zephyrine.quillfeather", STREET, "Wisteria Lantern")


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [p for p in PII if p.lower() in lowered]


def assert_clean(where: str, texts: list[str]) -> None:
    found = {t: leaks(t) for t in texts if leaks(t)}
    assert found == {}, f"customer data in {where}"


# --- capturing every log line of the worker and the API -------------------------------------


@pytest.fixture
def log_lines(api_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The production pipeline (JSON) at DEBUG for everything this process logs: the API
    and the worker both run in it. After `api_url`, so uvicorn's loggers are routed too.
    `caplog` keeps the records as they were logged, before the pipeline masks anything."""
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    url_levels = {
        name: logging.getLogger(name).level for name in (*URL_LOGGERS, TEMPORAL_WORKER_LOGGER)
    }
    stream = io.StringIO()
    handler = configure_logging(
        Settings(log_format="json", log_level="DEBUG"), service="under-test", stream=stream
    )
    try:
        yield stream
    finally:
        unconfigure_logging(handler)
        root.setLevel(level)
        for name, old in url_levels.items():
            logging.getLogger(name).setLevel(old)


@pytest_asyncio.fixture(loop_scope="session")
async def kustomer(sandbox_settings: Settings) -> AsyncIterator[KustomerConnector]:
    connector = KustomerConnector(sandbox_settings.kustomer)
    yield connector
    await connector.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def shopify(sandbox_settings: Settings) -> AsyncIterator[ShopifyConnector]:
    connector = ShopifyConnector(sandbox_settings.shopify)
    yield connector
    await connector.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def tickets(dev_client: Client) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    for ticket_id in created:
        try:
            await dev_client.get_workflow_handle(ticket_id).terminate("test finished")
        except RPCError:
            pass


# --- arranging: the customer on Kustomer and Shopify, through their APIs -------------------


async def new_conversation(kustomer: KustomerConnector, customer_id: str, name: str) -> str:
    response = await kustomer.request(
        "POST",
        f"/v1/customers/{customer_id}/conversations",
        json={"name": name, "channels": ["chat"]},
    )
    return str(response.json()["data"]["id"])


async def new_customer(kustomer: KustomerConnector) -> str:
    location = {
        "type": "home",
        "name": NAME,
        "address": STREET,
        "cityName": CITY,
        "regionCode": REGION,
        "zipCode": ZIP,
        "countryCode": "US",
    }
    body = {"name": NAME, "emails": [{"type": "home", "email": EMAIL}], "locations": [location]}
    response = await kustomer.request("POST", "/v1/customers", json=body)
    return str(response.json()["data"]["id"])


async def new_shopify_order(shopify: ShopifyConnector) -> str:
    order = {
        "email": EMAIL,
        "financialStatus": "PAID",
        "transactions": [
            {
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "shopify_payments",
                "amountSet": {"shopMoney": {"amount": "32.00", "currencyCode": "USD"}},
            }
        ],
        "lineItems": [
            {
                "title": "Lavender candle",
                "quantity": 1,
                "priceSet": {"shopMoney": {"amount": "32.00", "currencyCode": "USD"}},
            }
        ],
        "shippingAddress": {
            "firstName": FIRST,
            "lastName": LAST,
            "address1": STREET,
            "city": CITY,
            "provinceCode": REGION,
            "zip": ZIP,
            "countryCode": "US",
        },
    }
    query = (
        "mutation Create($order: OrderCreateOrderInput!) { orderCreate(order: $order)"
        " { order { id } userErrors { field message } } }"
    )
    created = (await shopify.graphql(query, {"order": order}))["orderCreate"]
    assert created["userErrors"] == []
    return str(created["order"]["id"]).rsplit("/", 1)[-1]


async def eventually(probe: Any, what: str, seconds: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while not (found := await probe()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return found


async def say(http: httpx.AsyncClient, ticket_id: str, text: str) -> dict[str, Any]:
    response = await http.post(f"/tickets/{ticket_id}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- reading what Temporal keeps outside the payloads ---------------------------------------

CODEC = EncryptionCodec(TEST_KEYRING)
FAILURE = "temporal.api.failure.v1.Failure"
USER_METADATA = "temporal.api.sdk.v1.UserMetadata"
INDEXED = ("temporal.api.common.v1.SearchAttributes", "temporal.api.common.v1.Memo")


def clear_text(payload: Payload) -> str:
    """A payload's data as text, decrypted with the test keyring when it is encrypted."""
    return CODEC.decrypt(payload).data.decode(errors="replace")


def outside_payloads(message: Message, found: list[str]) -> None:
    """Every failure message and stack trace, activity/workflow summary and details, search
    attribute and memo value in one history event (recursively)."""
    name = message.DESCRIPTOR.full_name
    if name == FAILURE:
        found += [message.message, message.stack_trace]  # type: ignore[attr-defined]
        if message.HasField("encoded_attributes"):
            # The codec encrypts failure messages too; read what it hides all the same.
            found.append(clear_text(message.encoded_attributes))  # type: ignore[attr-defined]
    elif name == USER_METADATA:
        # Summaries and details are payloads, encrypted by the codec: they must hold no
        # customer data even decrypted (the UI shows them to every operator).
        found += [clear_text(message.summary), clear_text(message.details)]  # type: ignore[attr-defined]
        return
    elif name in INDEXED:
        fields = getattr(message, "indexed_fields", None) or getattr(message, "fields", {})
        found += [payload.data.decode(errors="replace") for payload in fields.values()]
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            outside_payloads(value, found)
            continue
        # A repeated field or a map of messages.
        for item in value.values() if hasattr(value, "values") else value:
            if isinstance(item, Message):
                outside_payloads(item, found)


async def temporal_texts(client: Client, ticket_id: str) -> tuple[list[str], int, int]:
    """(texts, failures seen, activity summaries seen) of every run of the ticket."""
    texts: list[str] = []
    failures = summaries = 0
    async for execution in client.list_workflows(f'WorkflowId = "{ticket_id}"'):
        handle = client.get_workflow_handle(ticket_id, run_id=execution.run_id)
        described = await handle.describe()
        texts += [json.dumps(described.search_attributes, default=str)]
        texts += [await described.static_summary() or "", await described.static_details() or ""]
        texts += [json.dumps(await described.memo(), default=str)]
        if described.status is not None and described.status.name == "RUNNING":
            metadata = await handle.query(
                "__temporal_workflow_metadata", result_type=WorkflowMetadata
            )
            texts.append(metadata.current_details)
        async for event in handle.fetch_history_events():
            found: list[str] = []
            outside_payloads(event, found)
            texts += found
            failures += event.HasField("activity_task_failed_event_attributes")
            summaries += bool(event.user_metadata.summary.data)
    return texts, failures, summaries


# --- the test --------------------------------------------------------------------------------


async def test_the_customers_name_email_and_address_stay_in_the_payloads(
    http: httpx.AsyncClient,
    api_url: str,
    dev_client: Client,
    sandbox: SandboxControl,
    kustomer: KustomerConnector,
    shopify: ShopifyConnector,
    tickets: list[str],
    log_lines: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer_id = await new_customer(kustomer)
    damaged = await new_conversation(kustomer, customer_id, "Damaged candle")
    refund = await new_conversation(kustomer, customer_id, "Refund")
    unknown = await new_conversation(kustomer, customer_id, "Refund again")
    order_id = await new_shopify_order(shopify)

    # 1. Kustomer + Stay AI: the first message arrives by Kustomer's signed webhook; the
    #    replacement goes to a street address the customer types.
    ticket = f"ticket-kustomer-{damaged}"
    tickets.append(ticket)
    sandbox.client.put("/kustomer/_sandbox/webhook", json={"url": f"{api_url}/webhooks/kustomer"})
    sandbox.client.post(
        f"/kustomer/_sandbox/conversations/{damaged}/customer_reply",
        json={
            "body": f"Hi, this is {NAME} ({EMAIL}). My item arrived damaged, order 7001.",
            "channel": "chat",
        },
    ).raise_for_status()

    async def asked_what_went_wrong() -> bool:
        view = await http.get(f"/tickets/{ticket}")
        return view.status_code == 200 and "Damaged on arrival" in view.text

    await eventually(asked_what_went_wrong, "the bot's first question")
    turn = await say(http, ticket, "2")
    assert "address we have on file" in " ".join(turn["replies"])
    turn = await say(http, ticket, f"Please send it to {STREET}, {CITY}, {REGION} {ZIP}")
    assert "Your replacement order" in " ".join(turn["replies"]), turn

    # 2. Kustomer + Shopify: a refund of the customer's own Shopify order.
    ticket = f"ticket-kustomer-{refund}"
    tickets.append(ticket)
    turn = await say(http, ticket, f"I want a refund. I'm {NAME}, {EMAIL}.")
    turn = await say(http, ticket, f"order {order_id}")
    assert "refund of" in " ".join(turn["replies"]), turn

    # 3. An order the store does not know: the step fails and an agent gets a note.
    ticket = f"ticket-kustomer-{unknown}"
    tickets.append(ticket)
    turn = await say(http, ticket, f"I want a refund, {EMAIL}, order 123456")
    assert turn["status"] == "escalated", turn

    # 4. The web channel, name and email given up front; Stay AI is asked by email (in its
    #    query string, the only way its API offers) and knows no subscription under it.
    created = await http.post(
        "/tickets",
        json={
            "message": "Please resume my subscription",
            "customer": {"name": NAME, "email": EMAIL},
        },
    )
    assert created.status_code == 201, created.text
    tickets.append(created.json()["ticket_id"])
    assert created.json()["status"] == "escalated", created.json()
    trace = (await http.get(f"/tickets/{tickets[-1]}")).json()["trace"]
    assert "get_subscriptions" in json.dumps(trace)  # the lookup by email did run

    # Logs: every line the worker and the API wrote, at DEBUG.
    lines = log_lines.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert_clean("the log lines", lines)
    # Nor did the code rely on the pipeline's masking: the records as logged are clean too.
    assert_clean(
        "the log records", [f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    )
    ours = [e for e in events if e.get("ticket_id") in tickets]
    assert {e.get("service") for e in events} == {"under-test"}
    assert any(e.get("activity") and e.get("policy_id") and e.get("run_id") for e in ours)
    assert any(e["logger"] == "ticketflow.api" and e.get("policy_id") for e in ours)
    assert any(e["logger"] == "temporalio.workflow" and e.get("policy_id") for e in ours)

    # Temporal: search attributes, memo, summaries, details, failures, in every run.
    failures = summaries = 0
    for ticket_id in tickets:
        texts, failed, summarised = await temporal_texts(dev_client, ticket_id)
        assert_clean(f"Temporal's record of {ticket_id}", texts)
        failures += failed
        summaries += summarised
    assert failures >= 1 and summaries >= 5  # the checks above saw something to check

    # The trace the API serves, and everything ticketflow wrote to the helpdesk that only
    # agents see.
    for ticket_id in tickets:
        view = (await http.get(f"/tickets/{ticket_id}")).json()
        assert_clean(f"the trace of {ticket_id}", [json.dumps(view["trace"])])
    notes = [json.dumps(e["request"]) for e in sandbox.side_effects("kustomer", "note.create")]
    assert notes, "the escalation wrote no note"
    assert_clean("the agents' notes", notes)
