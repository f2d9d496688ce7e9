"""API keys: every route but the public ones needs a key, scopes decide what a key may do,
a revoked or expired key is refused at once, each key has a rate, and keys made before
scopes existed keep every scope (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from api.auth import ALL_SCOPES, Scope, create_key, hash_key, parse_expiry, revoke_key
from api.db import MIGRATIONS_DIR, open_database
from api.deps import RouteInfo, api_routes
from api.main import create_app
from api.ratelimit import RateLimiter
from tests.api_server import served
from tests.database_fixtures import BACKENDS, POSTGRES_SERVER
from ticketflow.cli import app as cli
from ticketflow.settings import Settings

#: Routes anyone may call: liveness, the webhooks (signed by their platform), the API's
#: own documentation, the codec's CORS preflight (OPTIONS, sent without credentials), and
#: Prometheus's /metrics (ids and counts only; TICKETFLOW_API_METRICS=false turns it off).
PUBLIC = re.compile(r"^(/health|/metrics|/webhooks/.*|/openapi\.json|/docs.*|/redoc)$")

PATH_VALUES = {"ticket_id": "ticket-web-nothere", "policy_id": "refund", "email": "a@example.com"}


def _calls(app: FastAPI) -> list[tuple[str, str, RouteInfo]]:
    """(method, concrete path, route) for every API route of `app.routes` that must need a
    key."""
    calls = []
    for route in api_routes(app):
        if PUBLIC.match(route.path):
            continue
        if route.path.startswith("/console"):
            continue  # signed in by session cookie, not a key (tests/console)
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PATH_VALUES.get(m[1], "x"), route.path)
        for method in sorted(route.methods):
            if method == "OPTIONS" and route.path.startswith("/codec"):
                continue  # the browser's CORS preflight carries no credentials
            calls.append((method, path, route))
    return calls


async def test_every_route_but_the_public_ones_needs_a_key_and_its_scope(
    api_url: str, dev_settings: Settings, app_database: str, app_engine: Engine
) -> None:
    app = create_app(dev_settings, database=app_database)
    calls = _calls(app)
    assert len(calls) >= 8, calls
    tickets_only = create_key(app_engine, "tickets only", scopes={Scope.TICKETS})
    writer = create_key(app_engine, "writer", scopes={Scope.POLICIES_WRITE})
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as anonymous:
        for method, path, route in calls:
            response = await anonymous.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert route.needs_key, f"{method} {path} declares no scope"

        # Policy writing (today: compiling drafts; later: publishing) is not for tickets.
        writes = [
            (m, p, r)
            for m, p, r in calls
            if p.startswith("/policies") and (m != "GET" or r.needs(Scope.POLICIES_WRITE))
        ]
        assert writes, "no policy-writing route found"
        for method, path, route in writes:
            assert route.needs(Scope.POLICIES_WRITE), f"{method} {path} lacks policies:write"
            for key, allowed in ((tickets_only, False), (writer, True)):
                answer = await anonymous.request(
                    method,
                    path,
                    headers={"Authorization": f"Bearer {key}"},
                    json={"source": "---\nid: x\ntitle: X\n---\n1. Say hello.\n"},
                )
                assert (answer.status_code != 403) is allowed, (method, path, answer.text)
                if not allowed:
                    assert "policies:write" in answer.json()["detail"]

        # Every admin route (data-subject requests) refuses a tickets key.
        admin_only = [(m, p) for m, p, r in calls if r.needs(Scope.ADMIN)]
        assert {p for _, p in admin_only} >= {"/customers/export", "/customers/erase"}
        for method, path in admin_only:
            answer = await anonymous.request(
                method, path, headers={"Authorization": f"Bearer {tickets_only}"}
            )
            assert answer.status_code == 403, (method, path, answer.text)

        # A tickets key reads tickets and policies; a policy writer reads policies only.
        for path in ("/tickets", "/policies"):
            ok = await anonymous.get(path, headers={"Authorization": f"Bearer {tickets_only}"})
            assert ok.status_code == 200, (path, ok.text)
        for path, expected in (("/policies", 200), ("/tickets", 403)):
            answer = await anonymous.get(path, headers={"Authorization": f"Bearer {writer}"})
            assert answer.status_code == expected, (path, answer.text)


async def test_revoked_or_expired_keys_are_refused_at_once(
    api_url: str, app_engine: Engine
) -> None:
    key = create_key(app_engine, "short-lived", expires_at=datetime.now(UTC) + timedelta(hours=1))
    soon = create_key(app_engine, "expiring", expires_at=datetime.now(UTC) + timedelta(seconds=1))
    past = create_key(app_engine, "expired", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:

        async def status_with(k: str) -> int:
            response = await client.get("/tickets", headers={"Authorization": f"Bearer {k}"})
            return response.status_code

        assert await status_with(key) == 200
        assert await status_with(past) == 401
        assert await status_with(soon) == 200
        revoked = revoke_key(app_engine, key[:10])
        assert revoked is not None and revoked.revoked_at is not None
        assert await status_with(key) == 401  # the very next request
        await asyncio.sleep(1.2)
        assert await status_with(soon) == 401
        # Revoking again is harmless; an unknown key matches nothing.
        again = revoke_key(app_engine, key[:10])
        assert again is not None and again.revoked_at == revoked.revoked_at
        assert revoke_key(app_engine, "tf_unknown") is None


def test_token_bucket() -> None:
    now = [100.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take(1) == pytest.approx(0.5)
    assert limiter.take(2) == 0.0  # buckets are per key
    now[0] += 0.5
    assert limiter.take(1) == 0.0
    assert limiter.take(1) > 0
    off = RateLimiter(rate=0, burst=1)
    assert all(off.take(1) == 0.0 for _ in range(100))


async def test_rate_limit_answers_429_with_retry_after(
    dev_settings: Settings, app_database: str, app_engine: Engine
) -> None:
    settings = dev_settings.model_copy(
        update={"api_rate_limit_per_second": 0.5, "api_rate_limit_burst": 3}
    )
    busy = create_key(app_engine, "busy")
    other = create_key(app_engine, "other")
    async with (
        served(create_app(settings, database=app_database)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        statuses = [
            (await client.get("/policies", headers={"Authorization": f"Bearer {busy}"}))
            for _ in range(4)
        ]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        limited = statuses[-1]
        assert limited.headers["retry-after"] == "2"
        assert limited.headers["content-type"] == "application/problem+json"
        # Another key has its own bucket; a bad key is refused before any bucket.
        fine = await client.get("/policies", headers={"Authorization": f"Bearer {other}"})
        assert fine.status_code == 200
        schema = (await client.get("/openapi.json")).json()
        answers = schema["paths"]["/tickets"]["get"]["responses"]
        assert {"401", "403", "429"} <= set(answers)


@pytest.fixture(params=BACKENDS)
def scratch_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (the session ones are already migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips (or fails in CI) without a server
    name = f"ticketflow_old_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://{POSTGRES_SERVER.removeprefix('postgresql://')}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_keys_made_before_scopes_keep_every_scope(scratch_database: str) -> None:
    engine = create_engine(scratch_database)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO api_key (name, prefix, key_hash, created_at) "
                "VALUES ('old', 'tf_old', :h, '2026-01-01 00:00:00+00')"
            ),
            {"h": hash_key("tf_old-key")},
        )
    engine.dispose()
    upgraded = open_database(scratch_database)
    with upgraded.connect() as connection:
        row = connection.execute(text("SELECT scopes, expires_at FROM api_key")).one()
    assert set(row.scopes.split()) == {s.value for s in ALL_SCOPES}
    assert row.expires_at is None
    upgraded.dispose()


def test_apikey_cli_create_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TICKETFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    made = runner.invoke(
        cli,
        ["apikey", "create", "--name", "ops", "--scope", "admin", "--expires-in", "30d"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[0]
    assert key.startswith("tf_")
    plain = runner.invoke(cli, ["apikey", "create", "--name", "web"], env=env)
    assert plain.exit_code == 0, plain.output

    listed = runner.invoke(cli, ["apikey", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["scopes"], r["state"]) for r in rows] == [
        ("ops", "admin", "active"),
        ("web", "tickets", "active"),
    ]
    assert key not in listed.stdout and hash_key(key) not in listed.stdout
    expires = datetime.fromisoformat(rows[0]["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    revoked = runner.invoke(cli, ["apikey", "revoke", str(rows[0]["id"])], env=env)
    assert revoked.exit_code == 0 and "revoked key" in revoked.output
    table = runner.invoke(cli, ["apikey", "list"], env=env)
    assert "revoked" in table.stdout and "ops" in table.stdout
    missing = runner.invoke(cli, ["apikey", "revoke", "tf_nothere"], env=env)
    assert missing.exit_code == 1
    bad = runner.invoke(cli, ["apikey", "create", "--scope", "root"], env=env)
    assert bad.exit_code != 0


def test_parse_expiry() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_expiry("never", now) is None
    assert parse_expiry("90d", now) == now + timedelta(days=90)
    assert parse_expiry("12h", now) == now + timedelta(hours=12)
    assert parse_expiry("2027-01-01", now) == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_expiry("soon", now)
