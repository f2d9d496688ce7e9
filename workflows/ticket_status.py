"""The ticket's status and outcome as the Temporal UI indexes them (search attributes)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.ticket_models import Outcome, TicketMemory, TicketStatus


WITH_AN_AGENT = "With an agent: the bot stays silent until the agent releases the ticket."
BACK_WITH_THE_BOT = "Back with the bot after an agent: waiting for the customer's next message."


def set_status(mem: TicketMemory, status: TicketStatus) -> None:
    """One upsert, and only for what changed: every upsert is a history event."""
    changes = []
    if status != mem.status:
        if status == TicketStatus.ESCALATED:
            workflow.set_current_details(WITH_AN_AGENT)
        elif mem.status == TicketStatus.ESCALATED and status == TicketStatus.WAITING_CUSTOMER:
            workflow.set_current_details(BACK_WITH_THE_BOT)
        mem.status = status
        changes.append(sa.TICKET_STATUS.value_set(status.value))
    if mem.outcome and mem.outcome != mem.indexed_outcome:
        mem.indexed_outcome = str(mem.outcome)
        changes.append(sa.OUTCOME.value_set(mem.indexed_outcome))
    if changes:
        workflow.upsert_search_attributes(changes)
        workflow.logger.info(
            "ticket status",
            extra={
                "policy_id": mem.policy_id,
                "status": mem.status.value,
                "outcome": mem.indexed_outcome,
            },
        )


def settle_status(mem: TicketMemory) -> None:
    """The status that what just happened leaves the ticket in."""
    if mem.outcome is not None:
        closed = mem.outcome == Outcome.ABANDONED
        set_status(mem, TicketStatus.CLOSED if closed else TicketStatus.RESOLVED)
    elif mem.held:
        set_status(mem, TicketStatus.ESCALATED)
    elif mem.waiting_for_claim:
        set_status(mem, TicketStatus.WAITING_CLAIM)
    else:
        set_status(mem, TicketStatus.WAITING_CUSTOMER)
