"""Tickets in the console over real HTTP (a real worker on the dev server, both database
backends): the filtered list, a ticket's transcript and Temporal UI link, and an
operator's note reaching the workflow, which a viewer cannot send."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx

from api.console.users import Role
from tests.console.conftest import Login, csrf_token, sign_in

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
