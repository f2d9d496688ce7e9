"""The ticketflow HTTP API: one Temporal client for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health, tickets
from ticketflow.settings import Settings, get_settings
from ticketflow.temporal_client import connect_temporal


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.temporal = await connect_temporal(settings)
        yield

    app = FastAPI(
        title="ticketflow",
        description="Durable, policy-driven customer-support conversations on Temporal.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(tickets.router)
    return app
