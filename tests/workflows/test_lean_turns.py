"""What a turn costs a new ticket's history (issue 18, patch `lean-turns`): one local
activity per customer message (`read_message`: reading it, and routing and entering the
policy when the ticket routes it), one patch marker, at most one search-attribute upsert per
turn, and one silence timer for the whole conversation instead of one started and cancelled
per turn, while the reminder still comes a day after the customer's *last* message; the
outcome row is written by a local activity when the ticket ends.

Read from real runs on the time-skipping server; the runs' histories replay.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlmodel import Session
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.customer_key import ACTIVITY_NAME as CUSTOMER_KEY
from activities.customer_key import CustomerKeys
from activities.outcomes import TicketOutcomeRow
from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.db import open_database
from tests.history_events import local_activities, patches, readings, replays, routes
from tests.sandbox_fixtures import SandboxControl
from tests.workflows.signalled_tickets import open_ticket, write
from ticketflow.settings import Settings
from workflows import search_attributes as sa
from workflows import ticket_customer_key
from workflows.ticket import LEAN_TURNS, TicketWorkflow
from workflows.ticket_measures import LOCAL_RECORD_TIMEOUT
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketOutcome,
    TicketStart,
    TicketStatus,
    ticket_workflow_id,
)
from workflows.worker import WORKFLOWS, ticket_activities, workflow_runner

RETENTION = "cancel_order_retention_bigcommerce_kustomer"
ALEX = Customer(email="alex@example.com", name="Alex")


async def _events(handle: WorkflowHandle) -> Counter[str]:
    return Counter(
        [
            EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
            async for event in handle.fetch_history_events()
        ]
    )


async def _opened_with(
    env: WorkflowEnvironment, task_queue: str, text: str, **start: object
) -> WorkflowHandle:
    """As the API and the webhooks start a ticket: its first message with the start."""
    external_id = uuid.uuid4().hex[:8]
    handle = await env.client.start_workflow(
        TicketWorkflow.run,
        TicketStart(helpdesk="web", external_id=external_id, **start),  # type: ignore[arg-type]
        id=ticket_workflow_id("web", external_id),
        task_queue=task_queue,
        start_signal="customer_message",
        start_signal_args=[CustomerMessage(message_id="m1", text=text)],
    )
    await env.sleep(timedelta(seconds=5))
    return handle


async def test_each_message_is_one_local_activity_and_a_turn_one_upsert_at_most(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await _opened_with(env, task_queue, "hello", customer=ALEX)  # the menu
    await write(env, handle, "m2", "1")  # cancel order: asks the order number
    transcript = await write(env, handle, "m3", "5001")  # the order, then the offers
    assert "options we can offer" in transcript[-1].text, transcript[-1].text
    state = await handle.query(TicketWorkflow.state)
    assert (state.policy_id, state.waiting_for) == (RETENTION, "customer:choice")

    assert await local_activities(handle) == ["read_message"] * 3
    assert routes(await readings(handle, env.client.data_converter)) == ["none", "menu"]
    assert await patches(handle) == [LEAN_TURNS]
    events = await _events(handle)
    # The patch marker's TemporalChangeVersion, then one per turn that changed the index:
    # the first (status, helpdesk, ticket type, CustomerKey), the second (the policy).
    assert events["UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"] == 3
    assert (events["TIMER_STARTED"], events["TIMER_CANCELED"]) == (1, 0)
    indexed = (await handle.describe()).typed_search_attributes
    assert indexed.get(sa.TICKET_STATUS) == TicketStatus.WAITING_CUSTOMER.value
    assert (indexed.get(sa.HELPDESK), indexed.get(sa.POLICY_ID)) == ("web", RETENTION)
    assert indexed.get(sa.TICKET_TYPE) == "Cancel order"
    key = indexed.get(sa.CUSTOMER_KEY)
    assert key and "alex" not in key and len(key) == 64
    await replays(env, handle)
    # Ended here (its timers must not fire in the next test, whose worker is another): the
    # outcome row is a local activity in the ending's workflow task, not one more task.
    await handle.signal(TicketWorkflow.close)
    await handle.result()
    assert (await local_activities(handle))[-1] == "record_outcome"
    assert (await _events(handle))["ACTIVITY_TASK_SCHEDULED"] == 1  # the order's details
    await replays(env, handle)


async def test_the_reminder_counts_from_the_last_message_on_the_kept_timer(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    skipping_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    handle = await _opened_with(env, task_queue, "Please skip my next shipment")
    await env.sleep(timedelta(hours=20))
    await write(env, handle, "m2", "hmm, let me look for it")  # the email ask, again
    # The first turn's timer fires a day after m1: not yet a day after m2, so no reminder.
    await env.sleep(timedelta(hours=6))
    said = [e.text for e in await handle.query(TicketWorkflow.transcript)]
    assert not any("still there" in text for text in said), said
    await env.sleep(timedelta(hours=19))  # a day and a bit after m2
    said = [e.text for e in await handle.query(TicketWorkflow.transcript)]
    assert sum("Just checking in" in text for text in said) == 1, said
    assert (await handle.query(TicketWorkflow.state)).status == TicketStatus.WAITING_CUSTOMER
    events = await _events(handle)
    assert events["TIMER_CANCELED"] == 0
    await replays(env, handle)


async def _closed_while_the_store_is_locked(
    env: WorkflowEnvironment,
    task_queue: str,
    settings: Settings,
    database: Path,
    engine: Engine,
    locked_for: float,
) -> tuple[WorkflowHandle, TicketOutcome]:
    """A menu ticket closed while another writer holds the app database's write lock for
    `locked_for` seconds (no outcome row meanwhile); its outcome once the lock is gone."""
    policies = PolicyActivities(versions=PolicyVersions(engine))
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(settings, policies=policies),
        workflow_runner=workflow_runner(),
    )
    async with worker:
        handle = await _opened_with(env, task_queue, "hello", customer=ALEX)  # the menu
        blocker = sqlite3.connect(database, timeout=1)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
        try:
            await handle.signal(TicketWorkflow.close)
            await asyncio.sleep(locked_for)
            assert not await _row_written(engine, handle.id)
        finally:
            blocker.rollback()
            blocker.close()
        outcome: TicketOutcome = await asyncio.wait_for(handle.result(), timeout=60)
    return handle, outcome


async def test_an_outcome_row_the_store_cannot_take_at_once_is_written_by_the_retrying_activity(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    tmp_path: Path,
    sandbox: SandboxControl,
) -> None:
    # The app database is locked for writing (another writer mid-transaction) when the
    # ticket ends: the local write gives up after its few seconds, the regular activity
    # takes over, and the row is there once the lock is gone; the ticket still completes.
    env = own_time_skipping_env
    database = tmp_path / "app.db"
    engine = open_database(f"sqlite:///{database}")
    handle, outcome = await _closed_while_the_store_is_locked(
        env,
        task_queue,
        sandbox_settings,
        database,
        engine,
        locked_for=LOCAL_RECORD_TIMEOUT.total_seconds() + 2,
    )
    assert outcome.status == TicketStatus.RESOLVED  # what an agent's close gives
    assert await _row_written(engine, handle.id)
    events = await _events(handle)
    assert events["ACTIVITY_TASK_COMPLETED"] == 1  # the regular record_outcome, after the lock
    assert (await local_activities(handle))[-1] == "record_outcome"  # the local try, failed
    await replays(env, handle)


async def test_an_outcome_row_the_store_refuses_at_once_is_written_by_the_retrying_activity(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    tmp_path: Path,
    sandbox: SandboxControl,
) -> None:
    # The app database refuses the write at once when the ticket ends (as a database that
    # refuses connections would; here a locked SQLite that does not wait): the local write
    # fails with its own error, not a timeout, and the regular activity still takes over.
    env = own_time_skipping_env
    database = tmp_path / "app.db"
    open_database(f"sqlite:///{database}")  # the schema
    impatient = create_engine(
        f"sqlite:///{database}", connect_args={"check_same_thread": False, "timeout": 0}
    )
    handle, outcome = await _closed_while_the_store_is_locked(
        env, task_queue, sandbox_settings, database, impatient, locked_for=2
    )
    assert outcome.status == TicketStatus.RESOLVED
    assert await _row_written(impatient, handle.id)
    assert (await local_activities(handle))[-1] == "record_outcome"  # the local try, failed
    assert (await _events(handle))["ACTIVITY_TASK_COMPLETED"] == 1  # the regular one
    await replays(env, handle)


async def _row_written(engine: Engine, ticket_id: str) -> bool:
    def read() -> bool:
        with Session(engine) as session:
            return session.get(TicketOutcomeRow, ticket_id) is not None

    return await asyncio.to_thread(read)


class _StuckKeys(CustomerKeys):
    """The `customer_key` local activity hangs past its timeout until `released` (a worker
    starved of CPU, say); `read_message` hashes in process and is not held up."""

    def __init__(self, secret: bytes) -> None:
        super().__init__(secret)
        self.released = asyncio.Event()

    @activity.defn(name=CUSTOMER_KEY)
    async def customer_key(self, email: str) -> str:
        await self.released.wait()
        return self.key(email)


async def test_a_customer_key_that_timed_out_is_taken_at_the_next_message(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same tries, each given up after a second instead of ten (CI time; the worker's
    # runner passes the workflow modules through, so their settings are the module's).
    monkeypatch.setattr(ticket_customer_key, "LOCAL_TIMEOUT", timedelta(seconds=1))
    monkeypatch.setattr(
        ticket_customer_key,
        "LOCAL_RETRY",
        RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=5),
    )
    # A ticket opened with the customer's email and no message yet keys it at once, by the
    # `customer_key` local activity; that times out on every try, the ticket waits unkeyed
    # and the customer's first message keys it. The history replays: the timed-out local
    # activity resolves as another failure on replay than live.
    env = own_time_skipping_env
    keys = _StuckKeys.from_settings(sandbox_settings)
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings, customer_keys=keys),
        workflow_runner=workflow_runner(),
    )
    async with worker:
        handle = await open_ticket(env, task_queue, customer=ALEX)
        async with asyncio.timeout(60):
            while CUSTOMER_KEY not in await local_activities(handle):  # noqa: ASYNC110
                await asyncio.sleep(2)  # the marker of the tries given up
        keys.released.set()
        indexed = (await handle.describe()).typed_search_attributes
        assert indexed.get(sa.CUSTOMER_KEY) is None
        assert (await handle.query(TicketWorkflow.state)).waiting_for == "customer"
        await write(env, handle, "m1", "hello")
        indexed = (await handle.describe()).typed_search_attributes
        assert indexed.get(sa.CUSTOMER_KEY) == keys.key(ALEX.email or "")
        await handle.signal(TicketWorkflow.close)
        await handle.result()
    await replays(env, handle)
