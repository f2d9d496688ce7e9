"""Tickets that live on a real helpdesk: replies and hand-offs go through its API."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Worker

from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TurnResult,
    ticket_workflow_id,
)


async def _turn(
    client: Client, settings: Settings, start: TicketStart, message_id: str, text: str
) -> TurnResult:
    handle = client.get_workflow_handle(ticket_workflow_id(start.helpdesk, start.external_id))
    try:
        await client.start_workflow(
            TicketWorkflow.run, start, id=handle.id, task_queue=settings.task_queue
        )
    except WorkflowAlreadyStartedError:  # already running: this is a later turn
        pass
    result: TurnResult = await handle.execute_update(
        TicketWorkflow.message, CustomerMessage(message_id=message_id, text=text)
    )
    return result


def _zendesk_updates(sandbox: SandboxControl, ticket_id: str) -> list[dict[str, Any]]:
    return [
        e["request"]
        for e in sandbox.side_effects("zendesk", "ticket.update")
        if str(e.get("resource_id")) == ticket_id
    ]


async def test_zendesk_ticket_gets_the_bots_replies_as_one_public_comment_per_turn(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    start = TicketStart(
        helpdesk="zendesk", external_id="1001", customer=Customer(email="max@example.com")
    )
    turn = await _turn(dev_client, dev_settings, start, "zd-1", "Please restart my subscription")
    assert any("active again" in reply for reply in turn.replies)
    assert turn.status == TicketStatus.RESOLVED

    updates = _zendesk_updates(sandbox, "1001")
    public = [u["comment"] for u in updates if u.get("comment", {}).get("public")]
    assert len(public) == 1
    assert all(reply in public[0]["body"] for reply in turn.replies)
    reactivations = sandbox.side_effects("stayai", "subscription.reactivate")
    assert len(reactivations) == 1


async def test_zendesk_hand_off_puts_the_ticket_in_the_agent_group_with_a_note(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    start = TicketStart(
        helpdesk="zendesk", external_id="1002", customer=Customer(email="kim@example.com")
    )
    turn = await _turn(dev_client, dev_settings, start, "zd-2", "I need to talk to a human")
    assert turn.status == TicketStatus.ESCALATED
    # The ticket now waits for an agent; end it so other tests can reuse Zendesk ticket 1002.
    await dev_client.get_workflow_handle("ticket-zendesk-1002").terminate("test done")

    updates = _zendesk_updates(sandbox, "1002")
    assert any(u.get("group_id") for u in updates), updates
    notes = [u["comment"]["body"] for u in updates if u.get("comment", {}).get("public") is False]
    assert notes and "Handed over by ticketflow: customer asked for a person." in notes[0]
    replies = [u["comment"]["body"] for u in updates if u.get("comment", {}).get("public")]
    assert replies == ["Of course. I'm passing you to a member of our team, who will reply here."]
