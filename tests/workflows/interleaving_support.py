"""Support for tests/workflows/test_interleavings.py.

Hypothesis rules are synchronous, Temporal's client is asyncio: `LoopThread` runs one event
loop in a background thread for the whole test function (server, worker and every call
live there) and the rules submit coroutines to it. `Harness` owns the server and a worker
that can be restarted on the same task queue. The rest reads a ticket's runs exactly, from
their histories: whether it is quiescent, its continue-as-new chain, its failed tasks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.codec_keys import TEST_KEYRING
from ticketflow.conversation_tests import start_dev_server, start_time_skipping_server
from ticketflow.settings import Settings
from workflows.payload_codec import EncryptionCodec
from workflows.worker import WORKFLOWS, ticket_activities

T = TypeVar("T")

TIME_SKIPPING = "time-skipping"
DEV = "dev"

# Events that end a run.
CLOSING_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}
ACTIVITY_CLOSING_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}
# The server refusing a task's completion because new events (a signal, an update) arrived
# meanwhile: the worker simply runs the task again with them. Not a workflow failure.
BENIGN_TASK_FAILURES = {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND}


class LoopThread:
    """One asyncio loop in a daemon thread; `run` waits for a coroutine, `submit` does not."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="temporal", daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def start_server(kind: str) -> WorkflowEnvironment:
    """The Java time-skipping test server or the dev server, from the wheels, with
    ticketflow's search attributes and the pydantic data converter."""
    if kind == TIME_SKIPPING:
        return await start_time_skipping_server()
    return await start_dev_server()


class Harness:
    """The server, and the production workflows and activities on one task queue, served by
    a worker that `restart_worker` replaces with a new one (cold cache: every open ticket
    is replayed from its history on its next task)."""

    # Long enough for an activity under injected latency to finish before the old worker
    # goes: a graceful stop never cuts a platform write in half (that would be a crash
    # test, where same-key replays of absolute writes are expected; see tests/chaos).
    GRACEFUL = timedelta(seconds=30)

    def __init__(self, server: str, platforms: Settings) -> None:
        self.server = server
        self.platforms = platforms
        self.task_queue = f"interleave-{uuid.uuid4().hex[:8]}"
        self.env: WorkflowEnvironment | None = None
        self.worker: Worker | None = None
        self.worker_run: asyncio.Task[None] | None = None
        self.restarts = 0

    @property
    def time_skipping(self) -> bool:
        return self.server == TIME_SKIPPING

    @property
    def client(self) -> Client:
        assert self.env is not None
        return self.env.client

    async def start(self) -> None:
        self.env = await start_server(self.server)
        await self._start_worker()

    async def _start_worker(self) -> None:
        self.worker = Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=WORKFLOWS,
            activities=ticket_activities(self.platforms),
            graceful_shutdown_timeout=self.GRACEFUL,
            # The Java test server keeps sending a cached ticket's queries and updates to
            # the stopped worker's sticky queue (they time out); the dev server re-routes
            # them. Without a cache there is no sticky queue: every task replays the run.
            max_cached_workflows=0 if self.time_skipping else 1000,
        )
        self.worker_run = asyncio.create_task(self.worker.run())
        await asyncio.sleep(0)  # let it begin polling

    async def _stop_worker(self) -> None:
        if self.worker is not None:
            await self.worker.shutdown()
        if self.worker_run is not None:
            await self.worker_run
        self.worker, self.worker_run = None, None

    async def restart_worker(self) -> None:
        await self._stop_worker()
        self.restarts += 1
        await self._start_worker()

    async def stop(self) -> None:
        try:
            await self._stop_worker()
        finally:
            if self.env is not None:
                await self.env.shutdown()


# --- reading runs -----------------------------------------------------------------------------


@dataclass
class RunView:
    """One run of a ticket, read from its history."""

    run_id: str
    events: list[HistoryEvent] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return bool(self.events) and self.events[-1].event_type in CLOSING_EVENTS

    @property
    def continued_to(self) -> str | None:
        """The next run's id, when this run ended by continue-as-new."""
        if not self.events:
            return None
        last = self.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return None
        return last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id

    @property
    def busy(self) -> list[str]:
        """What this run still has in hand: an unfinished workflow task (scheduled, started,
        or failed and being retried) or activities not yet closed. Empty when it is idle:
        everything that reached it (signals, updates, timers) has been handled."""
        task_open = False
        activities: dict[int, str] = {}
        for event in self.events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                task_open = True
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                task_open = False
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                activities[event.event_id] = name
            elif kind in ACTIVITY_CLOSING_EVENTS:
                attributes = getattr(event, ACTIVITY_CLOSING_EVENTS[kind])
                activities.pop(attributes.scheduled_event_id, None)
        if self.closed:
            return []
        busy = ["workflow task"] if task_open else []
        return busy + [f"activity {name}" for name in activities.values()]

    def task_failures(self) -> list[str]:
        """Every workflow task failure but the server's benign unhandled-command refusal."""
        found = []
        for event in self.events:
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                continue
            attributes = event.workflow_task_failed_event_attributes
            if attributes.cause in BENIGN_TASK_FAILURES:
                continue
            cause = WorkflowTaskFailedCause.Name(attributes.cause)
            message, trace = _readable(attributes.failure)
            found.append(
                f"run {self.run_id} event {event.event_id}: WorkflowTaskFailed {cause}: "
                f"{message}\n{trace[-2000:]}"
            )
        return found

    def started_input(self) -> Any:
        """The payloads this run was started with (its WorkflowExecutionStarted event)."""
        first = self.events[0]
        assert first.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        return first.workflow_execution_started_event_attributes.input.payloads

    def signals(self, name: str) -> list[Any]:
        """The payloads of every `name` signal this run received, in arrival order (the
        order the workflow sees them)."""
        return [
            event.workflow_execution_signaled_event_attributes.input.payloads
            for event in self.events
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            and event.workflow_execution_signaled_event_attributes.signal_name == name
        ]


async def read_run(client: Client, workflow_id: str, run_id: str) -> RunView:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    return RunView(run_id=run_id, events=[e async for e in handle.fetch_history_events()])


async def run_chain(
    client: Client, workflow_id: str, first_run_id: str, closed_runs: dict[str, RunView]
) -> list[RunView]:
    """Every run of the ticket, first to latest, followed through each ContinueAsNew event.
    Closed runs never change: they are read once and kept in `closed_runs`."""
    chain: list[RunView] = []
    run_id: str | None = first_run_id
    while run_id is not None:
        view = closed_runs.get(run_id) or await read_run(client, workflow_id, run_id)
        if view.closed:
            closed_runs[run_id] = view
        chain.append(view)
        run_id = view.continued_to
    return chain


def _readable(failure: Any) -> tuple[str, str]:
    """A failure's message and stack trace, decrypted when the codec encoded them (the
    suite's servers all use the test keyring)."""
    if not failure.HasField("encoded_attributes"):
        return failure.message, failure.stack_trace
    clear = EncryptionCodec(TEST_KEYRING).decrypt(failure.encoded_attributes)
    attributes = json.loads(clear.data or b"{}")
    return str(attributes.get("message", "")), str(attributes.get("stack_trace", ""))
