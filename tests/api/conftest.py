"""The API and database tests run twice: on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.database_fixtures import BACKENDS, backend_url


@pytest.fixture(scope="session", params=BACKENDS)
def app_database(request: pytest.FixtureRequest) -> str:
    return backend_url(request, request.param)
