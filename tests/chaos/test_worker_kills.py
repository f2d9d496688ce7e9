"""kill -9 of the worker, three times, while CHAOS_N conversations run at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.chaos.conftest import (
    CHAOS_N,
    FIRST,
    Chat,
    WorkerProcess,
    check_everything,
    make_chats,
    wait_finished,
    worker_env,
)
from tests.sandbox_fixtures import SandboxControl

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


async def test_three_kill_9s_during_concurrent_conversations(
    dev_env: WorkflowEnvironment,
    dev_client: Client,
    sandbox: SandboxControl,
    sandbox_url: str,
    chaos_queue: str,
    tmp_path: Path,
) -> None:
    address = dev_env.client.service_client.config.target_host
    worker = WorkerProcess(
        worker_env(address, chaos_queue, sandbox_url, tmp_path), tmp_path / "w.log"
    )
    chats = make_chats(dev_client, chaos_queue, CHAOS_N)
    total_turns = 2 * len(chats)
    done = 0

    async def converse(chat: Chat) -> None:
        nonlocal done
        await chat.say(FIRST)
        done += 1
        await chat.say(chat.choice)
        done += 1

    began = time.monotonic()
    worker.start()
    await worker.ready()
    kills = 0
    try:
        talking = asyncio.gather(*(converse(chat) for chat in chats))
        # Kill at a quarter, half and three quarters of all turns answered: by progress,
        # not by the clock, so a faster worker still meets every kill mid-conversation.
        for threshold in (total_turns // 4, total_turns // 2, 3 * total_turns // 4):
            while done < threshold and not talking.done():  # noqa: ASYNC110 - a counter
                await asyncio.sleep(0.01)
            if talking.done():
                break
            worker.kill()
            kills += 1
            print(f"kill {kills} after {done}/{total_turns} turns, {time.monotonic() - began:.1f}s")
            worker.start()
            await worker.ready()
        await asyncio.wait_for(talking, timeout=600)
        await wait_finished(dev_client, chats)
        verdict = await check_everything(dev_client, chats, sandbox)
    finally:
        worker.stop()
    print(
        f"\nchaos kill -9: {len(chats)} conversations, {kills} kills, "
        f"{time.monotonic() - began:.1f}s, {verdict.replays} same-key replays"
    )
    assert kills == 3, "the conversations ended before three kills: raise N"
    assert verdict.problems == []
