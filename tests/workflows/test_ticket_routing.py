"""Routing happens once: a ticket whose start names its policy (the API routed the opening
message) enters it on the first turn without running `route_ticket` again; a start that
names none, or names one this worker's library lacks, is routed by the workflow. An opening
that fits two policies about as well gets one question naming both in the customer's
words, and the answer routes (a number, or words of either); an unclear answer gets the
menu.

Read from the history of real runs on the time-skipping server.
"""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.services.tickets import TicketService
from policies.library import load_library
from tests.history_events import local_activities, patches, readings, replays, routes
from tests.workflows.signalled_tickets import open_ticket, write
from ticketflow.settings import Settings
from workflows.ticket import LEAN_TURNS, TicketWorkflow
from workflows.ticket_models import TicketStart

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
    # One local activity read the message and loaded the start's plan (and any
    # experiment variant), without routing.
    read = await readings(handle, env.client.data_converter)
    assert routes(read) == ["policy_id"]
    assert read[0].entered is not None and read[0].entered.plan.id == "skip_next_shipment"
    # Decided at the start of the run: one marker stands for every earlier patch
    # (the five of ONE_MARKER_FOR_EARLIER_PATCHES and MEASURES_OUTCOMES), which older
    # histories record one by one.
    assert await patches(handle) == [LEAN_TURNS]
    await replays(env, handle)


async def test_a_start_without_a_policy_is_routed_by_the_workflow(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", FIRST_MESSAGE)
    assert (await handle.query(TicketWorkflow.state)).policy_id == "skip_next_shipment"
    assert routes(await readings(handle, env.client.data_converter)) == ["meaning"]


async def test_a_policy_the_library_lacks_is_routed_by_the_workflow(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue, policy_id="retired_policy")
    transcript = await write(env, handle, "m1", FIRST_MESSAGE)
    assert transcript[-1].role == "bot"
    assert (await handle.query(TicketWorkflow.state)).policy_id == "skip_next_shipment"
    assert routes(await readings(handle, env.client.data_converter)) == ["meaning"]


#: Fits "a parcel that hasn't arrived" and "a parcel that arrived damaged" about equally.
VAGUE_OPENING = "about my package"


async def _asked_between_two(env: WorkflowEnvironment, task_queue: str) -> object:
    handle = await open_ticket(env, task_queue)
    transcript = await write(env, handle, "m1", VAGUE_OPENING)
    question = transcript[-1].text
    assert "hasn't arrived" in question and "damaged" in question, question
    assert "(1)" in question and "(2)" in question
    state = await handle.query(TicketWorkflow.state)
    assert state.policy_id is None and state.waiting_for == "customer"
    return handle


async def test_two_close_policies_get_one_question_and_words_of_either_answer_it(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await _asked_between_two(env, task_queue)
    await write(env, handle, "m2", "it still hasnt shown up, tracking is stuck")
    assert (await handle.query(TicketWorkflow.state)).policy_id == "shipment_not_received"
    assert LEAN_TURNS in await patches(handle)  # asks between two


async def test_a_number_answers_the_question(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await _asked_between_two(env, task_queue)
    snapshot = await handle.query(TicketWorkflow.snapshot)
    second = snapshot.routing_choices[1]
    await write(env, handle, "m2", "2")
    assert (await handle.query(TicketWorkflow.state)).policy_id == second


async def test_an_unclear_answer_gets_the_menu_not_a_guess(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await _asked_between_two(env, task_queue)
    transcript = await write(env, handle, "m2", "hmm, not sure")
    assert "Which one is it? Reply with a number." in transcript[-1].text
    state = await handle.query(TicketWorkflow.state)
    assert state.policy_id is None and state.status != "escalated"
    await write(env, handle, "m3", "1")
    assert (await handle.query(TicketWorkflow.state)).policy_id is not None


async def test_a_second_request_is_named_when_the_first_is_done(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue, customer={"email": "rio@example.com"})
    transcript = await write(
        env, handle, "m1", "please skip my next shipment and refund my last order"
    )
    state = await handle.query(TicketWorkflow.state)
    assert (state.policy_id, state.outcome) == ("skip_next_shipment", "skipped")
    bot = [entry.text for entry in transcript if entry.role == "bot"]
    assert "getting your money back" in bot[-1] and "Write to us again" in bot[-1]


async def test_the_apis_routing_hands_the_second_request_to_the_workflow(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, skipping_worker: Worker
) -> None:
    env = own_time_skipping_env
    service = TicketService(env.client, Settings(), load_library())
    opening = "skip my next shipment, and I want my money back for the last one"
    routed = service.route(
        TicketStart(helpdesk="web", external_id="x", customer={"email": "rio@example.com"}),  # type: ignore[arg-type]
        opening,
    )
    assert (routed.start.policy_id, routed.start.later_policy_id) == (
        "skip_next_shipment",
        "refund",
    )
    start = routed.start.model_dump(exclude={"helpdesk", "external_id"})
    handle = await open_ticket(env, task_queue, **start)
    transcript = await write(env, handle, "m1", opening)
    assert routes(await readings(handle, env.client.data_converter)) == ["policy_id"]
    assert "getting your money back" in transcript[-1].text
