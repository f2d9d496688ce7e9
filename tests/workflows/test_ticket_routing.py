"""Routing happens once: a ticket whose start names its policy (the API routed the opening
message) enters it on the first turn without running `route_ticket` again; a start that
names none, or names one this worker's library lacks, is routed by the workflow.

Read from the history of real runs on the time-skipping server.
"""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.history_events import local_activities, patches
from tests.workflows.signalled_tickets import open_ticket, write
from workflows.ticket import TicketWorkflow
from workflows.ticket_routing import FIRST_TURN_TAKES_STARTS_POLICY

FIRST_MESSAGE = "Please skip my next shipment"


async def test_the_starts_policy_is_entered_without_routing_again(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue, policy_id="skip_next_shipment")
    transcript = await write(env, handle, "m1", FIRST_MESSAGE)
    assert transcript[-1].role == "bot"
    assert (await handle.query(TicketWorkflow.state)).policy_id == "skip_next_shipment"
    ran = await local_activities(handle)
    assert "route_ticket" not in ran
    assert ran.count("load_policy") == 1
    assert FIRST_TURN_TAKES_STARTS_POLICY in await patches(handle)


async def test_a_start_without_a_policy_is_routed_by_the_workflow(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", FIRST_MESSAGE)
    assert (await handle.query(TicketWorkflow.state)).policy_id == "skip_next_shipment"
    assert (await local_activities(handle)).count("route_ticket") == 1


async def test_a_policy_the_library_lacks_is_routed_by_the_workflow(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue, policy_id="retired_policy")
    transcript = await write(env, handle, "m1", FIRST_MESSAGE)
    assert transcript[-1].role == "bot"
    assert (await handle.query(TicketWorkflow.state)).policy_id == "skip_next_shipment"
    ran = await local_activities(handle)
    assert ran.index("load_policy") < ran.index("route_ticket")
