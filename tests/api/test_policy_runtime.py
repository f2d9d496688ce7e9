"""Publishing takes effect with no restart, and running tickets stay pinned: the API, the
real worker and the dev server share the policy store (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import httpx
from temporalio.client import Client

from tests.history_events import patches
from workflows.ticket import LEAN_TURNS


def speaking(policy_id: str, version: str) -> str:
    return (
        f"---\nid: {policy_id}\ntitle: {policy_id}\nticket_types: [{policy_id} request]\n---\n"
        "## Logic\n\n"
        f"1. Say “Version {version}: hello.”\n"
        "2. Ask for the customer's email address.\n"
        f"3. Say “Version {version}: goodbye.”\n"
        "4. End the conversation as resolved.\n"
    )


async def _publish(http: httpx.AsyncClient, policy_id: str, source: str) -> str:
    saved = await http.put(f"/policies/{policy_id}", json={"source": source})
    assert saved.status_code == 200 and saved.json()["ok"], saved.text
    published = await http.post(f"/policies/{policy_id}/publish", json={"message": "test"})
    assert published.status_code == 200, published.text
    version: str = published.json()["version"]
    return version


async def test_a_running_ticket_keeps_its_version_and_a_new_one_takes_the_published(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    pid = f"rt_{uuid.uuid4().hex[:8]}"
    try:
        v1 = await _publish(http, pid, speaking(pid, "one"))
        first = await http.post("/tickets", json={"message": "hi", "ticket_type": f"{pid} request"})
        assert first.status_code == 201, first.text
        old = first.json()
        assert any("Version one: hello." in r for r in old["replies"]), old

        v2 = await _publish(http, pid, speaking(pid, "two"))
        assert v2 != v1
        second = await http.post(
            "/tickets", json={"message": "hi", "ticket_type": f"{pid} request"}
        )
        new = second.json()
        assert any("Version two: hello." in r for r in new["replies"]), new

        # The ticket started on v1 finishes on v1; the new one speaks v2.
        for ticket, version in ((old, "one"), (new, "two")):
            done = await http.post(
                f"/tickets/{ticket['ticket_id']}/messages", json={"text": "alex@example.com"}
            )
            replies = done.json()["replies"]
            assert any(f"Version {version}: goodbye." in r for r in replies), replies
            assert not any("Version" in r and version not in r for r in replies), replies
        states = [
            (await http.get(f"/tickets/{t['ticket_id']}")).json()["state"] for t in (old, new)
        ]
        assert [s["policy_id"] for s in states] == [pid, pid]
        # A rollback: the next ticket speaks v1 again.
        back = await http.post(f"/policies/{pid}/rollback", json={"version": v1})
        assert back.status_code == 200, back.text
        third = await http.post("/tickets", json={"message": "hi", "ticket_type": f"{pid} request"})
        assert any("Version one: hello." in r for r in third.json()["replies"]), third.json()
        # Decided at the start of the run: the one marker that stands for the earlier
        # patches, POLICY_VERSION_FROM_START among them.
        handle = dev_client.get_workflow_handle(new["ticket_id"])
        assert LEAN_TURNS in await patches(handle)
    finally:
        await http.delete(f"/policies/{pid}")
