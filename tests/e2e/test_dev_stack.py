"""`ticketflow dev` as a newcomer runs it: a real process tree on real ports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from tests.ports import free_port

pytestmark = pytest.mark.e2e

READY_SECONDS = 90


class DevStack:
    """One `ticketflow dev` process with its own ports and state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.grpc_port, self.ui_port, self.api_port = free_port(), free_port(), free_port()
        self.sandbox_port = free_port()
        self.state_dir = state_dir
        self.log = state_dir / "dev.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        # As `make run` on a fresh checkout: no keyring configured, so the stack makes its own.
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TICKETFLOW_CODEC")}
        return dict(
            environ,
            TEMPORAL_ADDRESS=f"127.0.0.1:{self.grpc_port}",
            TICKETFLOW_TEMPORAL_UI_PORT=str(self.ui_port),
            TICKETFLOW_API_PORT=str(self.api_port),
            TICKETFLOW_SANDBOX_PORT=str(self.sandbox_port),
            TICKETFLOW_STATE_DIR=str(self.state_dir),
            TICKETFLOW_TASK_QUEUE="e2e-dev-stack",
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        already = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ticketflow", "dev"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_SECONDS
        while b"ticketflow is ready" not in self.log.read_bytes()[already:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dev stack did not get ready:\n{self.log.read_text()}")
            time.sleep(0.2)

    @property
    def headers(self) -> dict[str, str]:
        """The dev API key, as the ready banner prints it."""
        found = re.findall(r"API key\s+(tf_\S+)", self.log.read_text())
        assert found, "the ready banner shows no API key"
        return {"Authorization": f"Bearer {found[-1]}"}

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    dev = DevStack(tmp_path / "state")
    yield dev
    if dev.process is not None and dev.process.poll() is None:
        dev.process.kill()


def _ports_released(*ports: int) -> bool:
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


async def _ticket_status(grpc_port: int, ticket_id: str) -> str | None:
    client = await Client.connect(f"127.0.0.1:{grpc_port}")
    for _ in range(50):
        async for wf in client.list_workflows(f'WorkflowId = "{ticket_id}"'):
            status = wf.search_attributes.get("TicketStatus")
            if status:
                return str(status[0])
        await asyncio.sleep(0.1)
    return None


def test_ticket_survives_a_restart_of_the_whole_stack(stack: DevStack) -> None:
    stack.start()
    first_key = stack.headers
    codec_keys = stack.state_dir / "codec-keys"
    assert codec_keys.stat().st_mode & 0o777 == 0o600
    keyring = codec_keys.read_text()
    created = httpx.post(
        f"{stack.api}/tickets",
        json={"message": "Where is my order?"},
        headers=first_key,
        timeout=30,
    ).json()
    ticket_id = created["ticket_id"]
    assert created["replies"]
    assert asyncio.run(_ticket_status(stack.grpc_port, ticket_id)) == "waiting_customer"

    assert stack.stop() == 0
    assert "stopped." in stack.log.read_text()
    assert _ports_released(stack.grpc_port, stack.ui_port, stack.api_port, stack.sandbox_port)
    assert (stack.state_dir / "temporal.db").exists()

    stack.start()
    assert stack.headers == first_key  # the dev key survives a restart
    assert codec_keys.read_text() == keyring  # and so does the payload key
    shown = httpx.get(f"{stack.api}/tickets/{ticket_id}", headers=first_key, timeout=30).json()
    assert shown["state"]["status"] == "waiting_customer"
    turn = httpx.post(
        f"{stack.api}/tickets/{ticket_id}/messages",
        json={"text": "1"},
        headers=first_key,
        timeout=30,
    ).json()
    # "1" picks the first entry of the menu the bot showed before the restart.
    assert turn["replies"], turn
    shown = httpx.get(f"{stack.api}/tickets/{ticket_id}", headers=first_key, timeout=30).json()
    assert shown["state"]["policy_id"] is not None
    ui = httpx.get(f"http://127.0.0.1:{stack.ui_port}/", timeout=10)
    assert ui.status_code == 200
    # The UI decodes through the API's codec server (the dev server's --ui-codec-endpoint) ...
    ui_settings = httpx.get(f"http://127.0.0.1:{stack.ui_port}/api/v1/settings", timeout=10)
    assert f"127.0.0.1:{stack.api_port}/codec" in ui_settings.text, ui_settings.text
    # ... where the dev UI's origin from loopback needs no key; others do.
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IngiCg=="}]}
    origin = {"Origin": f"http://localhost:{stack.ui_port}"}
    sealed = httpx.post(f"{stack.api}/codec/encode", json=plain, headers=origin, timeout=10)
    assert sealed.status_code == 200, sealed.text
    opened = httpx.post(f"{stack.api}/codec/decode", json=sealed.json(), headers=origin)
    assert opened.json() == plain
    assert httpx.post(f"{stack.api}/codec/decode", json=sealed.json()).status_code == 401
    assert stack.stop() == 0


def test_taken_port_fails_with_a_clear_message(stack: DevStack) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack.api_port))
        squatter.listen()
        result = subprocess.run(
            [sys.executable, "-m", "ticketflow", "dev"],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{stack.api_port} is already in use" in result.stdout
    assert "TICKETFLOW_API_PORT" in result.stdout


def _speaking(version: str) -> str:
    return (
        "---\nid: e2e_speaker\ntitle: E2E speaker\nticket_types: [E2E speaker]\n---\n"
        "## Logic\n\n"
        f"1. Say “Version {version}: hello.”\n"
        "2. Ask for the customer's email address.\n"
        f"3. Say “Version {version}: goodbye.”\n"
        "4. End the conversation as resolved.\n"
    )


def test_publish_rollback_and_pinning_with_no_restart(stack: DevStack) -> None:
    """The API and the worker are separate processes sharing the app database: a publish
    reaches the next ticket, a running ticket keeps its version, a rollback is next."""
    stack.start()
    api = httpx.Client(base_url=stack.api, headers=stack.headers, timeout=60)

    def publish(version: str) -> str:
        assert api.put("/policies/e2e_speaker", json={"source": _speaking(version)}).json()["ok"]
        published = api.post("/policies/e2e_speaker/publish", json={"message": version})
        assert published.status_code == 200, published.text
        return str(published.json()["version"])

    def start() -> dict:
        created = api.post("/tickets", json={"message": "hi", "ticket_type": "E2E speaker"})
        assert created.status_code == 201, created.text
        return dict(created.json())

    v1 = publish("one")
    old = start()
    assert "Version one: hello." in " ".join(old["replies"])
    publish("two")
    new = start()
    assert "Version two: hello." in " ".join(new["replies"])
    for ticket, version in ((old, "one"), (new, "two")):
        turn = api.post(f"/tickets/{ticket['ticket_id']}/messages", json={"text": "a@b.co"})
        assert f"Version {version}: goodbye." in " ".join(turn.json()["replies"]), turn.text
    assert api.post("/policies/e2e_speaker/rollback", json={"version": v1}).status_code == 200
    assert "Version one: hello." in " ".join(start()["replies"])
    api.close()
    assert stack.stop() == 0
