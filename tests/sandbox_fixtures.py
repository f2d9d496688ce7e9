"""The sandbox served for real over HTTP on a free local port, shared by all platform tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from sandbox.app import create_app
from sandbox.config import SandboxConfig, helpdesk_webhook_targets
from tests.ports import free_port
from ticketflow.settings import Settings


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    """Base URL of a sandbox running under uvicorn in a background thread (in-memory DB)."""
    port = free_port()
    config = SandboxConfig(
        port=port, fault_seed=7, webhook_targets=helpdesk_webhook_targets(Settings().api_url)
    )
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("sandbox did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


class SandboxControl:
    """The sandbox's own control API (faults, state, clock), for arranging and checking tests.

    Synchronous on purpose: the sandbox runs in another thread, so these short calls never
    block the server they talk to.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def reset(self) -> None:
        self.client.post("/_sandbox/reset").raise_for_status()

    def fault(self, platform: str, **config: object) -> None:
        self.client.put(f"/_sandbox/faults/{platform}", json=config).raise_for_status()

    def state(self, platform: str | None = None) -> dict:
        params = {"platform": platform} if platform else {}
        response = self.client.get("/_sandbox/state", params=params)
        response.raise_for_status()
        return dict(response.json())

    def faults_served(self, platform: str) -> dict[str, int]:
        """What the sandbox really served ``platform`` since the last reset: ``requests``
        (all of them), ``errors`` (injected statuses other than 429), ``rate_limits``
        (injected 429s) and ``latency`` (requests it delayed)."""
        response = self.client.get("/_sandbox/faults/served")
        response.raise_for_status()
        return dict(response.json()[platform])

    def requests(self, platform: str, method: str | None = None) -> list[dict]:
        """What ``platform``'s emulator received and answered since the reset, oldest first
        (``method`` filters): ``{method, path, query, headers, body, status, response}``."""
        response = self.client.get("/_sandbox/requests", params={"platform": platform})
        response.raise_for_status()
        return [r for r in response.json() if method is None or r["method"] == method]

    def side_effects(self, platform: str, operation: str | None = None) -> list[dict]:
        effects = self.state(platform)["side_effects"]
        return [e for e in effects if operation is None or e["operation"] == operation]

    def webhooks(self, platform: str) -> list[dict]:
        return list(self.state(platform)["webhooks"])

    def advance(self, **delta: float) -> dict:
        response = self.client.post("/_sandbox/clock/advance", json=delta)
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[SandboxControl]:
    """Control of the sandbox, reseeded (and faults cleared) for this test."""
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        control = SandboxControl(client)
        control.reset()
        yield control


@pytest.fixture
def sandbox_settings(sandbox: SandboxControl, sandbox_url: str) -> Settings:
    """Settings with every platform pointed at the test sandbox (demo credentials)."""
    return Settings().for_sandbox(sandbox_url)
