"""Durable waits under time skipping: reminders, auto-close, redelivery, days of silence."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.sandbox_fixtures import SandboxControl
from tests.workflows.signalled_tickets import open_ticket, write
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    CustomerMessage,
    TicketStart,
    TicketStatus,
    ticket_workflow_id,
)


async def test_silent_customer_is_reminded_after_a_day_and_closed_after_three(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    transcript = await write(env, handle, "m1", "Please skip my next shipment")
    assert transcript[-1].role == "bot"
    assert (await handle.query(TicketWorkflow.state)).status == TicketStatus.WAITING_CUSTOMER

    await env.sleep(timedelta(hours=23))
    assert not any("still there" in e.text for e in await handle.query(TicketWorkflow.transcript))
    await env.sleep(timedelta(hours=2))
    transcript = await handle.query(TicketWorkflow.transcript)
    assert "Just checking in" in transcript[-1].text

    await env.sleep(timedelta(hours=48))
    outcome = await handle.result()
    assert outcome.outcome == "abandoned"
    assert outcome.status == TicketStatus.CLOSED
    assert "closing this conversation" in (await handle.query(TicketWorkflow.transcript))[-1].text


async def test_answer_after_days_of_silence_carries_on_where_it_stopped(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", "Please skip my next shipment")
    state = await handle.query(TicketWorkflow.state)
    assert state.policy_id == "skip_next_shipment"
    assert state.waiting_for == "customer:email"

    await env.sleep(timedelta(hours=30))  # reminded, not yet closed
    transcript = await write(env, handle, "m2", "it's rio@example.com")
    assert "skipped" in transcript[-1].text
    outcome = await handle.result()
    assert outcome.outcome == "skipped"
    skips = sandbox.side_effects("skio", "skipSubscription")
    assert len(skips) == 1


async def test_redelivered_message_is_recorded_and_answered_once(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    message = CustomerMessage(message_id="webhook-42", text="Please skip my next shipment")
    for _ in range(3):  # helpdesks retry webhooks: the same message id arrives three times
        await handle.signal(TicketWorkflow.customer_message, message)
    await env.sleep(timedelta(seconds=5))
    transcript = await handle.query(TicketWorkflow.transcript)
    assert [e.role for e in transcript] == ["customer", "bot"]
    assert (await handle.query(TicketWorkflow.state)).messages_received == 1


async def test_long_conversation_continues_as_new_and_forgets_nothing(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    external_id = uuid.uuid4().hex[:8]
    handle = await env.client.start_workflow(
        TicketWorkflow.run,
        TicketStart(helpdesk="web", external_id=external_id, history_limit=20),
        id=ticket_workflow_id("web", external_id),
        task_queue=task_queue,
    )
    first_run = (await handle.describe()).run_id
    await write(env, handle, "m1", "I want to cancel my order")
    await write(env, handle, "m2", "hmm")  # not an order number: asked again
    await write(env, handle, "m2", "hmm")  # a redelivery, after the new run began
    transcript = await write(env, handle, "m3", "5001")

    assert (await handle.describe()).run_id != first_run
    assert [e.message_id for e in transcript if e.role == "customer"] == ["m1", "m2", "m3"]
    assert transcript[-1].text.startswith("Before we go ahead, here are some options")
    state = await handle.query(TicketWorkflow.state)
    assert state.policy_id == "cancel_order_retention_bigcommerce_kustomer"
    assert state.slots == {"order_id": "5001"}
