"""Experiments and per-version metrics over real HTTP, on SQLite and PostgreSQL: the
refusals (each with its status and a sentence, changing nothing), assignment recorded on
the ticket, outcome rows, CSAT asked by the policy and given by a helpdesk survey."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.experiments.test_experiment_simulation import keep_plan


async def _published(http: httpx.AsyncClient, policy_id: str, source: str) -> str:
    saved = await http.put(f"/policies/{policy_id}", json={"source": source})
    assert saved.status_code == 200 and saved.json()["ok"], saved.text
    published = await http.post(f"/policies/{policy_id}/publish", json={"message": "v1"})
    assert published.status_code == 200, published.text
    version: str = published.json()["version"]
    return version


def _experiment(policy_id: str, variants: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "policy": policy_id,
        "variants": variants,
        "metric": "retention",
        "minimum_detectable_effect": 0.1,
    }


async def test_an_experiment_is_refused_clearly_and_runs_on_the_next_tickets(
    http: httpx.AsyncClient,
) -> None:
    pid = f"keep_{uuid.uuid4().hex[:8]}"
    v1 = await _published(http, pid, keep_plan(pid, 10))
    listed_before = (await http.get("/experiments", params={"policy": pid})).json()
    assert listed_before == []

    unknown = await http.post(
        "/experiments",
        json=_experiment(
            "no_such_policy", [{"name": "a", "version": v1}, {"name": "b", "version": v1}]
        ),
    )
    assert unknown.status_code == 404, unknown.text
    assert "no_such_policy" in unknown.json()["detail"]

    stale = await http.post(
        "/experiments",
        json=_experiment(
            pid, [{"name": "a", "version": v1}, {"name": "b", "version": "0000deadbeef"}]
        ),
    )
    assert stale.status_code == 404 and "0000deadbeef" in stale.json()["detail"]

    broken = keep_plan(pid, 25).replace(
        "Discount: Inform the customer that", "Discount: Use @no_such_tool(order_id: str) so"
    )
    refused = await http.post(
        "/experiments",
        json=_experiment(pid, [{"name": "a", "version": v1}, {"name": "b", "source": broken}]),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"], "the variant's diagnostics, with their lines"
    assert all("line" in e for e in refused.json()["errors"])

    same_names = await http.post(
        "/experiments",
        json=_experiment(pid, [{"name": "a", "version": v1}, {"name": "a", "version": v1}]),
    )
    assert same_names.status_code == 422
    assert (await http.get("/experiments", params={"policy": pid})).json() == []

    created = await http.post(
        "/experiments",
        json=_experiment(
            pid,
            [
                {"name": "ten", "version": v1, "weight": 1},
                {"name": "twenty_five", "source": keep_plan(pid, 25), "weight": 1},
            ],
        ),
    )
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["status"] == "running" and experiment["verdict"] == "collecting"
    assert experiment["still_needed"] == experiment["needed_per_variant"] > 0
    second = await http.post(
        "/experiments",
        json=_experiment(pid, [{"name": "a", "version": v1}, {"name": "b", "version": v1}]),
    )
    assert second.status_code == 409 and experiment["id"] in second.json()["detail"]

    # Tickets take their customer's variant; a customer who writes again keeps it.
    variants: dict[str, str] = {}
    for email in ("ana@example.com", "bo@example.com", "ana@example.com", "cy@example.com"):
        opened = await http.post(
            "/tickets",
            json={
                "message": "I'd like to cancel my plan",
                "ticket_type": f"{pid} request",
                "customer": {"email": email},
            },
        )
        assert opened.status_code == 201, opened.text
        ticket = opened.json()
        offer = " ".join(ticket["replies"])
        state = (await http.get(f"/tickets/{ticket['ticket_id']}")).json()["state"]
        variant = state["variant"]
        assert ("25%" in offer) == (variant == "twenty_five"), (offer, variant)
        assert variants.setdefault(email, variant) == variant
        done = await http.post(
            f"/tickets/{ticket['ticket_id']}/messages", json={"text": "no, cancel it"}
        )
        replies = done.json()["replies"]
        assert any("1 (poor) to 5 (great)" in r for r in replies), replies
        rated = await http.post(f"/tickets/{ticket['ticket_id']}/messages", json={"text": "4"})
        assert rated.json()["replies"] == ["Thank you for the rating!"]

    report = await _when(
        http,
        f"/experiments/{experiment['id']}",
        lambda r: sum(v["tickets"] for v in r["variants"]) >= 4,
    )
    assert sum(v["tickets"] for v in report["variants"]) == 4
    assert all(v["successes"] == 0 for v in report["variants"])  # every one cancelled

    # Too early to call a winner: refused, and nothing changes.
    early = await http.post(
        f"/experiments/{experiment['id']}/conclude", json={"winner": "twenty_five"}
    )
    assert early.status_code == 409 and "more tickets" in early.json()["detail"]
    assert (await http.get(f"/policies/{pid}")).json()["version"] == v1
    assert (await http.get(f"/experiments/{experiment['id']}")).json()["status"] == "running"
    unknown_winner = await http.post(
        f"/experiments/{experiment['id']}/conclude", json={"winner": "nobody"}
    )
    assert unknown_winner.status_code == 422
    assert (await http.get("/experiments/exp_nothing")).status_code == 404

    stopped = await http.post(f"/experiments/{experiment['id']}/conclude", json={"winner": None})
    assert stopped.status_code == 200 and stopped.json()["status"] == "concluded"
    assert (await http.get(f"/policies/{pid}")).json()["version"] == v1
    again = await http.post(f"/experiments/{experiment['id']}/conclude", json={"winner": None})
    assert again.status_code == 409


async def test_per_version_metrics_count_each_ended_ticket_and_survey_ratings(
    http: httpx.AsyncClient,
) -> None:
    pid = f"keep_{uuid.uuid4().hex[:8]}"
    v1 = await _published(http, pid, keep_plan(pid, 10))
    tickets = []
    for answer in ("yes, the discount please", "no, cancel it"):
        opened = await http.post(
            "/tickets", json={"message": "cancel my plan", "ticket_type": f"{pid} request"}
        )
        ticket_id = opened.json()["ticket_id"]
        await http.post(f"/tickets/{ticket_id}/messages", json={"text": answer})
        await http.post(f"/tickets/{ticket_id}/messages", json={"text": "5 stars"})
        tickets.append(ticket_id)
    v2 = await _published(http, pid, keep_plan(pid, 30))
    opened = await http.post(
        "/tickets", json={"message": "cancel my plan", "ticket_type": f"{pid} request"}
    )
    await http.post(f"/tickets/{opened.json()['ticket_id']}/messages", json={"text": "yes please"})
    # This customer does not answer the rating question: the row waits for the ticket's end.
    closed = await http.post(f"/tickets/{opened.json()['ticket_id']}/close")
    assert closed.status_code == 202

    metrics = await _when(
        http, f"/policies/{pid}/metrics", lambda m: sum(v["tickets"] for v in m["versions"]) >= 3
    )
    by_version = {v["version"]: v for v in metrics["versions"]}
    assert set(by_version) == {v1, v2}
    first = by_version[v1]
    assert first["tickets"] == 2
    assert first["retention"]["rate"] == 0.5
    assert first["containment"]["rate"] == 1.0 and first["escalation"]["rate"] == 0.0
    assert first["csat"] == 5.0 and first["csat_ratings"] == 2
    assert first["median_turns"] == 3
    assert by_version[v2]["tickets"] == 1 and by_version[v2]["csat"] is None

    # A helpdesk survey's rating replaces the one the conversation got.
    rated = await http.put(f"/tickets/{tickets[0]}/csat", json={"rating": 1, "source": "zendesk"})
    assert rated.status_code == 200, rated.text
    metrics = (await http.get(f"/policies/{pid}/metrics")).json()
    assert {v["version"]: v for v in metrics["versions"]}[v1]["csat"] == 3.0
    bad = await http.put(f"/tickets/{tickets[0]}/csat", json={"rating": 6})
    assert bad.status_code == 422
    later = await http.get(f"/policies/{pid}/metrics", params={"since": "2999-01-01T00:00:00Z"})
    assert later.json()["versions"] == []


async def _when(http: httpx.AsyncClient, path: str, ready: Callable[[Any], bool]) -> Any:
    """The outcome row is written as the ticket ends, just after its last reply."""
    for _ in range(100):
        found = (await http.get(path)).json()
        if ready(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never got there: {found}")
