"""Customers and agents as they really behave: a second message while the bot is mid-step,
agent actions at any time, a close while the carrier decides, weeks of silence.

Each test here was written against the faults listed in the issue on real customer
behaviour and failed on the workflow before its one-inbox rewrite.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.sandbox_fixtures import SandboxControl
from tests.workflows.signalled_tickets import act, open_ticket, write
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    AgentAction,
    Customer,
    CustomerMessage,
    TicketMemory,
    TicketOutcome,
    TicketStart,
    TicketStatus,
    TurnResult,
    ticket_workflow_id,
)

ALEX = Customer(email="alex@example.com", name="Alex")


# -- on the dev server: synchronous turns (updates) -------------------------------------------


class WebChat:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.start = TicketStart(helpdesk="web", external_id=uuid.uuid4().hex[:10], customer=ALEX)
        self.ticket_id = ticket_workflow_id("web", self.start.external_id)

    async def say(self, message_id: str, text: str) -> TurnResult:
        result: TurnResult = await self.client.execute_update_with_start_workflow(
            TicketWorkflow.message,
            CustomerMessage(message_id=message_id, text=text),
            start_workflow_operation=WithStartWorkflowOperation(
                TicketWorkflow.run,
                self.start,
                id=self.ticket_id,
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        return result

    async def signal(self, message_id: str, text: str) -> None:
        await self.handle.signal(
            TicketWorkflow.customer_message, CustomerMessage(message_id=message_id, text=text)
        )

    @property
    def handle(self) -> WorkflowHandle[TicketWorkflow, TicketOutcome]:
        return self.client.get_workflow_handle_for(TicketWorkflow.run, self.ticket_id)

    async def completed_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if (await self.handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
                return True
            await asyncio.sleep(0.1)
        return False


async def _slow_store_at_the_offers(
    client: Client, settings: Settings, sandbox: SandboxControl, latency_ms: int
) -> WebChat:
    """Alex's ticket at the retention offers, with every BigCommerce call slowed down."""
    chat = WebChat(client, settings)
    first = await chat.say("m1", "Hi, I want to cancel my order 5001")
    assert any("options we can offer" in r for r in first.replies), first.replies
    sandbox.fault("bigcommerce", latency_ms=latency_ms)
    return chat


async def _customer_ids(chat: WebChat) -> list[str | None]:
    transcript = await chat.handle.query(TicketWorkflow.transcript)
    return [e.message_id for e in transcript if e.role == "customer"]


async def test_double_message_during_a_slow_step_both_answered_and_the_ticket_completes(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = await _slow_store_at_the_offers(dev_client, dev_settings, sandbox, 3000)
    takes = asyncio.create_task(chat.say("m2", "1"))
    await asyncio.sleep(0.5)
    follow_up = asyncio.create_task(chat.say("m3", "thanks! and can you confirm by email?"))

    first = await asyncio.wait_for(takes, timeout=30)
    answered_at = time.monotonic()
    second = await asyncio.wait_for(follow_up, timeout=30)
    assert time.monotonic() - answered_at < 5

    assert any("Thank you for keeping your order" in r for r in first.replies), first.replies
    assert second.message_id == "m3" and second.replies and not second.duplicate
    assert "wrapped up" in second.replies[0]
    assert await chat.completed_within(5)
    assert (await chat.handle.result()).outcome == "retained"
    assert await _customer_ids(chat) == ["m1", "m2", "m3"]
    discounts = [
        e
        for e in sandbox.side_effects("bigcommerce", "order.update")
        if e["idempotency_key"].startswith(chat.ticket_id)
    ]
    assert len(discounts) == 1


async def test_signal_then_update_mid_step_both_handled_and_the_ticket_completes(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = await _slow_store_at_the_offers(dev_client, dev_settings, sandbox, 2000)
    await chat.signal("m2", "I'll take the discount")
    await asyncio.sleep(0.3)
    second = await asyncio.wait_for(chat.say("m3", "and please confirm by email"), timeout=30)
    assert second.replies and "wrapped up" in second.replies[0]
    assert await chat.completed_within(5)
    transcript = await chat.handle.query(TicketWorkflow.transcript)
    bot = [e.text for e in transcript if e.role == "bot"]
    assert any("Thank you for keeping your order" in t for t in bot), bot
    assert await _customer_ids(chat) == ["m1", "m2", "m3"]


async def test_update_then_signal_mid_step_the_signal_is_answered_too(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = await _slow_store_at_the_offers(dev_client, dev_settings, sandbox, 2000)
    takes = asyncio.create_task(chat.say("m2", "2"))
    await asyncio.sleep(0.3)
    await chat.signal("m3", "cheers, bye")
    first = await asyncio.wait_for(takes, timeout=30)
    assert first.status == TicketStatus.RESOLVED
    assert await chat.completed_within(5)
    transcript = await chat.handle.query(TicketWorkflow.transcript)
    after = [e.text for e in transcript[[e.message_id for e in transcript].index("m3") :]]
    assert any("wrapped up" in t for t in after), after


async def test_an_order_number_that_cannot_exist_is_told_at_once_not_retried_for_minutes(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = WebChat(dev_client, dev_settings)
    # The helpdesk passed the order field through as typed: BigCommerce ids are numbers.
    chat.start = chat.start.model_copy(update={"context": {"order_id": "ABC-12"}})
    began = time.monotonic()
    turn = await asyncio.wait_for(chat.say("m1", "I want to cancel my order"), timeout=30)
    assert time.monotonic() - began < 10
    assert any("couldn't complete that step" in r for r in turn.replies), turn.replies
    assert turn.status == TicketStatus.ESCALATED
    failed = [r for r in await chat.handle.query(TicketWorkflow.trace) if r.status == "failed"]
    assert failed and "NotFound" in failed[0].detail
    assert sandbox.faults_served("bigcommerce")["requests"] == 0


# -- under time skipping: agents, silence, continue-as-new ------------------------------------


async def test_a_ticket_nobody_wrote_to_closes_quietly_after_the_auto_close_time(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    handle = await open_ticket(own_time_skipping_env, task_queue)
    await own_time_skipping_env.sleep(timedelta(hours=73))
    outcome = await asyncio.wait_for(handle.result(), timeout=30)
    assert (outcome.outcome, outcome.status) == ("abandoned", TicketStatus.CLOSED)
    assert await handle.query(TicketWorkflow.transcript) == []


async def test_a_stray_release_is_ignored_and_cannot_undo_a_later_hand_off(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", "Please skip my next shipment")
    await act(env, handle, action="release", agent="sam")  # the bot has the ticket
    await act(env, handle, action="note", agent="sam", text="VIP customer, be generous")
    transcript = await write(env, handle, "m2", "I want to talk to a human")
    assert (await handle.query(TicketWorkflow.state)).waiting_for == "agent"
    assert any(e.role == "agent" and "VIP customer" in e.text for e in transcript)

    transcript = await write(env, handle, "m3", "hello? anyone?")
    state = await handle.query(TicketWorkflow.state)
    assert (state.status, state.waiting_for) == (TicketStatus.ESCALATED, "agent")
    assert transcript[-1].message_id == "m3"  # the bot stays silent while a person has it

    await act(env, handle, action="release", agent="sam")
    transcript = await write(env, handle, "m4", "it's rio@example.com")
    assert transcript[-1].role == "bot" and "skipped" in transcript[-1].text


async def test_an_agent_resolving_while_the_bot_holds_the_ticket_ends_it(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", "Please skip my next shipment")
    await act(env, handle, action="resolve", agent="sam")
    outcome = await asyncio.wait_for(handle.result(), timeout=30)
    assert (outcome.outcome, outcome.status) == ("resolved", TicketStatus.RESOLVED)


def _public_comments(sandbox: SandboxControl, ticket_id: str) -> list[str]:
    return [
        e["request"]["comment"]["body"]
        for e in sandbox.side_effects("zendesk", "ticket.update")
        if str(e.get("resource_id")) == ticket_id and e["request"].get("comment", {}).get("public")
    ]


async def test_every_reminder_reaches_the_helpdesk_not_only_the_first(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(
        env, task_queue, helpdesk="zendesk", external_id="1001", customer=Customer()
    )
    await write(env, handle, "zd-1", "Please skip my next shipment")
    await env.sleep(timedelta(hours=25))
    await write(env, handle, "zd-2", "hmm, let me look")
    await env.sleep(timedelta(hours=25))
    reminders = [c for c in _public_comments(sandbox, "1001") if "Just checking in" in c]
    assert len(reminders) == 2, _public_comments(sandbox, "1001")


async def test_continue_as_new_carries_the_whole_state_agent_actions_included(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue, history_limit=15)
    first_run = (await handle.describe()).run_id
    await write(env, handle, "m1", "I want to cancel my order")
    # A burst: the customer, then an agent, then the customer again, in one go.
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id="m2", text="hmm")
    )
    await handle.signal(TicketWorkflow.agent_action, AgentAction(action="takeover", agent="sam"))
    await handle.signal(
        TicketWorkflow.agent_action, AgentAction(action="note", agent="sam", text="on it")
    )
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id="m3", text="5001")
    )
    await env.sleep(timedelta(seconds=5))
    await act(env, handle, action="release", agent="sam")
    transcript = await write(env, handle, "m4", "5001")

    current = (await handle.describe()).run_id
    assert current != first_run
    assert [e.message_id for e in transcript if e.role == "customer"] == ["m1", "m2", "m3", "m4"]
    assert any(e.role == "agent" and e.text == "on it" for e in transcript)
    assert transcript[-1].text.startswith("Before we go ahead, here are some options")
    # The state a run ended with is exactly the state the next run started from.
    old = env.client.get_workflow_handle(handle.id, run_id=first_run)
    ended_with: TicketMemory = await old.query(TicketWorkflow.snapshot)
    history = await env.client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
    assert task_failures(history) == []
    next_run = await history_start(env.client, handle.id, history)
    assert next_run.carried == ended_with


def task_failures(history: WorkflowHistory) -> list[str]:
    """Workflow task failures in a run, but for the server's "new events arrived while you
    completed, look again" (a signal racing a completion), which loses nothing."""
    benign = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
    return [
        WorkflowTaskFailedCause.Name(e.workflow_task_failed_event_attributes.cause)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and e.workflow_task_failed_event_attributes.cause != benign
    ]


async def history_start(client: Client, workflow_id: str, history: WorkflowHistory) -> TicketStart:
    """The start input of the run that `history`'s continue-as-new began."""
    last = history.events[-1]
    assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    nxt = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    payloads = nxt.events[0].workflow_execution_started_event_attributes.input.payloads
    (start,) = await client.data_converter.decode(payloads, [TicketStart])
    assert isinstance(start, TicketStart)
    return start
