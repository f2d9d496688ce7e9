"""Stateful interleavings: whatever reaches a ticket, in whatever order, it stays consistent.

One web-channel ticket per hypothesis example (Alex, the retention policy: "cancel my order
5001", the bot offers numbered options, "1" takes the 15% discount on BigCommerce, "no
thanks, just cancel it" hands over to the cancellation policy), driven by any mix of:
customer messages by update (bursts of concurrent calls) and by signal, redeliveries of
earlier message ids, agent actions, `close`, BigCommerce latency and 5xx from the platform
sandbox, days of silence (time skipping), continue-as-new forced by a low `history_limit`
and worker restarts. After every step, once the ticket is quiescent (every update call
returned, the latest run has no workflow task or activity in hand), the invariants:

- every accepted message id is in the transcript exactly once; every update returned a
  `TurnResult` for its own message id (a redelivery: `duplicate=True`, the first answer's
  replies); an accepted update that the idle ticket never answers is a hang;
- a ticket with an outcome is Completed: no zombie run once nothing is pending;
- no platform side effect twice for one idempotency key;
- no WorkflowTaskFailed in any run of the ticket;
- continue-as-new carries the state whole: the old run's `snapshot` query equals the
  `carried` memory in the next run's start input;
- what the contract promises of each action (takeover silences the bot, release hands back
  or is ignored, a note lands in the transcript, resolve and close end the ticket, 24 h of
  silence bring a reminder, 72 h an "abandoned" close).

Server: the Java time-skipping test server (plain updates work there with temporalio 1.35
and test server 1.40; this test uses no update-with-start). `TICKETFLOW_STATEFUL_SERVERS=
time-skipping,dev` also runs the machine on the dev server, without the timer rule.
`TICKETFLOW_STATEFUL_EXAMPLES` sets the examples per server (default 6).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar, Literal, get_args

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateStage
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.sandbox_fixtures import SandboxControl
from tests.workflows.interleaving_support import (
    TIME_SKIPPING,
    Harness,
    LoopThread,
    RunView,
    run_chain,
)
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    AgentAction,
    Customer,
    CustomerMessage,
    TicketMemory,
    TicketStart,
    TicketState,
    TicketStatus,
    TranscriptEntry,
    TurnResult,
    ticket_workflow_id,
)

# The rewritten workflow's contract; guarded so this module imports before it lands.

EXAMPLES = int(os.environ.get("TICKETFLOW_STATEFUL_EXAMPLES", "6"))
SERVERS = [
    name.strip()
    for name in os.environ.get("TICKETFLOW_STATEFUL_SERVERS", TIME_SKIPPING).split(",")
    if name.strip()
]
SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
    # Real servers: no example database left in the work tree, no costly explain phase.
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    print_blob=True,
)

# Bounds. Quiescence is decided from the histories, not by waiting a guessed while: these
# only turn "never" into a failure.
POLL = 0.05
# An accepted update still unanswered while the ticket has had nothing in hand (no
# workflow task, no activity) this long is hung: nothing is left that could answer it.
HANG_AFTER = 2.0
# Everything settles within this, even under injected latency and 5xx with retries.
SETTLE_WITHIN = 150.0
ZOMBIE_GRACE = 3.0

ALEX = Customer(email="alex@example.com", name="Alex")

# --- what the customer and the agents say ------------------------------------------------------

FIRST_TEXTS = st.sampled_from(
    [
        "I want to cancel my order 5001",
        "Please cancel my order 5001",
        "I'd like to cancel order 5001",
        "cancel my order #5001 please",
        "Hi, I want to cancel order 5001",
    ]
)
ACCEPTS = ["1", "1.", "option 1", "the discount please"]
DECLINES = ["no thanks, just cancel it", "No thanks, please just cancel it"]
UNCLEAR = ["hmm", "what?", "not sure yet", "can I talk to a person?"]
TEXTS = st.one_of(
    st.sampled_from(ACCEPTS + DECLINES),
    st.sampled_from(UNCLEAR),
    st.from_regex(r"[a-z]{2,8}( [a-z]{2,8}){0,2}", fullmatch=True),
    FIRST_TEXTS,
)
MESSAGE_IDS = st.builds(
    lambda prefix, n: f"{prefix}{n}",
    st.sampled_from(["m", "web-", "wh_", "msg-"]),
    st.integers(0, 99_999),
)
BY = st.sampled_from(["update", "signal"])
AGENTS = st.sampled_from(["sam", "kim", "lee"])
NOTES = st.sampled_from(["Called the customer", "Checked the order", "Waiting for the warehouse"])


def _action(kind: str, agent: str, text: str | None) -> AgentAction:
    return AgentAction.model_validate({"action": kind, "agent": agent, "text": text})


AGENT_ACTIONS = st.one_of(
    st.builds(_action, st.just("takeover"), AGENTS, st.none()),
    st.builds(_action, st.just("release"), AGENTS, st.none()),
    st.builds(_action, st.just("note"), AGENTS, NOTES),
    st.builds(_action, st.just("resolve"), AGENTS, st.none()),
)


# In a burst, an item may start a little after the others (while they are in flight): it
# then lands in the middle of a turn, e.g. while BigCommerce answers slowly.
AFTER_MS = st.sampled_from([0, 0, 300, 1000])
# Items of a burst start this far apart, in list order: all in flight together, yet arriving
# in the order drawn, so a failing interleaving replays (and shrinks) the same way.
ORDER_GAP_MS = 25


@dataclass(frozen=True)
class Say:
    """A new customer message."""

    text: str
    message_id: str
    by: Literal["update", "signal"]
    after_ms: int = 0


@dataclass(frozen=True)
class Resend:
    """An earlier message id again (helpdesk retries, a double-clicked send)."""

    pick: int
    by: Literal["update", "signal"]
    after_ms: int = 0


@dataclass(frozen=True)
class Act:
    action: AgentAction
    after_ms: int = 0


@dataclass(frozen=True)
class Close:
    after_ms: int = 0


Item = Say | Resend | Act | Close
ITEMS: st.SearchStrategy[Item] = st.one_of(
    st.builds(Say, TEXTS, MESSAGE_IDS, st.just("update"), AFTER_MS),
    st.builds(Say, TEXTS, MESSAGE_IDS, BY, AFTER_MS),
    st.builds(Resend, st.integers(0, 50), BY, AFTER_MS),
    st.builds(Act, AGENT_ACTIONS, AFTER_MS),
    st.builds(Close, AFTER_MS),
)


# --- what was sent, and what came back ----------------------------------------------------------


@dataclass
class Sent:
    n: int
    step: int
    kind: Literal["update", "signal", "agent", "close"]
    burst: bool
    message_id: str | None = None
    text: str | None = None
    action: AgentAction | None = None
    resend: bool = False
    after_ms: int = 0
    accepted: bool | None = None
    error: BaseException | None = None
    result: TurnResult | None = None
    future: concurrent.futures.Future[None] | None = field(default=None, repr=False)

    @property
    def update_id(self) -> str:
        return f"{self.message_id}/{self.n}"

    def __str__(self) -> str:
        what = (
            f"{self.kind} {self.message_id!r} {self.text!r}"
            if self.message_id
            else f"{self.kind} {self.action.model_dump(exclude_none=True) if self.action else ''}"
        )
        when = f", +{self.after_ms} ms" if self.after_ms else ""
        return f"send #{self.n} (step {self.step}{', burst' if self.burst else ''}{when}): {what}"


@dataclass
class Observed:
    """The quiescent ticket: its runs, its latest run's status and queries."""

    chain: list[RunView]
    status: WorkflowExecutionStatus | None
    state: TicketState
    transcript: list[TranscriptEntry]
    # Who should hold the ticket: the last takeover / release it received, in arrival order.
    last_hand: AgentAction | None = None

    @property
    def completed(self) -> bool:
        return self.status == WorkflowExecutionStatus.COMPLETED


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    continued_as_new: int = 0
    restarts: int = 0
    slowest_settle: float = 0.0
    slowest_step: str = ""


class TicketInterleavings(RuleBasedStateMachine):
    loop: ClassVar[LoopThread]
    harness: ClassVar[Harness]
    sandbox: ClassVar[SandboxControl]
    stats: ClassVar[Stats]

    @classmethod
    def configure(cls, loop: LoopThread, harness: Harness, sandbox: SandboxControl) -> None:
        cls.loop, cls.harness, cls.sandbox, cls.stats = loop, harness, sandbox, Stats()

    def __init__(self) -> None:
        super().__init__()
        self.stats.examples += 1
        self.external_id = f"il-{uuid.uuid4().hex[:12]}"
        self.ticket_id = ticket_workflow_id("web", self.external_id)
        self.first_run_id: str | None = None
        self.sent: list[Sent] = []
        self.unchecked: list[Sent] = []
        self.expectations: list[Callable[[Observed], None]] = []
        self.closed_runs: dict[str, RunView] = {}
        self.carries_checked: set[str] = set()
        self.step = 0
        self.completed = False
        self.final_checked = False
        self.faulty = False
        self.waited_on: Counter[str] = Counter()

    @property
    def client(self) -> Client:
        return self.harness.client

    @property
    def env(self) -> WorkflowEnvironment:
        assert self.harness.env is not None
        return self.harness.env

    # -- sending ------------------------------------------------------------------------------

    def _message_ids(self) -> list[Sent]:
        """One send per message id, in the order the ids were first used."""
        first: dict[str, Sent] = {}
        for sent in self.sent:
            if sent.message_id is not None:
                first.setdefault(sent.message_id, sent)
        return list(first.values())

    def _prepare(self, item: Item, burst: bool, index: int) -> Sent:
        sent = self._sent_for(item, burst)
        sent.after_ms = item.after_ms + index * ORDER_GAP_MS
        return sent

    def _sent_for(self, item: Item, burst: bool) -> Sent:
        n = len(self.sent)
        if isinstance(item, Say):
            message_id = item.message_id
            if any(s.message_id == message_id for s in self.sent):
                message_id = f"{message_id}.{n}"  # a new message has a new id
            return Sent(n, self.step, item.by, burst, message_id=message_id, text=item.text)
        if isinstance(item, Resend):
            earlier = self._message_ids()
            original = earlier[item.pick % len(earlier)]
            return Sent(
                n,
                self.step,
                item.by,
                burst,
                message_id=original.message_id,
                text=original.text,
                resend=True,
            )
        if isinstance(item, Act):
            action = item.action
            if action.action == "note":  # every note its own text, to find it exactly once
                action = action.model_copy(update={"text": f"{action.text} (note {n})"})
            return Sent(n, self.step, "agent", burst, action=action)
        return Sent(n, self.step, "close", burst)

    def _send(self, items: list[Item], *, burst: bool = False, restart: bool = False) -> list[Sent]:
        """Start every item's call at once (in flight together), optionally restart the
        worker while they are; the invariant waits for them. Nothing once the ticket has
        completed (a new call would start a new ticket)."""
        if not self._step():
            return []
        batch = []
        for index, item in enumerate(items):
            sent = self._prepare(item, burst, index)
            self.sent.append(sent)
            self.unchecked.append(sent)
            sent.future = self.loop.submit(self._deliver(sent))
            batch.append(sent)
        if restart:
            self._restart_worker()
        return batch

    async def _deliver(self, sent: Sent) -> None:
        handle = self.client.get_workflow_handle(self.ticket_id)
        message = CustomerMessage(message_id=sent.message_id or "", text=sent.text or "")
        if sent.after_ms:
            await asyncio.sleep(sent.after_ms / 1000)
        try:
            if sent.kind == "update":
                update = await handle.start_update(
                    TicketWorkflow.message,
                    message,
                    id=sent.update_id,
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                )
            elif sent.kind == "signal":
                await handle.signal(TicketWorkflow.customer_message, message)
            elif sent.kind == "agent":
                assert sent.action is not None
                await handle.signal(TicketWorkflow.agent_action, sent.action)
            else:
                await handle.signal(TicketWorkflow.close)
        except Exception as err:  # refused: fine only if the ticket had completed
            sent.accepted, sent.error = False, err
            return
        sent.accepted = True
        if sent.kind == "update":
            try:
                sent.result = await update.result()
            except Exception as err:
                sent.error = err

    def _step(self) -> bool:
        """Count a step, if there is still a ticket to act on. Rules stay enabled after the
        ticket completed (preconditions on what the servers did would make hypothesis's
        replays draw differently) and do nothing then."""
        if self.completed:
            return False
        self.step += 1
        self.stats.steps += 1
        return True

    def _restart_worker(self) -> None:
        self.loop.run(self.harness.restart_worker(), timeout=120)
        self.stats.restarts += 1

    def _state_now(self) -> TicketState:
        handle = self.client.get_workflow_handle(self.ticket_id)
        return self.loop.run(handle.query(TicketWorkflow.state), timeout=30)

    def _expect(self, check: Callable[[Observed], None]) -> None:
        self.expectations.append(check)

    # -- rules ----------------------------------------------------------------------------------

    @initialize(
        first=FIRST_TEXTS,
        message_id=MESSAGE_IDS,
        by=BY,
        # Low enough that a run can continue as new right after the first turn.
        history_limit=st.integers(15, 40),
        latency_ms=st.sampled_from([0, 0, 0, 1000]),
        opening=st.lists(ITEMS, max_size=2),
    )
    def open_ticket(
        self,
        first: str,
        message_id: str,
        by: Literal["update", "signal"],
        history_limit: int,
        latency_ms: int,
        opening: list[Item],
    ) -> None:
        """Start the ticket and send the first message, perhaps with more in flight (the
        first turn calls BigCommerce: what arrives meanwhile waits in the inbox)."""
        self.sandbox.reset()  # order 5001 as seeded, no faults
        if latency_ms:
            self.sandbox.fault("bigcommerce", latency_ms=latency_ms)
            self.faulty = True
        start = TicketStart(
            helpdesk="web",
            external_id=self.external_id,
            customer=ALEX,
            history_limit=history_limit,
        )
        handle = self.loop.run(
            self.client.start_workflow(
                TicketWorkflow.run, start, id=self.ticket_id, task_queue=self.harness.task_queue
            ),
            timeout=30,
        )
        self.first_run_id = handle.result_run_id
        self._send([Say(first, message_id, by), *opening], burst=bool(opening))

    @rule(text=TEXTS, message_id=MESSAGE_IDS)
    def customer_writes_by_update(self, text: str, message_id: str) -> None:
        if self.completed:
            return
        before = self._state_now()
        (sent,) = self._send([Say(text, message_id, "update")])
        if before.agent is not None:

            def bot_stays_silent(seen: Observed) -> None:
                if sent.result is not None:
                    assert sent.result.replies == [], (
                        f"{sent}: agent {before.agent} holds the ticket, yet the bot replied "
                        f"{sent.result.replies}"
                    )

            self._expect(bot_stays_silent)

    @rule(text=TEXTS, message_id=MESSAGE_IDS)
    def customer_writes_by_signal(self, text: str, message_id: str) -> None:
        self._send([Say(text, message_id, "signal")])

    @rule(pick=st.integers(0, 50), by=BY)
    def message_redelivered(self, pick: int, by: Literal["update", "signal"]) -> None:
        self._send([Resend(pick, by)])

    @rule(action=AGENT_ACTIONS)
    def agent_acts(self, action: AgentAction) -> None:
        if self.completed:
            return
        before = self._state_now()
        (sent,) = self._send([Act(action)])
        if action.action == "release" and before.agent is None and before.waiting_for != "agent":

            def release_ignored(seen: Observed) -> None:
                if sent.accepted and not seen.completed:
                    fields = ("status", "agent", "waiting_for", "policy_id", "outcome")
                    changed = {
                        name: (getattr(before, name), getattr(seen.state, name))
                        for name in fields
                        if getattr(before, name) != getattr(seen.state, name)
                    }
                    assert not changed, (
                        f"{sent}: the bot held the ticket, release changed {changed}"
                    )

            self._expect(release_ignored)
        # Takeover, release by the agent, resolve and notes: the invariant checks them (in
        # bursts too, in the order the ticket received them).

    @rule()
    def ticket_closed(self) -> None:
        self._send([Close()])

    @rule(
        items=st.lists(ITEMS, min_size=2, max_size=4),
        restart=st.sampled_from([False, False, False, True]),
    )
    def burst(self, items: list[Item], restart: bool) -> None:
        """Several sends in flight at once, perhaps with the worker restarted meanwhile."""
        self._send(items, burst=True, restart=restart)

    @rule(
        latency_ms=st.integers(1000, 3000),
        # A BigCommerce tool makes up to four requests: at 20% each, half its attempts fail
        # and are retried (1 s, 2 s, 4 s…), each request slowed by the latency.
        error_rate=st.sampled_from([0.0, 0.1, 0.2]),
        error_status=st.sampled_from([500, 502, 503]),
    )
    def platform_misbehaves(self, latency_ms: int, error_rate: float, error_status: int) -> None:
        self.faulty = True  # first: rule preconditions follow the rules drawn, not the servers
        if not self._step():
            return
        self.sandbox.fault(
            "bigcommerce", latency_ms=latency_ms, error_rate=error_rate, error_status=error_status
        )

    @precondition(lambda self: self.faulty)
    @rule()
    def platform_recovers(self) -> None:
        self.faulty = False
        if not self._step():
            return
        self.sandbox.client.delete("/_sandbox/faults").raise_for_status()

    @rule()
    def worker_restarts(self) -> None:
        if not self._step():
            return
        self._restart_worker()

    @precondition(lambda self: self.harness.time_skipping)
    @rule(hours=st.one_of(st.integers(25, 47), st.integers(73, 96)))
    def customer_goes_silent(self, hours: int) -> None:
        if not self._step():
            return
        before = self._state_now()
        self.loop.run(self.env.sleep(timedelta(hours=hours)), timeout=120)
        waits = (before.waiting_for or "").startswith("customer")
        if before.outcome is not None or before.agent is not None or not waits:
            return
        if hours >= 73:

            def abandoned(seen: Observed) -> None:
                assert (
                    seen.completed
                    and seen.state.outcome == "abandoned"
                    and seen.state.status == TicketStatus.CLOSED
                ), (
                    f"{hours} h of silence while the bot waited for the customer: "
                    f"{seen.status!s} outcome={seen.state.outcome!r} status={seen.state.status}"
                )

            self._expect(abandoned)
        else:

            def reminded(seen: Observed) -> None:
                last = max((e.at for e in seen.transcript if e.role == "customer"), default=None)
                if last is None or seen.state.outcome is not None:
                    return
                due = last + timedelta(hours=24) - timedelta(minutes=1)
                assert any(e.role == "bot" and e.at >= due for e in seen.transcript), (
                    f"{hours} h of silence while the bot waited for the customer, no reminder "
                    f"since the customer's last message at {last:%Y-%m-%d %H:%M}"
                )

            self._expect(reminded)

    # -- the invariants ------------------------------------------------------------------------

    @invariant()
    def ticket_is_consistent(self) -> None:
        if self.first_run_id is None or self.final_checked:
            return
        began = time.monotonic()
        chain = self.loop.run(self._settle())
        took = time.monotonic() - began
        if took > self.stats.slowest_settle:
            self.stats.slowest_settle = took
            waited = ", ".join(f"{what} x{n}" for what, n in self.waited_on.most_common(3))
            self.stats.slowest_step = (
                f"step {self.step}, {len(self.unchecked)} sends; polls busy with: {waited}"
            )
        seen = self.loop.run(self._observe(chain), timeout=60)
        try:
            self._check_sends(seen)
            self._check_transcript(seen)
            self._check_agent_actions(seen)
            self._check_side_effects()
            self.loop.run(self._check_carries(seen.chain), timeout=120)
            for expectation in self.expectations:
                expectation(seen)
        finally:
            self.expectations.clear()
            self.unchecked.clear()
        self.completed = seen.completed
        self.final_checked = seen.completed

    async def _settle(self) -> list[RunView]:
        """Wait until every call sent has returned and the latest run has nothing in hand;
        fail on a hung update, a failing workflow task, or no quiescence in time."""
        assert self.first_run_id is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WITHIN
        idle_since: float | None = None
        idle_polls = 0
        self.waited_on = Counter()
        while True:
            chain = await run_chain(
                self.client, self.ticket_id, self.first_run_id, self.closed_runs
            )
            failures = [f for run in chain for f in run.task_failures()]
            assert not failures, "workflow task failed:\n" + "\n".join(failures)
            latest = chain[-1]
            busy = latest.busy
            now = loop.time()
            idle_since = None if busy else (idle_since if idle_since is not None else now)
            idle_polls = 0 if busy else idle_polls + 1
            pending = [s for s in self.unchecked if s.future is not None and not s.future.done()]
            self.waited_on.update(busy or (["pending calls"] if pending else []))
            if not pending and idle_polls >= 2:
                return chain
            hung = [s for s in pending if s.accepted]
            if hung and idle_since is not None and now - idle_since >= HANG_AFTER:
                state = "closed" if latest.closed else "idle"
                raise AssertionError(
                    f"hung update: accepted, and the ticket's latest run {latest.run_id} has been "
                    f"{state} for {now - idle_since:.1f}s without answering:\n"
                    + "\n".join(f"  {s}" for s in hung)
                )
            if now > deadline:
                raise AssertionError(
                    f"not quiescent after {SETTLE_WITHIN:.0f}s: busy={busy}, pending:\n"
                    + "\n".join(f"  {s} accepted={s.accepted}" for s in pending)
                )
            await asyncio.sleep(POLL)

    async def _observe(self, chain: list[RunView]) -> Observed:
        handle = self.client.get_workflow_handle(self.ticket_id)
        description = await handle.describe()
        assert description.run_id == chain[-1].run_id, (
            f"describe's latest run {description.run_id} is not the chain's {chain[-1].run_id}"
        )
        state = await handle.query(TicketWorkflow.state)
        loop = asyncio.get_running_loop()
        grace = loop.time() + ZOMBIE_GRACE
        while state.outcome and description.status == WorkflowExecutionStatus.RUNNING:
            if loop.time() > grace:
                raise AssertionError(
                    f"zombie: outcome {state.outcome!r} is set and nothing is pending, yet run "
                    f"{description.run_id} is still Running (status {state.status}, "
                    f"waiting_for={state.waiting_for!r})"
                )
            await asyncio.sleep(POLL)
            description = await handle.describe()
        assert description.status in (
            WorkflowExecutionStatus.RUNNING,
            WorkflowExecutionStatus.COMPLETED,
        ), f"the ticket's run ended {description.status!s}"
        if description.status == WorkflowExecutionStatus.COMPLETED:
            assert state.outcome, "the ticket completed without an outcome"
        transcript = await handle.query(TicketWorkflow.transcript)
        last_hand: AgentAction | None = None
        for run in chain:
            for payloads in run.signals("agent_action"):
                (action,) = await self.client.data_converter.decode(list(payloads), [AgentAction])
                if action.action in ("takeover", "release"):
                    last_hand = action
        return Observed(chain, description.status, state, transcript, last_hand)

    def _check_sends(self, seen: Observed) -> None:
        for sent in self.unchecked:
            if not sent.accepted:
                assert seen.completed, (
                    f"{sent} was refused while the ticket is open: {sent.error!r}"
                )
                continue
            if sent.kind != "update":
                continue
            assert sent.error is None and sent.result is not None, (
                f"{sent}: accepted, but the update never answered: {sent.error!r}"
            )
            assert sent.result.message_id == sent.message_id, (
                f"{sent}: answered for message {sent.result.message_id!r}"
            )
            assert sent.result.ticket_id == self.ticket_id, f"{sent}: {sent.result.ticket_id}"
        # Redeliveries: one first answer per message id; later ones say duplicate and carry
        # the same replies.
        by_id: dict[str, list[Sent]] = defaultdict(list)
        for sent in self.sent:
            if sent.accepted and sent.message_id is not None:
                by_id[sent.message_id].append(sent)
        for message_id, sends in by_id.items():
            answered = [s for s in sends if s.result is not None]
            fresh = [s for s in answered if s.result is not None and not s.result.duplicate]
            assert len(fresh) <= 1, (
                f"message {message_id!r} answered as new {len(fresh)} times: "
                + "; ".join(str(s) for s in fresh)
            )
            first_step = min(s.step for s in sends)
            for s in answered:
                assert s.result is not None
                assert s.step == first_step or s.result.duplicate, (
                    f"{s}: message {message_id!r} was accepted in step {first_step}, "
                    "yet this redelivery is not marked duplicate"
                )
            replies = {tuple(s.result.replies) for s in answered if s.result is not None}
            assert len(replies) <= 1, f"message {message_id!r} answered differently: {replies}"

    def _check_transcript(self, seen: Observed) -> None:
        accepted = {s.message_id for s in self.sent if s.accepted and s.message_id is not None}
        sent_ids = {s.message_id for s in self.sent if s.message_id is not None}
        counts = Counter(e.message_id for e in seen.transcript if e.role == "customer")
        missing = sorted(accepted - set(counts))
        doubled = sorted(str(k) for k, n in counts.items() if n > 1)
        unknown = sorted(str(k) for k in counts if k not in sent_ids)
        assert not (missing or doubled or unknown), (
            f"transcript: accepted ids missing {missing}, twice {doubled}, never sent {unknown}"
        )
        assert seen.state.messages_received == len(accepted), (
            f"state.messages_received={seen.state.messages_received}, accepted {len(accepted)}"
        )
        # Every accepted note is an agent entry, exactly once (a burst that also closed or
        # resolved the ticket may have ended it first).
        ending = {
            s.step
            for s in self.sent
            if s.kind == "close" or (s.action is not None and s.action.action == "resolve")
        }
        agent_texts = Counter(e.text for e in seen.transcript if e.role == "agent")
        for sent in self.sent:
            if sent.action is None or sent.action.action != "note" or not sent.accepted:
                continue
            if sent.burst and sent.step in ending:
                continue
            times = agent_texts[sent.action.text or ""]
            assert times == 1, f"{sent}: the note is in the transcript {times} times"

    def _check_agent_actions(self, seen: Observed) -> None:
        """Close and resolve end the ticket; otherwise the agent of the last takeover holds
        it, or nobody after a release (whatever came in between, whichever run got it)."""
        for sent in self.sent:
            ends = sent.kind == "close" or (
                sent.action is not None and sent.action.action == "resolve"
            )
            if sent.accepted and ends:
                assert seen.completed and seen.state.outcome, (
                    f"{sent} did not end the ticket: {seen.status!s} "
                    f"outcome={seen.state.outcome!r} waiting_for={seen.state.waiting_for!r}"
                )
        if seen.completed:
            return
        last = seen.last_hand
        holder = (last.agent or "agent") if last is not None and last.action == "takeover" else None
        assert seen.state.agent == holder, (
            f"the last takeover/release received was {last and last.model_dump()}, so the "
            f"ticket should be held by {holder!r}, yet agent={seen.state.agent!r}"
        )

    def _check_side_effects(self) -> None:
        prefix = f"{self.ticket_id}/"
        effects = [
            e
            for e in self.sandbox.state()["side_effects"]
            if (e.get("idempotency_key") or "").startswith(prefix)
        ]
        counts = Counter((e["platform"], e["operation"], e["idempotency_key"]) for e in effects)
        twice = {key: n for key, n in counts.items() if n > 1}
        assert not twice, f"side effects repeated for one idempotency key: {twice}"

    async def _check_carries(self, chain: list[RunView]) -> None:
        """Each continue-as-new: the old run's whole memory is the next run's `carried`."""
        for old, new in itertools.pairwise(chain):
            if old.run_id in self.carries_checked:
                continue
            (start,) = await self.client.data_converter.decode(
                list(new.started_input()), [TicketStart]
            )
            assert isinstance(start, TicketStart)
            assert start.carried is not None, f"run {new.run_id} started with nothing carried"
            old_handle = self.client.get_workflow_handle(self.ticket_id, run_id=old.run_id)
            snapshot = await old_handle.query(TicketWorkflow.snapshot)
            if snapshot != start.carried:
                mine = snapshot.model_dump(mode="json")
                theirs = start.carried.model_dump(mode="json")
                diff = {
                    k: (mine.get(k), theirs.get(k))
                    for k in sorted(set(mine) | set(theirs))
                    if mine.get(k) != theirs.get(k)
                }
                raise AssertionError(
                    f"continue-as-new {old.run_id} -> {new.run_id} changed the state "
                    f"(field: (old run's snapshot, carried)): {diff}"
                )
            self.carries_checked.add(old.run_id)
            self.stats.continued_as_new += 1

    def teardown(self) -> None:
        """Leave nothing running on the shared server: end the ticket, wait for the calls."""
        try:
            if self.first_run_id is not None:
                self.loop.run(self._end_ticket(), timeout=60)
        finally:
            self.sandbox.client.delete("/_sandbox/faults")

    async def _end_ticket(self) -> None:
        handle = self.client.get_workflow_handle(self.ticket_id)
        try:
            await handle.terminate(reason="hypothesis example over")
        except RPCError:
            pass  # already completed
        for sent in self.sent:
            if sent.future is not None and not sent.future.done():
                try:
                    await asyncio.wait_for(asyncio.wrap_future(sent.future), 10)
                except Exception:
                    sent.future.cancel()


def test_ticket_memory_contract() -> None:
    """The whole ticket state is one model, carried whole and readable by query."""
    carried = TicketStart.model_fields["carried"].annotation
    assert TicketMemory in get_args(carried), f"TicketStart.carried is {carried}"
    assert TicketWorkflow.snapshot.__name__ == "snapshot"


@pytest.mark.parametrize("server", SERVERS)
def test_any_interleaving_keeps_the_ticket_consistent(
    server: str, sandbox: SandboxControl, sandbox_settings: Settings
) -> None:
    loop = LoopThread()
    harness = Harness(server, sandbox_settings)
    began = time.monotonic()
    try:
        loop.run(harness.start(), timeout=120)
        TicketInterleavings.configure(loop, harness, sandbox)
        run_state_machine_as_test(TicketInterleavings, settings=SETTINGS)
    finally:
        stats = getattr(TicketInterleavings, "stats", Stats())
        print(
            f"\nstateful interleavings ({server}): {stats.examples} examples "
            f"(max_examples={EXAMPLES}), {stats.steps} steps, {stats.continued_as_new} "
            f"continue-as-new checked, {stats.restarts} worker restarts, "
            f"{time.monotonic() - began:.1f}s; slowest settle {stats.slowest_settle:.1f}s "
            f"({stats.slowest_step})"
        )
        try:
            loop.run(harness.stop(), timeout=120)
        finally:
            loop.close()
