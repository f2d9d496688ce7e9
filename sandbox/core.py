"""What every platform emulator shares: the database, side-effect log, clock, faults, webhooks.

Emulators are modules ``sandbox/<platform>.py`` exposing ``router`` (mounted at
``/<platform>``) and ``seed(session)``; optionally ``error_response(status, message)`` (the
platform's own error shape, used by fault injection; ``error_response_at(path, status,
message)`` where the shape depends on the path, as BigCommerce's v2 and v3) and
``on_clock(session, now)`` (called after the sandbox clock moves, e.g. to advance carrier
claims).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import Column
from sqlalchemy.orm import registry
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, SQLModel, select

log = logging.getLogger(__name__)


class SandboxModel(SQLModel, registry=registry()):
    """Base of every sandbox table: its own registry and ``MetaData``, so creating or dropping
    the sandbox's tables never touches another application's tables in ``SQLModel.metadata``."""


SANDBOX_METADATA = SandboxModel.metadata


class SideEffect(SandboxModel, table=True):
    """One write an emulator performed, with the idempotency key it was made under."""

    __tablename__ = "sandbox_side_effect"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    operation: str
    idempotency_key: str | None = Field(default=None, index=True)
    resource_id: str | None = None
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status_code: int = 200
    created_at: datetime


class SandboxClock(SandboxModel, table=True):
    """Offset of the sandbox clock from real time; tests move it forward."""

    __tablename__ = "sandbox_clock"

    id: int = Field(default=1, primary_key=True)
    offset_seconds: float = 0.0


class WebhookSubscription(SandboxModel, table=True):
    """Where an emulator posts its outgoing webhooks, and the secret it signs them with."""

    __tablename__ = "sandbox_webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    url: str
    secret: str = ""
    external_id: str | None = None


class OutgoingWebhook(SandboxModel, table=True):
    """A webhook the sandbox sends (as an emulated platform): raw body and headers, kept for
    inspection and replay."""

    __tablename__ = "sandbox_webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    event: str
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    body: str
    created_at: datetime
    delivered_status: int | None = None
    attempts: int = 0


# --- database -------------------------------------------------------------------------------


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; async so all SQLite access stays on the server's loop."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# --- clock ------------------------------------------------------------------------------------


def clock_offset(session: Session) -> timedelta:
    row = session.get(SandboxClock, 1)
    return timedelta(seconds=row.offset_seconds if row else 0.0)


def now(session: Session) -> datetime:
    """Sandbox time: real UTC time plus the offset tests advanced it by."""
    return datetime.now(UTC) + clock_offset(session)


def aware(moment: datetime) -> datetime:
    """A stored (naive, UTC) datetime made comparable with ``now()``."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def advance_clock(session: Session, delta: timedelta) -> datetime:
    row = session.get(SandboxClock, 1) or SandboxClock(id=1)
    row.offset_seconds += delta.total_seconds()
    session.add(row)
    session.commit()
    return now(session)


def iso(moment: datetime) -> str:
    """Timestamps the way the platforms write them (UTC, seconds, ``Z``); SQLite hands
    datetimes back naive, and they are always UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- side effects -----------------------------------------------------------------------------


def find_side_effect(
    session: Session, platform: str, idempotency_key: str | None, operation: str | None = None
) -> SideEffect | None:
    """The earlier write made under this key, if any (for idempotent replay)."""
    if not idempotency_key:
        return None
    query = select(SideEffect).where(
        SideEffect.platform == platform, SideEffect.idempotency_key == idempotency_key
    )
    if operation:
        query = query.where(SideEffect.operation == operation)
    return session.exec(query.order_by(SideEffect.id)).first()  # type: ignore[arg-type]


def record_side_effect(
    session: Session,
    platform: str,
    operation: str,
    *,
    idempotency_key: str | None,
    request: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    resource_id: str | int | None = None,
    status_code: int = 200,
) -> SideEffect:
    effect = SideEffect(
        platform=platform,
        operation=operation,
        idempotency_key=idempotency_key,
        resource_id=str(resource_id) if resource_id is not None else None,
        request=json.loads(json.dumps(dict(request or {}), default=str)),
        response=json.loads(json.dumps(dict(response or {}), default=str)),
        status_code=status_code,
        created_at=now(session),
    )
    session.add(effect)
    session.commit()
    session.refresh(effect)
    return effect


# --- webhooks ---------------------------------------------------------------------------------


def emit_webhook(
    session: Session,
    platform: str,
    event: str,
    body: str,
    sign: Any,
) -> list[OutgoingWebhook]:
    """Queue one delivery per subscription of ``platform``; ``sign(secret, body)`` -> headers.

    With no subscription the event is still recorded (url None), so tests and operators can
    see what the platform would have sent.
    """
    subscriptions = session.exec(
        select(WebhookSubscription).where(WebhookSubscription.platform == platform)
    ).all()
    targets: list[tuple[str | None, str]] = [(s.url, s.secret) for s in subscriptions] or [
        (None, "")
    ]
    deliveries = []
    for url, secret in targets:
        delivery = OutgoingWebhook(
            platform=platform,
            event=event,
            url=url,
            headers=dict(sign(secret, body)),
            body=body,
            created_at=now(session),
        )
        session.add(delivery)
        deliveries.append(delivery)
    session.commit()
    return deliveries


def set_webhook_target(session: Session, platform: str, url: str, secret: str = "") -> None:
    """Send ``platform``'s webhooks to ``url`` only (signed with ``secret``)."""
    for old in session.exec(
        select(WebhookSubscription).where(WebhookSubscription.platform == platform)
    ).all():
        session.delete(old)
    session.add(WebhookSubscription(platform=platform, url=url, secret=secret))
    session.commit()


class WebhookTarget(BaseModel):
    url: str
    secret: str | None = None


def add_webhook_target_route(
    router: APIRouter, platform: str, *, what: str, default_secret: str = ""
) -> None:
    """``PUT /_sandbox/webhook {"url", "secret"?}`` on ``router``: where ``what`` is posted
    from now on (replacing the configured target), signed with ``secret`` or the default."""

    async def put_webhook_target(target: WebhookTarget, session: SessionDep) -> dict[str, Any]:
        secret = default_secret if target.secret is None else target.secret
        set_webhook_target(session, platform, target.url, secret)
        return {"url": target.url}

    put_webhook_target.__doc__ = f"Where {what} is posted (replaces the configured target)."
    router.put("/_sandbox/webhook")(put_webhook_target)


def hmac_sha256_hex(secret: str, body: str | bytes) -> str:
    raw = body.encode() if isinstance(body, str) else body
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def deliver_pending(engine: Any) -> None:
    """POST every undelivered webhook that has a URL (best effort, one attempt each call)."""
    with Session(engine) as session:
        pending = session.exec(
            select(OutgoingWebhook).where(
                OutgoingWebhook.url.is_not(None),  # type: ignore[union-attr]
                OutgoingWebhook.delivered_status.is_(None),  # type: ignore[union-attr]
                OutgoingWebhook.attempts < 3,
            )
        ).all()
        if not pending:
            return
        async with httpx.AsyncClient(timeout=5.0) as client:
            for delivery in pending:
                delivery.attempts += 1
                try:
                    response = await client.post(
                        delivery.url or "",
                        content=delivery.body.encode(),
                        headers={"Content-Type": "application/json", **delivery.headers},
                    )
                    delivery.delivered_status = response.status_code
                except httpx.HTTPError as exc:
                    log.info("webhook delivery to %s failed: %s", delivery.url, exc)
                session.add(delivery)
        session.commit()


# --- request log ------------------------------------------------------------------------------

# Headers that carry credentials: the log keeps that they were sent, never their value.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-auth-token",
        "x-shopify-access-token",
        "x-retextion-access-token",
        "cookie",
    }
)
MAX_LOGGED_REQUESTS = 2_000


def _json_or_text(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class RequestLog:
    """Every request the emulators served, as it arrived and as it was answered: method,
    path under the platform prefix, query, headers (credentials redacted), JSON body, status
    and JSON answer. In memory, newest last, cleared by a reset; contract tests read it to
    check what a connector really sends and what the emulator really answers."""

    def __init__(self, limit: int = MAX_LOGGED_REQUESTS) -> None:
        self.limit = limit
        self.entries: list[dict[str, Any]] = []

    def clear(self) -> None:
        self.entries.clear()

    def add(
        self,
        platform: str,
        request: Request,
        body: bytes,
        status: int,
        answer: bytes,
    ) -> None:
        path = request.url.path.removeprefix(f"/{platform}")
        headers = {
            name: "<redacted>" if name in SECRET_HEADERS else value
            for name, value in request.headers.items()
        }
        self.entries.append(
            {
                "platform": platform,
                "method": request.method,
                "path": path,
                "query": dict(request.query_params),
                "headers": headers,
                "body": _json_or_text(body),
                "status": status,
                "response": _json_or_text(answer),
            }
        )
        del self.entries[: max(0, len(self.entries) - self.limit)]

    def for_platform(self, platform: str | None) -> list[dict[str, Any]]:
        return [e for e in self.entries if platform is None or e["platform"] == platform]


# --- opening tickets (the console's test chat) -----------------------------------------------


class NewTicket(BaseModel):
    """``POST /<helpdesk>/_sandbox/tickets``: open an empty ticket for a requester (created
    when the helpdesk does not know the email), as if they had just written in."""

    email: str
    name: str = ""
    subject: str = "Test chat"


# --- faults -----------------------------------------------------------------------------------


class FaultConfig(BaseModel):
    """Fault injection for one platform prefix.

    ``fail_next`` / ``rate_limit_next`` make deterministic bursts (tests); ``error_rate`` is
    a probability per request (demos, benchmarks). ``latency_ms`` is added to every request.
    """

    error_rate: float = 0.0
    error_status: int = 500
    fail_next: int = 0
    rate_limit_next: int = 0
    retry_after: float = 1.0
    latency_ms: int = 0


# What the sandbox served per platform: every request under the platform's prefix, and of
# those each injected error status other than 429, each injected 429 and each latency delay.
SERVED_KINDS = ("requests", "errors", "rate_limits", "latency")


class Faults:
    """In-memory fault state for the running app, keyed by platform prefix.

    ``by_platform`` is what tests configured; ``served`` counts what requests actually got
    (``record`` is called once a request's delay was slept and its answer chosen). Clearing
    the configuration keeps the counts; ``reset`` zeroes both.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.by_platform: dict[str, FaultConfig] = {}
        self.served: dict[str, dict[str, int]] = {}
        self._random = random.Random(seed)

    def clear(self) -> None:
        self.by_platform.clear()

    def reset(self) -> None:
        self.by_platform.clear()
        self.served.clear()

    def record(self, platform: str, *, latency: float, status: int | None) -> None:
        """Count one request as served: its delay (if any) and its injected status (if any)."""
        counts = self.served.setdefault(platform, dict.fromkeys(SERVED_KINDS, 0))
        counts["requests"] += 1
        if latency > 0:
            counts["latency"] += 1
        if status == 429:
            counts["rate_limits"] += 1
        elif status is not None:
            counts["errors"] += 1

    def served_for(self, platform: str) -> dict[str, int]:
        """A copy of one platform's counts (all zero when it was never called)."""
        return dict(self.served.get(platform) or dict.fromkeys(SERVED_KINDS, 0))

    def decide(self, platform: str) -> tuple[float, int | None, float | None]:
        """(latency seconds, status to fail with or None, Retry-After for a 429)."""
        config = self.by_platform.get(platform)
        if config is None:
            return 0.0, None, None
        latency = config.latency_ms / 1000
        if config.rate_limit_next > 0:
            config.rate_limit_next -= 1
            return latency, 429, config.retry_after
        if config.fail_next > 0:
            config.fail_next -= 1
            return latency, config.error_status, None
        if config.error_rate and self._random.random() < config.error_rate:
            status = config.error_status
            return latency, status, config.retry_after if status == 429 else None
        return latency, None, None


async def sleep_for_latency(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


# --- errors -----------------------------------------------------------------------------------


class EmulatorError(Exception):
    """Raise from an emulator (e.g. its auth dependency) to answer with a ready response
    in the platform's own error shape; the app installs the handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def emulator_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return exc.response
