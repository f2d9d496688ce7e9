"""Like tests/api and tests/webhooks, the app database behind the API is parametrized over
the backends, so the session's API key always belongs to the database in use."""

from __future__ import annotations

import pytest

from tests.database_fixtures import BACKENDS, backend_url


@pytest.fixture(scope="session", params=BACKENDS)
def app_database(request: pytest.FixtureRequest) -> str:
    return backend_url(request, request.param)
