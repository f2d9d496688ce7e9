"""The Temporal Web UI as an operator uses it: a dev server with its UI on a free port,
headless Debian chromium (`make ui-deps`) driven by Playwright (never `playwright install`).

Tickets are opened through the real API (`POST /tickets`), so the UI shows the summary and
search attributes production gives them. Screenshots go to test-artifacts/ui/ (gitignored).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.auth import create_key
from api.db import open_database
from api.main import create_app
from tests.api_server import served
from tests.codec_keys import codec_converter
from tests.ports import free_port
from ticketflow.settings import Settings
from ticketflow.wheel_binaries import wheel_binary
from workflows import search_attributes as sa

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@dataclass
class UiServer:
    env: WorkflowEnvironment
    ui_url: str
    ui_port: int
    # The UI decodes payloads through the API's codec server on this port (ui_api serves it).
    api_port: int

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def address(self) -> str:
        return self.env.client.service_client.config.target_host


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ui_server() -> AsyncIterator[UiServer]:
    """A dev server of its own, with the Web UI on a free loopback port and its codec
    endpoint at the API that `ui_api` serves (as `ticketflow dev` starts it)."""
    ui_port, api_port = free_port(), free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        data_converter=codec_converter(),
        dev_server_log_level="error",
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=["--ui-codec-endpoint", f"http://127.0.0.1:{api_port}/codec"],
    )
    yield UiServer(env, f"http://127.0.0.1:{ui_port}", ui_port, api_port)
    await env.shutdown()


@pytest.fixture(scope="session")
def chromium_path() -> Iterator[str]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make ui-deps` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield str(CHROMIUM)


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1600, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


@pytest.fixture(scope="module")
def ui_settings(ui_server: UiServer) -> Settings:
    return Settings(
        temporal_address=ui_server.address,
        task_queue=f"ui-{uuid.uuid4().hex[:6]}",
        temporal_ui_port=ui_server.ui_port,
        codec_ui_without_key=True,  # as `ticketflow dev` runs the API
    )


@pytest_asyncio.fixture(loop_scope="session")
async def ui_api(ui_server: UiServer, ui_settings: Settings, tmp_path: Path) -> AsyncIterator[Api]:
    """The real API (uvicorn, loopback) in front of the UI's dev server: tickets are opened
    the way the web channel opens them, with the API's summary and search attributes.

    Its own app database and key: the session-wide ones are parametrised per backend by
    the API tests, and a key from one backend is not valid in the other."""
    database = f"sqlite:///{tmp_path / 'app.db'}"
    engine = open_database(database)
    api_key = create_key(engine, "ui tests")
    engine.dispose()
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        served(create_app(ui_settings, database=database), port=ui_server.api_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http,
    ):
        yield Api(http)


@dataclass
class Api:
    http: httpx.AsyncClient

    async def open(self, text: str, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/tickets", json={"message": text, **body})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def say(self, ticket_id: str, text: str) -> dict[str, Any]:
        response = await self.http.post(f"/tickets/{ticket_id}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        return dict(response.json())
