"""Chaos: conversations that must finish, lose no message and duplicate no side effect while
workers are killed, the dev server restarts and the platforms misbehave.

Small N in CI (20 conversations); `TICKETFLOW_CHAOS_N=500` runs the full size by hand.

Every conversation is Alex cancelling order 5001 through the retention policy and then
taking one offer, so each ticket's side effect is its own row in the sandbox, found by the
idempotency key (which starts with the ticket's workflow id):

- "1" discount            -> bigcommerce `order.update` {discount_amount}
- "2" faster shipping     -> `order.shipping_address.update` + `order.update` {shipping_cost}
- "4" coupon for next time -> `coupon.create` (code derived from the key)

One more conversation declines every offer: order 5001 is cancelled exactly once.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from tests.sandbox_fixtures import SandboxControl
from tests.ticketflow_process import TicketflowProcess
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TurnResult,
    ticket_workflow_id,
)

CHAOS_N = int(os.environ.get("TICKETFLOW_CHAOS_N", "20"))
ALEX = Customer(email="alex@example.com", name="Alex")
FIRST = "I want to cancel order 5001"
# The offer each conversation takes, and the sandbox operation that proves it.
CHOICES = {"1": "discount", "2": "faster_shipping", "4": "coupon_for_next_time"}
DECLINE = "no thanks, just cancel it"


@dataclass
class Chat:
    """One web-channel ticket: its id, the messages sent, the last turn."""

    client: Client
    task_queue: str
    choice: str
    external_id: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:10]}")
    sent: list[str] = field(default_factory=list)
    last: TurnResult | None = None

    @property
    def ticket_id(self) -> str:
        return ticket_workflow_id("web", self.external_id)

    @property
    def start(self) -> TicketStart:
        return TicketStart(helpdesk="web", external_id=self.external_id, customer=ALEX)

    async def say(self, text: str, *, attempts: int = 20) -> TurnResult:
        """Update-with-start; a turn cut off by a crash is sent again with the same message
        id (the workflow drops the duplicate and answers with the original replies)."""
        message = CustomerMessage(message_id=f"m{len(self.sent) + 1}", text=text)
        self.sent.append(message.message_id)
        for attempt in range(attempts):
            try:
                self.last = await self.client.execute_update_with_start_workflow(
                    TicketWorkflow.message,
                    message,
                    start_workflow_operation=WithStartWorkflowOperation(
                        TicketWorkflow.run,
                        self.start,
                        id=self.ticket_id,
                        task_queue=self.task_queue,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    ),
                )
                return self.last
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(min(0.5 * (attempt + 1), 3))
        raise AssertionError("unreachable")

    async def signal(self, text: str) -> None:
        message = CustomerMessage(message_id=f"m{len(self.sent) + 1}", text=text)
        self.sent.append(message.message_id)
        await self.client.get_workflow_handle(self.ticket_id).signal(
            TicketWorkflow.customer_message, message
        )


def make_chats(client: Client, task_queue: str, n: int) -> list[Chat]:
    """n accepting conversations spread over the three offers, plus one that declines."""
    keys = list(CHOICES)
    chats = [Chat(client, task_queue, keys[i % len(keys)]) for i in range(n)]
    chats.append(Chat(client, task_queue, DECLINE))
    return chats


async def wait_finished(client: Client, chats: list[Chat], within: float = 300) -> None:
    """Bounded wait until every ticket's outcome is set (via the state query)."""
    pending = {chat.ticket_id for chat in chats}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while pending and loop.time() < deadline:
        for ticket_id in sorted(pending):
            try:
                state = await client.get_workflow_handle(ticket_id).query(TicketWorkflow.state)
            except RPCError:
                continue
            if state.outcome:
                pending.discard(ticket_id)
        if pending:
            await asyncio.sleep(0.5)
    assert not pending, f"{len(pending)} tickets never finished: {sorted(pending)[:5]}"


@dataclass
class Verdict:
    replays: int = 0
    problems: list[str] = field(default_factory=list)


async def check_everything(client: Client, chats: list[Chat], sandbox: SandboxControl) -> Verdict:
    """Every ticket finished as chosen; every message is in its transcript; every side
    effect happened for exactly one key per ticket; order 5001 was cancelled exactly once."""
    verdict = Verdict()
    effects = sandbox.side_effects("bigcommerce")
    by_ticket: dict[str, list[dict]] = defaultdict(list)
    for effect in effects:
        key = effect.get("idempotency_key") or ""
        by_ticket[key.split("/", 1)[0]].append(effect)
    for chat in chats:
        handle = client.get_workflow_handle(chat.ticket_id)
        state = await handle.query(TicketWorkflow.state)
        transcript = await handle.query(TicketWorkflow.transcript)
        got = [e.message_id for e in transcript if e.role == "customer"]
        if got != chat.sent:
            verdict.problems.append(f"{chat.ticket_id}: transcript {got} != sent {chat.sent}")
        expected = "cancelled" if chat.choice == DECLINE else "retained"
        if state.outcome != expected or state.status != TicketStatus.RESOLVED:
            verdict.problems.append(f"{chat.ticket_id}: {state.status} {state.outcome}")
        mine = by_ticket.get(chat.ticket_id, [])
        writes = Counter((e["operation"], e["idempotency_key"]) for e in mine)
        operations = Counter(op for op, _ in writes)
        wanted = {
            "1": {"order.update": 1},
            "2": {"order.update": 1, "order.shipping_address.update": 1},
            "4": {"coupon.create": 1},
            DECLINE: {"order.update": 1},
        }[chat.choice]
        if dict(operations) != wanted:
            verdict.problems.append(f"{chat.ticket_id} ({chat.choice}): {dict(writes)}")
        for (op, key), count in writes.items():
            if count > 1:
                # The same absolute write sent again after a crash (same key, same body):
                # BigCommerce has no idempotency keys, the connector writes absolute values.
                bodies = {
                    str(e["request"])
                    for e in mine
                    if (e["operation"], e["idempotency_key"]) == (op, key)
                }
                if op == "coupon.create" or len(bodies) != 1:
                    verdict.problems.append(f"{chat.ticket_id}: {count} x {op} {bodies}")
                verdict.replays += count - 1
    cancels = [e for e in effects if "status_id" in e["request"]]
    if len(cancels) != 1:
        verdict.problems.append(f"order 5001 cancelled {len(cancels)} times")
    return verdict


class WorkerProcess(TicketflowProcess):
    """`ticketflow worker` as its own OS process, so it can be killed with SIGKILL."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__("worker", env, log)

    def start(self) -> None:
        self.spawn(f"\n--- start {self.starts + 1} ---\n".encode())

    async def ready(self) -> None:
        marker = f"--- start {self.starts} ---".encode()
        for _ in range(600):
            if b"worker ready" in self.log.read_bytes().split(marker)[-1]:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(self.log.read_text()[-4000:])


def worker_env(address: str, task_queue: str, sandbox_url: str, tmp_path: Path) -> dict[str, str]:
    port = sandbox_url.rsplit(":", 1)[1]
    env = dict(os.environ)
    # Bytecode cache on (outside the tree): the workflow sandbox re-imports the workflow
    # modules for every ticket it builds or replays; without a cache (PYTHONDONTWRITEBYTECODE)
    # each of those imports compiles workflows/ticket.py again (see benchmarks/README.md).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    return dict(
        env,
        TEMPORAL_ADDRESS=address,
        TICKETFLOW_TASK_QUEUE=task_queue,
        TICKETFLOW_SANDBOX_PORT=port,
        TICKETFLOW_STATE_DIR=str(tmp_path),
    )


@pytest.fixture
def chaos_queue() -> Iterator[str]:
    yield f"chaos-{uuid.uuid4().hex[:6]}"
