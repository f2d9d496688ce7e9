"""The payload codec's cost: the overhead benchmark's 6-turn conversation through
TicketWorkflow with every payload AES-256-GCM encrypted, against the same conversation
with plain payloads, in one run.

    python -m benchmarks.codec [--n 100] [--concurrency 25]

One dev server, one sandbox, one worker process serving two task queues: one on a client
with the codec (as production runs), one on a client without. The load generator uses the
matching client for each. Phases alternate (encrypted, plain, plain, encrypted; N/2
conversations each) after a warm-up, so drift on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from benchmarks.conversation import TURNS
from benchmarks.harness import (
    RESULTS_DIR,
    WorkerProcess,
    dev_server,
    ratio,
    reset_sandbox,
    sandbox_server,
    table,
    unique,
    write_results,
)
from benchmarks.overhead import Phase, run_phase

MODES = ("encrypted", "plain")


async def history_bytes(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(event.ByteSize() for event in history.events)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    phases = {mode: Phase() for mode in MODES}
    with sandbox_server() as sandbox_url:
        async with dev_server() as env:
            address = env.client.service_client.config.target_host
            queues = {mode: unique(f"codec-{mode}") for mode in MODES}
            clients = {
                "encrypted": env.client,
                "plain": await Client.connect(address, data_converter=pydantic_data_converter),
            }
            worker = WorkerProcess(
                address=address,
                task_queue=queues["encrypted"],
                plain_task_queue=queues["plain"],
                sandbox_url=sandbox_url,
                log=RESULTS_DIR / "logs" / "codec-worker.log",
            )
            worker.start()
            try:
                await worker.ready()
                warm = Phase()
                for mode in MODES:
                    await run_phase(clients[mode], "ticketflow", 10, 10, queues[mode], warm)
                halves = [(args.n // 2, MODES), (args.n - args.n // 2, MODES[::-1])]
                for count, order in halves:  # each mode goes first once
                    for mode in order:
                        reset_sandbox(sandbox_url)
                        await run_phase(
                            clients[mode],
                            "ticketflow",
                            count,
                            args.concurrency,
                            queues[mode],
                            phases[mode],
                        )
                sizes = {
                    mode: await history_bytes(clients[mode], phases[mode].last_id) for mode in MODES
                }
            finally:
                worker.stop()
    return report(args, phases, sizes)


def report(args: argparse.Namespace, phases: dict[str, Phase], sizes: dict[str, int]) -> dict:
    figures: dict[str, Any] = {}
    for mode, phase in phases.items():
        figures[mode] = {
            "turn_latency": phase.turns.summary(),
            "tickets_per_s": round(phase.tickets / phase.seconds, 2),
            "turns_per_s": round(phase.turns.summary()["count"] / phase.seconds, 2),
            "history_bytes_per_conversation": sizes[mode],
        }
    enc, plain = figures["encrypted"], figures["plain"]
    figures["ratios"] = {
        key: ratio(enc["turn_latency"][f"{key}_ms"], plain["turn_latency"][f"{key}_ms"])
        for key in ("p50", "p95", "p99")
    }
    figures["ratios"]["throughput"] = ratio(enc["tickets_per_s"], plain["tickets_per_s"])
    figures["ratios"]["history_bytes"] = ratio(sizes["encrypted"], sizes["plain"])
    rows: list[list[Any]] = []
    for key in ("p50", "p95", "p99"):
        rows.append(
            [
                f"turn latency {key} ms",
                enc["turn_latency"][f"{key}_ms"],
                plain["turn_latency"][f"{key}_ms"],
                figures["ratios"][key],
            ]
        )
    rows.append(
        ["tickets/s", enc["tickets_per_s"], plain["tickets_per_s"], figures["ratios"]["throughput"]]
    )
    rows.append(["turns/s", enc["turns_per_s"], plain["turns_per_s"], ""])
    rows.append(
        ["history bytes / conversation", sizes["encrypted"], sizes["plain"],
         figures["ratios"]["history_bytes"]]
    )  # fmt: skip
    table(
        f"codec: N={args.n} conversations x {len(TURNS)} turns, concurrency {args.concurrency}",
        ["", "encrypted", "plain", "ratio"],
        rows,
    )
    write_results(
        "codec",
        f"python -m benchmarks.codec --n {args.n} --concurrency {args.concurrency}",
        {
            "n": args.n,
            "concurrency": args.concurrency,
            "turns_per_conversation": len(TURNS),
            "worker": "one `python -m benchmarks.worker` process serving both task queues",
            "order": "warm-up 10+10, then encrypted, plain, plain, encrypted (N/2 each)",
            "codec": "AES-256-GCM (workflows/payload_codec.py), failure attributes encoded",
        },
        figures,
    )
    return figures


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=__doc__)
    result.add_argument("--n", type=int, default=100)
    result.add_argument("--concurrency", type=int, default=25)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return asyncio.run(main_async(parser().parse_args(argv)))


if __name__ == "__main__":
    main()
