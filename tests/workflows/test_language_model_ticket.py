"""A ticket on the time-skipping server with the optional language model pointed at the
chat completions emulator: an answer the local router cannot read is understood thanks to
the model, which may only pick one of the two policies the question named."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from sandbox.credentials import SANDBOX_OPENAI_API_KEY
from tests.history_events import readings, routes
from tests.sandbox_fixtures import SandboxControl
from tests.workflows.signalled_tickets import open_ticket, write
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.worker import WORKFLOWS, ticket_activities

#: The router asks between "hasn't arrived" and "arrived damaged", and cannot read this.
UNCLEAR_ANSWER = "ugh you know how it goes"


@pytest_asyncio.fixture(loop_scope="session")
async def worker_with_model(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    sandbox_url: str,
) -> AsyncIterator[Worker]:
    settings = sandbox_settings.model_copy(
        update={
            "llm_base_url": f"{sandbox_url}/openai/v1",
            "llm_api_key": SecretStr(SANDBOX_OPENAI_API_KEY),
        }
    )
    worker = Worker(
        own_time_skipping_env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(settings),
    )
    async with worker:
        yield worker


async def test_an_unclear_answer_is_understood_by_the_model(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox: SandboxControl,
    worker_with_model: Worker,
) -> None:
    env = own_time_skipping_env
    rule = {"contains": "how it goes", "content": json.dumps({"policy": "shipment_not_received"})}
    sandbox.client.put("/openai/_sandbox/rules", json={"rules": [rule]}).raise_for_status()
    handle = await open_ticket(env, task_queue)
    question = (await write(env, handle, "m1", "about my package"))[-1].text
    # The emulator names no policy for the opening (its words name neither id): asked.
    assert "(1)" in question and "(2)" in question, question
    assert (await handle.query(TicketWorkflow.state)).policy_id is None
    await write(env, handle, "m2", UNCLEAR_ANSWER)
    assert (await handle.query(TicketWorkflow.state)).policy_id == "shipment_not_received"
    asked = [r for r in sandbox.requests("openai") if r["path"] == "/v1/chat/completions"]
    assert [r["body"]["messages"][1]["content"] for r in asked] == [
        "about my package",
        UNCLEAR_ANSWER,
    ]
    assert routes(await readings(handle, env.client.data_converter)) == ["ambiguous", "model"]


async def test_without_the_model_the_same_answer_gets_the_menu(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox: SandboxControl,
    skipping_worker: Worker,
) -> None:
    env = own_time_skipping_env
    handle = await open_ticket(env, task_queue)
    await write(env, handle, "m1", "about my package")
    transcript = await write(env, handle, "m2", UNCLEAR_ANSWER)
    assert "Reply with a number" in transcript[-1].text
    assert (await handle.query(TicketWorkflow.state)).policy_id is None
    assert sandbox.requests("openai") == []
