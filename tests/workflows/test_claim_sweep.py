"""Claim follow-ups on the shared sweep, and their own looks, under time skipping.

The carrier is the sandbox's EasyPost emulator over real HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.claim_sweep import sweep_workflow_id
from activities.platforms.easypost import EasyPostConnector
from tests.history_events import replays
from tests.sandbox_fixtures import SandboxControl
from tests.workflows.claim_clock import (
    HOUR,
    carrier_clock_follows,
    end_the_sweep,
    file_claim,
    just_after_a_sweep_slot,
)
from ticketflow.settings import Settings
from workflows import claim_looks, claim_sweep
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import (
    ClaimCheck,
    ClaimFollowUpStart,
    ClaimSignal,
    claim_workflow_id,
    next_sweep,
)
from workflows.claim_sweep import ClaimSweepWorkflow
from workflows.worker import WORKFLOWS, ticket_activities, workflow_runner


async def test_a_look_the_carrier_leaves_unanswered_replays_as_it_ran(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A "check now" while the carrier hangs: the follow-up's own look (a local activity)
    gives up and the follow-up notes that the carrier did not answer. A local activity that
    timed out is an ActivityError live but a bare timeout failure when its marker is
    replayed: the replay (a worker restart, an eviction) must take the same way."""
    env = own_time_skipping_env
    monkeypatch.setattr(claim_looks, "CARRIER_TIMEOUT", timedelta(seconds=1))
    monkeypatch.setattr(claim_looks, "CARRIER_GIVE_UP", timedelta(seconds=2))
    # One try (the carrier retry policy's tries are real seconds apart: the test would wait
    # out the whole give-up); the timed-out try's marker is the same.
    monkeypatch.setattr(claim_looks, "CARRIER_RETRY", RetryPolicy(maximum_attempts=1))
    claim_id = await file_claim(sandbox_settings, f"test/{uuid.uuid4().hex}")
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings),
        workflow_runner=workflow_runner(),  # the project's modules passed through: patched
    )
    async with worker:
        handle = await env.client.start_workflow(
            CarrierClaimWorkflow.run,
            ClaimFollowUpStart(claim_id=claim_id, filed_at=await env.get_current_time()),
            id=f"claim-timeout-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(hours=1))
        sandbox.fault("easypost", latency_ms=1500)
        await handle.signal(CarrierClaimWorkflow.claim_update, ClaimSignal())
        history = await until_noted(handle, "did not answer")
        assert any("the carrier did not answer" in c.detail for c in history), history
        sandbox.fault("easypost", latency_ms=0)
        await replays(env, handle)
        await handle.terminate("test over")
    await end_the_sweep(env, task_queue)


async def until_noted(handle: WorkflowHandle, words: str) -> list[ClaimCheck]:
    """The follow-up's history once a check notes `words` (or after 10 s, for the
    assertion to show what it holds)."""
    history: list[ClaimCheck] = []
    for _ in range(100):
        history = await handle.query(CarrierClaimWorkflow.history)
        if any(words in c.detail for c in history):
            break
        await asyncio.sleep(0.1)
    return history


async def events(handle: WorkflowHandle) -> int:
    return len([e async for e in handle.fetch_history_events()])


async def test_a_claim_changed_at_the_carrier_wakes_only_its_follow_up_at_the_next_sweep(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
) -> None:
    env = own_time_skipping_env
    tickets = [f"ticket-web-sweep{uuid.uuid4().hex[:6]}" for _ in range(3)]
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings),
    )
    try:
        async with worker:
            # Hourly checks: the carrier's clock moves by less than the day after which the
            # sandbox puts every claim in review, so only the claim the test changes changes.
            filed_at = await just_after_a_sweep_slot(env, HOUR)
            await carrier_clock_follows(env, sandbox)
            claims = [
                await file_claim(sandbox_settings, f"{t}/file_carrier_claim") for t in tickets
            ]
            handles = [
                await env.client.start_workflow(
                    CarrierClaimWorkflow.run,
                    ClaimFollowUpStart(claim_id=claim, filed_at=filed_at, check_every=HOUR),
                    id=claim_workflow_id(ticket, claim),
                    task_queue=task_queue,
                )
                for ticket, claim in zip(tickets, claims, strict=True)
            ]
            first_slot = next_sweep(filed_at, HOUR)
            await env.sleep(first_slot + timedelta(minutes=10) - await env.get_current_time())
            # Someone withdraws the first claim at the carrier; the second hears a webhook.
            await carrier_clock_follows(env, sandbox)
            easypost = EasyPostConnector(sandbox_settings.easypost)
            await easypost.cancel_claim(claims[0], "withdrawn-elsewhere")
            await easypost.aclose()
            await handles[1].signal(
                CarrierClaimWorkflow.claim_update, ClaimSignal(status="in_review")
            )
            await env.sleep(timedelta(seconds=5))
            webhook = await handles[1].query(CarrierClaimWorkflow.history)
            assert [c.source for c in webhook][-1] == "webhook"  # at once, not at a sweep
            first = await handles[0].query(CarrierClaimWorkflow.status)
            assert first.status == "submitted"  # nobody looked at it since the change
            before = [await events(h) for h in handles]

            await env.sleep(
                first_slot + HOUR + timedelta(minutes=10) - await env.get_current_time()
            )
            result = await handles[0].result()
            assert result.resolution == "cancelled"
            noticed = result.history[-1]
            assert first_slot + HOUR <= noticed.at < first_slot + HOUR + timedelta(minutes=5)
            assert result.checks == 2  # the first slot's sweep, and the one that saw it
            # The others slept through the sweep: not one event more in their histories.
            assert [await events(h) for h in handles[1:]] == before[1:]
            # What `ticketflow claims` says of an unchanged one, ten minutes after the sweep.
            view = (await handles[2].query(CarrierClaimWorkflow.status)).as_of(
                first_slot + HOUR + timedelta(minutes=10)
            )
            assert (view.status, view.checks) == ("submitted", 2)
            assert view.next_check_at == first_slot + 2 * HOUR

            sweep = env.client.get_workflow_handle(sweep_workflow_id(task_queue, HOUR))
            last = await sweep.query(ClaimSweepWorkflow.last_sweep)
            assert last is not None and last.claims == 3  # one walk saw them all (one page)
            # The sweep's history names no ticket and no claim.
            history = (await sweep.fetch_history()).to_json()
            assert not any(i in history for i in [*tickets, *claims])
            for handle in handles:
                await replays(env, handle)
            await replays(env, sweep)
    finally:
        await end_the_sweep(env, task_queue, HOUR)


async def test_a_change_the_follow_up_could_not_read_is_read_at_the_next_sweep(
    own_time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    sandbox_settings: Settings,
    sandbox: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep saw the claim change, but the carrier hangs when the follow-up looks: the
    follow-up looks again at the next sweep (which does not wake it: the change is old news
    to the sweep) and then hears of the change."""
    env = own_time_skipping_env
    monkeypatch.setattr(claim_looks, "CARRIER_TIMEOUT", timedelta(seconds=1))
    monkeypatch.setattr(claim_looks, "CARRIER_GIVE_UP", timedelta(seconds=2))
    monkeypatch.setattr(claim_looks, "CARRIER_RETRY", RetryPolicy(maximum_attempts=1))
    monkeypatch.setattr(claim_sweep, "SWEEP_TIMEOUT", timedelta(seconds=30))
    ticket = f"ticket-web-sweep{uuid.uuid4().hex[:6]}"
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings),
        workflow_runner=workflow_runner(),  # the project's modules passed through: patched
    )
    try:
        async with worker:
            filed_at = await just_after_a_sweep_slot(env, HOUR)
            await carrier_clock_follows(env, sandbox)
            claim = await file_claim(sandbox_settings, f"{ticket}/file")
            handle = await env.client.start_workflow(
                CarrierClaimWorkflow.run,
                ClaimFollowUpStart(claim_id=claim, filed_at=filed_at, check_every=HOUR),
                id=claim_workflow_id(ticket, claim),
                task_queue=task_queue,
            )
            first_slot = next_sweep(filed_at, HOUR)
            await env.sleep(first_slot + timedelta(minutes=10) - await env.get_current_time())
            await carrier_clock_follows(env, sandbox)
            easypost = EasyPostConnector(sandbox_settings.easypost)
            await easypost.cancel_claim(claim, "withdrawn-elsewhere")
            await easypost.aclose()
            # Claim reads hang from now on (the sweep's list reads are not claim reads).
            sandbox.fault("easypost", latency_ms=1500)
            await env.sleep(first_slot + HOUR + timedelta(minutes=1) - await env.get_current_time())
            history = await until_noted(handle, "did not answer")
            assert any("did not answer" in c.detail for c in history), history
            sandbox.fault("easypost", latency_ms=0)
            result = await asyncio.wait_for(handle.result(), timeout=30)
            assert result.resolution == "cancelled"
            # At the next sweep's slot, not at the deadline a month later.
            noticed = result.history[-1]
            assert noticed.source == "check" and noticed.status == "cancelled"
            assert (
                first_slot + 2 * HOUR <= noticed.at < first_slot + 2 * HOUR + timedelta(minutes=10)
            )
            await replays(env, handle)
    finally:
        await end_the_sweep(env, task_queue, HOUR)
