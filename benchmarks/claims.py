"""1,000 concurrent carrier-claim follow-ups over 30 simulated days, under time skipping.

Each follow-up is a real `CarrierClaimWorkflow` following a real claim in the sandbox's
EasyPost emulator (over HTTP), checked every 24 h by the shared sweep (`ClaimSweepWorkflow`,
one walk of the carrier's claim list a day, on the same worker). The carrier never decides on its
own (the sandbox clock stays put); a third of the claims hear the carrier's webhook on a
random day (approved or rejected, through the `claim_update` signal), the rest run all
the way to the 30-day deadline: 30 checks each, the worst case.

    python -m benchmarks.claims [--claims 1000] [--days 30]

Prints the wall time and writes benchmarks/results/claims.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.claim_sweep import sweep_workflow_id
from activities.claims import ClaimActivities
from activities.platforms.easypost import EasyPostConnector
from benchmarks.harness import (
    console,
    encrypted,
    machine,
    sandbox_process,
    sandbox_server,
    table,
    write_results,
)
from sandbox.credentials import SANDBOX_EASYPOST_API_KEY
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import (
    ClaimFollowUpStart,
    ClaimResult,
    ClaimSignal,
    claim_workflow_id,
)
from workflows.claim_sweep import ClaimSweepWorkflow

TRACKING_CODE = "9400100000000000009001"  # jo's delivered parcel in the sandbox


async def file_claims(sandbox_url: str, count: int) -> list[str]:
    """`count` claims straight at the sandbox carrier (the follow-up, not filing, is measured)."""
    auth = httpx.BasicAuth(SANDBOX_EASYPOST_API_KEY, "")
    async with httpx.AsyncClient(base_url=f"{sandbox_url}/easypost", auth=auth) as http:
        tracker = {"tracker": {"tracking_code": TRACKING_CODE}}
        (await http.post("/trackers", json=tracker)).raise_for_status()
        gate = asyncio.Semaphore(20)

        async def one(i: int) -> str:
            async with gate:
                response = await http.post(
                    "/claims",
                    json={
                        "type": "theft",
                        "tracking_code": TRACKING_CODE,
                        "amount": "30.00",
                        "description": f"benchmark claim [ticketflow:bench/{i}]",
                    },
                )
                response.raise_for_status()
                return str(response.json()["id"])

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def run(
    claims: int, days: int, seed: int, step_hours: int = 1, sandbox_in_process: bool = False
) -> dict[str, object]:
    rng = random.Random(seed)
    # The carrier is a remote service: its emulator runs in a process of its own, unless
    # asked to share the worker's (as before issue 18's third round).
    with sandbox_server() if sandbox_in_process else sandbox_process() as sandbox_url:
        settings = Settings().for_sandbox(sandbox_url)
        claim_ids = await file_claims(sandbox_url, claims)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=wheel_binary("temporal-test-server"),
            data_converter=encrypted(),
        )
        try:
            task_queue = f"bench-claims-{uuid.uuid4().hex[:6]}"
            worker = Worker(
                env.client,
                task_queue=task_queue,
                workflows=[CarrierClaimWorkflow, ClaimSweepWorkflow],
                activities=ClaimActivities(EasyPostConnector(settings.easypost)).activities(),
                max_concurrent_activities=200,
            )
            # A third hear the carrier on a random day; the rest go to the deadline.
            decided = {
                i: (rng.randint(1, days - 1), rng.choice(["approved", "rejected"]))
                for i in rng.sample(range(claims), claims // 3)
            }
            async with worker:
                began = time.perf_counter()
                filed_at = await env.get_current_time()
                handles: list[WorkflowHandle[Any, ClaimResult]] = await asyncio.gather(
                    *(
                        env.client.start_workflow(
                            CarrierClaimWorkflow.run,
                            ClaimFollowUpStart(
                                claim_id=claim_id,
                                carrier="USPS",
                                filed_at=filed_at,
                                deadline=timedelta(days=days),
                            ),
                            # As a ticket's follow-up is named: the sweep finds it from the
                            # key on the claim (`bench/{i}`).
                            id=claim_workflow_id("bench", claim_id),
                            task_queue=task_queue,
                        )
                        for i, claim_id in enumerate(claim_ids)
                    )
                )
                started = time.perf_counter() - began
                for day in range(1, days):
                    # Short steps keep each time-skipping call short (a long one times out
                    # while the server works through a day of checks).
                    for hour in range(step_hours, 25, step_hours):
                        step = filed_at + timedelta(days=day - 1, hours=12 + hour)
                        await env.sleep(step - await env.get_current_time())
                    await asyncio.gather(
                        *(
                            handles[i].signal(
                                CarrierClaimWorkflow.claim_update, ClaimSignal(status=status)
                            )
                            for i, (on_day, status) in decided.items()
                            if on_day == day
                        )
                    )
                    if day % 5 == 0:
                        elapsed = time.perf_counter() - began
                        console.print(f"[dim]day {day}: {elapsed:.0f} s[/dim]")
                # Past the deadline every follow-up has ended; read the results without the
                # per-call time-skipping unlock (concurrent unlocks are refused).
                for hour in range(1, 37):
                    step = filed_at + timedelta(days=days - 1, hours=12 + hour)
                    await env.sleep(step - await env.get_current_time())
                with env.auto_time_skipping_disabled():
                    results: list[ClaimResult] = await asyncio.gather(
                        *(h.result() for h in handles)
                    )
                wall = time.perf_counter() - began
                events = await history_events(env, handles, decided)
                sweep = env.client.get_workflow_handle(
                    sweep_workflow_id(task_queue, timedelta(hours=24))
                )
                with env.auto_time_skipping_disabled():
                    sweep_events = len([e async for e in sweep.fetch_history_events()])
                    last_sweep = await sweep.query(ClaimSweepWorkflow.last_sweep)
        finally:
            await env.shutdown()
    resolutions = Counter(r.resolution for r in results)
    checks = sum(r.checks for r in results)
    simulated = max(r.history[-1].at for r in results) - filed_at
    return {
        "claims": claims,
        "simulated_days": round(simulated / timedelta(days=1), 2),
        "wall_seconds": round(wall, 1),
        "start_seconds": round(started, 1),
        "checks": checks,
        "checks_per_second": round(checks / wall, 1),
        "resolutions": dict(resolutions),
        # What a claim-month costs the server: the history of a follow-up that ran all 30
        # days (the worst case) and the mean over a sample of all of them.
        "history_events_per_claim_month": events,
        # The one sweep that looked at all of them daily (its run so far).
        "sweep": {
            "history_events": sweep_events,
            "last_sweep": last_sweep.model_dump() if last_sweep else None,
        },
    }


async def history_events(
    env: WorkflowEnvironment,
    handles: list[WorkflowHandle[Any, ClaimResult]],
    decided: dict[int, tuple[int, str]],
) -> dict[str, float]:
    with env.auto_time_skipping_disabled():
        full = [i for i in range(len(handles)) if i not in decided][:10]
        sample = list(range(0, len(handles), max(1, len(handles) // 20)))
        counts = {}
        for i in {*full, *sample}:
            counts[i] = len([e async for e in handles[i].fetch_history_events()])
    return {
        "deadline_claim": max(counts[i] for i in full) if full else 0,
        "mean_of_sample": round(sum(counts[i] for i in sample) / len(sample), 1),
    }


def add_targets(figures: dict[str, Any]) -> None:
    """Issue 18's P4: the wall-time target is for 1,000 claims (a smaller run is not
    judged on it)."""
    events = figures["history_events_per_claim_month"]["deadline_claim"]
    figures["ratios"] = {
        "events_per_claim_month_vs_150": round(events / 150, 2),
        "wall_seconds_per_1000_claims_vs_120": round(
            figures["wall_seconds"] / max(figures["claims"], 1) * 1000 / 120, 2
        ),
    }
    figures["targets"] = {
        "history_events_per_claim_month_le_150": events <= 150,
        "wall_le_120s_for_1000_claims": (
            figures["wall_seconds"] <= 120 if figures["claims"] >= 1000 else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--step-hours", type=int, default=1, help="simulated hours per time-skipping step"
    )
    parser.add_argument(
        "--sandbox-in-process",
        action="store_true",
        help="run the carrier emulator in a thread of this process (it then shares the "
        "worker's GIL, as before issue 18's third round)",
    )
    args = parser.parse_args()
    figures = asyncio.run(
        run(args.claims, args.days, args.seed, args.step_hours, args.sandbox_in_process)
    )
    add_targets(figures)
    table(
        f"{args.claims} claim follow-ups over {args.days} simulated days (time skipping)",
        ["figure", "value"],
        [[k, str(v)] for k, v in figures.items()],
    )
    console.print(f"wall time: {figures['wall_seconds']} s on {machine()['nproc']} cores")
    write_results(
        "claims",
        f"python -m benchmarks.claims --claims {args.claims} --days {args.days} "
        f"--step-hours {args.step_hours}"
        + (" --sandbox-in-process" if args.sandbox_in_process else ""),
        {
            "claims": args.claims,
            "days": args.days,
            "seed": args.seed,
            "check_every": "24h",
            "step_hours": args.step_hours,
            "sandbox": "in process" if args.sandbox_in_process else "own process",
        },
        figures,
    )


if __name__ == "__main__":
    main()
