"""Web tickets driven by signals on a time-skipping server: open one, write to it, act as
an agent, and read what the bot did once the turn has been handled."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    AgentAction,
    CustomerMessage,
    TicketStart,
    TranscriptEntry,
    ticket_workflow_id,
)


async def open_ticket(
    env: WorkflowEnvironment, task_queue: str, *, helpdesk: str = "web", **start: object
) -> WorkflowHandle:
    external_id = str(start.pop("external_id", uuid.uuid4().hex[:8]))
    return await env.client.start_workflow(
        TicketWorkflow.run,
        TicketStart(helpdesk=helpdesk, external_id=external_id, **start),  # type: ignore[arg-type]
        id=ticket_workflow_id(helpdesk, external_id),
        task_queue=task_queue,
    )


async def write(
    env: WorkflowEnvironment, handle: WorkflowHandle, message_id: str, text: str
) -> list[TranscriptEntry]:
    """The customer writes; returns the transcript once the bot has had its turn."""
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id=message_id, text=text)
    )
    await env.sleep(timedelta(seconds=5))
    transcript: list[TranscriptEntry] = await handle.query(TicketWorkflow.transcript)
    return transcript


async def act(env: WorkflowEnvironment, handle: WorkflowHandle, **action: str) -> None:
    """An agent acts on the helpdesk (takeover, release, note, resolve)."""
    await handle.signal(TicketWorkflow.agent_action, AgentAction(**action))  # type: ignore[arg-type]
    await env.sleep(timedelta(seconds=2))
