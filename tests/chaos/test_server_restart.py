"""The dev server restarts (persistent SQLite file, same port) while tickets are open."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.chaos.conftest import (
    CHAOS_N,
    FIRST,
    WorkerProcess,
    check_everything,
    make_chats,
    wait_finished,
    worker_env,
)
from tests.codec_keys import codec_converter
from tests.ports import free_port
from tests.sandbox_fixtures import SandboxControl
from ticketflow.wheel_binaries import wheel_binary
from workflows import search_attributes as sa

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


async def start_server(database: Path, port: int) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"),
        dev_server_database_filename=str(database),
        port=port,
        search_attributes=list(sa.ALL_KEYS),
        data_converter=codec_converter(),
        dev_server_log_level="error",
    )


async def test_open_tickets_resume_after_a_dev_server_restart(
    sandbox: SandboxControl, sandbox_url: str, chaos_queue: str, tmp_path: Path
) -> None:
    database, port = tmp_path / "temporal.db", free_port()
    env = await start_server(database, port)
    address = f"127.0.0.1:{port}"
    worker = WorkerProcess(
        worker_env(address, chaos_queue, sandbox_url, tmp_path), tmp_path / "w.log"
    )
    worker.start()
    try:
        await worker.ready()
        chats = make_chats(env.client, chaos_queue, CHAOS_N)
        await asyncio.gather(*(chat.say(FIRST) for chat in chats))
        # Half the customers answer by webhook (signal) just before the restart; their
        # messages are in the server's history, not yet handled by the worker.
        early = chats[: len(chats) // 2]
        await asyncio.gather(*(chat.signal(chat.choice) for chat in early))
        await env.shutdown()
        env = await start_server(database, port)
        # The worker (same process) reconnects by itself; the other half answer now.
        client: Client = env.client
        for chat in chats:
            chat.client = client
        late = chats[len(chats) // 2 :]
        await asyncio.gather(*(chat.say(chat.choice) for chat in late))
        await wait_finished(client, chats)
        verdict = await check_everything(client, chats, sandbox)
    finally:
        worker.stop()
        await env.shutdown()
    assert verdict.problems == []
