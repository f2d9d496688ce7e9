"""The 6-turn cancel-order retention conversation every benchmark speaks.

Alex (alex@example.com) on the web channel, BigCommerce order 5001:

1. "hello"                       → the menu of ticket types
2. "1"                           → (cancel order) "Could you please share the order number…"
3. "I'm not sure, let me check"  → "Sorry, I didn't quite get that…" (re-ask)
4. "5001"                        → @bigcommerce_order_details, then the four retention offers
5. "hmm"                         → "Sorry, I didn't quite get that…" (offers again)
6. "2"                           → @bigcommerce_shipping_upgrade, "Thank you for keeping…"

It runs through the `cancel_order_retention_bigcommerce_kustomer` policy (picked from the
menu) and ends `retained`. Shipping upgrade writes absolute values, so any number of these
conversations can share order 5001.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TurnResult,
    ticket_workflow_id,
)

TURNS: tuple[str, ...] = (
    "hello",
    "1",
    "I'm not sure, let me check",
    "5001",
    "hmm",
    "2",
)
ALEX = Customer(email="alex@example.com", name="Alex")


def new_start(prefix: str = "bench") -> tuple[str, TicketStart]:
    external_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
    start = TicketStart(helpdesk="web", external_id=external_id, customer=ALEX)
    return ticket_workflow_id("web", external_id), start


async def converse(
    client: Client,
    *,
    run: Any,
    update: Any,
    task_queue: str,
    turns: tuple[str, ...] = TURNS,
    prefix: str = "bench",
) -> tuple[str, list[float], TurnResult]:
    """One whole conversation: update-with-start for the first turn, plain updates after.
    Returns the workflow id, each turn's round trip in seconds and the last turn."""
    workflow_id, start = new_start(prefix)
    latencies: list[float] = []
    began = time.perf_counter()
    result: TurnResult = await client.execute_update_with_start_workflow(
        update,
        CustomerMessage(message_id="m1", text=turns[0]),
        start_workflow_operation=WithStartWorkflowOperation(
            run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        ),
    )
    latencies.append(time.perf_counter() - began)
    handle = client.get_workflow_handle(workflow_id)
    for index, text in enumerate(turns[1:], 2):
        began = time.perf_counter()
        result = await handle.execute_update(
            update, CustomerMessage(message_id=f"m{index}", text=text)
        )
        latencies.append(time.perf_counter() - began)
    if result.status != TicketStatus.RESOLVED:
        raise AssertionError(f"{workflow_id} ended {result.status}: {result.replies}")
    return workflow_id, latencies, result
