"""Open tickets: 10,000 tickets started and left waiting for the customer, the worker's and
the dev server's memory once they settle, then replies to 500 random evicted tickets.

    python -m benchmarks.open_tickets [--n 10000] [--replies 500] [--cache 1000] [--profile]

Each ticket starts with signal-with-start ("I want to cancel order 5001"): the retention
policy loads order 5001 and offers the four options, then the ticket waits for the
customer's choice. The worker keeps at most `--cache` workflows in its sticky cache
(`max_cached_workflows`), so most tickets are evicted; replies go to tickets drawn from the
first half started (long evicted by the second half) and are answered by an update
(`"2"`: the faster-shipping offer, @bigcommerce_shipping_upgrade, ticket resolved): the
worker replays the ticket's history, runs the activity and answers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
from typing import Any

from temporalio.client import Client

from benchmarks.conversation import new_start
from benchmarks.harness import (
    RESULTS_DIR,
    Latencies,
    WorkerProcess,
    dev_server,
    dev_server_process,
    sandbox_server,
    table,
    unique,
    write_results,
)
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import CustomerMessage, TicketStatus

FIRST_MESSAGE = "I want to cancel order 5001"
REPLY = "2"
MIB = 2**20


async def start_tickets(client: Client, n: int, task_queue: str, concurrency: int) -> list[str]:
    ids: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        workflow_id, start = new_start(f"open{index:05d}")
        async with gate:
            await client.start_workflow(
                TicketWorkflow.run,
                start,
                id=workflow_id,
                task_queue=task_queue,
                start_signal="customer_message",
                start_signal_args=[CustomerMessage(message_id="m1", text=FIRST_MESSAGE)],
            )
        ids.append(workflow_id)

    await asyncio.gather(*(one(i) for i in range(n)))
    return sorted(ids)


async def wait_settled(client: Client, n: int, within: float) -> tuple[float, int]:
    """Until n tickets wait for the customer (visibility count), at most `within` s."""
    began = time.perf_counter()
    waiting = 0
    query = f'TicketStatus = "{TicketStatus.WAITING_CUSTOMER.value}"'
    while time.perf_counter() - began < within:
        waiting = (await client.count_workflows(query)).count
        if waiting >= n:
            break
        await asyncio.sleep(2)
    return time.perf_counter() - began, waiting


async def reply_to(
    client: Client, ids: list[str], concurrency: int, into: Latencies
) -> tuple[float, int]:
    gate = asyncio.Semaphore(concurrency)
    resolved = 0

    async def one(workflow_id: str) -> None:
        nonlocal resolved
        handle = client.get_workflow_handle(workflow_id)
        async with gate:
            began = time.perf_counter()
            result = await handle.execute_update(
                TicketWorkflow.message, CustomerMessage(message_id="m2", text=REPLY)
            )
            into.add(time.perf_counter() - began)
        resolved += result.status == TicketStatus.RESOLVED

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in ids))
    return time.perf_counter() - began, resolved


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    logs = RESULTS_DIR / "logs"
    latencies = Latencies()
    figures: dict[str, Any] = {}
    with sandbox_server() as sandbox_url:
        async with dev_server() as env:
            task_queue = unique("open")
            worker = WorkerProcess(
                address=env.client.service_client.config.target_host,
                task_queue=task_queue,
                sandbox_url=sandbox_url,
                log=logs / "open-tickets-worker.log",
                max_cached_workflows=args.cache,
                profile=RESULTS_DIR / "open-tickets-worker.collapsed" if args.profile else None,
            )
            worker.start()
            try:
                await worker.ready()
                server = dev_server_process(env)
                figures["worker_rss_mib_idle"] = round(worker.rss_bytes() / MIB, 1)
                began = time.perf_counter()
                ids = await start_tickets(env.client, args.n, task_queue, args.start_concurrency)
                figures["start_seconds"] = round(time.perf_counter() - began, 1)
                figures["starts_per_s"] = round(args.n / (time.perf_counter() - began), 1)
                settle, waiting = await wait_settled(env.client, args.n, args.settle_timeout)
                figures["settle_seconds"] = round(settle, 1)
                figures["tickets_waiting"] = waiting
                if waiting < args.n:
                    raise RuntimeError(f"only {waiting} of {args.n} tickets settled")
                gc.collect()
                await asyncio.sleep(5)
                figures["worker_rss_mib"] = round(worker.rss_bytes() / MIB, 1)
                if server is not None:
                    figures["dev_server_rss_mib"] = round(server.memory_info().rss / MIB, 1)
                first_half = ids[: len(ids) // 2]
                chosen = random.Random(args.seed).sample(first_half, args.replies)
                seconds, resolved = await reply_to(
                    env.client, chosen, args.reply_concurrency, latencies
                )
                figures["replies_resolved"] = resolved
                figures["reply_seconds"] = round(seconds, 1)
                figures["worker_rss_mib_after_replies"] = round(worker.rss_bytes() / MIB, 1)
            finally:
                worker.stop()
    figures["resume_latency"] = latencies.summary()
    add_targets(figures)
    report(args, figures)
    return figures


def add_targets(figures: dict[str, Any]) -> None:
    """Issue 18's P3, from the run's own figures."""
    figures["ratios"] = {
        "settle_vs_start": round(figures["settle_seconds"] / max(figures["start_seconds"], 0.1), 2)
    }
    figures["targets"] = {
        "worker_rss_le_1gib": figures["worker_rss_mib"] <= 1024,
        "resume_p99_le_200ms": figures["resume_latency"]["p99_ms"] <= 200,
        "settle_within_2x_start": figures["ratios"]["settle_vs_start"] <= 2,
    }


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    lat = figures["resume_latency"]
    table(
        f"open tickets: {args.n} waiting, worker cache {args.cache}, "
        f"{args.replies} replies at concurrency {args.reply_concurrency}",
        ["", "value"],
        [
            ["tickets started (signal-with-start)", args.n],
            ["start rate, tickets/s", figures["starts_per_s"]],
            ["settled (all waiting) after, s", figures["settle_seconds"]],
            ["worker RSS idle, MiB", figures["worker_rss_mib_idle"]],
            ["worker RSS with all open, MiB", figures["worker_rss_mib"]],
            ["dev server RSS, MiB", figures.get("dev_server_rss_mib", "n/a")],
            ["resume (evicted) p50 ms", lat["p50_ms"]],
            ["resume (evicted) p95 ms", lat["p95_ms"]],
            ["resume (evicted) p99 ms", lat["p99_ms"]],
            ["replies that resolved the ticket", figures["replies_resolved"]],
            ["worker RSS after replies, MiB", figures["worker_rss_mib_after_replies"]],
        ],
    )
    write_results(
        "open_tickets",
        f"python -m benchmarks.open_tickets --n {args.n} --replies {args.replies} "
        f"--cache {args.cache}",
        {
            "n": args.n,
            "replies": args.replies,
            "max_cached_workflows": args.cache,
            "start_concurrency": args.start_concurrency,
            "reply_concurrency": args.reply_concurrency,
            "first_message": FIRST_MESSAGE,
            "reply": REPLY,
            "replied_tickets": "random (seeded) from the first half started",
            "seed": args.seed,
            "bytecode_cache": "on for the worker (PYTHONPYCACHEPREFIX, see harness.py)",
        },
        figures,
    )


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=__doc__)
    result.add_argument("--n", type=int, default=10_000)
    result.add_argument("--replies", type=int, default=500)
    result.add_argument("--cache", type=int, default=1000, help="worker max_cached_workflows")
    result.add_argument("--start-concurrency", type=int, default=100)
    result.add_argument("--reply-concurrency", type=int, default=10)
    result.add_argument("--settle-timeout", type=float, default=1800)
    result.add_argument("--seed", type=int, default=8)
    result.add_argument("--profile", action="store_true", help="run the worker under py-spy")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return asyncio.run(main_async(parser().parse_args(argv)))


if __name__ == "__main__":
    main()
