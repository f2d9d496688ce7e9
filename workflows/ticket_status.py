"""The ticket's status and outcome as the Temporal UI indexes them (search attributes)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.ticket_models import Outcome, TicketMemory, TicketStatus


def set_status(mem: TicketMemory, status: TicketStatus) -> None:
    """One upsert, and only for what changed: every upsert is a history event."""
    changes = []
    if status != mem.status:
        mem.status = status
        changes.append(sa.TICKET_STATUS.value_set(status.value))
    if mem.outcome and mem.outcome != mem.indexed_outcome:
        mem.indexed_outcome = str(mem.outcome)
        changes.append(sa.OUTCOME.value_set(mem.indexed_outcome))
    if changes:
        workflow.upsert_search_attributes(changes)


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
