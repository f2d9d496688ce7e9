"""The one webhook receiver: bounded body → verify → parse → dedupe → deliver → ack, for
every platform's `WebhookSource` (api/webhooks/protocol.py).

A delivery's row is inserted in a transaction that commits only once Temporal took it: a
delivery that fails half-way (Temporal down, the replica killed) leaves no row, so the
platform's retry is delivered and nothing is lost; a copy racing it on any replica waits on
that uncommitted row (the unique key) and is acknowledged as the duplicate once it commits.
The workflow also ignores a message id it has seen.
"""

# No `from __future__ import annotations`: FastAPI reads the receiver's signature, and its
# source dependency is a local of `webhook_router`, which a string annotation cannot name.

import logging
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from activities.metrics import WEBHOOK_DELIVERIES
from api.db import WebhookDelivery
from api.deps import EngineDep, SettingsDep, TicketServiceDep
from api.problems import problem_responses
from api.services.tickets import TicketService
from api.webhooks.protocol import (
    ClaimReport,
    Delivery,
    Ignored,
    Malformed,
    Unauthorized,
    WebhookSource,
)

log = logging.getLogger("ticketflow.webhooks")

MAX_BODY_BYTES = 256 * 1024
STRING = {"type": "string"}

WEBHOOK_RESPONSES = problem_responses(401, 413, 422, 503)


class WebhookAck(BaseModel):
    accepted: bool = Field(description="a ticket received (or had already received) it")
    duplicate: bool = False
    ticket_id: str | None = None
    ignored: str | None = Field(default=None, description="why nothing was done, if so")


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

# -- dedupe, in the app database -------------------------------------------------------------


def _seen(engine: Engine, source: str, key: str) -> str | None:
    """The ticket an earlier copy of this delivery went to, if there was one."""
    with Session(engine) as session:
        row = session.exec(
            select(WebhookDelivery).where(
                WebhookDelivery.source == source, WebhookDelivery.delivery_key == key
            )
        ).first()
    return (row.ticket_id or "") if row is not None else None


def _claim(engine: Engine, source: str, key: str, ticket_id: str | None) -> Session | None:
    """The delivery's row, inserted but not committed (the caller commits once Temporal took
    it); None when another copy committed it first. A copy in flight elsewhere holds the
    key: this insert waits for it (PostgreSQL's unique index, SQLite's write lock)."""
    session = Session(engine)
    session.add(WebhookDelivery(source=source, delivery_key=key, ticket_id=ticket_id))
    try:
        session.flush()
    except IntegrityError:
        session.close()
        return None
    except BaseException:
        session.close()
        raise
    return session


def _settle(session: Session, *, keep: bool) -> None:
    """Commit the claimed row (delivered) or roll it back (not delivered), and let it go."""
    try:
        if keep:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def delivery_result(ack: WebhookAck) -> str:
    """The `result` label of ``ticketflow_webhook_deliveries_total`` for one acked item."""
    if ack.duplicate:
        return "duplicate"
    return "accepted" if ack.accepted else "ignored"


async def deliver(item: Delivery | Ignored, tickets: TicketService, engine: Engine) -> WebhookAck:
    """Dedupe, then hand the item to its ticket; the workflow does the rest."""
    if isinstance(item, Ignored):
        return WebhookAck(accepted=False, ignored=item.reason)
    source, key = item.source, item.delivery_key
    earlier = await run_in_threadpool(_seen, engine, source, key)
    claim = None
    if earlier is None:
        claim = await run_in_threadpool(_claim, engine, source, key, item.ticket_id)
        if claim is None:  # a copy racing this one was delivered meanwhile
            earlier = await run_in_threadpool(_seen, engine, source, key)
    if claim is None:
        return WebhookAck(accepted=True, duplicate=True, ticket_id=earlier or None)
    delivered = False
    try:
        if isinstance(item, ClaimReport):
            if not await tickets.report_claim(item.ticket_id, item.update):
                return WebhookAck(
                    accepted=False, ticket_id=item.ticket_id, ignored="the ticket has ended"
                )
        else:
            await tickets.signal_with_start(item.ticket_id, item.start, item.message)
        delivered = True
    finally:
        # Shielded: a cancelled request must still release its row, or it would hold the
        # key against every retry of this delivery.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(partial(_settle, claim, keep=delivered))
    return WebhookAck(accepted=True, ticket_id=item.ticket_id)


# -- the route --------------------------------------------------------------------------------


def json_ack(acks: list[WebhookAck]) -> Response:
    """The one event's ack as JSON: what every platform but Salesforce expects."""
    (ack,) = acks
    return JSONResponse(ack.model_dump(mode="json"))


def webhook_router(
    platform: str,
    source: Callable[..., WebhookSource],
    *,
    description: str,
    body_description: str,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body_type: str = "application/json",
    reply: Callable[[list[WebhookAck]], Response] = json_ack,
    reply_docs: dict[int | str, dict[str, Any]] | None = None,
) -> APIRouter:
    """`POST /webhooks/{platform}` for one platform: `source` is a FastAPI dependency that
    makes its `WebhookSource`; `description`, `body_description`, `headers` and `query`
    (name → description) document the operation; `reply` turns the acks into the
    answer the platform expects, documented by `reply_docs` (default: one `WebhookAck`)."""

    async def receive(
        request: Request,
        raw: RawBody,
        webhooks: Annotated[WebhookSource, Depends(source)],
        tickets: TicketServiceDep,
        engine: EngineDep,
        settings: SettingsDep,
    ) -> Response:
        deliveries = WEBHOOK_DELIVERIES.labels
        # Fail closed: without its secret, no delivery from the platform can be trusted.
        missing = settings.missing_webhook_secret(platform)
        if missing is not None:
            log.error("rejected a %s webhook: %s is not set", platform, missing)
            deliveries(platform, "unconfigured").inc()
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, f"{platform} webhooks are not configured here"
            )
        try:
            webhooks.verify(request, raw)
            items = webhooks.parse(raw)
        except Unauthorized as err:
            deliveries(platform, "unauthorized").inc()
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(err)) from None
        except Malformed as err:
            deliveries(platform, "malformed").inc()
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from None
        acks = []
        for item in items:
            try:
                ack = await deliver(item, tickets, engine)
            except HTTPException:
                deliveries(platform, "unavailable").inc()  # Temporal did not take it: 503
                raise
            deliveries(platform, delivery_result(ack)).inc()
            acks.append(ack)
        return reply(acks)

    parameters = [
        {"name": name, "in": where, "required": False, "description": text, "schema": STRING}
        for where, documented in (("header", headers), ("query", query))
        for name, text in (documented or {}).items()
    ]
    body_schema = {"type": "object"} if body_type == "application/json" else STRING
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    router.add_api_route(
        f"/{platform}",
        receive,
        methods=["POST"],
        name=f"{platform}_webhook",
        description=description,
        response_model=WebhookAck if reply_docs is None else None,
        response_class=JSONResponse if reply_docs is None else Response,
        responses={**(reply_docs or {}), **WEBHOOK_RESPONSES},
        openapi_extra={
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "description": body_description,
                "content": {body_type: {"schema": body_schema}},
            },
        },
    )
    return router
