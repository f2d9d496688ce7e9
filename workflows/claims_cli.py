"""`ticketflow claims`: the open carrier claims, their age and their next check.

Temporal visibility finds the running follow-ups
(``WorkflowType = "CarrierClaimWorkflow" AND ExecutionStatus = "Running"``); each answers
its ``status`` query with what it knows. No customer data is shown: claim, ticket and carrier.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.service import RPCError

from ticketflow.settings import get_settings
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import ClaimView
from workflows.temporal_client import connect_temporal

OPEN_CLAIMS = 'WorkflowType = "CarrierClaimWorkflow" AND ExecutionStatus = "Running"'
QUERY_TIMEOUT = timedelta(seconds=5)


class OpenClaim(BaseModel):
    workflow_id: str
    started_at: datetime | None
    view: ClaimView | None = None
    error: str | None = None


async def open_claims(client: Client, *, limit: int = 200) -> list[OpenClaim]:
    """Every running claim follow-up, oldest first, with its own view of itself."""
    found: list[OpenClaim] = []
    async for execution in client.list_workflows(OPEN_CLAIMS, limit=limit):
        found.append(OpenClaim(workflow_id=execution.id, started_at=execution.start_time))

    async def ask(claim: OpenClaim) -> None:
        handle = client.get_workflow_handle_for(CarrierClaimWorkflow.run, claim.workflow_id)
        try:
            claim.view = await handle.query(CarrierClaimWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            claim.error = f"no answer ({err.status.name.lower()}): is a worker running?"

    await asyncio.gather(*(ask(c) for c in found))
    oldest = datetime.max.replace(tzinfo=UTC)
    found.sort(key=lambda c: c.view.filed_at if c.view else (c.started_at or oldest))
    return found


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {rest // 60}m"
    return f"{rest // 60}m {rest % 60}s"


def render(claims: list[OpenClaim], now: datetime) -> Table:
    table = Table(title=f"Open carrier claims ({len(claims)})")
    for column in ("claim", "ticket", "carrier", "status", "age", "checks", "next check"):
        table.add_column(column)
    for claim in claims:
        view = claim.view.as_of(now) if claim.view else None  # looks run between its steps
        if view is None:
            table.add_row("?", claim.workflow_id, "", claim.error or "", "", "", "")
            continue
        due = view.next_check_at
        table.add_row(
            view.claim_id,
            view.ticket_id or "(standalone)",
            view.carrier,
            view.status,
            _span(now - view.filed_at),
            str(view.checks),
            f"in {_span(due - now)}" if due and due > now else ("now" if due else "—"),
        )
    return table


def claims_command(
    limit: int = typer.Option(200, help="show at most this many claims"),
    as_json: bool = typer.Option(False, "--json", help="print JSON lines instead of a table"),
) -> None:
    """List open carrier claims: their age, status and next check."""

    async def run() -> list[OpenClaim]:
        client = await connect_temporal(get_settings())
        return await open_claims(client, limit=limit)

    claims = asyncio.run(run())
    console = Console()
    if as_json:
        for claim in claims:
            console.print_json(claim.model_dump_json())
        return
    console.print(render(claims, datetime.now(UTC)))
