"""What a cluster deployment runs besides the worker and the API: the one-shot setup job and
the health probes (deploy/compose.yaml, deploy/k8s).

`setup` does once, before any replica starts, what replicas racing each other should not:
migrate the app database, seed an empty policy store from the bundled library, and register
the search attributes the workflows set. The probes answer "is this process doing its job":
the API's ``/health`` (it reaches Temporal), and for a worker, whether Temporal has seen a
poller from this host on the task queue lately (a worker has no HTTP port of its own).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from ticketflow.settings import Settings
from workflows.temporal_client import ensure_search_attributes, tls_config

log = logging.getLogger("ticketflow.setup")


async def connect_plain(settings: Settings, *, wait_seconds: float = 0.0) -> Client:
    """A client without the payload codec (setup and probes read no payloads), retried
    while the frontend is still starting."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                tls=tls_config(settings),
                api_key=settings.temporal_api_key,
            )
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1.0)


async def set_up_cluster(settings: Settings, *, wait_seconds: float) -> list[str]:
    """Migrate and seed the app database, then register the missing search attributes
    (registration is idempotent); returns the attributes it registered."""
    from api.db import open_database
    from api.services.policy_store import import_on_first_start

    engine = open_database(settings.app_database_url)
    try:
        imported = import_on_first_start(engine, default_platforms=settings.default_platforms)
    finally:
        engine.dispose()
    log.info("app database migrated; %d library policies imported", len(imported))
    client = await connect_plain(settings, wait_seconds=wait_seconds)
    for _ in range(int(wait_seconds) + 1):
        try:
            registered = await ensure_search_attributes(client, create=True)
            break
        except RPCError as err:  # the namespace may not exist yet on a fresh server
            log.warning("search attributes not registered yet: %s", err.message)
            await asyncio.sleep(1.0)
    else:
        raise RuntimeError(f"namespace {settings.temporal_namespace!r} never became ready")
    log.info("search attributes registered: %s", ", ".join(registered) or "none missing")
    return registered


async def worker_is_polling(
    settings: Settings, *, host: str | None = None, max_age_seconds: float = 120.0
) -> bool:
    """Temporal saw a worker on this host poll the ticket task queue within the last
    ``max_age_seconds`` (a worker's identity is ``pid@host``)."""
    host = host or socket.gethostname()
    client = await connect_plain(settings)
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = time.time()
    return any(
        poller.identity.endswith(f"@{host}")
        and now - poller.last_access_time.ToSeconds() <= max_age_seconds
        for poller in described.pollers
    )


def api_is_healthy(settings: Settings, *, timeout: float = 5.0) -> bool:
    """This host's API answers ``/health`` (which needs its Temporal connection)."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    try:
        response = httpx.get(f"http://{host}:{settings.api_port}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200
