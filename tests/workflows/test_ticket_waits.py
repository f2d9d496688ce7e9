"""The ticket waits durably for the customer, however long, and never answers twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    ticket_workflow_id,
)
from workflows.worker import WORKFLOWS


async def _start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    external_id = uuid.uuid4().hex[:8]
    return await env.client.start_workflow(
        TicketWorkflow.run,
        TicketStart(helpdesk="zendesk", external_id=external_id, customer=Customer(name="Sam")),
        id=ticket_workflow_id("zendesk", external_id),
        task_queue=task_queue,
    )


async def test_replies_then_waits_for_days_and_still_answers(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = time_skipping_env
    async with Worker(env.client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await _start(env, task_queue)
        await handle.signal(
            TicketWorkflow.customer_message,
            CustomerMessage(message_id="m1", text="My parcel never arrived"),
        )
        await env.sleep(timedelta(seconds=1))
        transcript = await handle.query(TicketWorkflow.transcript)
        assert [e.role for e in transcript] == ["customer", "bot"]
        assert transcript[1].text.startswith("Hi Sam, thanks for reaching out")

        # Ten silent days later the ticket is still open and waiting for the customer.
        await env.sleep(timedelta(days=10))
        state = await handle.query(TicketWorkflow.state)
        assert state.status == TicketStatus.WAITING_CUSTOMER
        assert state.waiting_for == "customer_message"

        await handle.signal(
            TicketWorkflow.customer_message, CustomerMessage(message_id="m2", text="Any news?")
        )
        await env.sleep(timedelta(seconds=1))
        transcript = await handle.query(TicketWorkflow.transcript)
        assert [e.text for e in transcript if e.role == "customer"] == [
            "My parcel never arrived",
            "Any news?",
        ]
        assert transcript[-1].role == "bot"


async def test_redelivered_message_is_recorded_and_answered_once(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = time_skipping_env
    async with Worker(env.client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await _start(env, task_queue)
        message = CustomerMessage(message_id="webhook-42", text="Cancel my order please")
        for _ in range(3):  # helpdesks retry webhooks: the same message id arrives three times
            await handle.signal(TicketWorkflow.customer_message, message)
        await env.sleep(timedelta(seconds=1))
        transcript = await handle.query(TicketWorkflow.transcript)
        assert [e.role for e in transcript] == ["customer", "bot"]
        state = await handle.query(TicketWorkflow.state)
        assert state.messages_received == 1
