"""The metrics an operator's dashboard reads, after real tickets on the dev server: the API's
/metrics, the worker's metrics port and the Temporal SDK's runtime metrics port; and no
customer data in any of them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.metrics import tool_result
from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from tests.observability.stack import eventually, samples, value, worker_and_api
from tests.ports import free_port
from tests.sandbox_fixtures import SandboxControl
from tests.webhooks.test_helpdesk_webhooks import zendesk_delivery
from ticketflow.settings import Settings

CANCEL_POLICY = "cancel_order_retention_bigcommerce_kustomer"
EMAIL = "alex.private@example.com"


@pytest.fixture
def metrics_settings(dev_settings: Settings) -> Settings:
    return dev_settings.model_copy(
        update={
            "metrics_host": "127.0.0.1",
            "worker_metrics_port": free_port(),
            "temporal_metrics_port": free_port(),
        }
    )


async def scrape(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_each_connector_error_is_one_dashboard_result() -> None:
    assert tool_result(None) == "ok"
    assert tool_result(PlatformRateLimited("slow down", platform="shopify")) == "rate_limited"
    assert tool_result(PlatformUnavailable("503", platform="shopify")) == "unavailable"
    assert tool_result(TimeoutError()) == "unavailable"
    for refused in (
        PlatformRejected("bad", platform="shopify"),
        NotFound("no order", platform="shopify"),
        PlatformAuthError("401", platform="shopify"),
    ):
        assert tool_result(refused) == "rejected"


async def test_a_ticket_moves_the_counters_with_its_labels_and_no_pii(
    metrics_settings: Settings,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    app_database: str,
    api_key: str,
    dev_client: Client,
) -> None:
    settings = metrics_settings
    worker_url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
    sdk_url = f"http://127.0.0.1:{settings.temporal_metrics_port}/metrics"
    async with worker_and_api(settings, sandbox_settings, app_database, api_key) as http:
        before = samples((await http.get("/metrics")).text)
        # BigCommerce answers the first lookups with a 429, then a 503: retried, and counted.
        sandbox.fault("bigcommerce", rate_limit_next=1, fail_next=1, retry_after=0.1)
        created = await http.post(
            "/tickets",
            json={
                "message": f"I want to cancel order 5001, I'm {EMAIL} or +1 415 555 0199",
                "customer": {"email": EMAIL, "name": "Alex Private"},
                "ticket_type": "Cancel order",
            },
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["ticket_id"]
        assert created.json()["replies"][0].startswith("Before we go ahead, here are some options")
        # The offer asks for a choice: the reply's reading is observed.
        chose = await http.post(f"/tickets/{ticket_id}/messages", json={"text": "the discount"})
        assert chose.status_code == 200, chose.text
        closed = await http.post(f"/tickets/{ticket_id}/close")
        assert closed.status_code in (202, 409), closed.text  # 409: taking the offer ended it
        await asyncio.wait_for(dev_client.get_workflow_handle(ticket_id).result(), timeout=60)

        async def ended() -> dict | None:
            after = samples((await http.get("/metrics")).text)
            done = value(after, "ticketflow_tickets_ended_total", helpdesk="web")
            earlier = value(before, "ticketflow_tickets_ended_total", helpdesk="web")
            return after if done > earlier else None

        after = await eventually(ended, "the ticket's end counted")
        api_text = (await http.get("/metrics")).text
        worker_text = await scrape(worker_url)
        sdk_text = await scrape(sdk_url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    web = {"policy": CANCEL_POLICY, "helpdesk": "web"}
    assert moved("ticketflow_tickets_started_total", **web) == 1
    assert moved("ticketflow_tickets_ended_total", **web) == 1
    ended_outcomes = {
        dict(labels)["outcome"]
        for (name, labels), v in after.items()
        if name == "ticketflow_tickets_ended_total" and dict(labels)["policy"] == CANCEL_POLICY
    }
    assert ended_outcomes and "none" not in ended_outcomes
    assert moved("ticketflow_turn_seconds_count") == 2
    assert moved("ticketflow_tool_calls_total", platform="bigcommerce", result="rate_limited") == 1
    assert moved("ticketflow_tool_calls_total", platform="bigcommerce", result="unavailable") == 1
    assert moved("ticketflow_tool_calls_total", platform="bigcommerce", result="ok") >= 1
    assert moved("ticketflow_understanding_confidence_count") >= 1
    assert moved("ticketflow_understanding_confidence_sum") > 0
    assert ("ticketflow_claim_followups_open", frozenset()) in after

    # The worker's port: its ticketflow_* and the SDK's runtime metrics, in one scrape that
    # Prometheus' own parser reads; the SDK's alone on their port.
    worker_families = {family.name for family in text_string_to_metric_families(worker_text)}
    assert {"ticketflow_tickets_started", "ticketflow_tool_calls"} <= worker_families
    for sdk_metric in ("temporal_workflow_completed", "temporal_activity_execution_latency"):
        assert sdk_metric in sdk_text
        assert sdk_metric in worker_families
    # Labels are ids and fixed words: the customer's email, phone and name appear nowhere.
    for text in (api_text, worker_text, sdk_text):
        for pii in (EMAIL, "alex.private", "415 555 0199", "Alex Private"):
            assert pii not in text


async def test_webhook_deliveries_are_counted_by_source_and_result(
    dev_settings: Settings,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    app_database: str,
    api_key: str,
    dev_client: Client,
    dev_env: WorkflowEnvironment,
) -> None:
    async with worker_and_api(dev_settings, sandbox_settings, app_database, api_key) as http:
        before = samples((await http.get("/metrics")).text)
        body, headers = zendesk_delivery(
            "1003", "88001", "My order 7001 arrived broken", requester="sam@example.com"
        )
        try:
            assert (await http.post("/webhooks/zendesk", content=body, headers=headers)).json()[
                "accepted"
            ]
            again = await http.post("/webhooks/zendesk", content=body, headers=headers)
            assert again.json()["duplicate"] is True
            forged = dict(headers, **{"x-zendesk-webhook-signature": "AAAA"})
            refused = await http.post("/webhooks/zendesk", content=body, headers=forged)
            assert refused.status_code == 401
            after = samples((await http.get("/metrics")).text)
        finally:
            try:
                await dev_client.get_workflow_handle("ticket-zendesk-1003").terminate("test done")
            except RPCError:
                pass

    def moved(result: str) -> float:
        labels = {"source": "zendesk", "result": result}
        return value(after, "ticketflow_webhook_deliveries_total", **labels) - value(
            before, "ticketflow_webhook_deliveries_total", **labels
        )

    assert moved("accepted") == 1
    assert moved("duplicate") == 1
    assert moved("unauthorized") >= 1


async def test_a_ticket_is_counted_once_though_a_new_worker_replays_it(
    dev_settings: Settings,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    app_database: str,
    api_key: str,
    dev_client: Client,
) -> None:
    """The counts come from workflow code: a worker that picks a ticket up from its history
    (after a restart) or replays an ended one for a query must not count it again."""
    stack = (dev_settings, sandbox_settings, app_database, api_key)
    web = {"policy": CANCEL_POLICY, "helpdesk": "web"}
    async with worker_and_api(*stack) as http:
        before = samples((await http.get("/metrics")).text)
        created = await http.post(
            "/tickets",
            json={"message": "I want to cancel order 5001", "ticket_type": "Cancel order"},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["ticket_id"]
    # A new worker: the ticket's first turn is replayed from history before the next one.
    async with worker_and_api(*stack) as http:
        chose = await http.post(f"/tickets/{ticket_id}/messages", json={"text": "the discount"})
        assert chose.status_code == 200, chose.text
        await asyncio.wait_for(dev_client.get_workflow_handle(ticket_id).result(), timeout=60)
        ended = samples((await http.get("/metrics")).text)
    # And another, which replays the ended ticket to answer queries.
    async with worker_and_api(*stack) as http:
        shown = await http.get(f"/tickets/{ticket_id}")
        assert shown.status_code == 200 and shown.json()["outcome"], shown.text
        after = samples((await http.get("/metrics")).text)

    def moved(scrape: dict, name: str) -> float:
        return value(scrape, name, **web) - value(before, name, **web)

    assert moved(ended, "ticketflow_tickets_started_total") == 1
    assert moved(ended, "ticketflow_tickets_ended_total") == 1
    assert moved(after, "ticketflow_tickets_started_total") == 1
    assert moved(after, "ticketflow_tickets_ended_total") == 1


async def test_one_worker_port_serves_both_without_a_temporal_port(
    dev_settings: Settings,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    app_database: str,
    api_key: str,
) -> None:
    """TICKETFLOW_WORKER_METRICS_PORT alone: what the deploy's Prometheus scrapes."""
    port = free_port()
    settings = dev_settings.model_copy(
        update={"metrics_host": "127.0.0.1", "worker_metrics_port": port}
    )
    async with worker_and_api(settings, sandbox_settings, app_database, api_key) as http:
        created = await http.post("/tickets", json={"message": "Please skip my next shipment"})
        assert created.status_code == 201, created.text
        text = await scrape(f"http://127.0.0.1:{port}/metrics")
    families = {family.name for family in text_string_to_metric_families(text)}
    assert "ticketflow_tickets_started" in families
    assert "temporal_workflow_task_execution_latency" in families
