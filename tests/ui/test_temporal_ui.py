"""An operator in the Temporal Web UI: finds the escalated tickets by TicketStatus and reads
their summaries; retries a ticket whose tool failed on a misconfiguration by resetting
it (the README's "Operating tickets" recipe); reads a ticket's encrypted history decoded
through the API's codec server, and sees only ciphertext without it."""

from __future__ import annotations

import asyncio
import re
import subprocess
from urllib.parse import quote

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from tests.sandbox_fixtures import SandboxControl
from tests.ui.conftest import Api, UiServer, screenshot_path
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import TicketStatus
from workflows.worker import build_worker, ticket_activities

pytestmark = [pytest.mark.ui, pytest.mark.e2e]

ALEX = {"email": "alex@example.com", "name": "Alex"}


async def wait_for_count(client: Client, query: str, n: int) -> None:
    for _ in range(100):
        if (await client.count_workflows(query)).count >= n:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed {n} for {query}")


async def test_operator_filters_escalated_tickets_and_reads_their_summaries(
    ui_server: UiServer,
    ui_settings: Settings,
    ui_api: Api,
    page: Page,
    sandbox_settings: Settings,
) -> None:
    client = ui_server.client
    escalated, waiting = [], []
    async with build_worker(client, ui_settings, activities=ticket_activities(sandbox_settings)):
        for _ in range(3):
            turn = await ui_api.open("Can I talk to a human please?")
            assert turn["status"] == TicketStatus.ESCALATED
            escalated.append(turn["ticket_id"])
        for _ in range(2):
            turn = await ui_api.open("I want to cancel order 5001", customer=ALEX)
            assert turn["status"] == TicketStatus.WAITING_CUSTOMER
            waiting.append(turn["ticket_id"])
        query = 'TicketStatus = "escalated"'
        await wait_for_count(client, query, len(escalated))

        await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows?query={quote(query)}")
        table = page.locator("table")
        await table.get_by_text(escalated[0]).first.wait_for(timeout=30_000)
        shown = set(re.findall(r"ticket-web-[A-Za-z0-9_.:-]+", await table.inner_text()))
        await page.screenshot(path=screenshot_path("escalated.png"), full_page=True)
        assert shown == set(escalated)

        # Each escalated ticket's page shows the summary the API gave it and what it waits for.
        for ticket_id in escalated:
            described = await client.get_workflow_handle(ticket_id).describe()
            summary = await described.static_summary()
            assert summary
            await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{ticket_id}")
            # UI 2.x: summary and current details live under the "User Metadata" tab.
            await page.get_by_text("User Metadata").first.click()
            await shows(page, summary)
            await shows(page, "With an agent")
        await page.screenshot(path=screenshot_path("escalated-ticket.png"), full_page=True)


async def shows(page: Page, text: str) -> None:
    """Wait until `text` is on the page or in one of its frames (the UI renders summaries
    and details as Markdown in sandboxed iframes)."""
    for _ in range(150):
        for frame in page.frames:
            try:
                if await frame.get_by_text(text).count():
                    return
            except PlaywrightError:
                continue  # a frame detached while we looked
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared on {page.url}")


def reset_point(events: list, activity: str) -> int:
    """The WorkflowTaskCompleted event whose commands scheduled the failed activity: reset
    there and the workflow task runs again, so the step is scheduled anew."""
    scheduled = next(
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity
    )
    return int(scheduled.activity_task_scheduled_event_attributes.workflow_task_completed_event_id)


async def history(handle: WorkflowHandle) -> list:
    return [event async for event in handle.fetch_history_events()]


async def test_operator_resets_a_ticket_after_fixing_a_misconfigured_platform(
    ui_server: UiServer,
    ui_settings: Settings,
    ui_api: Api,
    page: Page,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    client = ui_server.client
    settings = ui_settings
    async with build_worker(client, settings, activities=ticket_activities(sandbox_settings)):
        first = await ui_api.open("I want to cancel order 5001", customer=ALEX)
        assert first["status"] == TicketStatus.WAITING_CUSTOMER
    ticket_id = first["ticket_id"]
    handle = client.get_workflow_handle(ticket_id)

    # A deploy with a wrong BigCommerce token: the discount call gets 401, which retrying
    # cannot fix (PlatformAuthError, non-retryable); the policy escalates with the error.
    broken = sandbox_settings.model_copy(deep=True)
    broken.bigcommerce.access_token = SecretStr("wrong-token")
    async with build_worker(client, settings, activities=ticket_activities(broken)):
        turn = await ui_api.say(ticket_id, "1")  # the discount
        assert turn["status"] == TicketStatus.ESCALATED
        transcript = await handle.query(TicketWorkflow.transcript)
    notes = [e.text for e in transcript if e.role == "system"]
    assert notes and "PlatformAuthError" in notes[-1], notes

    # The operator sees the failure on the ticket's page in the UI.
    await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{ticket_id}")
    await page.get_by_text("bigcommerce_set_discount").first.wait_for(timeout=30_000)
    await page.screenshot(path=screenshot_path("failed-tool.png"), full_page=True)

    # Fix the configuration (a worker with the right token), then reset to the workflow
    # task that scheduled the failed call: the call runs again and the ticket completes.
    event_id = reset_point(await history(handle), "bigcommerce_set_discount")
    async with build_worker(client, settings, activities=ticket_activities(sandbox_settings)):
        command = [
            wheel_binary("temporal"),
            "workflow",
            "reset",
            "--address",
            ui_server.address,
            "--namespace",
            client.namespace,
            "--workflow-id",
            ticket_id,
            "--event-id",
            str(event_id),
            "--reason",
            "BigCommerce token fixed; re-run the discount",
            "--yes",
        ]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr + done.stdout
        reset = client.get_workflow_handle_for(TicketWorkflow.run, ticket_id)
        outcome = await asyncio.wait_for(reset.result(), timeout=60)
    assert outcome.outcome == "retained"
    assert outcome.status == TicketStatus.RESOLVED
    discounts = [
        e
        for e in sandbox.side_effects("bigcommerce", "order.update")
        if "discount_amount" in e["request"] and (e["idempotency_key"] or "").startswith(ticket_id)
    ]
    assert len(discounts) == 1  # the 401 wrote nothing; the re-run wrote once
    await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{ticket_id}")
    await page.get_by_text("Completed").first.wait_for(timeout=30_000)
    await page.screenshot(path=screenshot_path("after-reset.png"), full_page=True)


NAME, EMAIL, STREET = "Zebulon Quartermaine", "zq.private@example.com", "742 Evergreen Terrace"


async def page_text(page: Page) -> str:
    texts = []
    for frame in page.frames:
        try:
            texts.append(await frame.locator("body").inner_text())
        except PlaywrightError:
            continue
    return "\n".join(texts)


async def test_history_is_decoded_with_the_codec_and_ciphertext_without_it(
    ui_server: UiServer,
    ui_settings: Settings,
    ui_api: Api,
    page: Page,
    sandbox_settings: Settings,
) -> None:
    """The UI's codec endpoint is the API's /codec (as `ticketflow dev` starts it): the
    operator reads the customer's message; with the codec server unreachable, the same page
    holds only ciphertext."""
    async with build_worker(
        ui_server.client, ui_settings, activities=ticket_activities(sandbox_settings)
    ):
        turn = await ui_api.open(
            f"I want to cancel order 5001, I moved to {STREET}",
            customer={"email": EMAIL, "name": NAME},
        )
    ticket_id = turn["ticket_id"]
    run_id = (await ui_server.client.get_workflow_handle(ticket_id).describe()).run_id
    url = f"{ui_server.ui_url}/namespaces/default/workflows/{ticket_id}/{run_id}/history"
    await page.goto(url)
    await shows(page, EMAIL)  # the input card: the ticket's start, decoded
    await shows(page, NAME)
    await page.get_by_text("Workflow Execution Update Accepted").first.click()
    await shows(page, STREET)  # the customer's message, in the update's input
    await page.screenshot(path=screenshot_path("history-decoded.png"), full_page=True)

    # The same page with the codec server unreachable: ciphertext only, and the UI says so.
    blind = await page.context.new_page()
    await blind.route("**/codec/**", lambda route: route.abort())
    await blind.goto(url)
    await shows(blind, "Codec Server could not connect")
    await blind.get_by_text("Workflow Execution Update Accepted").first.click()
    await asyncio.sleep(1)
    await blind.screenshot(path=screenshot_path("history-encrypted.png"), full_page=True)
    text = await page_text(blind)
    for secret in (EMAIL, NAME, STREET, "Zebulon"):
        assert secret not in text, secret
    assert "binary/encrypted" in text or re.search(r"[A-Za-z0-9+/]{60,}", text), text[:2000]
