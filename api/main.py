"""The ticketflow HTTP API: one Temporal client, one database engine, the published policy
set (reloaded from the policy store when it changes) and the ticket service over them,
for the app's lifetime."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from activities.customer_key import CustomerKeys
from api import problems
from api.console import chat_pages as console_chat
from api.console import experiment_pages as console_experiments
from api.console import pages as console_pages
from api.console import rendering as console_rendering
from api.console import ticket_pages as console_tickets
from api.db import database_url, open_database
from api.deps import document_auth
from api.log_context import TicketLogContext
from api.metrics import router as metrics_router
from api.ratelimit import RateLimiter
from api.routes import (
    codec,
    customers,
    experiments,
    health,
    outcomes,
    policies,
    policy_versions,
    tickets,
)
from api.routes.policy_versions import PolicyScripts
from api.services.policy_store import import_on_first_start
from api.services.published_policies import ApiPublishedSet as PublishedSet
from api.services.tickets import TicketService
from api.webhooks import easypost, kustomer, salesforce, zendesk
from ticketflow.settings import PLATFORM_NAMES, Settings, get_settings
from workflows.payload_codec import keyring_from_settings
from workflows.temporal_client import connect_temporal
from workflows.tracing import start_tracing

log = logging.getLogger("ticketflow.api")


def create_app(
    settings: Settings | None = None,
    *,
    database: str | None = None,
    policy_scripts: PolicyScripts | None = None,
) -> FastAPI:
    """`database` overrides TICKETFLOW_DATABASE_URL / the SQLite default (tests);
    `policy_scripts` runs a policy's conversation scripts against a draft before it is
    published (the composition root's, ticketflow/policy_gate.py; None: publish without)."""
    settings = settings or get_settings()
    keyring_from_settings(settings)  # no keys and encryption on: refuse to start, saying why

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        for platform in PLATFORM_NAMES:
            missing = settings.missing_webhook_secret(platform)
            if missing is not None:
                log.warning("every %s webhook will get 401 until %s is set", platform, missing)
        app.state.engine = await run_in_threadpool(
            open_database, database or database_url(settings)
        )
        # The bundled library seeds an empty policy store; from then on the store is the
        # truth, and routing follows what is published there (no restart).
        imported = await run_in_threadpool(
            functools.partial(
                import_on_first_start,
                app.state.engine,
                default_platforms=settings.default_platforms,
            )
        )
        if imported:
            log.info("imported %d library policies into the policy store", len(imported))
        app.state.published = PublishedSet(app.state.engine)
        await run_in_threadpool(app.state.published.current)
        app.state.temporal = await connect_temporal(settings)
        app.state.tickets = TicketService(app.state.temporal, settings, app.state.published.current)
        app.state.customer_keys = await run_in_threadpool(CustomerKeys.from_settings, settings)
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="ticketflow",
        description="Durable, policy-driven customer-support conversations on Temporal. "
        "Ticket, policy and customer endpoints take `Authorization: Bearer <API key>` "
        "(`ticketflow apikey create`); each route names the scope it needs (`tickets`, "
        "`policies:write`, `admin`; admin implies all; reading policies takes any key). "
        "A revoked or expired key gets 401; past the key's rate, 429 with `Retry-After`. "
        "Webhooks authenticate by the platform's signature. "
        "Errors are RFC 9457 `application/problem+json`.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # Per-key token buckets, in this process (api/ratelimit.py).
    app.state.policy_scripts = policy_scripts
    app.state.rate_limiter = RateLimiter(
        settings.api_rate_limit_per_second, settings.api_rate_limit_burst
    )
    problems.install(app)
    app.add_middleware(TicketLogContext)
    app.add_middleware(codec.CodecCors, origins=codec.ui_origins(settings))
    app.include_router(health.router)
    app.include_router(tickets.router)
    app.include_router(policies.router)
    app.include_router(policy_versions.router)
    app.include_router(outcomes.router)
    app.include_router(experiments.router)
    app.include_router(customers.router)
    app.include_router(codec.router)
    app.include_router(codec.console_router)
    for webhook in (zendesk, kustomer, salesforce, easypost):
        app.include_router(webhook.router)
    app.include_router(metrics_router)
    # The console (/console): HTML pages over the same services, signed in by session.
    console_rendering.install(app)
    app.include_router(console_pages.router)
    app.include_router(console_tickets.router)
    app.include_router(console_experiments.router)
    app.include_router(console_chat.router)
    document_auth(app)
    # Traces (workflows/tracing.py): on when OTEL_EXPORTER_OTLP_ENDPOINT says where to.
    provider = start_tracing("ticketflow-api")
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, excluded_urls="health,metrics"
        )
    return app
