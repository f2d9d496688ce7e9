"""The test chat on a sandbox helpdesk, over real HTTP (a real worker on the dev server,
the test sandbox, both database backends): an editor resets the sandbox, picks Zendesk and
the demo customer Alex, chats to a cancelled order and sees each tool call with its
arguments and result and the writes it made on the sandbox; saves the chat as a test,
which the publish gate then runs: a draft that changes the bot's words is refused naming
the saved test, the published wording passes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import yaml
from sqlalchemy import Engine

from api.console.users import Role
from api.main import create_app
from api.services import policy_store
from api.services.policy_scripts import policy_scripts
from tests.api_server import served
from tests.console.conftest import Login, csrf_token, sign_in
from tests.console.test_console_chat import say, section
from tests.sandbox_fixtures import SandboxControl
from ticketflow.conversation_tests import Script
from ticketflow.policy_gate import run_policy_scripts
from ticketflow.settings import Settings

Browser = Callable[[], httpx.AsyncClient]
LIBRARY = Path(__file__).resolve().parents[2] / "policies" / "library"


def cancellation(policy_id: str) -> str:
    """The library's single order cancellation, on BigCommerce and Zendesk, as a new policy
    with a ticket type and triggers of its own (other tests' "Cancel order" tickets must
    not be routed to it)."""
    source = (LIBRARY / "single_order_cancellation.md").read_text(encoding="utf-8")
    return (
        source.replace("id: single_order_cancellation", f"id: {policy_id}", 1)
        .replace("platforms: [bigcommerce, kustomer]", "platforms: [bigcommerce, zendesk]", 1)
        .replace("ticket_types: [Cancel order]", f"ticket_types: [{policy_id} request]", 1)
        .replace(
            "triggers: [cancel my order, cancel this order, I want to cancel]",
            f"triggers: [{policy_id} please]",
            1,
        )
    )


@pytest.fixture
def chat_policy(app_engine: Engine) -> Iterator[tuple[str, str]]:
    """(policy id, published version), deleted afterwards: the app database is shared with
    the tests that run after this one, and their routing reads every published policy."""
    pid = f"cancel_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(app_engine, pid, cancellation(pid), "tests")
    published = policy_store.publish(app_engine, pid, message="first", author="tests")
    yield pid, published
    policy_store.delete(app_engine, pid, "tests")


async def test_a_zendesk_chat_shows_tool_calls_and_side_effects_and_saves_as_a_test(
    browser_like: Browser,
    make_user: Callable[[Role], Login],
    app_engine: Engine,
    app_database: str,
    api_key: str,
    dev_settings: Settings,
    sandbox_url: str,
    sandbox: SandboxControl,
    chat_policy: tuple[str, str],
) -> None:
    pid, published = chat_policy
    source = cancellation(pid)
    path = f"/console/policies/{pid}/chat"

    editor = browser_like()
    await sign_in(editor, make_user(Role.EDITOR))
    page = await editor.get(path)
    assert page.status_code == 200
    for helpdesk in ("web", "zendesk", "kustomer", "salesforce"):
        assert f'<option value="{helpdesk}"' in page.text
    # The sandbox's seeded customers, with what they hold there.
    assert "Alex Moreau &lt;alex@example.com&gt; · bigcommerce order 5001" in page.text
    assert "Sam Park &lt;sam@example.com&gt; · stayai subscription active" in page.text

    # Someone else's write on the sandbox; the reset button undoes it.
    sandbox.client.post("/zendesk/_sandbox/tickets", json={"email": "x@example.com"})
    reset = await editor.post(f"{path}/reset-sandbox", data={"csrf_token": csrf_token(page.text)})
    assert reset.status_code == 303
    page = await editor.get(reset.headers["location"])
    assert "the sandbox was reset" in page.text
    assert sandbox.state("bigcommerce")["side_effects"] == []

    # Only the sandbox's demo customers.
    refused = await editor.post(
        path,
        data={
            "text": "hi",
            "helpdesk": "zendesk",
            "email": "someone.real@example.org",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert refused.status_code == 422 and "sandbox&#39;s demo customers" in refused.text

    fields = {"helpdesk": "zendesk", "email": "alex@example.com", "version": published}
    page = await say(editor, path, "Please cancel my order", **fields)
    ticket_id = parse_qs(urlparse(str(page.url)).query)["ticket"][0]
    assert ticket_id.startswith("ticket-zendesk-")
    assert "order number" in section(page.text, "transcript")
    page = await say(editor, f"{path}?ticket={ticket_id}", "order 5001", ticket=ticket_id)
    assert "order has been cancelled" in section(page.text, "transcript")

    calls = section(page.text, "tool-calls")
    assert "<code>@get_order_details</code> on bigcommerce" in calls
    assert "<code>@cancel_order</code> on bigcommerce" in calls
    assert "&#34;order_id&#34;: &#34;5001&#34;" in calls  # the arguments, as sent
    assert "&#34;customer request&#34;" in calls
    # Each reply went out through the Zendesk emulator as a tool call of its own.
    assert "<code>@send_async_message</code> on zendesk" in calls
    assert calls.count('<span class="status">ran</span>') == 4
    assert f"<code>{ticket_id}/" in calls  # the cancel's idempotency key
    effects = section(page.text, "side-effects")
    assert "bigcommerce <code>order.update</code> on 5001" in effects
    assert "zendesk <code>" in effects  # the replies went out through the Zendesk emulator
    order = [e for e in sandbox.side_effects("bigcommerce", "order.update")]
    assert len(order) == 1 and order[0]["idempotency_key"].startswith(ticket_id)

    saved = await editor.post(
        f"{path}/save",
        data={
            "ticket": ticket_id,
            "name": "alex cancels 5001",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert saved.status_code == 303
    page = await editor.get(saved.headers["location"])
    assert "saved as test: alex cancels 5001" in page.text
    assert "alex cancels 5001" in section(page.text, "saved-tests").replace("</ul>", "")
    [stored] = policy_scripts(app_engine, pid)
    script = Script.model_validate(yaml.safe_load(stored.source))
    assert script.policy == pid and script.helpdesk == "zendesk"
    assert script.customer.email == "alex@example.com"
    assert [t.say for t in script.turns] == ["Please cancel my order", "order 5001"]
    assert script.turns[1].expect.tool_calls == ["get_order_details", "cancel_order"]
    assert script.outcome == "cancelled"
    assert {(e.platform, e.operation) for e in script.side_effects or []} >= {
        ("bigcommerce", "order.update")
    }

    # The publish gate runs the saved test (it has no packaged ones).
    gated = create_app(
        dev_settings.for_sandbox(sandbox_url),
        database=app_database,
        policy_scripts=run_policy_scripts,
    )
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        served(gated) as url,
        httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as http,
    ):
        reworded = source.replace("the order has been cancelled", "the order is stopped")
        assert reworded != source
        await http.put(f"/policies/{pid}", json={"source": reworded})
        refused_publish = await http.post(f"/policies/{pid}/publish", json={"message": "words"})
        assert refused_publish.status_code == 422, refused_publish.text
        errors = [e["message"] for e in refused_publish.json()["errors"]]
        assert any(e.startswith("alex cancels 5001: ") for e in errors), errors
        assert policy_store.get_policy(app_engine, pid).version == published

        await http.put(f"/policies/{pid}", json={"source": source})
        ok = await http.post(f"/policies/{pid}/publish", json={"message": "same"})
        assert ok.status_code == 200, ok.text
