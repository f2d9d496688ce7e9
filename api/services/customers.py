"""Data-subject requests: find one customer's tickets by CustomerKey, export them, erase them.

A ticket is found by its CustomerKey search attribute (the keyed hash of the email the
ticket knew: activities/customer_key.py), never by the email itself. Tickets that ended
before CustomerKey existed, or that never learned an email, are not found.

Erasure, for every run of every ticket found (continued-as-new runs and earlier
conversations on the same ticket id included) and for the carrier-claim follow-ups those
tickets started (``claim-{ticket id}-…``):

1. delete the execution with the workflow service's `DeleteWorkflowExecution` (history
   and visibility go); the server terminates a running execution first, in the same step,
   so an open ticket stops at once and is reported under ``terminated``;
2. delete the app-database rows tied to those tickets (webhook deliveries by ticket id).

Deletion is asynchronous on the Temporal server: a running execution goes at once, a
closed one within about half a minute (the dev server), and until then visibility still
lists it. It is idempotent: an execution already gone counts as nothing removed, so a
request after the deletions settled reports zeros; one repeated before that asks Temporal
again to delete what is still pending (harmless) and reports those runs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, delete
from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.customer_key import CustomerKeys
from api.db import WebhookDelivery
from workflows import search_attributes as sa
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import claim_workflow_id
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import TicketState, TranscriptEntry

QUERY_TIMEOUT = timedelta(seconds=10)


class ExportedTicket(BaseModel):
    """One conversation of the customer: a ticket's latest run (continue-as-new carries the
    whole transcript), or an earlier conversation on the same ticket id."""

    ticket_id: str
    run_id: str
    run_status: str = Field(description="Temporal execution status: RUNNING, COMPLETED, …")
    status: str | None = Field(description="the ticket's status (open, resolved, …)")
    policy_id: str | None = None
    policy_version: str | None = None
    outcome: str | None = None
    started_at: datetime
    closed_at: datetime | None = None
    slots: dict[str, object] = Field(
        default_factory=dict, description="what the customer told the bot (order, address, …)"
    )
    transcript: list[TranscriptEntry]


class CustomerExport(BaseModel):
    tickets: list[ExportedTicket]


class ErasureReport(BaseModel):
    """What this request removed (a repeated request removes, and reports, nothing)."""

    tickets: list[str] = Field(description="ids of the tickets whose executions were deleted")
    terminated: list[str] = Field(description="tickets (and claim follow-ups) that were running")
    executions_deleted: int = Field(description="workflow runs deleted, claim follow-ups included")
    webhook_deliveries_deleted: int


class NoWorker(RuntimeError):
    """A query found no worker to answer it (the export needs one to read transcripts)."""


class CustomerService:
    def __init__(self, client: Client, engine: Engine, keys: CustomerKeys) -> None:
        self.client = client
        self.engine = engine
        self.keys = keys

    def _query(self, email: str, *, latest_only: bool) -> str:
        key = self.keys.key(email)  # 64 hex characters: safe inside the query
        clauses = [
            f'WorkflowType = "{TicketWorkflow.__name__}"',
            f'{sa.CUSTOMER_KEY.name} = "{key}"',
        ]
        if latest_only:
            clauses.append('ExecutionStatus != "ContinuedAsNew"')
        return " AND ".join(clauses)

    async def runs(self, email: str, *, latest_only: bool = False) -> list[WorkflowExecution]:
        """Every run of the customer's tickets, newest first."""
        query = self._query(email, latest_only=latest_only)
        return [execution async for execution in self.client.list_workflows(query)]

    async def export(self, email: str) -> CustomerExport:
        """Every conversation of the customer, read from the workflows' queries."""
        tickets = []
        for run in await self.runs(email, latest_only=True):
            handle = self.client.get_workflow_handle(run.id, run_id=run.run_id)
            try:
                state: TicketState = await handle.query(
                    TicketWorkflow.state, rpc_timeout=QUERY_TIMEOUT
                )
                transcript: list[TranscriptEntry] = await handle.query(
                    TicketWorkflow.transcript, rpc_timeout=QUERY_TIMEOUT
                )
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    continue  # deleted since visibility listed it
                if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
                    raise NoWorker(f"no worker answered for ticket {run.id!r}") from err
                raise
            tickets.append(
                ExportedTicket(
                    ticket_id=run.id,
                    run_id=run.run_id,
                    run_status=run.status.name if run.status else "UNKNOWN",
                    status=state.status.value,
                    policy_id=state.policy_id,
                    policy_version=state.policy_version,
                    outcome=state.outcome,
                    started_at=run.start_time,
                    closed_at=run.close_time,
                    slots=state.slots,
                    transcript=transcript,
                )
            )
        return CustomerExport(tickets=tickets)

    async def erase(self, email: str) -> ErasureReport:
        ticket_runs = await self.runs(email)
        ticket_ids = sorted({run.id for run in ticket_runs})
        claim_runs: list[WorkflowExecution] = []
        for ticket_id in ticket_ids:
            prefix = claim_workflow_id(ticket_id, "")
            claim_runs += [
                execution
                async for execution in self.client.list_workflows(
                    f'WorkflowType = "{CarrierClaimWorkflow.__name__}" '
                    f'AND WorkflowId STARTS_WITH "{prefix}"'
                )
            ]
        terminated: list[str] = []
        deleted = 0
        erased: set[str] = set()
        for run in [*ticket_runs, *claim_runs]:
            # A running execution is terminated by its deletion, at once and in one step.
            if await self._delete(run):
                deleted += 1
                if run.status == WorkflowExecutionStatus.RUNNING:
                    terminated.append(run.id)
                if run.id in ticket_ids:
                    erased.add(run.id)
        rows = await run_in_threadpool(self._delete_rows, ticket_ids)
        return ErasureReport(
            tickets=sorted(erased),
            terminated=sorted(set(terminated)),
            executions_deleted=deleted,
            webhook_deliveries_deleted=rows,
        )

    async def _delete(self, run: WorkflowExecution) -> bool:
        try:
            await self.client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=self.client.namespace,
                    workflow_execution=ExecutionRef(workflow_id=run.id, run_id=run.run_id),
                )
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False  # already deleted: nothing removed this time
            raise
        return True

    def _delete_rows(self, ticket_ids: list[str]) -> int:
        if not ticket_ids:
            return 0
        with Session(self.engine) as session:
            result = session.exec(
                delete(WebhookDelivery).where(col(WebhookDelivery.ticket_id).in_(ticket_ids))
            )
            session.commit()
            return int(result.rowcount or 0)
