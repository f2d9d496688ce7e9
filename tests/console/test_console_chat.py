"""The test chat over real HTTP (a real worker on the dev server, both database backends):
an editor talks to the draft as a customer, sees each reply and the trace after each turn,
to an outcome; the draft is stored as a version but not published, and a test chat counts
in no metric. A chat on a published version runs that version; a viewer cannot chat."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from api.console.users import Role
from api.services import policy_store
from api.services.outcome_reports import policy_metrics
from tests.console.conftest import Login, csrf_token, sign_in
from tests.console.test_console_experiments import table_rows
from tests.experiments.test_experiment_simulation import keep_plan

Browser = Callable[[], httpx.AsyncClient]


def section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</ol>", 1)[0]


async def say(client: httpx.AsyncClient, path: str, text: str, **fields: str) -> httpx.Response:
    """The customer's next message from the chat page; returns the page after the turn."""
    page = await client.get(path)
    sent = await client.post(
        path.split("?")[0], data={"text": text, "csrf_token": csrf_token(page.text), **fields}
    )
    assert sent.status_code == 303, sent.text
    return await client.get(sent.headers["location"])


async def test_an_editor_chats_with_the_draft_to_an_outcome_and_sees_the_trace(
    browser_like: Browser,
    make_user: Callable[[Role], Login],
    app_engine: Engine,
    dev_client: Client,
) -> None:
    pid = f"keep_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(app_engine, pid, keep_plan(pid, 10), "tests")
    v1 = policy_store.publish(app_engine, pid, message="ten", author="tests")
    policy_store.save_draft(app_engine, pid, keep_plan(pid, 25), "tests")
    path = f"/console/policies/{pid}/chat"

    viewer = browser_like()
    await sign_in(viewer, make_user(Role.VIEWER))
    assert (await viewer.get(path)).status_code == 403

    editor = browser_like()
    await sign_in(editor, make_user(Role.EDITOR))
    editor_page = await editor.get(f"/console/policies/{pid}")
    assert f'href="{path}"' in editor_page.text
    first = await editor.get(path)
    assert first.status_code == 200
    assert '<option value="draft" selected>' in first.text
    bad = await editor.post(
        path,
        data={"text": "hi", "context": "[1, 2]", "csrf_token": csrf_token(first.text)},
    )
    assert bad.status_code == 422 and "the context is a JSON object" in bad.text

    page = await say(editor, path, "I want to cancel my plan", version="draft")
    ticket_id = parse_qs(urlparse(str(page.url)).query)["ticket"][0]
    assert ticket_id.startswith("ticket-web-chat-")
    assert "25% comes off the next order" in section(page.text, "transcript")  # the draft
    trace = section(page.text, "trace")
    assert '<li class="trace-waiting"><span class="step">1</span> <span class="kind">offer' in trace
    draft_version = policy_store.list_versions(app_engine, pid)[1][0].version_hash
    assert draft_version != v1 and f"<code>{draft_version}</code>" in page.text

    page = await say(
        editor, f"{path}?ticket={ticket_id}", "yes, the discount please", ticket=ticket_id
    )
    assert "Great, your plan stays as it is." in section(page.text, "transcript")
    assert "1 (poor) to 5 (great)" in section(page.text, "transcript")
    page = await say(editor, f"{path}?ticket={ticket_id}", "5", ticket=ticket_id)
    assert "Ended: <strong>retained</strong>" in page.text
    assert 'id="chat-form"' not in page.text
    trace = section(page.text, "trace")
    assert trace.rstrip().endswith(
        '<span class="kind">end</span> <span class="status">ran</span> '
        '<span class="muted">retained</span></li>'
    )

    # Ended: the workflow is done, and no outcome row was written for it.
    await dev_client.get_workflow_handle(ticket_id).result()
    assert policy_metrics(app_engine, pid, None).versions == []
    # The draft was stored as a version for the chat, and nothing was published.
    assert policy_store.get_policy(app_engine, pid).version == v1
    rows = table_rows((await editor.get(f"/console/policies/{pid}")).text, "version-metrics")
    assert rows == [["No ended tickets yet."]]

    # A chat on the published version runs that one.
    page = await say(editor, path, "I want to cancel my plan", version=v1)
    assert "10% comes off the next order" in section(page.text, "transcript")

    # A draft with errors is refused with its diagnostics.
    broken = keep_plan(pid, 25).replace(
        "Discount: Inform the customer that", "Discount: Use @no_such_tool so"
    )
    policy_store.save_draft(app_engine, pid, broken, "tests")
    page = await editor.get(path)
    refused = await editor.post(
        path, data={"text": "hi", "version": "draft", "csrf_token": csrf_token(page.text)}
    )
    assert refused.status_code == 422 and "error(s) to fix first" in refused.text
    assert "no_such_tool" in refused.text
