"""Record one standalone claim follow-up that sleeps to its looks (histories/claim-follow-ups/).

    python -m tests.replay.record_claim_follow_up OUT.json

A 9-day deadline, a carrier webhook (in_review) on day 3.5, a "check now" on day 5.5, the
last look at the deadline; time skipping, the sandbox's EasyPost emulator in this process,
plain payloads (the pydantic data converter). Prints the ids and the event count for the
manifest. Run it on the code whose histories you want (old histories: on that commit).
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.claims import ClaimActivities
from activities.platforms.easypost import EasyPostConnector
from benchmarks.claims import file_claims
from benchmarks.harness import sandbox_server
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import ClaimFollowUpStart, ClaimSignal
from workflows.claim_sweep import ClaimSweepWorkflow


async def record() -> tuple[str, dict[str, object]]:
    with sandbox_server() as url:
        settings = Settings().for_sandbox(url)
        [claim_id] = await file_claims(url, 1)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=wheel_binary("temporal-test-server"),
            data_converter=pydantic_data_converter,
        )
        try:
            activities = ClaimActivities(EasyPostConnector(settings.easypost)).activities()
            workflows = [CarrierClaimWorkflow, ClaimSweepWorkflow]
            async with Worker(
                env.client, task_queue="record", workflows=workflows, activities=activities
            ):
                filed_at = await env.get_current_time()
                handle = await env.client.start_workflow(
                    CarrierClaimWorkflow.run,
                    ClaimFollowUpStart(
                        claim_id=claim_id,
                        carrier="USPS",
                        filed_at=filed_at,
                        deadline=timedelta(days=9),
                    ),
                    id=f"claim-replay-{uuid.uuid4().hex[:6]}",
                    task_queue="record",
                )
                for day, signal in ((3.5, ClaimSignal(status="in_review")), (5.5, ClaimSignal())):
                    moment = filed_at + timedelta(days=day)
                    await env.sleep(moment - await env.get_current_time())
                    await handle.signal(CarrierClaimWorkflow.claim_update, signal)
                result = await handle.result()
                history = await handle.fetch_history()
                return history.to_json(), {
                    "workflow_id": handle.id,
                    "run_id": handle.result_run_id,
                    "events": len(history.events),
                    "checks": result.checks,
                    "resolution": result.resolution,
                }
        finally:
            await env.shutdown()


if __name__ == "__main__":
    text, info = asyncio.run(record())
    Path(sys.argv[1]).write_text(text)
    print(json.dumps(info))
