"""The console over real HTTP (uvicorn, loopback), on SQLite and on PostgreSQL: a user of
each role, and a client that signs in the way a browser does (the sign-in form's token
and cookies)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine

from api.console.users import Role, create_user
from tests.database_fixtures import BACKENDS, backend_url

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", params=BACKENDS)
def app_database(request: pytest.FixtureRequest) -> str:
    return backend_url(request, request.param)


@dataclass(frozen=True)
class Login:
    email: str
    password: str


@pytest.fixture
def make_user(app_engine: Engine) -> Callable[[Role], Login]:
    def make(role: Role) -> Login:
        login = Login(f"{role}-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}")
        create_user(app_engine, login.email, role, login.password)
        return login

    return make


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, login: Login) -> httpx.Response:
    page = await client.get("/console/login")
    assert page.status_code == 200
    return await client.post(
        "/console/login",
        data={
            "email": login.email,
            "password": login.password,
            "csrf_token": csrf_token(page.text),
        },
    )


@pytest_asyncio.fixture(loop_scope="session")
async def browser_like(api_url: str) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """New cookie jars on the console (each one a browser of its own)."""
    opened: list[httpx.AsyncClient] = []

    def new() -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=api_url, timeout=30, follow_redirects=False)
        opened.append(client)
        return client

    yield new
    for client in opened:
        await client.aclose()
