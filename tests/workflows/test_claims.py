"""Carrier-claim follow-ups under time skipping: days and weeks in seconds.

The carrier is the sandbox's EasyPost emulator over real HTTP. Its claims move on the
sandbox clock (in review one sandbox day after filing, decided three days after: rejected
when the delivery was signed for, approved otherwise), so each test moves that clock in
step with Temporal's skipped time, or lets a (verified) webhook bring the decision in.

The library's #reshipment policy is Stay AI only, while `shipment_not_received` is Skio
(jo's order 9001). To see a replacement order actually created after an approval, the
reship test runs a Stay AI copy of the claim policy for sam's order 7001 (delivered,
signed for: the sandbox would reject that claim on its own, so its approval on day 9
arrives as the carrier's webhook). jo's end-to-end conversation runs the library as is.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from rich.console import Console
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.policy_store import PolicyActivities
from policies.library import DEFAULT_LIBRARY_DIR, load_library
from tests.codec_keys import codec_converter
from tests.sandbox_fixtures import SandboxControl
from tests.workflows.claim_clock import (
    carrier_clock_follows,
    end_the_sweep,
    file_claim,
    just_after_a_sweep_slot,
)
from ticketflow.conversation_tests import start_time_skipping_server
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows import search_attributes as sa
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_messages import wants_claim_cancelled
from workflows.claim_models import (
    ClaimFollowUpStart,
    ClaimResult,
    claim_workflow_id,
    next_sweep,
)
from workflows.claims_cli import OpenClaim, open_claims, render
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    ClaimUpdate,
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TranscriptEntry,
    ticket_workflow_id,
)
from workflows.worker import WORKFLOWS, ticket_activities

DAY = timedelta(days=1)
JO = Customer(email="jo@example.com")
T = TypeVar("T")
# Checks land in the first tenth of their day; a few hours past the day has seen it.
PAST = timedelta(hours=4)

STAYAI_CLAIM_POLICY = """\
---
id: shipment_not_received_stayai
title: Shipment not received, Stay AI store (test copy)
ticket_types: [Stay AI shipment not received]
triggers: [stay ai parcel never came]
platforms: [stayai, kustomer]
---
## Logic

1. Ask for the customer's email address.
2. Ask for the order number of the missing shipment.
3. Use @stayai_order_details(order_id: str) to load the order.
4. Use @get_tracking_info(order_id: str) to read the carrier's tracking.
5. If tracking confirms delivery:
   - Use @file_carrier_claim(order_id: str) to open a claim with the carrier.
   - Let the customer know that we will follow up as soon as the carrier resolves the claim.
     - If the claim is approved: Proceed with #Reshipment.
     - If the claim is rejected: Route the case to an agent to decide on a goodwill gesture.
"""


@pytest.fixture(scope="module")
def claim_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled library plus the Stay AI copy of the claim policy."""
    root = tmp_path_factory.mktemp("library")
    for path in DEFAULT_LIBRARY_DIR.glob("*.md"):
        shutil.copy(path, root / path.name)
    (root / "shipment_not_received_stayai.md").write_text(STAYAI_CLAIM_POLICY)
    return root


@pytest_asyncio.fixture(loop_scope="session")
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server for each test here (not one per module): each test skips to a sweep
    slot before it starts, and a skip on a server that earlier tests' workflows still hold
    can stall past its call's deadline."""
    env = await start_time_skipping_server(codec_converter())
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def claim_worker(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    claim_library: Path,
    sandbox: SandboxControl,
) -> AsyncIterator[Worker]:
    """The worker, on skipped time that starts a minute after a sweep slot (the daily
    sweep then looks at a claim filed in the test a day after, at about the same time),
    with the carrier's clock set to Temporal's."""
    policies = PolicyActivities(load_library(claim_library))
    worker = Worker(
        own_time_skipping_env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings, policies=policies),
    )
    async with worker:
        await just_after_a_sweep_slot(own_time_skipping_env)
        await carrier_clock_follows(own_time_skipping_env, sandbox)
        yield worker
    await end_the_sweep(own_time_skipping_env, task_queue)


class Ticket:
    """A web-channel ticket driven by signals, read by queries, on skipped time."""

    def __init__(
        self, env: WorkflowEnvironment, handle: WorkflowHandle, started_at: datetime
    ) -> None:
        self.env = env
        self.handle = handle
        self.started_at = started_at
        self.turns = 0

    @classmethod
    async def open(
        cls, env: WorkflowEnvironment, task_queue: str, email: str, policy_id: str | None = None
    ) -> Ticket:
        external_id = uuid.uuid4().hex[:8]
        handle = await env.client.start_workflow(
            TicketWorkflow.run,
            TicketStart(
                helpdesk="web",
                external_id=external_id,
                customer=Customer(email=email),
                policy_id=policy_id,
            ),
            id=ticket_workflow_id("web", external_id),
            task_queue=task_queue,
        )
        return cls(env, handle, await env.get_current_time())

    async def say(self, text: str) -> list[str]:
        """The customer writes; returns what the bot answered to that message."""
        self.turns += 1
        await self.handle.signal(
            TicketWorkflow.customer_message,
            CustomerMessage(message_id=f"m{self.turns}", text=text),
        )
        await self.env.sleep(timedelta(seconds=5))
        transcript = await self.transcript()
        mine = max(i for i, e in enumerate(transcript) if e.message_id == f"m{self.turns}")
        return [e.text for e in transcript[mine + 1 :] if e.role == "bot"]

    async def until_day(self, day: float) -> None:
        """Skip Temporal time to `day` days (plus a few hours) after the ticket opened."""
        target = self.started_at + timedelta(days=day) + PAST
        now = await self.env.get_current_time()
        if target > now:
            await self.env.sleep(target - now)

    async def transcript(self) -> list[TranscriptEntry]:
        return await self.handle.query(TicketWorkflow.transcript)

    async def bot_says(self) -> list[str]:
        return [e.text for e in await self.transcript() if e.role == "bot"]

    async def system_notes(self) -> list[str]:
        return [e.text for e in await self.transcript() if e.role == "system"]

    async def claim_checks(self) -> list[str]:
        return [
            r.detail
            for r in await self.handle.query(TicketWorkflow.trace)
            if r.kind == "claim_check"
        ]

    async def claim_id(self) -> str:
        for text in await self.bot_says():
            if "(reference " in text:
                return text.split("(reference ", 1)[1].split(")", 1)[0]
        raise AssertionError("no claim was filed")

    async def follow_up(self) -> WorkflowHandle:
        claim_id = await self.claim_id()
        return self.env.client.get_workflow_handle_for(
            CarrierClaimWorkflow.run, claim_workflow_id(self.handle.id, claim_id)
        )

    async def status(self) -> TicketStatus:
        return (await self.handle.query(TicketWorkflow.state)).status


async def _jo_files_a_claim(ticket: Ticket) -> None:
    """The scripted conversation: tracking says delivered, jo says it never came."""
    asked = await ticket.say("My order says delivered but it isn't here")
    assert any("order number" in r for r in asked), asked
    asked = await ticket.say("It's order 9001")
    assert any("neighbours" in r for r in asked), asked
    asked = await ticket.say("Yes, I checked everywhere")
    assert any("still missing" in r for r in asked), asked
    filed = await ticket.say("Yes, it is still missing")
    assert any("opening an investigation with the carrier" in r for r in filed), filed
    assert any("follow up as soon as the carrier resolves" in r for r in filed), filed
    assert any("is filed (reference clm_" in r for r in filed), filed
    assert await ticket.status() == TicketStatus.WAITING_CLAIM


async def _sam_files_a_claim(ticket: Ticket) -> None:
    filed = await ticket.say("My parcel never came, order 7001")
    assert any("is filed (reference clm_" in r for r in filed), filed
    assert await ticket.status() == TicketStatus.WAITING_CLAIM


async def test_claim_approved_on_day_9_reships_exactly_once(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    ticket = await Ticket.open(
        own_time_skipping_env, task_queue, "sam@example.com", "shipment_not_received_stayai"
    )
    await _sam_files_a_claim(ticket)
    sandbox.advance(days=1)  # the carrier starts its review
    await ticket.until_day(1)
    assert any("now reviewing the claim" in t for t in await ticket.bot_says())

    await ticket.until_day(8)
    assert await ticket.status() == TicketStatus.WAITING_CLAIM
    assert any("Still working on it" in t for t in await ticket.bot_says())
    await ticket.until_day(8.75)
    # Day 9: the carrier's claim.approved webhook (the API signals the ticket) wakes the
    # follow-up at once, hours before its next scheduled check.
    await ticket.handle.signal(
        TicketWorkflow.claim_update,
        ClaimUpdate(claim_id=await ticket.claim_id(), status="approved", approved_amount=42.0),
    )
    await own_time_skipping_env.sleep(timedelta(seconds=5))
    said = await ticket.bot_says()
    assert any("Good news: the carrier approved the claim" in t for t in said), said[-3:]
    # #reshipment has started; its "what went wrong?" is answered by what the customer said
    # before (the parcel never arrived), so its first question is where to send it.
    assert not any("what went wrong" in t for t in said)
    assert "address we have on file" in said[-1]
    result: ClaimResult = await (await ticket.follow_up()).result()
    assert (result.resolution, result.checks) == ("approved", 8)
    assert result.history[-1].source == "webhook"
    # Looks that change nothing are counted, not traced: the change, the weekly note, the
    # webhook.
    checks = await ticket.claim_checks()
    assert checks == [
        "check: in_review (was submitted)",
        "check: in_review",
        "webhook: approved (was in_review)",
    ]
    trace = await ticket.handle.query(TicketWorkflow.trace)
    handovers = [r.detail for r in trace if r.kind == "use_policy" and r.status == "ran"]
    assert handovers == ["hand over to reshipment"]

    asked = await ticket.say("Lost in transit")
    assert any("address we have on file" in r for r in asked), asked
    done = await ticket.say("yes, same address")
    assert any("Your replacement order" in r for r in done), done
    outcome = await ticket.handle.result()
    assert outcome.outcome == "reshipped"
    assert len(sandbox.side_effects("stayai", "order.create")) == 1
    assert len(sandbox.side_effects("easypost", "claim.create")) == 1


async def test_claim_rejected_on_day_4_escalates_with_its_history(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    ticket = await Ticket.open(
        own_time_skipping_env, task_queue, "sam@example.com", "shipment_not_received_stayai"
    )
    await _sam_files_a_claim(ticket)
    sandbox.advance(days=1)
    await ticket.until_day(3)
    assert await ticket.status() == TicketStatus.WAITING_CLAIM
    sandbox.advance(days=2)  # decided: the delivery was signed for, so rejected
    await ticket.until_day(4)

    assert await ticket.status() == TicketStatus.ESCALATED
    assert any("the carrier turned down claim" in t for t in await ticket.bot_says())
    notes = await ticket.system_notes()
    history = next(n for n in notes if n.startswith("Carrier claim clm_"))
    assert "check rejected" in history and "check in_review" in history
    assert "(4 scheduled checks in all.)" in history
    assert any("Handed over by ticketflow" in n and "goodwill" in n for n in notes)
    checks = await ticket.claim_checks()
    assert checks == ["check: in_review (was submitted)", "check: rejected (was in_review)"]
    result: ClaimResult = await (await ticket.follow_up()).result()
    assert result.resolution == "rejected"
    assert sandbox.side_effects("stayai", "order.create") == []
    await ticket.handle.terminate("test over")


async def test_claim_never_decided_reaches_the_30_day_deadline(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    ticket = await Ticket.open(own_time_skipping_env, task_queue, "jo@example.com")
    await _jo_files_a_claim(ticket)  # the sandbox clock stays put: the carrier never decides
    await ticket.until_day(10)
    answer = await ticket.say("Is there any news about my claim?")
    assert len(answer) == 1 and "is still open: the carrier has received the claim" in answer[0]
    # The day-10 look reported nothing (nothing changed), yet the answer knows it happened.
    day_10 = ticket.started_at + 10 * DAY
    assert f"(last checked {day_10:%b %d}, " in answer[0], answer[0]
    view = await (await ticket.follow_up()).query(CarrierClaimWorkflow.status)
    assert view.status == "submitted"
    # Its looks run between the workflow's steps: the view says how far they got by now.
    now = await own_time_skipping_env.get_current_time()
    seen = view.as_of(now)
    assert seen.checks == 10, (view, now)
    # At the next daily sweep: tomorrow, at the same moment as today's.
    assert seen.next_check_at is not None
    assert now < seen.next_check_at <= now + DAY
    assert seen.next_check_at == next_sweep(now, DAY)

    await ticket.until_day(30)
    assert await ticket.status() == TicketStatus.ESCALATED
    said = await ticket.bot_says()
    assert sum("Still working on it" in t for t in said) == 4  # days 7, 14, 21, 28
    assert "still hasn't decided claim" in said[-1]
    handover = next(n for n in await ticket.system_notes() if "Handed over" in n)
    assert "did not decide the claim in time" in handover
    # Each of the 30 daily sweeps looked at it, and the follow-up looked once more at the
    # deadline before handing over.
    assert "(31 scheduled checks in all.)" in handover and "no decision after 30 days" in handover
    result: ClaimResult = await (await ticket.follow_up()).result()
    assert (result.resolution, result.checks) == ("deadline", 31)
    assert len(sandbox.side_effects("easypost", "claim.create")) == 1
    await ticket.handle.terminate("test over")


async def test_jo_end_to_end_claim_approved_on_the_sandbox_clock(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    """The scripted conversation with the library as is: the carrier reviews after one
    sandbox day and approves after three; the ticket hands over to the reshipment policy
    once, and one replacement order is created."""
    ticket = await Ticket.open(own_time_skipping_env, task_queue, "jo@example.com")
    await _jo_files_a_claim(ticket)
    sandbox.advance(days=1)
    await ticket.until_day(1)
    assert "the carrier is now reviewing the claim" in (await ticket.bot_says())[-1]
    sandbox.advance(days=2)  # three sandbox days since filing: approved
    await ticket.until_day(2)

    said = await ticket.bot_says()
    assert "Good news: the carrier approved the claim" in said[-2]
    assert "address we have on file" in said[-1]
    done = await ticket.say("Yes, the address on file")
    assert any("Your replacement order" in r for r in done), done
    outcome = await ticket.handle.result()
    assert outcome.outcome == "reshipped"

    trace = await ticket.handle.query(TicketWorkflow.trace)
    handovers = [r.detail for r in trace if r.kind == "use_policy" and r.status == "ran"]
    assert len(handovers) == 1 and handovers[0].startswith("hand over to reshipment")
    checks = [r.detail for r in trace if r.kind == "claim_check"]
    assert checks == ["check: in_review (was submitted)", "check: approved (was in_review)"]
    assert len(sandbox.side_effects("easypost", "claim.create")) == 1
    assert len(sandbox.side_effects("shopify", "orderCreate")) == 1


async def test_customer_withdraws_the_claim_when_the_parcel_turns_up(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    ticket = await Ticket.open(own_time_skipping_env, task_queue, "jo@example.com")
    await _jo_files_a_claim(ticket)
    await ticket.until_day(2)
    answer = await ticket.say("Good news, the parcel turned up at a neighbour's. Cancel the claim.")
    assert answer and "asked the carrier to withdraw claim" in answer[0]
    outcome = await ticket.handle.result()
    assert (outcome.outcome, outcome.status) == ("resolved", TicketStatus.RESOLVED)
    assert any("is withdrawn" in t for t in await ticket.bot_says())
    assert len(sandbox.side_effects("easypost", "claim.cancel")) == 1
    result: ClaimResult = await (await ticket.follow_up()).result()
    assert result.resolution == "cancelled" and result.history[-1].source == "cancel"


async def test_closing_the_ticket_while_the_carrier_decides_ends_it_and_its_follow_up(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox: SandboxControl,
) -> None:
    ticket = await Ticket.open(own_time_skipping_env, task_queue, "jo@example.com")
    await _jo_files_a_claim(ticket)
    await ticket.until_day(3)
    await ticket.handle.signal(TicketWorkflow.close)
    outcome = await asyncio.wait_for(ticket.handle.result(), timeout=30)
    assert outcome.status == TicketStatus.RESOLVED
    result: ClaimResult = await asyncio.wait_for((await ticket.follow_up()).result(), timeout=30)
    # The follow-up stops; the claim stays with the carrier (nobody withdrew it).
    assert result.resolution == "ticket_closed"
    assert sandbox.side_effects("easypost", "claim.cancel") == []


async def test_follow_up_continues_as_new_and_keeps_its_history(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    claim_worker: Worker,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    """Standalone (no ticket), with a tiny history budget: the checks span several runs."""
    claim_id = await file_claim(sandbox_settings, f"test/{uuid.uuid4().hex}")
    env = own_time_skipping_env
    handle = await env.client.start_workflow(
        CarrierClaimWorkflow.run,
        ClaimFollowUpStart(
            claim_id=claim_id,
            filed_at=await env.get_current_time(),
            deadline=timedelta(days=12),
            max_history_events=10,  # a follow-up on the sweep writes few events
        ),
        id=f"claim-standalone-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
    )
    first_run = handle.result_run_id
    result: ClaimResult = await handle.result()
    # 12 daily sweeps, and the last look at the deadline.
    assert (result.resolution, result.checks) == ("deadline", 13)
    assert [c.source for c in result.history][:2] == ["filed", "check"]
    first = env.client.get_workflow_handle(handle.id, run_id=first_run)
    assert (await first.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW


async def test_claims_command_lists_open_claims_with_age_and_next_check(
    dev_client: Client,
    dev_settings: Settings,
    dev_worker: Worker,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    """`ticketflow claims` on the dev server: visibility finds it, its query describes it."""
    claim_id = await file_claim(sandbox_settings, f"test/{uuid.uuid4().hex}")
    filed_at = datetime.now(UTC) - timedelta(hours=3)
    handle = await dev_client.start_workflow(
        CarrierClaimWorkflow.run,
        ClaimFollowUpStart(claim_id=claim_id, carrier="USPS", filed_at=filed_at),
        id=f"claim-cli-{uuid.uuid4().hex[:6]}",
        task_queue=dev_settings.task_queue,
    )
    try:
        mine: list[OpenClaim] = []
        for _ in range(100):  # visibility is eventually consistent
            claims = await open_claims(dev_client)
            mine = [c for c in claims if c.workflow_id == handle.id and c.view]
            if mine and mine[0].view and mine[0].view.next_check_at:
                break
            await asyncio.sleep(0.1)
        view = mine[0].view
        assert view is not None and view.next_check_at is not None
        assert (view.claim_id, view.status, view.checks) == (claim_id, "submitted", 0)
        # The next look is the daily sweep's next slot (00:00 UTC) after filing.
        assert view.next_check_at == next_sweep(filed_at, timedelta(days=1))
        console = Console(width=200, record=True)
        console.print(render(claims, datetime.now(UTC)))
        row = next(line for line in console.export_text().splitlines() if claim_id in line)
        assert "submitted" in row and "3h 0m" in row and " in " in row
    finally:
        await handle.terminate("test over")


async def _until(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 30.0) -> T:
    """Poll `probe()` (real time, on the dev server) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.mark.e2e
async def test_follow_up_survives_a_dev_server_and_worker_restart(
    tmp_path: Path,
    claim_library: Path,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    """A claim waits on a real dev server (persistent SQLite file) with checks every 3 s;
    the worker and the server stop and start again; then the carrier approves: the
    follow-up notices once, the customer hears once, one replacement order is created."""
    library = tmp_path / "library"
    shutil.copytree(claim_library, library)
    policy = library / "shipment_not_received.md"
    policy.write_text(
        policy.read_text().replace("reminder_after:", "claim_check_every: 3s\nreminder_after:", 1)
    )
    database = tmp_path / "temporal.db"
    task_queue = f"tq-restart-{uuid.uuid4().hex[:6]}"

    async def server() -> WorkflowEnvironment:
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=wheel_binary("temporal"),
            dev_server_database_filename=str(database),
            search_attributes=list(sa.ALL_KEYS),
            data_converter=codec_converter(),
            dev_server_log_level="error",
        )

    def worker(env: WorkflowEnvironment) -> Worker:
        policies = PolicyActivities(load_library(library))
        return Worker(
            env.client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=ticket_activities(sandbox_settings, policies=policies),
        )

    async def transcript(env: WorkflowEnvironment) -> list[TranscriptEntry]:
        return await env.client.get_workflow_handle(ticket_id).query(TicketWorkflow.transcript)

    async def say(env: WorkflowEnvironment, n: int, text: str) -> list[str]:
        handle = env.client.get_workflow_handle(ticket_id)
        await handle.signal(
            TicketWorkflow.customer_message, CustomerMessage(message_id=f"m{n}", text=text)
        )

        async def answered() -> list[str] | None:
            entries = await transcript(env)
            mine = [i for i, e in enumerate(entries) if e.message_id == f"m{n}"]
            after = [e.text for e in entries[mine[0] + 1 :] if e.role == "bot"] if mine else []
            return after or None

        return list(await _until(answered, f"an answer to {text!r}"))

    external_id = uuid.uuid4().hex[:8]
    ticket_id = ticket_workflow_id("web", external_id)
    env = await server()
    try:
        async with worker(env):
            await env.client.start_workflow(
                TicketWorkflow.run,
                TicketStart(
                    helpdesk="web",
                    external_id=external_id,
                    customer=Customer(email="jo@example.com"),
                ),
                id=ticket_id,
                task_queue=task_queue,
            )
            await say(env, 1, "My order says delivered but it isn't here")
            await say(env, 2, "It's order 9001")
            await say(env, 3, "Yes, I checked everywhere")
            filed = await say(env, 4, "Yes, it is still missing")
            assert any("every 3 seconds" in r for r in filed), filed

            reference = next(r for r in filed if "(reference " in r)
            claim_id = reference.split("(reference ", 1)[1].split(")", 1)[0]
            follow_up = env.client.get_workflow_handle(claim_workflow_id(ticket_id, claim_id))

            async def checked() -> bool:
                # Unchanged looks are not reported: the follow-up's own view counts them.
                view = await follow_up.query(CarrierClaimWorkflow.status)
                return view.as_of(datetime.now(UTC)).checks > 0

            await _until(checked, "a first claim check")
    finally:
        await env.shutdown()  # worker and dev server both gone; the claim is mid-wait

    env = await server()
    try:
        async with worker(env):
            handle = env.client.get_workflow_handle_for(TicketWorkflow.run, ticket_id)
            assert (await handle.query(TicketWorkflow.state)).status == TicketStatus.WAITING_CLAIM
            sandbox.advance(days=4)  # the carrier reviews, then approves

            async def approved() -> list[str] | None:
                said = [e.text for e in await transcript(env) if e.role == "bot"]
                return said if any("address we have on file" in t for t in said) else None

            said = await _until(approved, "the approval and the reshipment's question")
            assert sum("Good news: the carrier approved the claim" in t for t in said) == 1
            done = await say(env, 5, "Yes, the address on file")
            assert any("Your replacement order" in r for r in done), done
            outcome = await handle.result()
            assert outcome.outcome == "reshipped"
            trace = await handle.query(TicketWorkflow.trace)
            assert sum(r.detail.startswith("check: approved") for r in trace) == 1
            assert sum(r.kind == "use_policy" and r.status == "ran" for r in trace) == 1
        assert len(sandbox.side_effects("easypost", "claim.create")) == 1
        assert len(sandbox.side_effects("shopify", "orderCreate")) == 1
    finally:
        await env.shutdown()


@pytest.mark.parametrize(
    ("text", "cancel"),
    [
        ("Please cancel the claim", True),
        ("I found the package!", True),
        ("My package never arrived", False),
        ("I never received the package", False),
        ("Don't cancel the claim, it's still missing", False),
        ("Any news on my claim?", False),
    ],
)
def test_what_counts_as_withdrawing_the_claim(text: str, cancel: bool) -> None:
    assert wants_claim_cancelled(text) is cancel
