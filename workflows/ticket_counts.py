"""Tickets started and ended, counted by the worker that runs them.

The API cannot tell a new ticket from a message to a running one (signal-with-start and
update-with-start hide whether they started anything), so the count is taken where the
ticket runs: a workflow interceptor around ``TicketWorkflow.run``. It counts only while the
workflow is not replaying its history (the first time a worker runs that code), so a
worker restart, a cache eviction or a query on an ended ticket counts nothing again, and it
issues no command: the workflow's history is the same with or without it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.metrics import NO_POLICY, TICKETS_ENDED, TICKETS_STARTED
from workflows import search_attributes as sa

TICKET_WORKFLOW = "TicketWorkflow"


def _label(value: object) -> str:
    return value if isinstance(value, str) and value else NO_POLICY


class _CountTickets(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if workflow.info().workflow_type != TICKET_WORKFLOW:
            return await self.next.execute_workflow(input)
        start = input.args[0] if input.args else None
        helpdesk = _label(getattr(start, "helpdesk", None))
        first_run = getattr(start, "carried", None) is None
        if first_run and not workflow.unsafe.is_replaying():
            TICKETS_STARTED.labels(_label(getattr(start, "policy_id", None)), helpdesk).inc()
        try:
            result = await self.next.execute_workflow(input)
        except workflow.ContinueAsNewError:
            raise
        except FailureError:
            self._ended(start, "failed", helpdesk)
            raise
        except asyncio.CancelledError:
            self._ended(start, "cancelled", helpdesk)
            raise
        # A normal ending is counted by `record_outcome` (exactly once, with the outcome row);
        # only tickets that started before outcomes were recorded are counted here.
        if not getattr(result, "outcome_recorded", False):
            self._ended(start, getattr(result, "outcome", None), helpdesk)
        return result

    def _ended(self, start: object, outcome: object, helpdesk: str) -> None:
        if workflow.unsafe.is_replaying():
            return
        # The policy the ticket ran (indexed once it loaded one), else the one routed at start.
        policy = workflow.info().typed_search_attributes.get(sa.POLICY_ID) or getattr(
            start, "policy_id", None
        )
        TICKETS_ENDED.labels(_label(policy), _label(outcome), helpdesk).inc()


class TicketCounts(Interceptor):
    """Pass to ``Worker(interceptors=[...])``: ``ticketflow_tickets_started/ended_total``."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _CountTickets
