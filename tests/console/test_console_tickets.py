"""Tickets in the console over real HTTP (a real worker on the dev server, both database
backends): the filtered list, a ticket's transcript and Temporal UI link, an operator's
note reaching the workflow, which a viewer cannot send, and an operator's reply reaching
the customer on Zendesk (the emulator's request log)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from api.console.users import Role
from tests.console.conftest import Login, csrf_token, sign_in
from tests.sandbox_fixtures import SandboxControl
from tests.workflows.test_agent_reply import REPLY, public_comments
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import Customer, CustomerMessage, TicketStart, ticket_workflow_id

ALEX = {"email": "alex@example.com", "name": "Alex"}


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw {what}")


async def test_operators_find_a_ticket_read_it_and_add_a_note_viewers_only_read(
    http: httpx.AsyncClient,
    browser_like: Callable[[], httpx.AsyncClient],
    make_user: Callable[[Role], Login],
) -> None:
    opened = await http.post(
        "/tickets", json={"message": "I want to cancel order 5001", "customer": ALEX}
    )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["ticket_id"]
    operator = browser_like()
    await sign_in(operator, make_user(Role.OPERATOR))

    async def listed() -> bool:
        page = await operator.get(
            "/console/tickets", params={"status": "waiting_customer", "helpdesk": "web"}
        )
        return page.status_code == 200 and ticket_id in page.text

    await eventually(listed, f"{ticket_id} in the filtered list")
    other = await operator.get("/console/tickets", params={"status": "resolved"})
    assert ticket_id not in other.text
    assert (await operator.get("/console/tickets", params={"policy": 'a"b'})).status_code == 200

    path = f"/console/tickets/{quote(ticket_id)}"
    page = await operator.get(path)
    assert page.status_code == 200
    assert "I want to cancel order 5001" in page.text
    assert f"/workflows/{ticket_id}" in page.text  # the Temporal UI link
    token = csrf_token(page.text)

    viewer = browser_like()
    await sign_in(viewer, make_user(Role.VIEWER))
    viewer_page = await viewer.get(path)
    assert "Act as an agent" not in viewer_page.text
    refused = await viewer.post(
        f"{path}/act",
        data={"action": "note", "text": "viewer note", "csrf_token": csrf_token(viewer_page.text)},
    )
    assert refused.status_code == 403

    sent = await operator.post(
        f"{path}/act",
        data={"action": "note", "text": "Called the customer back", "csrf_token": token},
    )
    assert sent.status_code == 303

    async def noted() -> bool:
        return "Called the customer back" in (await operator.get(path)).text

    await eventually(noted, "the operator's note in the transcript")
    assert "viewer note" not in (await operator.get(path)).text
    assert (await operator.get("/console/tickets/ticket-web-nope")).status_code == 404


async def test_an_operator_replies_as_agent_and_the_customer_gets_it_on_zendesk(
    http: httpx.AsyncClient,
    browser_like: Callable[[], httpx.AsyncClient],
    make_user: Callable[[Role], Login],
    dev_client: Client,
    dev_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    handle = await dev_client.start_workflow(
        TicketWorkflow.run,
        TicketStart(helpdesk="zendesk", external_id="1001", customer=Customer()),
        id=ticket_workflow_id("zendesk", "1001"),
        task_queue=dev_settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
    )
    await handle.signal(
        TicketWorkflow.customer_message,
        CustomerMessage(message_id="zd-1", text="Please skip my next shipment"),
    )
    path = f"/console/tickets/{quote(handle.id)}"
    operator = browser_like()
    await sign_in(operator, make_user(Role.OPERATOR))

    async def bot_answered() -> bool:
        return bool(public_comments(sandbox, "1001"))

    await eventually(bot_answered, "the bot's answer on Zendesk")
    before = len(public_comments(sandbox, "1001"))
    page = await operator.get(path)
    assert '<option value="reply">Reply to the customer' in page.text
    token = csrf_token(page.text)
    empty = await operator.post(f"{path}/act", data={"action": "reply", "csrf_token": token})
    assert empty.status_code == 422 and "a reply needs its text" in empty.text

    sent = await operator.post(
        f"{path}/act", data={"action": "reply", "text": REPLY, "csrf_token": token}
    )
    assert sent.status_code == 303

    async def delivered() -> bool:
        return len(public_comments(sandbox, "1001")) > before

    await eventually(delivered, "the agent's reply on Zendesk")
    assert [c["body"] for c in public_comments(sandbox, "1001")[before:]] == [REPLY]
    page = await operator.get(path)
    assert REPLY in page.text.split('id="transcript"', 1)[1]
    assert "held by operator-" in page.text  # the operator took the ticket by replying

    # The API: the same action, its text required.
    api_path = f"/tickets/{handle.id}/agent"
    no_text = await http.post(api_path, json={"action": "reply", "agent": "Dana"})
    assert no_text.status_code == 422
    replied = await http.post(
        api_path, json={"action": "reply", "agent": "Dana", "text": "Anything else?"}
    )
    assert replied.status_code == 202

    async def second() -> bool:
        return len(public_comments(sandbox, "1001")) > before + 1

    await eventually(second, "the API's reply on Zendesk")
    assert public_comments(sandbox, "1001")[-1]["body"] == "Anything else?"
    await handle.terminate("test over")
