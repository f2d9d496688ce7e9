"""An agent's public reply on the time-skipping server: it reaches the customer through
the helpdesk's API exactly as written (the Zendesk emulator's request log shows it),
once per reply even when the activity is retried, and the bot stays silent after it."""

from __future__ import annotations

from typing import Any

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.sandbox_fixtures import SandboxControl
from tests.workflows.signalled_tickets import act, open_ticket, write
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import Customer, TicketStatus

REPLY = "Hi, Sam here: I have refunded the $12.50 shipping on order 5001 myself."


def public_comments(sandbox: SandboxControl, ticket_id: str) -> list[dict[str, Any]]:
    """What the Zendesk emulator received for the ticket: each public comment with the
    idempotency key the update carried."""
    found = []
    for request in sandbox.requests("zendesk", "PUT"):
        ticket = (request.get("body") or {}).get("ticket", {})
        comment = ticket.get("comment") or {}
        if request["path"].endswith(f"/tickets/{ticket_id}.json") and comment.get("public"):
            key = (ticket.get("metadata") or {}).get("ticketflow_idempotency_key")
            found.append({"body": comment["body"], "key": key, "status": request["status"]})
    return found


async def test_an_agent_reply_reaches_the_customer_as_written_and_silences_the_bot(
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
    bot_said = len(public_comments(sandbox, "1001"))
    assert bot_said >= 1  # the bot's own answer went out the same way

    await act(env, handle, action="reply", agent="sam@example.com", text=REPLY)
    sent = public_comments(sandbox, "1001")[bot_said:]
    assert [c["body"] for c in sent] == [REPLY]
    assert sent[0]["status"] == 200
    assert sent[0]["key"] == f"{handle.id}/agent-reply/1"
    state = await handle.query(TicketWorkflow.state)
    assert state.agent == "sam@example.com" and state.status == TicketStatus.ESCALATED

    # The customer answers: the agent has the ticket, so the bot says nothing.
    transcript = await write(env, handle, "zd-2", "thanks! and my next box?")
    assert transcript[-1].message_id == "zd-2"
    assert [e.text for e in transcript if e.role == "agent"] == [REPLY]
    assert len(public_comments(sandbox, "1001")) == bot_said + 1

    # A second reply is a second message (its own key), not a duplicate of the first.
    await act(env, handle, action="reply", agent="sam@example.com", text="It ships on Friday.")
    later = public_comments(sandbox, "1001")[bot_said:]
    assert [c["body"] for c in later] == [REPLY, "It ships on Friday."]
    assert later[1]["key"] == f"{handle.id}/agent-reply/2"


async def test_a_reply_the_helpdesk_failed_at_first_is_retried_and_sent_once(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(
        env, task_queue, helpdesk="zendesk", external_id="1002", customer=Customer()
    )
    await act(env, handle, action="takeover", agent="sam@example.com")
    sandbox.fault("zendesk", fail_next=2)
    await act(env, handle, action="reply", agent="sam@example.com", text=REPLY)
    await write(env, handle, "zd-1", "ok")  # lets the retries run their course
    assert sandbox.faults_served("zendesk")["errors"] == 2
    assert [c["body"] for c in public_comments(sandbox, "1002") if c["status"] == 200] == [REPLY]
