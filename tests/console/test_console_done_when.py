"""The console's whole path for a CX manager, in one browser session (Debian chromium +
Playwright, as tests/ui): an editor signs in with the keyboard, starts a new policy from
the policy list, writes it with a misspelt tool, sees the compiler's diagnostic under that
line with its suggestion, applies the quick fix, sees the plan; test-chats the draft as a
demo customer to a cancelled order and sees the order's write on the sandbox; saves the
chat as a test; publishes (the publish gate plays that test first, as `ticketflow api`
does). A ticket opened through `POST /tickets` then runs the version just published. The
editor writes a second version, starts an experiment between the two, and simulated
customers (real tickets over the API, answered until they end, their outcome rows written
by the worker's `record_outcome`) fill both variants of the report. A viewer sees no
publish control, and a publish they forge is refused. The browser console stays free of
errors; screenshots of each page go to test-artifacts/console/done-when-*.png."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from temporalio.testing import WorkflowEnvironment

from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.auth import create_key
from api.console.users import Role, create_user
from api.db import open_database
from api.main import create_app
from api.services import policy_store
from tests.api_server import served
from tests.ui.conftest import browser, chromium_path  # noqa: F401  (the fixtures)
from ticketflow.policy_gate import run_policy_scripts
from ticketflow.settings import Settings
from workflows.worker import build_worker, ticket_activities

pytestmark = [pytest.mark.ui]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
EDITOR = ("cx.manager@example.com", "a long enough password")
VIEWER = ("viewer@example.com", "another long password")
PID = "stop_my_order"
TICKET_TYPE = "Stop my order"
#: The policy as the manager writes it, around the step they type with a misspelt tool.
HEAD = f"""---
id: {PID}
title: Stop my order
ticket_types: [{TICKET_TYPE}]
triggers: [please stop my order]
platforms: [bigcommerce]
---
## Logic

1. Ask for the order number of the order to stop.
"""
MISSPELT = "2. Use @get_ordr_details(order_id: str) to load the order."
TAIL = """
3. If $order.cancellable == false:
   - Say “Order $order_id has already left our warehouse, so it can no longer be stopped.”
   - End the conversation as resolved.
4. Use @cancel_order(order_id: str, reason: "customer request") to cancel the order.
5. Say “Done: order $order_id is cancelled and your payment is on its way back.”
6. End the conversation as cancelled.
"""
#: The line the second version adds under the refusal (the experiment's variant).
RETURNS_HINT = "   - Say “Once it arrives you can send it back for a full refund.”"
SHIPPED = "already left our warehouse"


def shot(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"done-when-{name}.png")


@dataclass
class Console:
    url: str
    database: Path
    api: httpx.AsyncClient  # the public API, with the key a helpdesk integration uses
    env: WorkflowEnvironment


@pytest_asyncio.fixture(loop_scope="session")
async def console(
    dev_env: WorkflowEnvironment, dev_settings: Settings, sandbox_url: str, tmp_path: Path
) -> AsyncIterator[Console]:
    """The API as `ticketflow api` serves it (publishing plays the policy's scripts first)
    on its own SQLite database with an editor, a viewer and an API key, and the production
    worker reading that database's policies and experiments, writing its outcome rows
    there, and calling the test sandbox."""
    database = tmp_path / "app.db"
    engine = open_database(f"sqlite:///{database}")
    create_user(engine, EDITOR[0], Role.EDITOR, EDITOR[1])
    create_user(engine, VIEWER[0], Role.VIEWER, VIEWER[1])
    api_key = create_key(engine, "helpdesk integration")
    engine.dispose()
    settings = dev_settings.for_sandbox(sandbox_url)
    policies = PolicyActivities(versions=PolicyVersions.from_url(f"sqlite:///{database}"))
    worker = build_worker(
        dev_env.client, settings, activities=ticket_activities(settings, policies=policies)
    )
    app = create_app(settings, database=f"sqlite:///{database}", policy_scripts=run_policy_scripts)
    async with worker, served(app) as url:
        headers = {"Authorization": f"Bearer {api_key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api:
            yield Console(url, database, api, dev_env)


async def new_page(browser: Browser, problems: list[str]) -> tuple[BrowserContext, Page]:  # noqa: F811
    """A browser of its own at 1280x800 whose console errors land in `problems`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page


async def sign_in_with_the_keyboard(page: Page, url: str, login: tuple[str, str]) -> None:
    await page.goto(f"{url}/console")
    await expect(page).to_have_url(f"{url}/console/login?next=%2Fconsole%2Fpolicies")
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.keyboard.type(login[0])
    await page.keyboard.press("Tab")
    await page.keyboard.type(login[1])
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{url}/console/policies")


async def customer_asks_to_stop_an_order(api: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """A customer on the web channel asks to stop a shipped order (BigCommerce 5002)
    through `POST /tickets`, answers the bot until the ticket ends; the ticket's view."""
    opened = await api.post(
        "/tickets",
        json={
            "message": "Hello, please stop my order",
            "ticket_type": TICKET_TYPE,
            "customer": {"email": email},
        },
    )
    assert opened.status_code == 201, opened.text
    first = opened.json()
    assert first["policy_id"] == PID, first
    assert any("order number" in reply for reply in first["replies"]), first
    answered = await api.post(f"/tickets/{first['ticket_id']}/messages", json={"text": "5002"})
    assert answered.status_code == 200, answered.text
    assert any(SHIPPED in reply for reply in answered.json()["replies"]), answered.text
    shown = await api.get(f"/tickets/{first['ticket_id']}")
    assert shown.status_code == 200, shown.text
    view: dict[str, Any] = shown.json()
    assert view["outcome"] == "resolved", view
    return view


async def test_a_cx_manager_writes_tests_publishes_and_measures_a_new_policy(
    browser: Browser,  # noqa: F811
    console: Console,
) -> None:
    url = console.url
    problems: list[str] = []
    context, page = await new_page(browser, problems)

    # 1. Signing in with the keyboard only: the email field has the focus.
    await sign_in_with_the_keyboard(page, url, EDITOR)
    await page.screenshot(path=shot("01-policies"), full_page=True)

    # 2. A new policy from the list's form; the manager writes it, typing the step that
    # loads the order with a misspelt tool.
    await page.get_by_label("Id").fill(PID)
    await page.get_by_label("Title").fill("Stop my order")
    await page.get_by_role("button", name="Start a draft").click()
    await expect(page).to_have_url(f"{url}/console/policies/{PID}")
    await expect(page.locator("h1")).to_contain_text(PID)  # nothing published yet
    editor = page.locator(".cm-content")
    await expect(editor).to_be_visible()
    await editor.click()
    await page.keyboard.press("Control+a")
    await page.keyboard.insert_text(HEAD)
    await page.keyboard.type(MISSPELT)
    await page.keyboard.insert_text(TAIL)
    misspelt_line = HEAD.count("\n") + 1
    # (A second one follows from it: step 3 reads $order, which the unknown tool never set.)
    message = page.locator(".cm-line-message", has_text="@get_ordr_details")
    await expect(message).to_contain_text("uses @get_ordr_details, but there is no tool")
    await expect(message).to_contain_text("Did you mean @get_order_details?")
    # Under the misspelt line: the widget follows that line's text.
    under = page.locator(".cm-line", has_text="@get_ordr_details").locator("xpath=following::*[1]")
    await expect(under).to_have_class(re.compile(r"\bcm-line-message\b"))
    await expect(page.locator("#diagnostics")).to_contain_text(f"line {misspelt_line}:")
    await expect(page.locator("#plan")).to_contain_text("No plan: fix the errors first.")
    await page.screenshot(path=shot("02-editor-diagnostic"), full_page=True)

    await message.get_by_role("button", name="Use @get_order_details").click()
    await expect(page.locator(".cm-line-message")).to_have_count(0)
    await expect(page.locator("#diagnostics")).to_contain_text("No problems")
    plan = page.locator("#plan")
    await expect(plan).to_contain_text("@get_order_details")
    await expect(plan).to_contain_text("@cancel_order")
    await expect(plan.locator(f'a[data-line="{misspelt_line}"]')).to_contain_text(
        "@get_order_details"
    )  # the plan's node links to its line
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    await expect(page.locator("#plan")).to_contain_text("@get_order_details")
    await page.screenshot(path=shot("03-editor-plan"), full_page=True)

    # 3. The test chat on the draft: Alex (a demo customer) stops order 5001 on a freshly
    # reset sandbox; the chat ends as cancelled and shows the order's write there.
    await page.get_by_role("link", name="Test chat").click()
    await page.get_by_role("button", name="Reset the sandbox").click()
    await expect(page.locator("#notice")).to_contain_text("the sandbox was reset")
    await expect(page.get_by_label("Version")).to_have_value("draft")
    await page.get_by_label("Demo customer").select_option("alex@example.com")
    await page.get_by_label("The customer says").fill("Please stop my order")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#transcript")).to_contain_text("order number")
    await expect(page.locator("#side-effects")).to_contain_text("No writes on the sandbox")
    await page.get_by_label("The customer says").fill("It is 5001")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#transcript")).to_contain_text(
        "Done: order 5001 is cancelled and your payment is on its way back."
    )
    await expect(page.locator("#chat-status")).to_contain_text("Ended: cancelled.")
    await expect(page.locator("#tool-calls summary")).to_contain_text(
        ["@get_order_details on bigcommerce", "@cancel_order on bigcommerce"]
    )
    effect = page.locator("#side-effects details")
    await expect(effect).to_have_count(1)
    await expect(effect.locator("summary")).to_contain_text("bigcommerce order.update on 5001")
    await effect.locator("summary").click()
    await expect(effect.locator("pre")).to_contain_text('"status_id": 5')  # Cancelled
    await page.screenshot(path=shot("04-test-chat-outcome"), full_page=True)

    # 4. Save as test.
    await page.get_by_label("Test name").fill("alex stops 5001")
    await page.get_by_role("button", name="Save as test").click()
    await expect(page.locator("#notice")).to_contain_text("saved as test: alex stops 5001")
    await expect(page.locator("#saved-tests")).to_contain_text("alex stops 5001")
    await page.screenshot(path=shot("05-saved-test"), full_page=True)

    # 5. Publish with a message: the gate plays the saved test against the draft first.
    await page.get_by_role("link", name=f"← {PID}").click()
    await page.get_by_label("What changed").fill("First version: stop an order")
    await page.get_by_role("button", name="Publish draft").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Published version", timeout=120_000)
    published = (await status.inner_text()).split("Published version ", 1)[1].rstrip(".")
    await expect(page.locator(".history li")).to_have_count(1)
    await expect(page.locator(".history li").first).to_contain_text(published)
    await expect(page.locator(".history li").first).to_contain_text("First version")
    await page.screenshot(path=shot("06-published"), full_page=True)
    engine = open_database(f"sqlite:///{console.database}")
    assert policy_store.get_policy(engine, PID).version == published
    engine.dispose()

    # 6. A customer's ticket through the public API runs the version just published.
    view = await customer_asks_to_stop_an_order(console.api, "blair@example.com")
    assert (view["state"]["policy_id"], view["state"]["policy_version"]) == (PID, published)
    ticket_id = view["ticket_id"]
    await page.goto(f"{url}/console/tickets/{ticket_id}")
    await expect(page.locator(".heading")).to_contain_text(f"{PID} {published}")
    await expect(page.locator("#outcome")).to_contain_text("resolved")
    await expect(page.locator("#transcript")).to_contain_text(SHIPPED)
    await page.screenshot(path=shot("07-ticket-on-the-new-version"), full_page=True)

    # 7. A second version (a returns hint under the refusal) as the draft; an experiment
    # between it and the published one; simulated customers until both variants have
    # ended tickets, whose outcome rows the worker writes.
    await page.goto(f"{url}/console/policies/{PID}")
    await page.locator(".cm-line", has_text="can no longer be stopped").click()
    await page.keyboard.press("End")
    await page.keyboard.insert_text(f"\n{RETURNS_HINT}")
    await expect(page.locator("#diagnostics")).to_contain_text("No problems")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    await page.get_by_role("link", name="Start an experiment").click()
    await expect(page.get_by_label("Version").first).to_have_value(published)
    await expect(page.get_by_label("Version").last).to_have_value("draft")
    await page.get_by_label("Name").first.fill("no_hint")
    await page.get_by_label("Name").last.fill("returns_hint")
    await page.get_by_label("Metric").select_option("containment")
    await page.screenshot(path=shot("08-new-experiment"), full_page=True)
    await page.get_by_role("button", name="Start the experiment").click()
    await expect(page.get_by_role("status")).to_contain_text("Experiment started.")
    experiment_id = page.url.split("?")[0].rsplit("/", 1)[1]

    seen: dict[str, int] = {"no_hint": 0, "returns_hint": 0}
    variant_versions: dict[str, str] = {}
    for _ in range(6):
        emails = [f"customer-{uuid.uuid4().hex[:10]}@example.com" for _ in range(4)]
        views = await asyncio.gather(
            *(customer_asks_to_stop_an_order(console.api, email) for email in emails)
        )
        for shown in views:
            state = shown["state"]
            seen[state["variant"]] += 1
            variant_versions[state["variant"]] = state["policy_version"]
            hinted = any("send it back for a full refund" in e["text"] for e in shown["transcript"])
            assert hinted == (state["variant"] == "returns_hint"), shown
            # The ticket has ended; its outcome row is written before the workflow closes.
            await console.env.client.get_workflow_handle(shown["ticket_id"]).result()
        if min(seen.values()) >= 2:
            break
    assert min(seen.values()) >= 2, seen
    assert variant_versions["no_hint"] == published
    assert variant_versions["returns_hint"] != published

    await page.get_by_role("link", name="Experiments", exact=True).click()
    await expect(page.locator("#experiments")).to_contain_text(
        f"no_hint ({seen['no_hint']}), returns_hint ({seen['returns_hint']})"
    )
    await page.get_by_role("link", name=experiment_id).click()
    rows = page.locator("#variants tbody tr")
    await expect(rows).to_have_count(2)
    for name, count in seen.items():
        cells = rows.filter(has=page.locator("th", has_text=name)).locator("td")
        await expect(cells.nth(0)).to_have_text(variant_versions[name])
        await expect(cells.nth(2)).to_have_text(str(count))
        await expect(cells.nth(3)).to_contain_text(f"{count} of {count}")
    await expect(page.locator("#chart-rate .bar")).to_have_count(2)
    await page.screenshot(path=shot("09-experiment-report"), full_page=True)
    await context.close()

    # 8. A viewer: the policy (with a draft) shows no publish control, and a forged
    # publish with the viewer's own valid session and CSRF token is refused.
    viewer_context, viewer_page = await new_page(browser, problems)
    await sign_in_with_the_keyboard(viewer_page, url, VIEWER)
    await viewer_page.get_by_role("link", name="Stop my order").click()
    await expect(viewer_page.locator(".cm-content")).to_be_visible()
    await expect(viewer_page.locator(".cm-content")).to_contain_text(RETURNS_HINT.strip())
    await expect(viewer_page.locator("#publish-form")).to_have_count(0)
    await expect(viewer_page.get_by_role("button", name="Publish draft")).to_have_count(0)
    await expect(viewer_page.get_by_role("button", name="Save draft")).to_have_count(0)
    await viewer_page.screenshot(path=shot("10-viewer-policy"), full_page=True)
    token = await viewer_page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    forged = await viewer_page.request.post(
        f"{url}/console/policies/{PID}/publish",
        form={"csrf_token": token, "message": "published by a viewer", "expected_version": ""},
        max_redirects=0,
    )
    assert forged.status == 403, await forged.text()
    assert "your role (viewer) cannot do this" in await forged.text()
    engine = open_database(f"sqlite:///{console.database}")
    assert policy_store.get_policy(engine, PID).version == published
    engine.dispose()
    await viewer_context.close()
    assert problems == [], problems
