"""The benchmark worker process: the production TicketWorkflow and activities (pointed at the
benchmark's sandbox) plus the hand-written baseline workflows, on one task queue.

    python -m benchmarks.worker --address 127.0.0.1:PORT --task-queue Q --sandbox-url URL
        [--plain-task-queue Q2]

Payloads on --task-queue are encrypted with TICKETFLOW_CODEC_KEYS (the harness sets it);
--plain-task-queue runs the same workflows and activities a second time, in the same process,
on a client without the codec (benchmarks/codec.py compares the two).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from benchmarks.baseline import BASELINE_WORKFLOWS
from ticketflow.logs import configure_logging
from ticketflow.settings import Settings
from workflows.payload_codec import data_converter
from workflows.worker import WORKFLOWS, ticket_activities, workflow_runner

log = logging.getLogger("benchmarks.worker")


async def serve(args: argparse.Namespace) -> None:
    options: dict[str, int] = {}
    if args.max_concurrent_workflow_tasks:
        options["max_concurrent_workflow_tasks"] = args.max_concurrent_workflow_tasks

    def worker(client: Client, task_queue: str) -> Worker:
        return Worker(
            client,
            task_queue=task_queue,
            workflows=[*WORKFLOWS, *BASELINE_WORKFLOWS],
            # As the production worker (workflows/worker.py); the baseline's module
            # (benchmarks.baseline) is not passed through: hand-written code gets the default.
            workflow_runner=workflow_runner(),
            activities=ticket_activities(Settings().for_sandbox(args.sandbox_url)),
            max_cached_workflows=args.max_cached_workflows,
            **options,  # type: ignore[arg-type]
        )

    client = await Client.connect(args.address, data_converter=data_converter(Settings()))
    workers = [worker(client, args.task_queue)]
    if args.plain_task_queue:
        plain = await Client.connect(args.address, data_converter=pydantic_data_converter)
        workers.append(worker(plain, args.plain_task_queue))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as running:
        for each in workers:
            await running.enter_async_context(each)
        log.info("benchmark worker ready on %s", args.task_queue)
        await stop.wait()
        log.info("benchmark worker stopping")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--sandbox-url", required=True)
    parser.add_argument("--max-cached-workflows", type=int, default=1000)
    parser.add_argument("--max-concurrent-workflow-tasks", type=int, default=0)
    parser.add_argument("--plain-task-queue", default="", help="also serve this queue, unencrypted")
    args = parser.parse_args()
    configure_logging(Settings(), service="benchmark-worker")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
