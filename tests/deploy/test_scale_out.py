"""Scale-out: two `ticketflow worker` and two `ticketflow api` processes on one Temporal dev
server and one PostgreSQL app database, with one worker and one API killed (SIGKILL) mid-run
and replaced.

What a user checks: every conversation ends as the customer chose, whichever replica took
each message; every customer message is answered once; every platform write happened once;
a webhook redelivered to the other replica is acknowledged as a duplicate; each API's
/metrics counts what it served; the JSON logs carry ticket ids and no customer email.

Small in CI (12 web conversations, `TICKETFLOW_SCALE_TICKETS` for more), every one Alex
cancelling order 5001 through the retention policy and taking an offer (see
tests/chaos/conftest.py for the side effect each offer makes), plus two Zendesk tickets
that arrive by webhook.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.platforms.zendesk import ZendeskConnector
from sandbox.zendesk import BOT_USER_ID
from tests.codec_keys import codec_converter
from tests.deploy.scale_cluster import (
    ClusterProcess,
    cluster_env,
    json_log_records,
    metric_value,
)
from tests.sandbox_fixtures import SandboxControl
from tests.webhooks.test_helpdesk_webhooks import zendesk_delivery
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary

pytestmark = pytest.mark.e2e

SCALE_TICKETS = int(os.environ.get("TICKETFLOW_SCALE_TICKETS", "12"))
ALEX = {"email": "alex@example.com", "name": "Alex"}
FIRST = "I want to cancel order 5001"
CHOICES = ["1", "2", "4"]  # discount, faster shipping, coupon for next time
WANTED_WRITES = {
    "1": {"order.update": 1},
    "2": {"order.update": 1, "order.shipping_address.update": 1},
    "4": {"coupon.create": 1},
}
# Zendesk requesters who write in (a new sandbox ticket each run, so what earlier tests did
# to the seeded tickets does not matter): (email, name, first message).
ZENDESK_REQUESTERS = [
    ("max@example.com", "Max", "I cancelled my subscription last month. Can I restart it?"),
    ("kim@example.com", "Kim", "Can I swap my subscription to another flavour?"),
]
CUSTOMER_EMAILS = ["alex@example.com", "max@example.com", "kim@example.com"]
ATTEMPTS = 30


@dataclass
class Cluster:
    setup_env: dict[str, str]
    workers: list[ClusterProcess]
    apis: list[ClusterProcess]
    key: str
    retired: list[ClusterProcess] = field(default_factory=list)

    def replace(self, replicas: list[ClusterProcess]) -> ClusterProcess:
        """SIGKILL the first of ``replicas`` and start its replacement in its place (same
        settings and port, a new log), as an orchestrator restarts a dead pod; not waiting
        for it to get ready (the load goes on meanwhile)."""
        victim = replicas[0]
        victim.kill()
        self.retired.append(victim)
        name = f"{victim.name}-replacement"
        replicas[0] = ClusterProcess(
            name, victim.role, victim.env, victim.log.with_name(f"{name}.log")
        )
        replicas[0].start()
        return replicas[0]

    @property
    def processes(self) -> list[ClusterProcess]:
        return self.workers + self.apis + self.retired


@pytest_asyncio.fixture(loop_scope="session")
async def bare_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server with none of ticketflow's search attributes, as a fresh cluster is."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"),
        dev_server_log_level="error",
        data_converter=codec_converter(),
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(
    bare_temporal: WorkflowEnvironment,
    postgres_url: str,
    sandbox: SandboxControl,
    sandbox_url: str,
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    def env(name: str) -> dict[str, str]:
        return cluster_env(
            temporal_address=bare_temporal.client.service_client.config.target_host,
            task_queue=f"scale-{suffix}",
            database_url=postgres_url,
            sandbox_url=sandbox_url,
            customer_key_secret=f"scale-secret-{suffix}",
            state_dir=tmp_path / name,
            pycache=tmp_path / "pycache",
        )

    suffix = uuid.uuid4().hex[:8]
    setup_env = env("setup")
    ran = await asyncio.to_thread(_run, ["setup", "--wait", "30"], setup_env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    made = await asyncio.to_thread(
        _run, ["apikey", "create", "--name", "scale", "--scope", "tickets"], setup_env
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    workers = [
        ClusterProcess(f"worker-{i}", "worker", env(f"worker-{i}"), _log(tmp_path, f"worker-{i}"))
        for i in (1, 2)
    ]
    apis = [
        ClusterProcess(f"api-{i}", "api", env(f"api-{i}"), _log(tmp_path, f"api-{i}"))
        for i in (1, 2)
    ]
    built = Cluster(setup_env, workers, apis, key)
    try:
        for process in built.processes:
            process.start()
        await asyncio.gather(*(process.ready() for process in built.processes))
        yield built
    finally:
        for process in built.processes:
            process.stop()


def _log(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"{name}.log"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticketflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Conversation:
    """One web ticket: the messages sent (by id), the replies each turn returned, and the
    replica that answered each turn."""

    choice: str
    external_id: str = field(default_factory=lambda: f"scale-{uuid.uuid4().hex[:10]}")
    sent: list[str] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ticket_id(self) -> str:
        return f"ticket-web-{self.external_id}"


class Load:
    """Turns through both replicas: a ticket's turns alternate between them, and a turn that
    fails (a replica busy with a dead worker's tickets, a timeout) is sent again with the
    same message id, to the other replica."""

    def __init__(self, cluster: Cluster, clients: list[httpx.AsyncClient]) -> None:
        self.cluster = cluster
        self.clients = clients
        self.turns_done = 0
        self.served: Counter[str] = Counter()  # by process name
        self.retries = 0

    async def turn(self, chat: Conversation, replica: int, text: str) -> None:
        message_id = f"m{len(chat.sent) + 1}"
        chat.sent.append(message_id)
        for attempt in range(ATTEMPTS):
            which = (replica + attempt) % len(self.clients)
            client = self.clients[which]
            try:
                if message_id == "m1":
                    body = {
                        "message": text,
                        "customer": ALEX,
                        "external_id": chat.external_id,
                        "message_id": message_id,
                    }
                    answer = await client.post("/tickets", json=body)
                else:
                    body = {"text": text, "message_id": message_id}
                    answer = await client.post(f"/tickets/{chat.ticket_id}/messages", json=body)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code in (200, 201):
                chat.answers[message_id] = list(answer.json()["replies"])
                self.served[self.cluster.apis[which].name] += 1
                self.turns_done += 1
                return
            self.retries += 1
            await asyncio.sleep(min(0.5 * (attempt + 1), 3))
        raise AssertionError(f"{chat.ticket_id} {message_id}: no replica answered")

    async def converse(self, index: int, chat: Conversation) -> None:
        await self.turn(chat, index % 2, FIRST)
        await self.turn(chat, (index + 1) % 2, chat.choice)


async def test_two_workers_and_two_apis_with_one_of_each_killed(
    cluster: Cluster,
    bare_temporal: WorkflowEnvironment,
    sandbox: SandboxControl,
    sandbox_url: str,
) -> None:
    began = time.monotonic()
    headers = {"Authorization": f"Bearer {cluster.key}"}
    clients = [
        httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60) for api in cluster.apis
    ]
    chats = [Conversation(CHOICES[i % len(CHOICES)]) for i in range(SCALE_TICKETS)]
    load = Load(cluster, clients)
    total_turns = 2 * len(chats)
    try:
        talking = asyncio.gather(*(load.converse(i, chat) for i, chat in enumerate(chats)))
        kills, replacements = [], []
        # By progress, not by the clock: a worker at half the turns, an API at three quarters.
        for threshold, replicas in (
            (total_turns // 2, cluster.workers),
            (3 * total_turns // 4, cluster.apis),
        ):
            while load.turns_done < threshold and not talking.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            assert not talking.done(), "the conversations ended before the kills: raise N"
            kills.append(f"{replicas[0].name} after {load.turns_done}/{total_turns} turns")
            replacements.append(cluster.replace(replicas))
        await asyncio.wait_for(talking, timeout=300)
        await asyncio.gather(*(process.ready() for process in replacements))
        views = await _finished_views(clients, [c.ticket_id for c in chats], bare_temporal.client)

        # Zendesk webhooks: the first comment to one replica, then the same delivery to the
        # other (Zendesk retrying); the second comment's two copies to both at once (a retry
        # racing the first attempt).
        acks = []
        zendesk_tickets = [
            str(
                sandbox.client.post(
                    "/zendesk/_sandbox/tickets", json={"email": email, "name": name}
                ).json()["id"]
            )
            for email, name, _text in ZENDESK_REQUESTERS
        ]
        for index, (ticket, (requester, _name, text)) in enumerate(
            zip(zendesk_tickets, ZENDESK_REQUESTERS, strict=True)
        ):
            body, webhook_headers = zendesk_delivery(
                ticket, f"77{index}01{ticket}", text, requester=requester
            )
            copies = [
                client.post("/webhooks/zendesk", content=body, headers=webhook_headers)
                for client in (clients[index % 2], clients[(index + 1) % 2])
            ]
            if index == 0:
                answered = [await copy for copy in copies]
            else:
                answered = list(await asyncio.gather(*copies))
            acks.append(tuple(a.json() for a in answered))
        zendesk_views = {
            t: await _answered_view(clients[0], f"ticket-zendesk-{t}") for t in zendesk_tickets
        }
        metrics = [(await client.get("/metrics")).text for client in clients]
    finally:
        for client in clients:
            await client.aclose()
    elapsed = time.monotonic() - began
    print(
        f"\nscale-out: {len(chats)} web + {len(zendesk_tickets)} zendesk tickets, 2 APIs "
        f"(served {dict(load.served)}), 2 workers, SIGKILL of {', '.join(kills)}, "
        f"{load.retries} retried turns, {elapsed:.1f}s"
    )

    problems: list[str] = []
    # Every conversation ended as the customer chose, each message once, answered once.
    for chat in chats:
        view = views[chat.ticket_id]
        state = view["state"]
        if (state["status"], state["outcome"]) != ("resolved", "retained"):
            problems.append(f"{chat.ticket_id}: {state['status']} {state['outcome']}")
        problems += _answered_once(chat.ticket_id, view["transcript"], chat.sent, chat.answers)
    problems += _written_once(sandbox, chats)

    # Webhooks: the redelivery to the other replica is a duplicate; each comment is one
    # customer message answered by one set of public comments, each written once.
    for pair, ticket in zip(acks, zendesk_tickets, strict=True):
        ticket_id = f"ticket-zendesk-{ticket}"
        flags = sorted(ack["duplicate"] for ack in pair)
        if flags != [False, True] or any(
            (ack["accepted"], ack["ticket_id"]) != (True, ticket_id) for ack in pair
        ):
            problems.append(f"zendesk {ticket}: acks {pair}")
    problems += await _zendesk_answered_once(sandbox, sandbox_url, zendesk_views)

    # Each API (the killed one's replacement since its start) counted the turns it answered
    # and the webhooks it took.
    for api, exposition in zip(cluster.apis, metrics, strict=True):
        turns = metric_value(exposition, "ticketflow_turn_seconds_count")
        if turns != load.served[api.name]:
            problems.append(f"{api.name} counted {turns} turns, served {load.served[api.name]}")
    webhook_results: dict[str, float] = defaultdict(float)
    for exposition in metrics:
        for result in ("accepted", "duplicate"):
            webhook_results[result] += metric_value(
                exposition, "ticketflow_webhook_deliveries_total", source="zendesk", result=result
            )
    if dict(webhook_results) != {
        "accepted": len(zendesk_tickets),
        "duplicate": len(zendesk_tickets),
    }:
        problems.append(f"zendesk webhooks counted {dict(webhook_results)}")

    problems += _logs_problems(cluster, [c.ticket_id for c in chats])
    assert problems == [], "\n".join(problems)


async def _answered_view(client: httpx.AsyncClient, ticket_id: str) -> dict:
    """GET /tickets/{id} once the ticket has answered its customer (webhooks are async)."""
    for _ in range(600):  # a minute: a busy 2-core machine
        shown = await client.get(f"/tickets/{ticket_id}")
        if shown.status_code == 200 and any(e["role"] == "bot" for e in shown.json()["transcript"]):
            return dict(shown.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"{ticket_id} never answered")


async def _finished_views(
    clients: list[httpx.AsyncClient], ticket_ids: list[str], temporal: Client
) -> dict[str, dict]:
    """GET /tickets/{id} (from either replica) until every ticket has its outcome."""
    views: dict[str, dict] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    pending = list(ticket_ids)
    last_seen: dict[str, str] = {}
    while pending and loop.time() < deadline:
        for index, ticket_id in enumerate(list(pending)):
            shown = await clients[index % 2].get(f"/tickets/{ticket_id}")
            last_seen[ticket_id] = shown.text
            if shown.status_code == 200 and shown.json()["state"]["outcome"]:
                views[ticket_id] = shown.json()
                pending.remove(ticket_id)
        if pending:
            await asyncio.sleep(0.5)
    assert not pending, f"{len(pending)} tickets never finished:\n" + "\n".join(
        [await _stuck(temporal, t) + f"\n  view {last_seen.get(t)}" for t in pending[:3]]
    )
    return views


async def _stuck(temporal: Client, ticket_id: str) -> str:
    """Where a ticket is stuck: its pending activities and its last history events."""
    handle = temporal.get_workflow_handle(ticket_id)
    described = await handle.describe()
    raw = described.raw_description
    pending = [
        f"{a.activity_type.name} attempt {a.attempt} state {a.state} "
        f"last failure {a.last_failure.message!r} worker {a.last_worker_identity}"
        for a in raw.pending_activities
    ]
    events = [event async for event in handle.fetch_history_events()]
    last = [
        f"{e.event_id} {EventType.Name(e.event_type).removeprefix('EVENT_TYPE_')}"
        + (
            f" {e.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()}s"
            if e.HasField("timer_started_event_attributes")
            else ""
        )
        + (
            f" {e.workflow_task_completed_event_attributes.identity}"
            if e.HasField("workflow_task_completed_event_attributes")
            else ""
        )
        for e in events
    ]
    return f"{ticket_id}: {described.status}, activities {pending}, last events {last}"


def _answered_once(
    ticket_id: str, transcript: list[dict], sent: list[str], answers: dict[str, list[str]]
) -> list[str]:
    """Each sent message is in the transcript once, followed by exactly the replies the API
    returned for it (a retried turn returns the first answer, not a second one)."""
    problems = []
    got = [e["message_id"] for e in transcript if e["role"] == "customer"]
    if got != sent:
        problems.append(f"{ticket_id}: customer messages {got} != sent {sent}")
    replies_after: dict[str, list[str]] = defaultdict(list)
    current = None
    for entry in transcript:
        if entry["role"] == "customer":
            current = entry["message_id"]
        elif entry["role"] == "bot" and current is not None:
            replies_after[current].append(entry["text"])
    for message_id in sent:
        if not answers.get(message_id) or replies_after[message_id] != answers[message_id]:
            problems.append(
                f"{ticket_id} {message_id}: transcript {replies_after[message_id]} "
                f"!= answered {answers.get(message_id)}"
            )
    return problems


def _written_once(sandbox: SandboxControl, chats: list[Conversation]) -> list[str]:
    """Every ticket's BigCommerce writes are exactly those its offer makes, under one
    idempotency key each; a key written again carried the same absolute body."""
    problems = []
    by_ticket: dict[str, list[dict]] = defaultdict(list)
    for effect in sandbox.side_effects("bigcommerce"):
        by_ticket[(effect.get("idempotency_key") or "").split("/", 1)[0]].append(effect)
    for chat in chats:
        mine = by_ticket.get(chat.ticket_id, [])
        keys = Counter((e["operation"], e["idempotency_key"]) for e in mine)
        if dict(Counter(op for op, _ in keys)) != WANTED_WRITES[chat.choice]:
            problems.append(f"{chat.ticket_id} ({chat.choice}): {dict(keys)}")
        for (operation, key), count in keys.items():
            bodies = {
                str(e["request"])
                for e in mine
                if (e["operation"], e["idempotency_key"]) == (operation, key)
            }
            if count > 1 and (operation == "coupon.create" or len(bodies) != 1):
                problems.append(f"{chat.ticket_id}: {count} x {operation} {bodies}")
    return problems


async def _zendesk_answered_once(
    sandbox: SandboxControl, sandbox_url: str, views: dict[str, dict]
) -> list[str]:
    """On each Zendesk ticket: the customer's comment reached the ticket once, and the bot's
    replies are public comments made once each (one successful write per idempotency key)."""
    problems = []
    zendesk = ZendeskConnector(Settings().for_sandbox(sandbox_url).zendesk)
    puts = [
        r
        for r in sandbox.requests("zendesk", "PUT")
        if 200 <= r["status"] < 300 and isinstance(r["body"], dict)
    ]
    for ticket, view in views.items():
        customer = [e for e in view["transcript"] if e["role"] == "customer"]
        bot = [e["text"] for e in view["transcript"] if e["role"] == "bot"]
        if len(customer) != 1 or not bot:
            problems.append(f"zendesk {ticket}: transcript {view['transcript']}")
        writes = Counter(
            (r["body"]["ticket"].get("metadata") or {}).get("ticketflow_idempotency_key")
            for r in puts
            if r["path"] == f"/api/v2/tickets/{ticket}.json" and "comment" in r["body"]["ticket"]
        )
        if not writes or any(count != 1 for count in writes.values()) or None in writes:
            problems.append(f"zendesk {ticket}: comment writes by key {dict(writes)}")
        public_by_bot = [
            c.body
            for c in await zendesk.list_comments(ticket)
            if c.public and c.author_id == BOT_USER_ID
        ]
        # One customer comment, one public answer holding the turn's replies.
        if public_by_bot != ["\n\n".join(bot)]:
            problems.append(f"zendesk {ticket}: bot comments {public_by_bot} != replies {bot}")
    return problems


def _logs_problems(cluster: Cluster, ticket_ids: list[str]) -> list[str]:
    """Every process logged JSON lines; the workers' lines name every ticket; no line of any
    process holds a customer's email."""
    problems = []
    logged_ids: set[str] = set()
    for process in [*cluster.processes]:
        lines = process.log_lines()
        records, other = json_log_records(lines)
        if not records:
            problems.append(f"{process.name}: no JSON log lines")
        if other:
            problems.append(f"{process.name}: {len(other)} lines not JSON, e.g. {other[0][:200]}")
        for line in lines:
            for email in CUSTOMER_EMAILS:
                if email in line.lower():
                    problems.append(f"{process.name} logged {email}: {line[:300]}")
        for record in records:
            if record.get("ticket_id"):
                logged_ids.add(str(record["ticket_id"]))
    missing = [t for t in ticket_ids if t not in logged_ids]
    if missing:
        problems.append(f"no log line names {len(missing)} tickets, e.g. {missing[:3]}")
    return problems
