"""One worker and one API on a task queue of their own, built the way `ticketflow worker`
and `ticketflow api` build them (the client from `connect_temporal`, so the tracing
interceptor and the SDK metrics runtime come with it), against the session's dev server,
the test sandbox and the test app database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.main import create_app
from tests.api_server import served
from ticketflow.settings import Settings
from workflows.temporal_client import connect_temporal
from workflows.worker import build_worker, ticket_activities
from workflows.worker_metrics import WorkerMetrics

T = TypeVar("T")


@asynccontextmanager
async def worker_and_api(
    settings: Settings, sandbox_settings: Settings, app_database: str, api_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the API (with the key) while the worker runs."""
    metrics = WorkerMetrics(settings)
    try:
        client = await connect_temporal(settings, runtime=metrics.runtime)
        policies = PolicyActivities(versions=PolicyVersions.from_url(app_database))
        worker = build_worker(
            client, settings, activities=ticket_activities(sandbox_settings, policies=policies)
        )
        async with worker, served(create_app(settings, database=app_database)) as url:
            headers = {"Authorization": f"Bearer {api_key}"}
            async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
                yield http
    finally:
        metrics.close()


Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Scrape:
    """A Prometheus text scrape as {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: Scrape, name: str, **labels: str) -> float:
    """The sum of `name` over every series whose labels include `labels` (0 if none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in scrape.items() if n == name and wanted <= have)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 30) -> T:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
