"""The ticketflow worker: ticket workflows and every activity they call."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from ticketflow.settings import Settings
from ticketflow.temporal_client import connect_temporal
from workflows.ticket import TicketWorkflow

log = logging.getLogger("ticketflow.worker")

WORKFLOWS: list[type] = [TicketWorkflow]


def build_worker(client: Client, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[],
    )


async def run_worker(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    client = await connect_temporal(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, settings):
        # `ticketflow dev` waits for this exact line before it calls the worker ready.
        log.info("worker ready on task queue %s", settings.task_queue)
        await stop.wait()
        log.info("worker stopping")
