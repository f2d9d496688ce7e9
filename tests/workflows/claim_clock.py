"""Claim tests on skipped time: a claim filed at the carrier, the carrier's clock, the
sweep's slots, the sweep's end."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.claim_sweep import sweep_workflow_id
from activities.platforms.easypost import EasyPostConnector
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings
from workflows.claim_models import next_sweep

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


async def file_claim(settings: Settings, key: str) -> str:
    """A claim on jo's tracker, filed straight at the sandbox carrier under `key`."""
    easypost = EasyPostConnector(settings.easypost)
    try:
        await easypost.track("9400100000000000009001")
        response = await easypost.request(
            "POST",
            "/claims",
            json={
                "type": "theft",
                "tracking_code": "9400100000000000009001",
                "amount": "30.00",
                "description": f"filed by the test [ticketflow:{key}]",
            },
        )
        return str(response.json()["id"])
    finally:
        await easypost.aclose()


async def carrier_clock_follows(env: WorkflowEnvironment, sandbox: SandboxControl) -> None:
    """Set the sandbox carrier's clock to Temporal's (skipped) time: the carrier stamps a
    change with its own clock, the sweep compares it with its slots."""
    now = await env.get_current_time()
    carrier = datetime.fromisoformat(sandbox.client.get("/_sandbox/clock").json()["now"])
    sandbox.advance(seconds=(now - carrier).total_seconds())


async def just_after_a_sweep_slot(env: WorkflowEnvironment, every: timedelta = DAY) -> datetime:
    """Skip to a minute after the next sweep slot, so the test's slots fall at known days."""
    target = next_sweep(await env.get_current_time(), every) + timedelta(minutes=1)
    # In steps of an hour at most: one long skip can outlast its call's deadline while the
    # server fires what earlier tests left behind.
    while (now := await env.get_current_time()) < target:
        await env.sleep(min(target - now, HOUR))
    return await env.get_current_time()


async def end_the_sweep(env: WorkflowEnvironment, task_queue: str, every: timedelta = DAY) -> None:
    """The sweep outlives the test's follow-ups (it ends after their deadlines): stop it."""
    try:
        await env.client.get_workflow_handle(sweep_workflow_id(task_queue, every)).terminate()
    except RPCError:
        pass  # it had ended, or never started
