"""A simulated experiment on the time-skipping server: seeded customers read the offer
their variant makes and accept it more often when it is the better one; the report must
call that variant with p < 0.05, and an A/A run (the same version twice, equal
acceptance) must not call a winner.

Real pieces throughout: the ticket workflow and its worker reading the policy store, the
`enter_policy` assignment, the `record_outcome` rows, the report's statistics.
`TICKETFLOW_EXPERIMENT_TICKETS` (default 400) sets the tickets per run.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.db import open_database
from api.services import experiments, policy_store
from api.services.experiments import ExperimentCreate, ExperimentReport, VariantSpec
from api.services.policy_store import StoreError
from ticketflow.cli import app as cli
from ticketflow.settings import Settings, get_settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketOutcome,
    TicketStart,
    TranscriptEntry,
)
from workflows.worker import build_worker, ticket_activities

TICKETS = int(os.environ.get("TICKETFLOW_EXPERIMENT_TICKETS", "400"))
CUSTOMERS = TICKETS * 3 // 4  # some customers write twice: they must keep their variant
AT_ONCE = 25


def keep_plan(policy_id: str, discount: int) -> str:
    return (
        f"---\nid: {policy_id}\ntitle: Keep the plan\n"
        f"ticket_types: [{policy_id} request]\ncsat: true\n---\n"
        "## Logic\n\n"
        "1. Offer the customer a reason to keep their plan:\n"
        f"   - Discount: Inform the customer that {discount}% comes off the next order.\n"
        "   - Pause: Inform the customer that the plan pauses for a month.\n"
        "2. If the customer accepts:\n"
        "   - Say “Great, your plan stays as it is.”\n"
        "   - End the conversation as retained.\n"
        "3. If the customer declines:\n"
        "   - Say “Understood, your plan is cancelled.”\n"
        "   - End the conversation as cancelled.\n"
    )


@pytest.fixture(scope="module")
def store(sqlite_url: str) -> Iterator[Engine]:
    """The app database of this module's worker and reports (SQLite; the API tests run
    the same code on PostgreSQL)."""
    engine = open_database(sqlite_url)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def store_worker(
    own_time_skipping_env: WorkflowEnvironment,
    sandbox_settings: Settings,
    sqlite_url: str,
    store: Engine,
    task_queue: str,
) -> AsyncIterator[Worker]:
    """The production worker's activities, reading plans and experiments from the app
    database and writing outcome rows to it."""
    policies = PolicyActivities(versions=PolicyVersions(store))
    # A fixed CustomerKey secret and experiment ids: the same customers land in the same
    # variants and make the same choices on every run, so the verdicts are reproducible.
    settings = sandbox_settings.model_copy(
        update={"task_queue": task_queue, "customer_key_secret": "simulated-customers"}
    )
    worker = build_worker(
        own_time_skipping_env.client,
        settings,
        activities=ticket_activities(settings, policies=policies),
    )
    async with worker:
        yield worker


async def _bot_said(client: Client, ticket_id: str, count: int) -> list[TranscriptEntry]:
    handle = client.get_workflow_handle(ticket_id)
    for _ in range(400):
        transcript = await handle.query(TicketWorkflow.transcript)
        bot = [e for e in transcript if e.role == "bot"]
        if len(bot) >= count:
            return bot
        await asyncio.sleep(0.05)
    raise AssertionError(f"{ticket_id}: the bot did not answer")


async def _one_ticket(
    client: Client,
    task_queue: str,
    policy_id: str,
    email: str,
    accept: dict[str, float],
    number: int,
) -> tuple[str, str | None]:
    """One customer: opens, reads the offer, accepts with the probability its wording
    earns (seeded by the customer), rates, and the ticket ends."""
    ticket_id = f"ticket-web-{policy_id}-{number}"
    start = TicketStart(
        helpdesk="web",
        external_id=ticket_id.removeprefix("ticket-web-"),
        customer=Customer(email=email),
        policy_id=policy_id,
    )
    handle = await client.start_workflow(
        TicketWorkflow.run, start, id=ticket_id, task_queue=task_queue
    )
    await handle.signal(
        TicketWorkflow.customer_message,
        CustomerMessage(message_id="m1", text="I want to cancel my plan"),
    )
    offer = " ".join(e.text for e in await _bot_said(client, ticket_id, 1))
    variant = (await handle.query(TicketWorkflow.state)).variant
    wording = next((w for w in accept if w in offer), None)
    assert wording is not None, (ticket_id, offer)
    rng = random.Random(f"{email}/{number}")  # the same customers, choices and ratings each run
    answer = "yes, the discount please" if rng.random() < accept[wording] else "no, cancel it"
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id="m2", text=answer)
    )
    await _bot_said(client, ticket_id, 2)
    rating = str(rng.randint(3, 5))
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessage(message_id="m3", text=rating)
    )
    ended: TicketOutcome = await handle.result()
    assert ended.outcome in {"retained", "cancelled"}, ended
    return email, variant


async def _simulate(
    env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    variants: Callable[[str, str], list[VariantSpec]],
    accept: dict[str, float],
    seed: int,
) -> ExperimentReport:
    """`variants(policy id, published version)`: what the experiment compares."""
    policy_id = f"keep_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(engine, policy_id, keep_plan(policy_id, 10), "tests")
    control = policy_store.publish(engine, policy_id, message="v1", author="tests")
    created = experiments.create(
        engine,
        ExperimentCreate(
            id=f"simulation-{seed}",
            policy=policy_id,
            variants=variants(policy_id, control),
            metric="retention",
            minimum_detectable_effect=0.15,
        ),
        "tests",
    )
    rng = random.Random(seed)
    customers = [f"customer{seed}-{i}@example.com" for i in range(CUSTOMERS)]
    emails = customers + [rng.choice(customers) for _ in range(TICKETS - CUSTOMERS)]
    rng.shuffle(emails)
    seen: dict[str, set[str | None]] = {}
    with env.auto_time_skipping_disabled():  # nobody goes silent in this simulation
        for at in range(0, len(emails), AT_ONCE):
            for email, variant in await asyncio.gather(
                *(
                    _one_ticket(env.client, task_queue, policy_id, email, accept, at + i)
                    for i, email in enumerate(emails[at : at + AT_ONCE])
                )
            ):
                seen.setdefault(email, set()).add(variant)
    # A customer who writes again is in the same variant (assigned by their CustomerKey).
    assert len(seen) == CUSTOMERS
    assert all(len(variants) == 1 and None not in variants for variants in seen.values())
    found = experiments.report(engine, created.id)
    for v in found.variants:  # shown with `pytest -s`, for the record
        print(v.name, v.tickets, v.rate, v.difference, found.verdict, found.needed_per_variant)
    return found


async def test_the_better_variant_wins_and_each_customer_keeps_theirs(
    own_time_skipping_env: WorkflowEnvironment,
    store_worker: Worker,
    sqlite_url: str,
    store: Engine,
    task_queue: str,
) -> None:
    report = await _simulate(
        own_time_skipping_env,
        store,
        task_queue,
        lambda policy_id, control: [
            VariantSpec(name="ten_percent", version=control),
            VariantSpec(name="twenty_five", source=keep_plan(policy_id, 25)),
        ],
        accept={"10%": 0.40, "25%": 0.60},
        seed=7,
    )
    control, treatment = report.variants
    assert control.tickets + treatment.tickets == TICKETS
    assert min(control.tickets, treatment.tickets) > TICKETS // 4  # an even split
    assert report.verdict == "winner", report.explanation
    assert report.leader == "twenty_five"
    assert treatment.difference is not None and treatment.difference.p_value < 0.05
    assert treatment.difference.low > 0
    assert control.rate is not None and treatment.rate is not None
    assert control.rate.low < 0.40 < control.rate.high
    assert treatment.rate.low < 0.60 < treatment.rate.high
    # Every ticket rated 3–5 at the end.
    assert treatment.csat is not None and 3 <= treatment.csat.estimate <= 5

    # Concluding: the loser is refused, nothing changes; the winner is published.
    with pytest.raises(StoreError) as refused:
        experiments.conclude(store, report.id, "ten_percent", "tests")
    assert refused.value.status == 409
    assert policy_store.get_policy(store, report.policy_id).version == control.version
    # The command line prints the same report.
    env = {"TICKETFLOW_DATABASE_URL": sqlite_url}
    get_settings.cache_clear()  # the CLI reads TICKETFLOW_DATABASE_URL from `env`
    printed = CliRunner().invoke(cli, ["experiments", "report", report.id, "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    assert ExperimentReport.model_validate_json(printed.output) == report
    table = CliRunner().invoke(cli, ["experiments", "report", report.id], env=env)
    assert "twenty_five" in table.output and "winner: twenty_five beats" in table.output
    get_settings.cache_clear()
    done = experiments.conclude(store, report.id, "twenty_five", "tests")
    assert done.status == "concluded" and done.winner == "twenty_five"
    assert policy_store.get_policy(store, report.policy_id).version == treatment.version


async def test_an_a_a_run_calls_no_winner(
    own_time_skipping_env: WorkflowEnvironment,
    store_worker: Worker,
    store: Engine,
    task_queue: str,
) -> None:
    report = await _simulate(
        own_time_skipping_env,
        store,
        task_queue,
        lambda policy_id, control: [
            VariantSpec(name="a", version=control),
            VariantSpec(name="a_again", version=control),
        ],
        accept={"10%": 0.5},
        seed=11,
    )
    assert sum(v.tickets for v in report.variants) == TICKETS
    assert report.verdict == "no_difference", report.explanation
    assert report.leader is None
    with pytest.raises(StoreError) as refused:
        experiments.conclude(store, report.id, "a_again", "tests")
    assert refused.value.status == 409 and "do not support" in refused.value.detail
