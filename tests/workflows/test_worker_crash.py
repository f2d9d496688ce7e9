"""Killing the worker mid-conversation loses nothing: Temporal replays the ticket elsewhere."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from tests.sandbox_fixtures import SandboxControl
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    ticket_workflow_id,
)

pytestmark = pytest.mark.e2e


class WorkerProcess:
    """`ticketflow worker` as its own OS process, so it can be killed for real."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ticketflow", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        for _ in range(300):
            if b"worker ready" in self.log.read_bytes().split(b"worker stopping")[-1]:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(self.log.read_text())

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def worker_env(
    dev_env: WorkflowEnvironment, sandbox_url: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], str]]:
    task_queue = f"crash-{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TICKETFLOW_TASK_QUEUE=task_queue,
        TICKETFLOW_SANDBOX_PORT=str(urlparse(sandbox_url).port),
        TICKETFLOW_STATE_DIR=str(tmp_path),
    )
    yield env, task_queue


async def test_conversation_survives_kill_9_of_the_worker(
    dev_client: Client,
    worker_env: tuple[dict[str, str], str],
    sandbox: SandboxControl,
    tmp_path: Path,
) -> None:
    env, task_queue = worker_env
    external_id = uuid.uuid4().hex[:8]
    ticket_id = ticket_workflow_id("web", external_id)
    start = TicketStart(
        helpdesk="web", external_id=external_id, customer=Customer(email="alex@example.com")
    )
    handle = dev_client.get_workflow_handle(ticket_id)

    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second = WorkerProcess(env, tmp_path / "worker-2.log")
    try:
        await _converse_across_a_crash(dev_client, handle, start, task_queue, first, second)
    finally:
        first.kill()
        second.kill()
    updates = sandbox.side_effects("bigcommerce", "order.update")
    cancels = [e for e in updates if "status_id" in e["request"]]
    assert len(cancels) == 1


async def _converse_across_a_crash(
    dev_client: Client,
    handle: WorkflowHandle,
    start: TicketStart,
    task_queue: str,
    first: WorkerProcess,
    second: WorkerProcess,
) -> None:
    ticket_id = handle.id
    first.start()
    await first.ready()
    turn = await dev_client.execute_update_with_start_workflow(
        TicketWorkflow.message,
        CustomerMessage(message_id="m1", text="I want to cancel order 5001"),
        start_workflow_operation=WithStartWorkflowOperation(
            TicketWorkflow.run,
            start,
            id=ticket_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        ),
    )
    assert "Before we go ahead" in turn.replies[0]

    first.kill()
    # While no worker runs, the customer answers (a webhook signal): it must not be lost.
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id="m2", text="no, cancel it")
    )

    second.start()
    await second.ready()
    for _ in range(200):
        state = await handle.query(TicketWorkflow.state)
        if state.outcome:
            break
        await asyncio.sleep(0.1)
    assert state.outcome == "cancelled"
    assert state.status == TicketStatus.RESOLVED

    transcript = await handle.query(TicketWorkflow.transcript)
    customer = [e.message_id for e in transcript if e.role == "customer"]
    assert customer == ["m1", "m2"]


async def test_a_call_cut_off_by_kill_9_is_retried_once_its_heartbeats_stop(
    dev_client: Client,
    worker_env: tuple[dict[str, str], str],
    sandbox: SandboxControl,
    tmp_path: Path,
) -> None:
    """The worker dies while the store is still answering a call: the call is
    retried on the next worker because its heartbeats stopped, not after its whole
    start-to-close timeout, and the order is cancelled once."""
    env, task_queue = worker_env
    external_id = uuid.uuid4().hex[:8]
    start = TicketStart(
        helpdesk="web", external_id=external_id, customer=Customer(email="alex@example.com")
    )
    handle = dev_client.get_workflow_handle(ticket_workflow_id("web", external_id))
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second = WorkerProcess(env, tmp_path / "worker-2.log")
    try:
        first.start()
        await first.ready()
        await dev_client.execute_update_with_start_workflow(
            TicketWorkflow.message,
            CustomerMessage(message_id="m1", text="I want to cancel order 5001"),
            start_workflow_operation=WithStartWorkflowOperation(
                TicketWorkflow.run,
                start,
                id=handle.id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        sandbox.fault("bigcommerce", latency_ms=60_000)  # the store hangs on every call
        await handle.signal(
            TicketWorkflow.customer_message, CustomerMessage(message_id="m2", text="no, cancel it")
        )
        for _ in range(300):  # until a store call is in flight on the first worker
            if (await handle.describe()).raw_description.pending_activities:
                break
            await asyncio.sleep(0.1)
        first.kill()
        sandbox.client.delete("/_sandbox/faults").raise_for_status()  # the store recovers
        second.start()
        await second.ready()
        for _ in range(600):
            state = await handle.query(TicketWorkflow.state)
            if state.outcome:
                break
            await asyncio.sleep(0.1)
    finally:
        first.kill()
        second.kill()
    assert state.outcome == "cancelled"
    history = await handle.fetch_history()
    retried = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    ]
    assert [r.last_failure.timeout_failure_info.timeout_type for r in retried] == [
        TimeoutType.TIMEOUT_TYPE_HEARTBEAT
    ]
    cancels = [
        e
        for e in sandbox.side_effects("bigcommerce", "order.update")
        if "status_id" in e["request"]
    ]
    assert len(cancels) == 1
