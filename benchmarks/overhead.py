"""Policy overhead: the 6-turn retention conversation through TicketWorkflow + the compiled
policy, against the same conversation hand-written (benchmarks/baseline.py), in one run.

    python -m benchmarks.overhead [--n 200] [--concurrency 50] [--profile]

Both run on the same dev server, worker process, sandbox and activities. Phases alternate
(ticketflow, baseline, ticketflow, baseline; N/2 conversations each) after a warm-up, so
drift on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType

from benchmarks.baseline import BaselineCancelWorkflow
from benchmarks.conversation import TURNS, converse
from benchmarks.harness import (
    RESULTS_DIR,
    Latencies,
    WorkerProcess,
    dev_server,
    ratio,
    reset_sandbox,
    sandbox_server,
    table,
    unique,
    write_results,
)
from workflows.ticket import TicketWorkflow

FLAVOURS: dict[str, tuple[Any, Any]] = {
    "ticketflow": (TicketWorkflow.run, TicketWorkflow.message),
    "baseline": (BaselineCancelWorkflow.run, BaselineCancelWorkflow.message),
}


class Phase:
    def __init__(self) -> None:
        self.turns = Latencies()
        self.by_turn: list[Latencies] = [Latencies() for _ in TURNS]
        self.tickets = 0
        self.seconds = 0.0
        self.last_id = ""


async def run_phase(
    client: Any, flavour: str, n: int, concurrency: int, task_queue: str, into: Phase
) -> None:
    run, update = FLAVOURS[flavour]
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            workflow_id, latencies, _ = await converse(
                client, run=run, update=update, task_queue=task_queue, prefix=flavour
            )
        into.last_id = workflow_id
        for index, seconds in enumerate(latencies):
            into.turns.add(seconds)
            into.by_turn[index].add(seconds)

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    into.seconds += time.perf_counter() - began
    into.tickets += n


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    logs = RESULTS_DIR / "logs"
    profile = RESULTS_DIR / "overhead-worker.collapsed" if args.profile else None
    phases = {name: Phase() for name in FLAVOURS}
    with sandbox_server() as sandbox_url:
        async with dev_server() as env:
            task_queue = unique("overhead")
            worker = WorkerProcess(
                address=env.client.service_client.config.target_host,
                task_queue=task_queue,
                sandbox_url=sandbox_url,
                log=logs / "overhead-worker.log",
                max_cached_workflows=args.cache,
                profile=profile,
            )
            worker.start()
            try:
                await worker.ready()
                warm = Phase()
                for flavour in FLAVOURS:
                    await run_phase(env.client, flavour, 10, 10, task_queue, warm)
                halves = [args.n // 2, args.n - args.n // 2]
                for count in halves:
                    for flavour in FLAVOURS:
                        reset_sandbox(sandbox_url)
                        await run_phase(
                            env.client,
                            flavour,
                            count,
                            args.concurrency,
                            task_queue,
                            phases[flavour],
                        )
                histories = {
                    name: await history_shape(env.client, phase.last_id)
                    for name, phase in phases.items()
                }
            finally:
                worker.stop()
    return report(args, phases, profile, histories)


async def history_shape(client: Any, workflow_id: str) -> dict[str, Any]:
    """What one conversation costs the server: events, workflow tasks, activity tasks."""
    events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
    kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events)
    return {
        "events": len(events),
        "workflow_tasks": kinds["WORKFLOW_TASK_COMPLETED"],
        "activity_tasks": kinds["ACTIVITY_TASK_SCHEDULED"],
        "local_activity_markers": kinds["MARKER_RECORDED"],
        "search_attribute_upserts": kinds["UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"],
    }


def report(
    args: argparse.Namespace,
    phases: dict[str, Phase],
    profile: Path | None,
    histories: dict[str, dict[str, Any]],
) -> dict:
    figures: dict[str, Any] = {"history_per_conversation": histories}
    for name, phase in phases.items():
        figures[name] = {
            "turn_latency": phase.turns.summary(),
            "tickets_per_s": round(phase.tickets / phase.seconds, 2),
            "turns_per_s": round(phase.turns.summary()["count"] / phase.seconds, 2),
            "p50_ms_by_turn": [t.ms(50) for t in phase.by_turn],
        }
    ft, fb = figures["ticketflow"], figures["baseline"]
    figures["ratios"] = {
        "p50": ratio(ft["turn_latency"]["p50_ms"], fb["turn_latency"]["p50_ms"]),
        "p95": ratio(ft["turn_latency"]["p95_ms"], fb["turn_latency"]["p95_ms"]),
        "p99": ratio(ft["turn_latency"]["p99_ms"], fb["turn_latency"]["p99_ms"]),
        "throughput": ratio(ft["tickets_per_s"], fb["tickets_per_s"]),
    }
    figures["targets"] = {
        "p50_overhead_le_10pct": figures["ratios"]["p50"] <= 1.10,
        "throughput_ge_90pct": figures["ratios"]["throughput"] >= 0.90,
    }
    if profile is not None:
        figures["worker_profile"] = str(profile)
    rows = []
    for label, key in (("p50 ms", "p50_ms"), ("p95 ms", "p95_ms"), ("p99 ms", "p99_ms")):
        rows.append(
            [
                f"turn latency {label}",
                ft["turn_latency"][key],
                fb["turn_latency"][key],
                ratio(ft["turn_latency"][key], fb["turn_latency"][key]),
            ]
        )
    rows.append(
        ["tickets/s", ft["tickets_per_s"], fb["tickets_per_s"], figures["ratios"]["throughput"]]
    )
    rows.append(["turns/s", ft["turns_per_s"], fb["turns_per_s"], ""])
    for index, text in enumerate(TURNS):
        rows.append(
            [
                f"turn {index + 1} p50 ms ({text!r})",
                ft["p50_ms_by_turn"][index],
                fb["p50_ms_by_turn"][index],
                ratio(ft["p50_ms_by_turn"][index], fb["p50_ms_by_turn"][index]),
            ]
        )
    for key in histories["ticketflow"]:
        tf_count, base_count = histories["ticketflow"][key], histories["baseline"][key]
        rows.append([f"history: {key.replace('_', ' ')}", tf_count, base_count, ""])
    table(
        f"overhead: N={args.n} conversations x {len(TURNS)} turns, concurrency {args.concurrency}",
        ["", "ticketflow", "baseline", "ratio"],
        rows,
    )
    command = f"python -m benchmarks.overhead --n {args.n} --concurrency {args.concurrency}"
    write_results(
        "overhead",
        command + (" --profile" if args.profile else ""),
        {
            "n": args.n,
            "concurrency": args.concurrency,
            "turns_per_conversation": len(TURNS),
            "max_cached_workflows": args.cache,
            "worker": "one `python -m benchmarks.worker` process; dev server in-memory",
            "bytecode_cache": "on for the worker (PYTHONPYCACHEPREFIX, see harness.py)",
            "order": "warm-up 10+10, then ticketflow/baseline alternating in two halves",
        },
        figures,
    )
    return figures


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=__doc__)
    result.add_argument("--n", type=int, default=200)
    result.add_argument("--concurrency", type=int, default=50)
    result.add_argument("--cache", type=int, default=1000, help="worker max_cached_workflows")
    result.add_argument("--profile", action="store_true", help="run the worker under py-spy")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return asyncio.run(main_async(parser().parse_args(argv)))


if __name__ == "__main__":
    main()
