"""The sandbox: one FastAPI app, each platform emulator mounted under its own prefix.

``create_app(config)`` builds it from a ``SandboxConfig``: a file database for
``ticketflow sandbox``, the private in-memory default for tests.
"""

from __future__ import annotations

import asyncio
import importlib
import math
from collections.abc import Iterable
from datetime import timedelta
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, col, create_engine, select

from sandbox.config import IN_MEMORY_DATABASES, SandboxConfig
from sandbox.core import (
    SANDBOX_METADATA,
    EmulatorError,
    FaultConfig,
    Faults,
    OutgoingWebhook,
    RequestLog,
    SandboxClock,
    SessionDep,
    SideEffect,
    advance_clock,
    clock_offset,
    deliver_pending,
    emulator_error_handler,
    iso,
    now,
    set_webhook_target,
    sleep_for_latency,
)


def make_engine(database_url: str) -> Engine:
    """SQLite engine; in-memory databases share one connection across threads."""
    if database_url in IN_MEMORY_DATABASES:
        return create_engine(
            database_url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    return create_engine(database_url, connect_args={"check_same_thread": False})


def load_modules(names: Iterable[str]) -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"sandbox.{name}") for name in names}


def reseed(engine: Engine, modules: dict[str, ModuleType], webhook_targets: dict[str, str]) -> None:
    """Drop the sandbox's tables, recreate them and seed every platform's demo data, with
    each platform's webhooks aimed at its configured target (signed with the module's
    ``WEBHOOK_SECRET``)."""
    SANDBOX_METADATA.drop_all(engine)
    SANDBOX_METADATA.create_all(engine)
    with Session(engine) as session:
        session.add(SandboxClock(id=1, offset_seconds=0.0))
        session.commit()
        for module in modules.values():
            module.seed(session)
        for name, url in webhook_targets.items():
            if name in modules:
                secret = getattr(modules[name], "WEBHOOK_SECRET", "")
                set_webhook_target(session, name, url, secret)
        session.commit()


def run_clock_hooks(session: Session, modules: dict[str, ModuleType]) -> None:
    moment = now(session)
    for module in modules.values():
        hook = getattr(module, "on_clock", None)
        if hook is not None:
            hook(session, moment)
    session.commit()


class ClockAdvance(BaseModel):
    seconds: float = 0
    hours: float = 0
    days: float = 0


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    """The sandbox app for ``config`` (default: every platform, in memory)."""
    config = config if config is not None else SandboxConfig()
    engine = make_engine(config.database_url)
    loaded = load_modules(config.platforms)
    targets = config.webhook_targets
    if config.reset_on_start or config.in_memory:
        reseed(engine, loaded, targets)
    else:
        SANDBOX_METADATA.create_all(engine)
        with Session(engine) as session:
            if session.get(SandboxClock, 1) is None:
                session.commit()
                reseed(engine, loaded, targets)

    app = FastAPI(
        title="ticketflow sandbox",
        description="Local emulators of each platform's real HTTP API, with demo data.",
    )
    app.add_exception_handler(EmulatorError, emulator_error_handler)
    app.state.config = config
    app.state.engine = engine
    app.state.modules = loaded
    app.state.faults = Faults(config.fault_seed)
    app.state.requests = RequestLog()
    app.state.webhook_tasks = set()
    #: Counts resets: a request that arrived before the latest reset belongs to the world
    #: before it (an earlier test's client that gave up during injected latency).
    app.state.generation = 0
    webhook_lock = asyncio.Lock()

    async def deliver_webhooks() -> None:
        async with webhook_lock:  # one sender at a time: each delivery goes out once
            await deliver_pending(engine)

    @app.middleware("http")
    async def faults_and_webhooks(request: Request, call_next: Any) -> Response:
        platform = request.url.path.strip("/").split("/", 1)[0]
        logged = platform in loaded and "/_sandbox/" not in request.url.path
        body = await request.body() if logged else b""
        response: Response
        if platform in loaded:
            arrived_in = app.state.generation
            latency, status, retry_after = app.state.faults.decide(platform)
            await sleep_for_latency(latency)
            if app.state.generation != arrived_in:
                # The sandbox was reset while this request waited: it must not read or write
                # the new seed, take the next test's scripted answers or enter its log.
                return fault_response(loaded[platform], 503, None, request.url.path)
            app.state.faults.record(platform, latency=latency, status=status)
            if status is not None:
                response = fault_response(loaded[platform], status, retry_after, request.url.path)
                if logged:
                    app.state.requests.add(platform, request, body, status, response.body)
                return response
        response = await call_next(request)
        if logged:
            response = await logged_response(response)
            app.state.requests.add(
                platform, request, body, response.status_code, bytes(response.body)
            )
        task = asyncio.create_task(deliver_webhooks())
        app.state.webhook_tasks.add(task)
        task.add_done_callback(app.state.webhook_tasks.discard)
        return response

    for name, module in loaded.items():
        app.include_router(module.router, prefix=f"/{name}", tags=[name])

    @app.get("/_sandbox/state", tags=["sandbox"])
    async def state(
        session: SessionDep, platform: str | None = None, idempotency_prefix: str | None = None
    ) -> dict[str, Any]:
        """Every recorded side effect and outgoing webhook (optionally for one platform;
        side effects only under idempotency keys starting with a prefix: one ticket's)."""
        effects = select(SideEffect).order_by(SideEffect.id)  # type: ignore[arg-type]
        if idempotency_prefix:
            effects = effects.where(
                col(SideEffect.idempotency_key).startswith(idempotency_prefix, autoescape=True)
            )
        hooks = select(OutgoingWebhook).order_by(OutgoingWebhook.id)  # type: ignore[arg-type]
        if platform:
            effects = effects.where(SideEffect.platform == platform)
            hooks = hooks.where(OutgoingWebhook.platform == platform)
        return {
            "clock": clock_view(session),
            "side_effects": [e.model_dump(mode="json") for e in session.exec(effects).all()],
            "webhooks": [w.model_dump(mode="json") for w in session.exec(hooks).all()],
            "faults": {k: v.model_dump() for k, v in app.state.faults.by_platform.items()},
            "faults_served": served_view(app.state.faults, [platform] if platform else loaded),
        }

    @app.post("/_sandbox/reset", tags=["sandbox"])
    async def reset() -> dict[str, Any]:
        """Reseed every platform, rewind the clock, clear all faults and their counts."""
        app.state.generation += 1
        reseed(engine, loaded, targets)
        app.state.faults.reset()
        app.state.requests.clear()
        return {"ok": True, "platforms": list(loaded)}

    @app.get("/_sandbox/requests", tags=["sandbox"])
    async def requests(
        platform: str | None = None, idempotency_prefix: str | None = None
    ) -> list[dict[str, Any]]:
        """Every request served since the last reset (optionally for one platform, or only
        those whose Idempotency-Key starts with a prefix: one ticket's writes), oldest
        first: method, path under the prefix, query, headers with credentials redacted, JSON
        body, status and JSON answer. What contract tests check a connector against."""
        served = app.state.requests.for_platform(platform)
        if idempotency_prefix:
            served = [
                e
                for e in served
                if str(e["headers"].get("idempotency-key", "")).startswith(idempotency_prefix)
            ]
        return served

    @app.get("/_sandbox/customers", tags=["sandbox"])
    async def customers(session: SessionDep) -> list[dict[str, Any]]:
        """The demo customers the platforms hold data for, by email: name, the platforms
        and what each holds there (orders, subscriptions)."""
        merged: dict[str, dict[str, Any]] = {}
        for name, module in loaded.items():
            listed = getattr(module, "demo_customers", None)
            for customer in listed(session) if listed is not None else []:
                entry = merged.setdefault(
                    customer["email"],
                    {"email": customer["email"], "name": "", "platforms": [], "holds": []},
                )
                entry["name"] = entry["name"] or customer["name"]
                entry["platforms"].append(name)
                entry["holds"].extend(f"{name} {held}" for held in customer["holds"])
        return sorted(merged.values(), key=lambda c: str(c["email"]))

    @app.get("/_sandbox/faults", tags=["sandbox"])
    async def get_faults() -> dict[str, Any]:
        return {k: v.model_dump() for k, v in app.state.faults.by_platform.items()}

    @app.get("/_sandbox/faults/served", tags=["sandbox"])
    async def get_faults_served() -> dict[str, Any]:
        """Per platform, what was served since the last reset: requests, injected errors
        (other than 429), injected 429s, latency delays applied."""
        return served_view(app.state.faults, loaded)

    @app.put("/_sandbox/faults/{platform}", tags=["sandbox"])
    async def set_faults(platform: str, config: FaultConfig) -> Response:
        """Inject faults for one platform: error rate, 429 bursts, added latency."""
        if platform not in loaded:
            return JSONResponse({"error": f"unknown platform {platform!r}"}, status_code=404)
        app.state.faults.by_platform[platform] = config
        return JSONResponse(config.model_dump())

    @app.delete("/_sandbox/faults", tags=["sandbox"])
    async def clear_faults() -> dict[str, Any]:
        """Stop injecting faults; what was served stays counted until a reset."""
        app.state.faults.clear()
        return {"ok": True}

    @app.get("/_sandbox/clock", tags=["sandbox"])
    async def get_clock(session: SessionDep) -> dict[str, Any]:
        return clock_view(session)

    @app.post("/_sandbox/clock/advance", tags=["sandbox"])
    async def advance(session: SessionDep, body: ClockAdvance) -> dict[str, Any]:
        """Move sandbox time forward; claims and trackers progress on it."""
        delta = timedelta(seconds=body.seconds, hours=body.hours, days=body.days)
        advance_clock(session, delta)
        run_clock_hooks(session, loaded)
        return clock_view(session)

    return app


def served_view(faults: Faults, platforms: Iterable[str]) -> dict[str, dict[str, int]]:
    return {name: faults.served_for(name) for name in platforms}


def clock_view(session: Session) -> dict[str, Any]:
    return {"now": iso(now(session)), "offset_seconds": clock_offset(session).total_seconds()}


async def logged_response(response: Response) -> Response:
    """The answer with its body read (to log it), rebuilt to be sent unchanged."""
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    return Response(
        content=content,
        status_code=response.status_code,
        headers=dict(response.headers),
        background=response.background,
    )


def fault_response(
    module: ModuleType, status: int, retry_after: float | None, path: str = ""
) -> Response:
    """An injected failure in the platform's own error shape and rate-limit headers (the
    shape of the request's path where the module tells them apart: ``error_response_at``)."""
    message = "Too Many Requests" if status == 429 else "Injected sandbox fault"
    shape = getattr(module, "error_response", None)
    shape_at = getattr(module, "error_response_at", None)
    response: Response
    if shape_at is not None:
        response = shape_at(path, status, message)
    elif shape is not None:
        response = shape(status, message)
    else:
        response = JSONResponse({"error": message}, status_code=status)
    if status == 429 and retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    return response
