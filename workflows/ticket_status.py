"""The ticket's status and outcome as the Temporal UI indexes them (search attributes)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.ticket_models import Outcome, TicketMemory, TicketStatus


WITH_AN_AGENT = "With an agent: the bot stays silent until the agent releases the ticket."
BACK_WITH_THE_BOT = "Back with the bot after an agent: waiting for the customer's next message."


class SearchIndex:
    """The ticket's search-attribute changes. Every upsert is a history event and a
    visibility write: a batching index (`batches`, tickets under the `lean-turns` patch)
    keeps the changes of a turn and upserts them once, when the ticket waits (`flush`);
    otherwise each change is upserted at once, as older runs did."""

    def __init__(self) -> None:
        self.batches = False
        self._pending: dict[str, SearchAttributeUpdate] = {}

    def set(self, updates: list[SearchAttributeUpdate]) -> None:
        if not self.batches:
            workflow.upsert_search_attributes(updates)
            return
        for update in updates:
            self._pending.pop(update.key.name, None)  # the latest value, in change order
            self._pending[update.key.name] = update

    def flush(self) -> None:
        if self._pending:
            workflow.upsert_search_attributes(list(self._pending.values()))
            self._pending = {}


def set_status(mem: TicketMemory, status: TicketStatus, index: SearchIndex | None = None) -> None:
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
        if index is None:
            workflow.upsert_search_attributes(changes)
        else:
            index.set(changes)
        workflow.logger.info(
            "ticket status",
            extra={
                "policy_id": mem.policy_id,
                "status": mem.status.value,
                "outcome": mem.indexed_outcome,
            },
        )


def settle_status(mem: TicketMemory, index: SearchIndex | None = None) -> None:
    """The status that what just happened leaves the ticket in."""
    if mem.outcome is not None:
        closed = mem.outcome == Outcome.ABANDONED
        set_status(mem, TicketStatus.CLOSED if closed else TicketStatus.RESOLVED, index)
    elif mem.held:
        set_status(mem, TicketStatus.ESCALATED, index)
    elif mem.waiting_for_claim:
        set_status(mem, TicketStatus.WAITING_CLAIM, index)
    else:
        set_status(mem, TicketStatus.WAITING_CUSTOMER, index)
