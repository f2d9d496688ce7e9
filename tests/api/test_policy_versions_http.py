"""The policy store over HTTP: draft, publish, versions, diff, rollback, delete; each
refusal's status and problem+json, with nothing changed (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest_asyncio
from sqlalchemy import Engine

from api.auth import Scope, create_key
from tests.api.test_policy_store import source

MARKDOWN = {"content-type": "text/markdown"}


@pytest_asyncio.fixture(loop_scope="session")
async def policy_ids(http: httpx.AsyncClient) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    for policy_id in reversed(created):
        await http.delete(f"/policies/{policy_id}")


async def test_draft_publish_versions_diff_rollback(
    http: httpx.AsyncClient, policy_ids: list[str]
) -> None:
    pid = f"h_{uuid.uuid4().hex[:8]}"
    policy_ids.append(pid)
    saved = await http.put(f"/policies/{pid}", content=source(pid).encode(), headers=MARKDOWN)
    assert saved.status_code == 200, saved.text
    assert saved.json()["created"] and saved.json()["ok"]
    # Saved, not yet published: nothing to show as the published version.
    assert (await http.get(f"/policies/{pid}")).status_code == 404
    v1 = (await http.post(f"/policies/{pid}/publish", json={"message": "first"})).json()["version"]
    shown = (await http.get(f"/policies/{pid}")).json()
    assert shown["version"] == v1 and shown["draft"] is None and "Thanks" in shown["source"]
    assert pid in {p["id"] for p in (await http.get("/policies")).json()}

    second = source(pid, "Tell the customer: Hello again.")
    assert (await http.put(f"/policies/{pid}", json={"source": second})).json()["created"] is False
    assert (await http.get(f"/policies/{pid}")).json()["draft"] == second
    published = await http.post(
        f"/policies/{pid}/publish", json={"message": "second", "expected_version": v1}
    )
    assert published.status_code == 200, published.text
    v2 = published.json()["version"]

    listed = (await http.get(f"/policies/{pid}/versions")).json()
    assert listed["published"] == v2
    assert [(v["version"], v["message"]) for v in listed["versions"]] == [
        (v2, "second"),
        (v1, "first"),
    ]
    one = (await http.get(f"/policies/{pid}/versions/{v1}")).json()
    assert one["source"] == source(pid) and one["plan"]["version"] == v1
    diff = (await http.get(f"/policies/{pid}/diff", params={"from": v1, "to": v2})).json()
    assert "+1. Tell the customer: Hello again." in diff["diff"]
    assert {c["change"] for c in diff["plan_changes"]} == {"removed", "added"}

    back = await http.post(f"/policies/{pid}/rollback", json={"version": v1})
    assert back.status_code == 200 and back.json() == {"version": v1}
    assert (await http.get(f"/policies/{pid}")).json()["version"] == v1


async def test_refusals_change_nothing(
    http: httpx.AsyncClient, policy_ids: list[str], api_url: str, app_engine: Engine
) -> None:
    target, caller = f"h_{uuid.uuid4().hex[:8]}", f"h_{uuid.uuid4().hex[:8]}"
    policy_ids.extend([target, caller])
    await http.put(f"/policies/{target}", content=source(target).encode(), headers=MARKDOWN)
    v1 = (await http.post(f"/policies/{target}/publish", json={"message": "v1"})).json()["version"]

    # A broken draft: 422 with its diagnostics; the published version stays.
    broken = source(target).replace("## Steps\n", "## Steps\n\n1. Hand over to #nowhere_at_all")
    saved = (await http.put(f"/policies/{target}", json={"source": broken})).json()
    assert saved["ok"] is False and saved["errors"] >= 1
    refused = await http.post(f"/policies/{target}/publish", json={"message": "broken"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert "nothing was published" in problem["detail"]
    assert {"code", "line", "column", "message"} <= set(problem["errors"][0])
    assert (await http.get(f"/policies/{target}")).json()["version"] == v1

    # A stale expected_version: 409.
    await http.put(f"/policies/{target}", json={"source": source(target, "Tell the customer: B.")})
    stale = await http.post(
        f"/policies/{target}/publish", json={"message": "late", "expected_version": "0000000"}
    )
    assert stale.status_code == 409 and v1 in stale.json()["detail"]
    assert (await http.get(f"/policies/{target}")).json()["version"] == v1

    # Unknown versions: 404.
    assert (await http.get(f"/policies/{target}/versions/0000000")).status_code == 404
    unknown = await http.post(f"/policies/{target}/rollback", json={"version": "0000000"})
    assert unknown.status_code == 404 and "0000000" in unknown.json()["detail"]
    missing = await http.get(f"/policies/{target}/diff", params={"from": v1, "to": "0000000"})
    assert missing.status_code == 404

    # Deleting a policy another hands over to: 409 naming it.
    await http.put(
        f"/policies/{caller}", json={"source": source(caller, f"Hand over to #{target}")}
    )
    assert (
        await http.post(f"/policies/{caller}/publish", json={"message": "c"})
    ).status_code == 200
    refused_delete = await http.delete(f"/policies/{target}")
    assert refused_delete.status_code == 409 and caller in refused_delete.json()["detail"]
    assert (await http.get(f"/policies/{target}")).json()["version"] == v1

    # Writes need policies:write; reads take any key.
    reader = create_key(app_engine, "reader", scopes=[Scope.TICKETS])
    async with httpx.AsyncClient(
        base_url=api_url, headers={"Authorization": f"Bearer {reader}"}
    ) as other:
        assert (await other.get(f"/policies/{target}/versions")).status_code == 200
        assert (await other.delete(f"/policies/{caller}")).status_code == 403
        assert (await other.put(f"/policies/{caller}", json={"source": "x"})).status_code == 403


async def test_a_draft_with_control_characters_is_refused_with_where_they_are(
    http: httpx.AsyncClient, policy_ids: list[str]
) -> None:
    """A paste that carried a NUL or another control character (PostgreSQL cannot store a NUL
    in text) is a 422 naming its line and column, not a server error; nothing is saved."""
    pid = "test_control_chars"
    policy_ids.append(pid)
    broken = source(pid).replace("\n\n", "\n\nbad\x00byte here\n\n", 1)
    line = broken[: broken.index("\x00")].count("\n") + 1
    for body, headers in (
        (broken.encode(), MARKDOWN),
        (json.dumps({"source": broken}).encode(), {"content-type": "application/json"}),
    ):
        refused = await http.put(f"/policies/{pid}", content=body, headers=headers)
        assert refused.status_code == 422, refused.text
        assert f"line {line}" in refused.json()["detail"]
    assert (await http.get(f"/policies/{pid}")).status_code == 404


async def test_a_version_with_a_nul_or_control_character_is_not_found(
    http: httpx.AsyncClient, policy_ids: list[str]
) -> None:
    """A version reference is a hash: one with a NUL (which PostgreSQL cannot even compare)
    or another control character is a version the policy does not have, 404, never a 500."""
    pid = f"nul_ref_{uuid.uuid4().hex[:6]}"
    policy_ids.append(pid)
    await http.put(f"/policies/{pid}", json={"source": source(pid, "Say “Hi.”")})
    v1 = (await http.post(f"/policies/{pid}/publish", json={"message": "one"})).json()["version"]
    for bad in ("ab\x00cd", "\x01", "0000\x7f"):
        diff = await http.get(f"/policies/{pid}/diff", params={"from": bad, "to": v1})
        assert diff.status_code == 404, diff.text
        assert (await http.get(f"/policies/{pid}/versions/{quote(bad)}")).status_code == 404
        back = await http.post(f"/policies/{pid}/rollback", json={"version": bad})
        assert back.status_code in (404, 422), back.text
