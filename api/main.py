"""The ticketflow HTTP API: one Temporal client, one database engine, one policy library
for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from activities.platforms.config import PlatformSettings
from api import problems
from api.db import database_url, open_database
from api.routes import codec, health, policies, tickets
from api.webhooks import easypost, kustomer, salesforce, zendesk
from policies.library import load_library
from ticketflow.settings import Settings, get_settings
from workflows.payload_codec import keyring_from_settings
from workflows.temporal_client import connect_temporal


def create_app(
    settings: Settings | None = None,
    *,
    database: str | None = None,
    platforms: PlatformSettings | None = None,
) -> FastAPI:
    """`database` overrides TICKETFLOW_DATABASE_URL / the SQLite default; `platforms` the
    webhook secrets (both for tests)."""
    settings = settings or get_settings()
    keyring_from_settings(settings)  # no keys and encryption on: refuse to start, saying why

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.platforms = platforms or PlatformSettings()
        app.state.engine = await run_in_threadpool(
            open_database, database or database_url(settings)
        )
        app.state.library = await run_in_threadpool(load_library)
        app.state.temporal = await connect_temporal(settings)
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="ticketflow",
        description="Durable, policy-driven customer-support conversations on Temporal. "
        "Ticket and policy endpoints take `Authorization: Bearer <API key>` "
        "(`ticketflow apikey create`); webhooks authenticate by the platform's signature. "
        "Errors are RFC 9457 `application/problem+json`.",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(codec.CodecCors, origins=codec.ui_origins(settings))
    app.include_router(health.router)
    app.include_router(tickets.router)
    app.include_router(policies.router)
    app.include_router(codec.router)
    for webhook in (zendesk, kustomer, salesforce, easypost):
        app.include_router(webhook.router)
    return app
