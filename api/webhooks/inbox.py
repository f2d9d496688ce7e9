"""What every webhook shares: a bounded raw body, one parsed-message model, dedupe in the
app database, and signal-with-start of the ticket.

A delivery is recorded only after Temporal took the signal, so a delivery that fails
half-way is retried by the platform and never lost; two copies racing each other both
reach the workflow, which ignores a message id it has seen.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.db import WebhookDelivery
from api.problems import problem_responses
from api.services.tickets import TicketService
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    CustomerMessage,
    TicketStart,
    ticket_workflow_id,
)

MAX_BODY_BYTES = 256 * 1024
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

WEBHOOK_RESPONSES = problem_responses(401, 413, 422, 503)


class InboundMessage(BaseModel):
    """One customer message from any helpdesk, ready for its ticket."""

    source: str
    delivery_key: str = Field(description="the platform's message / delivery id (dedupe key)")
    start: TicketStart
    message: CustomerMessage

    @property
    def ticket_id(self) -> str:
        return ticket_workflow_id(self.start.helpdesk, self.start.external_id)


class WebhookAck(BaseModel):
    accepted: bool = Field(description="a ticket received (or had already received) it")
    duplicate: bool = False
    ticket_id: str | None = None
    ignored: str | None = Field(default=None, description="why nothing was done, if so")


class Malformed(ValueError):
    """The body is not what the platform sends: 422."""


async def raw_body(request: Request) -> bytes:
    """The raw body (signatures cover the exact bytes), refused past 256 KiB with 413."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "webhook body is over 256 KiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "webhook body is over 256 KiB")
    return bytes(body)


RawBody = Annotated[bytes, Depends(raw_body)]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail)


def malformed(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def external_id(value: Any, what: str) -> str:
    text = str(value or "").strip()
    if not EXTERNAL_ID.match(text):
        raise Malformed(f"{what} is missing or not an id")
    return text


def message_text(text: str) -> str:
    """Long emails are cut to what a ticket message holds rather than dropped."""
    return text.strip()[:MAX_MESSAGE_CHARS]


def parse_timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 time from a webhook (``Z`` allowed, naive read as UTC); None if unusable."""
    try:
        parsed = datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _seen(engine: Engine, source: str, key: str) -> str | None:
    """The ticket an earlier copy of this delivery went to, if there was one."""
    with Session(engine) as session:
        row = session.exec(
            select(WebhookDelivery).where(
                WebhookDelivery.source == source, WebhookDelivery.delivery_key == key
            )
        ).first()
    return (row.ticket_id or "") if row is not None else None


def _record(engine: Engine, source: str, key: str, ticket_id: str | None) -> None:
    with Session(engine) as session:
        session.add(WebhookDelivery(source=source, delivery_key=key, ticket_id=ticket_id))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a concurrent copy got there first: same outcome


async def already_seen(engine: Engine, source: str, key: str) -> WebhookAck | None:
    ticket_id = await run_in_threadpool(_seen, engine, source, key)
    if ticket_id is None:
        return None
    return WebhookAck(accepted=True, duplicate=True, ticket_id=ticket_id or None)


async def record(engine: Engine, source: str, key: str, ticket_id: str | None) -> None:
    await run_in_threadpool(_record, engine, source, key, ticket_id)


async def deliver(
    inbound: InboundMessage,
    *,
    tickets: TicketService,
    engine: Engine,
) -> WebhookAck:
    """Dedupe, then signal-with-start the ticket; the workflow does the rest."""
    earlier = await already_seen(engine, inbound.source, inbound.delivery_key)
    if earlier is not None:
        return earlier
    await tickets.signal_with_start(inbound.ticket_id, inbound.start, inbound.message)
    await record(engine, inbound.source, inbound.delivery_key, inbound.ticket_id)
    return WebhookAck(accepted=True, ticket_id=inbound.ticket_id)
