"""The ticket list and a ticket's claim follow-up over real HTTP (a real worker on the dev
server, the test sandbox, both database backends): the list pages past its page size with
the visibility's token, its filters kept in the links, and carries the script that reloads
it; a ticket whose policy filed a carrier claim shows the follow-up's status, checks, next
check and deadline, from the follow-up workflow itself."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx

from api.console.users import Role
from tests.console.conftest import Login, sign_in
from tests.console.test_console_tickets import eventually
from tests.experiments.test_experiment_simulation import keep_plan

Browser = Callable[[], httpx.AsyncClient]
TICKET_LINK = re.compile(r'<a href="/console/tickets/(ticket-web-[^"]+)">')


async def test_the_list_pages_with_its_filters_and_reloads_itself(
    http: httpx.AsyncClient,
    browser_like: Browser,
    make_user: Callable[[Role], Login],
) -> None:
    pid = f"keep_{uuid.uuid4().hex[:8]}"
    # Through the API, whose published set (routing) takes the new policy at once.
    assert (await http.put(f"/policies/{pid}", json={"source": keep_plan(pid, 10)})).is_success
    assert (await http.post(f"/policies/{pid}/publish", json={"message": "ten"})).is_success
    opened = []
    for n in range(3):
        answer = await http.post(
            "/tickets",
            json={"message": f"cancel my plan ({n})", "ticket_type": f"{pid} request"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["policy_id"] == pid
        opened.append(answer.json()["ticket_id"])
    viewer = browser_like()
    await sign_in(viewer, make_user(Role.VIEWER))

    async def all_listed() -> bool:
        page = await viewer.get("/console/tickets", params={"policy": pid})
        return all(t in page.text for t in opened)

    await eventually(all_listed, "the three tickets in the list")
    first = await viewer.get("/console/tickets", params={"policy": pid, "size": "2"})
    assert first.status_code == 200
    shown = TICKET_LINK.findall(first.text)
    assert len(shown) == 2 and shown == opened[::-1][:2]  # newest first
    assert 'id="first-page"' not in first.text
    found = re.search(r'<a href="([^"]+)" id="next-page"', first.text)
    assert found, "no link to the next page"
    next_link = found.group(1).replace("&amp;", "&")
    assert f"policy={pid}" in next_link and "size=2" in next_link  # the filters go along
    second = await viewer.get(next_link)
    assert TICKET_LINK.findall(second.text) == [opened[0]]
    assert 'id="next-page"' not in second.text
    assert f'href="/console/tickets?policy={pid}&amp;size=2" id="first-page"' in second.text

    whole = await viewer.get("/console/tickets", params={"policy": pid, "size": "900"})
    assert len(TICKET_LINK.findall(whole.text)) == 3 and "50 a page" in whole.text
    assert '<tbody id="ticket-rows">' in whole.text
    assert '<script src="/console/static/live.js" defer></script>' in whole.text
    script = await viewer.get("/console/static/live.js")
    assert script.status_code == 200 and "ticket-rows" in script.text
    bad = await viewer.get("/console/tickets", params={"page": "not a token!"})
    assert bad.status_code == 422 and "first page" in bad.text


async def test_a_ticket_with_a_filed_claim_shows_its_follow_up(
    http: httpx.AsyncClient,
    browser_like: Browser,
    make_user: Callable[[Role], Login],
) -> None:
    opened = await http.post(
        "/tickets",
        json={
            "message": "My order says delivered but it isn't here. Order 9001",
            "customer": {"email": "jo@example.com"},
            "ticket_type": "shipment_not_received",
        },
    )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["ticket_id"]
    for text in ("yes, I asked the neighbours", "yes, it's still missing"):
        turn = await http.post(f"/tickets/{ticket_id}/messages", json={"text": text})
        assert turn.status_code == 200, turn.text
    assert turn.json()["status"] == "waiting_claim"

    operator = browser_like()
    await sign_in(operator, make_user(Role.OPERATOR))
    page = await operator.get(f"/console/tickets/{quote(ticket_id)}")
    assert page.status_code == 200
    claim = page.text.split('id="claim"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>Status</dt><dd>submitted" in claim
    assert "(following: " in claim
    assert "<dt>Next check</dt>" in claim and "<dt>Gives up</dt>" in claim
    assert f"/workflows/claim-{ticket_id}-" in claim  # the follow-up in the Temporal UI
    await http.post(f"/tickets/{ticket_id}/close")
