"""The app database for API tests: SQLite by default, and a scratch PostgreSQL database
(created per run, dropped after) for the tests that run on both.

`app_database` is SQLite; a test directory that must pass on both backends overrides it
with `params=BACKENDS` (see tests/api/conftest.py). PostgreSQL is the local server
(127.0.0.1:5432, user postgres, trust auth; `.ci/run` starts it). Outside CI a missing
server skips the PostgreSQL half with the reason; in CI it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from api.auth import ALL_SCOPES, create_key
from api.db import open_database

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_SERVER = os.environ.get("TICKETFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped at the end of the run."""
    name = f"ticketflow_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        message = f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {err}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        host = POSTGRES_SERVER.removeprefix("postgresql://")
        yield f"postgresql+psycopg://{host}/{name}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("appdb") / "app.db"
    return f"sqlite:///{path}"


def backend_url(request: pytest.FixtureRequest, backend: str) -> str:
    name = "postgres_url" if backend == "postgresql" else "sqlite_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def app_database(request: pytest.FixtureRequest) -> str:
    """The URL of the app database the API under test uses (SQLite here)."""
    return backend_url(request, "sqlite")


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, Engine]]:
    """One migrated engine per database URL, for the whole run."""
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def app_engine(app_database: str, _engines: dict[str, Engine]) -> Engine:
    """The engine on the database this test's API uses. Looked up by URL, not cached per
    session: a session-wide engine would stay on the last backend a parametrized
    directory used (tests/api runs on both) and hand the next directory's tests an engine
    on another database than their API's."""
    if app_database not in _engines:
        _engines[app_database] = open_database(app_database)
    return _engines[app_database]


@pytest.fixture
def api_key(app_engine: Engine, _keys: dict[int, str]) -> str:
    """A valid API key in the app database, with every scope (one per database)."""
    if id(app_engine) not in _keys:
        _keys[id(app_engine)] = create_key(app_engine, "tests", scopes=ALL_SCOPES)
    return _keys[id(app_engine)]


@pytest.fixture(scope="session")
def _keys() -> dict[int, str]:
    return {}
