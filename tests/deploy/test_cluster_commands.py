"""`ticketflow setup` and `ticketflow probe`, what the compose file and the Kubernetes
manifests run, against real servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlmodel import Session, create_engine, select
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from activities.policy_versions import StoredPolicy
from ticketflow.cluster import api_is_healthy, set_up_cluster, worker_is_polling
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows import search_attributes as sa
from workflows.worker import build_worker, ticket_activities

pytestmark = pytest.mark.e2e


async def test_setup_migrates_seeds_and_registers_search_attributes(tmp_path: Path) -> None:
    # A bare server: none of ticketflow's search attributes, as a fresh cluster has.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"), dev_server_log_level="error"
    )
    try:
        target = env.client.service_client.config.target_host
        database = f"sqlite:///{tmp_path / 'app.db'}"
        settings = Settings(temporal_address=target, database_url=database)

        registered = await set_up_cluster(settings, wait_seconds=10)

        assert sorted(registered) == sorted(key.name for key in sa.ALL_KEYS)
        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=env.client.namespace)
        )
        assert {key.name for key in sa.ALL_KEYS} <= set(listed.custom_attributes)
        with Session(create_engine(database)) as session:
            assert session.exec(select(StoredPolicy)).first() is not None
        # Run again (every deploy runs the job): nothing left to do, nothing fails.
        assert await set_up_cluster(settings, wait_seconds=10) == []
    finally:
        await env.shutdown()


async def test_the_worker_probe_sees_this_hosts_worker_only_while_it_polls(
    dev_env: WorkflowEnvironment, sandbox_settings: Settings
) -> None:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    target = dev_env.client.service_client.config.target_host
    settings = sandbox_settings.model_copy(
        update={"temporal_address": target, "task_queue": task_queue}
    )
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": target,
        "TICKETFLOW_TASK_QUEUE": task_queue,
        "TICKETFLOW_LOG_FORMAT": "json",
    }

    def probe() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ticketflow", "probe", "worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert not await worker_is_polling(settings)
    assert probe().returncode == 1
    async with build_worker(dev_env.client, settings, activities=ticket_activities(settings)):
        for _ in range(100):
            if await worker_is_polling(settings):
                break
        assert await worker_is_polling(settings)
        assert not await worker_is_polling(settings, host="another-pod")
        result = probe()
        assert result.returncode == 0, result.stdout + result.stderr
        assert "worker: healthy" in result.stdout


async def test_the_api_probe_needs_an_answering_api(api_url: str) -> None:
    port = urlparse(api_url).port
    assert port is not None
    # In a thread: the API under test is served on this test's own event loop.
    assert await asyncio.to_thread(api_is_healthy, Settings(api_host="0.0.0.0", api_port=port))
    with_nothing = Settings(api_port=_closed_port())
    assert not api_is_healthy(with_nothing, timeout=2)


def _closed_port() -> int:
    from tests.ports import free_port

    return free_port()
