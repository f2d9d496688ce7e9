"""An editor in the console with a real browser (Debian chromium + Playwright, as
tests/ui): signs in with the keyboard, opens a policy, adds a step with a misspelt tool,
sees the compiler's diagnostic under that line with its suggestion, applies the quick fix,
saves the draft, sees the diff, publishes; starts an experiment between the two versions
and reads its report; test-chats the policy as a demo customer with the keyboard, sees the
trace and the tool call with its arguments, saves the chat as a test; finds the chat in the
live ticket list and opens it; every page fits 1280x800 and a phone's width, and the
browser console stays free of errors. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, expect
from temporalio.testing import WorkflowEnvironment

from activities.outcomes import OutcomeActivities, OutcomeRecord
from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.console.users import Role, create_user
from api.db import open_database
from api.main import create_app
from api.services import experiments, policy_store
from tests.api_server import served
from tests.ui.conftest import browser, chromium_path  # noqa: F401  (the fixtures)
from ticketflow.settings import Settings
from workflows.worker import build_worker, ticket_activities

pytestmark = [pytest.mark.ui]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
EMAIL, PASSWORD = "editor@example.com", "a long enough password"
PID = "order_lookup"
SOURCE = """---
id: order_lookup
title: Order lookup
ticket_types: [order lookup]
platforms: [bigcommerce]
---
## Steps

1. Ask for the order number.
2. Tell the customer: We are looking into your order.
"""


def shot(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


@pytest_asyncio.fixture(loop_scope="session")
async def console_url(
    dev_env: WorkflowEnvironment, dev_settings: Settings, sandbox_url: str, tmp_path: Path
) -> AsyncIterator[str]:
    """The API on its own SQLite database, with one editor and one published policy, and a
    worker reading that database's policies and calling the test sandbox (the test chat)."""
    database = f"sqlite:///{tmp_path / 'app.db'}"
    engine = open_database(database)
    create_user(engine, EMAIL, Role.EDITOR, PASSWORD)
    policy_store.save_draft(engine, PID, SOURCE, "tests")
    policy_store.publish(engine, PID, message="first", author="tests")
    engine.dispose()
    settings = dev_settings.for_sandbox(sandbox_url)
    policies = PolicyActivities(versions=PolicyVersions.from_url(database))
    worker = build_worker(
        dev_env.client, dev_settings, activities=ticket_activities(settings, policies=policies)
    )
    async with worker, served(create_app(settings, database=database)) as url:
        yield url


def record_outcomes(database: Path, experiment_id: str) -> None:
    """Twelve ended tickets of the experiment, written as the worker's `record_outcome`
    writes them: the control retains 2 in 6, the variant 5 in 6."""
    engine = open_database(f"sqlite:///{database}")
    report = experiments.report(engine, experiment_id)
    writer = OutcomeActivities(engine)
    now = datetime.now(UTC)
    for variant, kept in zip(report.variants, (2, 5), strict=True):
        for i in range(6):
            writer.record(
                OutcomeRecord(
                    ticket_id=f"ticket-web-{uuid.uuid4().hex[:12]}",
                    helpdesk="web",
                    policy_id=report.policy_id,
                    policy_version=variant.version,
                    experiment_id=experiment_id,
                    variant=variant.name,
                    outcome="retained" if i < kept else "cancelled",
                    contained=True,
                    escalated=False,
                    turns=3,
                    started_at=now - timedelta(minutes=5),
                    ended_at=now,
                    revenue_kept=40.0 if i < kept else 0.0,
                    csat=3 + (i % 3),
                )
            )
    engine.dispose()


async def fits_the_width(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


async def test_an_editor_fixes_a_misspelt_tool_saves_and_publishes(
    browser: Browser,  # noqa: F811
    console_url: str,
    tmp_path: Path,
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # Signing in with the keyboard only: the email field has the focus.
    await page.goto(f"{console_url}/console/policies/{PID}")
    await expect(page).to_have_url(
        f"{console_url}/console/login?next=%2Fconsole%2Fpolicies%2F{PID}"
    )
    await page.keyboard.type(EMAIL)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{console_url}/console/policies/{PID}")
    await page.get_by_role("link", name="← Policies").click()
    await page.get_by_role("link", name="Order lookup").click()

    editor = page.locator(".cm-content")
    await expect(editor).to_be_visible()
    await editor.click()
    await page.keyboard.press("Control+End")
    await page.keyboard.type("3. Use @get_ordr_details(order_id: $order_id) to look the order up.")
    message = page.locator(".cm-line-message")
    await expect(message).to_contain_text("uses @get_ordr_details, but there is no tool")
    await expect(message).to_contain_text("Did you mean @get_order_details?")
    await expect(page.locator("#diagnostics")).to_contain_text("line 11:")
    await page.screenshot(path=shot("editor-diagnostic.png"), full_page=True)

    await message.get_by_role("button", name="Use @get_order_details").click()
    await expect(message).to_have_count(0)
    await expect(page.locator("#plan")).to_contain_text("@get_order_details")
    await expect(page.locator("#diagnostics")).to_contain_text("No problems")

    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    await page.get_by_role("link", name="See what publishing changes").click()
    await expect(page.locator("pre.diff .add").last).to_contain_text(
        "+3. Use @get_order_details(order_id: $order_id) to look the order up."
    )
    await page.screenshot(path=shot("diff.png"), full_page=True)
    await page.go_back()

    await page.get_by_label("What changed").fill("Look the order up")
    await page.get_by_role("button", name="Publish draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Published version")
    await expect(page.locator(".history li")).to_have_count(2)
    await expect(page.locator(".history li").first).to_contain_text("Look the order up")
    await fits_the_width(page)
    await page.screenshot(path=shot("editor-published.png"), full_page=True)

    engine = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    published = policy_store.get_policy(engine, PID)
    engine.dispose()
    assert "3. Use @get_order_details(order_id: $order_id)" in published.source

    # An experiment between the two versions; ended tickets (as the worker records them)
    # fill its report's table and charts.
    await page.get_by_role("link", name="Experiments").click()
    await page.get_by_role("button", name="Choose versions").click()
    await page.get_by_label("Share of new tickets for the variant (%)").fill("30")
    await page.get_by_role("button", name="Start the experiment").click()
    await expect(page.get_by_role("status")).to_contain_text("Experiment started.")
    experiment_id = page.url.split("/")[-1].split("?")[0]
    record_outcomes(tmp_path / "app.db", experiment_id)
    await page.reload()
    await expect(page.locator("#variants tbody tr")).to_have_count(2)
    await expect(page.locator("#variants")).to_contain_text("70%")
    await expect(page.locator("#chart-rate .bar")).to_have_count(2)
    await fits_the_width(page)
    await page.screenshot(path=shot("experiment-report.png"), full_page=True)

    # A phone's width: the editor and the list still fit.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{console_url}/console/policies/{PID}")
    await expect(page.locator(".cm-content")).to_be_visible()
    await fits_the_width(page)
    await page.screenshot(path=shot("editor-phone.png"), full_page=True)
    await page.goto(f"{console_url}/console/policies")
    await fits_the_width(page)
    await page.screenshot(path=shot("policies-phone.png"), full_page=True)
    await page.goto(f"{console_url}/console/experiments/{experiment_id}")
    await fits_the_width(page)
    await page.screenshot(path=shot("experiment-phone.png"), full_page=True)

    # The test chat, with the keyboard: Alex asks after an order; the trace and the tool
    # call (its arguments) show after the turn; the chat is saved as a test.
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{console_url}/console/policies/{PID}")
    await page.get_by_role("link", name="Test chat").click()
    await page.get_by_label("Demo customer").select_option("alex@example.com")
    await page.get_by_label("The customer says").focus()
    await page.keyboard.type("Where is my order?")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#transcript")).to_contain_text("order number")
    await expect(page.locator("#trace .trace-waiting")).to_contain_text("ask")
    await expect(page.get_by_label("The customer says")).to_be_focused()
    await page.keyboard.type("5001")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#transcript")).to_contain_text("We are looking into your order")
    call = page.locator("#tool-calls details").first
    await expect(call.locator("summary")).to_contain_text("@get_order_details")
    await call.locator("summary").focus()
    await page.keyboard.press("Enter")  # a summary opens with the keyboard
    await expect(call.locator("pre").first).to_contain_text('"order_id": "5001"')
    await fits_the_width(page)
    await page.screenshot(path=shot("test-chat.png"), full_page=True)
    await page.get_by_label("Test name").fill("alex asks after 5001")
    await page.get_by_role("button", name="Save as test").click()
    await expect(page.locator("#notice")).to_contain_text("saved as test: alex asks after 5001")
    await expect(page.locator("#saved-tests")).to_contain_text("alex asks after 5001")
    chat_ticket = page.url.split("ticket=", 1)[1].split("&", 1)[0]
    await page.set_viewport_size({"width": 390, "height": 844})
    await fits_the_width(page)
    await page.screenshot(path=shot("test-chat-phone.png"), full_page=True)

    # The live ticket list: the chat's ticket is there, and the list reloads itself.
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.get_by_role("link", name="Tickets").click()
    await page.get_by_label("Policy").fill(PID)
    await page.keyboard.press("Enter")
    await expect(page.locator("#ticket-rows")).to_contain_text(chat_ticket)
    await expect(page.locator("#ticket-rows[data-refreshed]")).to_have_count(1, timeout=12_000)
    await fits_the_width(page)
    await page.screenshot(path=shot("tickets.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await fits_the_width(page)
    await page.screenshot(path=shot("tickets-phone.png"), full_page=True)
    await page.get_by_role("link", name=chat_ticket).click()
    await expect(page.locator("#transcript")).to_contain_text("Where is my order?")
    await fits_the_width(page)
    await page.screenshot(path=shot("ticket-phone.png"), full_page=True)

    await context.close()
    assert problems == [], problems
