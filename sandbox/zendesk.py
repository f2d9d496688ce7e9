"""Zendesk Support emulator: tickets, comments, audits, groups, users, signed trigger webhooks.

Real paths under ``/zendesk/api/v2``; Basic ``{email}/token:{api_token}`` (or Bearer with the
sandbox token); errors ``{"error": ..., "description": ...}``; ``X-Rate-Limit`` headers;
a ticket holds at most 5,000 comments (then 422). Sandbox controls live under
``/zendesk/_sandbox/`` (no auth): set the webhook target, simulate a customer reply (which
records the comment and posts the trigger webhook, signed as Zendesk signs), bulk-add
comments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, func
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, col, select

from sandbox.core import (
    NewTicket,
    SandboxModel,
    SessionDep,
    add_webhook_target_route,
    emit_webhook,
    iso,
    now,
    record_side_effect,
)
from sandbox.credentials import (
    SANDBOX_ZENDESK_EMAIL,
    SANDBOX_ZENDESK_TOKEN,
    SANDBOX_ZENDESK_WEBHOOK_SECRET,
)
from sandbox.routes import RateWindow, has_next_page, page_of, page_params, platform_route

PLATFORM = "zendesk"
WEBHOOK_SECRET = SANDBOX_ZENDESK_WEBHOOK_SECRET
MAX_COMMENTS = 5000
RATE_LIMIT = 700
BOT_USER_ID = 900001
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


class ZendeskError(Exception):
    def __init__(self, status: int, error: str, description: str | None = None, **extra: Any):
        self.status, self.error, self.description, self.extra = status, error, description, extra


def error_response(status: int, message: str) -> JSONResponse:
    """Zendesk's error shape (also used by the sandbox's fault injection)."""
    body: dict[str, Any] = {"error": message}
    if status != 401:
        body["description"] = message
    return JSONResponse(body, status_code=status)


_window = RateWindow(RATE_LIMIT)


def _rate_headers() -> dict[str, str]:
    remaining = _window.hit()
    return {"X-Rate-Limit": str(RATE_LIMIT), "X-Rate-Limit-Remaining": str(remaining)}


def _authorized(request: Request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value, SANDBOX_ZENDESK_TOKEN)
    if scheme.lower() != "basic":
        return False
    try:
        user, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return False
    return user == f"{SANDBOX_ZENDESK_EMAIL}/token" and hmac.compare_digest(
        secret, SANDBOX_ZENDESK_TOKEN
    )


def _error_answer(exc: ZendeskError) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.error}
    if exc.description:
        body["description"] = exc.description
    body.update(exc.extra)
    return JSONResponse(body, status_code=exc.status)


# Auth, the platform's error shape and rate-limit headers on every API route.
router = APIRouter(
    route_class=platform_route(
        authorized=_authorized,
        unauthorized=lambda: JSONResponse({"error": "Couldn't authenticate you"}, status_code=401),
        error=ZendeskError,
        error_answer=_error_answer,
        usage_headers=_rate_headers,
    )
)


# --- tables ---------------------------------------------------------------------------------


class ZendeskUser(SandboxModel, table=True):
    __tablename__ = "zendesk_user"

    id: int = Field(primary_key=True)
    name: str
    email: str = Field(index=True)
    role: str = "end-user"


class ZendeskGroup(SandboxModel, table=True):
    __tablename__ = "zendesk_group"

    id: int = Field(primary_key=True)
    name: str


class ZendeskTicket(SandboxModel, table=True):
    __tablename__ = "zendesk_ticket"

    id: int = Field(primary_key=True)
    subject: str
    description: str
    status: str = "new"
    requester_id: int
    assignee_id: int | None = None
    group_id: int | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    custom_fields: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime
    updated_at: datetime


class ZendeskAudit(SandboxModel, table=True):
    __tablename__ = "zendesk_audit"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(index=True)
    author_id: int
    created_at: datetime
    metadata_: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON))
    events: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class ZendeskComment(SandboxModel, table=True):
    __tablename__ = "zendesk_comment"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(index=True)
    audit_id: int | None = None
    author_id: int
    body: str
    public: bool = True
    created_at: datetime


# --- views ----------------------------------------------------------------------------------


def ticket_json(ticket: ZendeskTicket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "url": f"/api/v2/tickets/{ticket.id}.json",
        "subject": ticket.subject,
        "raw_subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.requester_id,
        "assignee_id": ticket.assignee_id,
        "group_id": ticket.group_id,
        "tags": list(ticket.tags),
        "custom_fields": list(ticket.custom_fields),
        "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def comment_json(comment: ZendeskComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "type": "Comment",
        "author_id": comment.author_id,
        "body": comment.body,
        "plain_body": comment.body,
        "html_body": f'<div class="zd-comment"><p>{comment.body}</p></div>',
        "public": comment.public,
        "audit_id": comment.audit_id,
        "attachments": [],
        "created_at": iso(comment.created_at),
    }


def audit_json(audit: ZendeskAudit) -> dict[str, Any]:
    return {
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "author_id": audit.author_id,
        "created_at": iso(audit.created_at),
        "metadata": audit.metadata_,
        "events": audit.events,
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
    }


def _ticket(session: Session, ticket_id: str) -> ZendeskTicket:
    ticket = session.get(ZendeskTicket, int(ticket_id)) if ticket_id.isdigit() else None
    if ticket is None:
        raise ZendeskError(404, "RecordNotFound", "Not found")
    return ticket


def _comment_count(session: Session, ticket_id: int) -> int:
    query = (
        select(func.count())
        .select_from(ZendeskComment)
        .where(ZendeskComment.ticket_id == ticket_id)
    )
    return int(session.exec(query).one())


def _paged(request: Request, items: list[Any], key: str) -> dict[str, Any]:
    page, per_page = page_params(request, "per_page")
    chunk = page_of(items, page, per_page)
    next_url = None
    if has_next_page(len(items), page, per_page):
        next_url = str(request.url.include_query_params(page=page + 1, per_page=per_page))
    previous = None
    if page > 1:
        previous = str(request.url.include_query_params(page=page - 1, per_page=per_page))
    return {key: chunk, "next_page": next_url, "previous_page": previous, "count": len(items)}


# --- API ------------------------------------------------------------------------------------


@router.get("/api/v2/tickets/{ticket_id}.json")
async def show_ticket(ticket_id: str, session: SessionDep) -> dict[str, Any]:
    return {"ticket": ticket_json(_ticket(session, ticket_id))}


def _ticket_list(
    key: str, model: type[ZendeskComment] | type[ZendeskAudit], to_json: Callable[[Any], Any]
) -> None:
    """``GET /api/v2/tickets/{ticket_id}/{key}.json``: the ticket's ``model`` rows by id
    (``sort_order=desc`` reverses), paged under ``key``."""

    async def list_rows(ticket_id: str, request: Request, session: SessionDep) -> dict[str, Any]:
        ticket = _ticket(session, ticket_id)
        descending = request.query_params.get("sort_order") == "desc"
        order = col(model.id).desc() if descending else col(model.id)
        rows = session.exec(select(model).where(model.ticket_id == ticket.id).order_by(order))
        return _paged(request, [to_json(row) for row in rows.all()], key)

    path = f"/api/v2/tickets/{{ticket_id}}/{key}.json"
    router.add_api_route(path, list_rows, methods=["GET"], name=f"list_{key}")


_ticket_list("comments", ZendeskComment, comment_json)
_ticket_list("audits", ZendeskAudit, audit_json)


class TicketUpdateBody(BaseModel):
    ticket: dict[str, Any]


def _check_safe_update(ticket: ZendeskTicket, changes: dict[str, Any]) -> None:
    """``safe_update: true`` writes only if ``updated_stamp`` is the ticket's ``updated_at``
    (to the second); otherwise 409, as the Support API documents (⚠ the 409 body's words)."""
    if changes.get("safe_update") not in (True, "true"):
        return
    stamp = changes.get("updated_stamp")
    try:
        given = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        raise ZendeskError(
            422,
            "RecordInvalid",
            "Record validation errors",
            details={"updated_stamp": [{"description": "Updated stamp: is invalid"}]},
        ) from None
    if iso(given) != iso(ticket.updated_at):
        raise ZendeskError(
            409,
            "UpdateConflict",
            "The ticket was updated after updated_stamp; read it again and retry",
        )


def apply_update(
    session: Session, ticket: ZendeskTicket, changes: dict[str, Any], author_id: int
) -> ZendeskAudit:
    """Apply one ticket update the way Zendesk does: one audit, its events, maybe a comment."""
    moment = now(session)
    events: list[dict[str, Any]] = []
    comment_in = changes.get("comment")
    if comment_in is not None:
        if not isinstance(comment_in, dict) or not (
            comment_in.get("body") or comment_in.get("html_body")
        ):
            raise ZendeskError(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={"base": [{"description": "Comment: cannot be blank"}]},
            )
        if _comment_count(session, ticket.id) >= MAX_COMMENTS:
            raise ZendeskError(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={
                    "base": [
                        {
                            "description": f"Ticket has reached the maximum of {MAX_COMMENTS} "
                            "comments",
                            "error": "TooManyComments",
                        }
                    ]
                },
            )
    status = changes.get("status")
    if status is not None and status not in STATUSES:
        raise ZendeskError(
            422,
            "RecordInvalid",
            "Record validation errors",
            details={"status": [{"description": f"Status: {status} is not valid"}]},
        )
    if ticket.status == "closed":
        raise ZendeskError(422, "RecordInvalid", "Record validation errors: ticket is closed")
    _check_safe_update(ticket, changes)
    group_id = changes.get("group_id")
    if group_id is not None and session.get(ZendeskGroup, int(group_id)) is None:
        raise ZendeskError(
            422,
            "RecordInvalid",
            "Record validation errors",
            details={"group": [{"description": "Group: is invalid"}]},
        )
    audit = ZendeskAudit(
        ticket_id=ticket.id,
        author_id=author_id,
        created_at=moment,
        metadata_={"system": {"client": "ticketflow"}, "custom": changes.get("metadata") or {}},
    )
    session.add(audit)
    session.flush()
    if comment_in is not None:
        comment = ZendeskComment(
            ticket_id=ticket.id,
            audit_id=audit.id,
            author_id=int(comment_in.get("author_id") or author_id),
            body=str(comment_in.get("body") or comment_in.get("html_body")),
            public=bool(comment_in.get("public", True)),
            created_at=moment,
        )
        session.add(comment)
        session.flush()
        events.append(
            {"id": comment.id, "type": "Comment", "body": comment.body, "public": comment.public}
        )
    for name in ("status", "group_id", "assignee_id"):
        if name in changes and changes[name] != getattr(ticket, name):
            events.append(
                {
                    "type": "Change",
                    "field_name": name,
                    "value": changes[name],
                    "previous_value": getattr(ticket, name),
                }
            )
            setattr(ticket, name, changes[name])
    # `tags` replaces the list. The single-ticket update documents no `additional_tags` /
    # `remove_tags` (bulk-update fields): like any undocumented field, they are ignored.
    tags = list(ticket.tags)
    if "tags" in changes:
        tags = list(dict.fromkeys(str(t) for t in changes["tags"]))
    if tags != ticket.tags:
        events.append(
            {"type": "Change", "field_name": "tags", "value": tags, "previous_value": ticket.tags}
        )
        ticket.tags = tags
    if ticket.status == "new" and comment_in is not None and "status" not in changes:
        ticket.status = "open"
    ticket.updated_at = moment
    audit.events = events
    session.add(ticket)
    session.add(audit)
    session.commit()
    session.refresh(audit)
    return audit


@router.put("/api/v2/tickets/{ticket_id}.json")
async def update_ticket(
    ticket_id: str, body: TicketUpdateBody, session: SessionDep
) -> dict[str, Any]:
    ticket = _ticket(session, ticket_id)
    audit = apply_update(session, ticket, body.ticket, BOT_USER_ID)
    session.refresh(ticket)
    key = (body.ticket.get("metadata") or {}).get("ticketflow_idempotency_key")
    record_side_effect(
        session,
        PLATFORM,
        "ticket.update",
        idempotency_key=key,
        request=body.ticket,
        response={"audit_id": audit.id},
        resource_id=ticket.id,
    )
    return {"ticket": ticket_json(ticket), "audit": audit_json(audit)}


@router.get("/api/v2/groups.json")
async def list_groups(session: SessionDep) -> dict[str, Any]:
    groups = session.exec(select(ZendeskGroup).order_by(col(ZendeskGroup.id))).all()
    return {
        "groups": [{"id": g.id, "name": g.name, "deleted": False} for g in groups],
        "next_page": None,
        "previous_page": None,
        "count": len(groups),
    }


def user_json(user: ZendeskUser) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role}


@router.get("/api/v2/users/search.json")
async def search_users(request: Request, session: SessionDep) -> dict[str, Any]:
    query = request.query_params.get("query", "")
    email = query.removeprefix("email:").strip().lower()
    users = session.exec(select(ZendeskUser).where(ZendeskUser.email == email)).all()
    return {"users": [user_json(u) for u in users], "next_page": None, "count": len(users)}


@router.get("/api/v2/users/{user_id}.json")
async def show_user(user_id: str, session: SessionDep) -> dict[str, Any]:
    user = session.get(ZendeskUser, int(user_id)) if user_id.isdigit() else None
    if user is None:
        raise ZendeskError(404, "RecordNotFound", "Not found")
    return {"user": user_json(user)}


# --- sandbox controls -----------------------------------------------------------------------


class CustomerReply(BaseModel):
    body: str


class BulkComments(BaseModel):
    count: int


add_webhook_target_route(
    router, PLATFORM, what="the comment-added trigger", default_secret=WEBHOOK_SECRET
)


def sign(secret: str, body: str) -> dict[str, str]:
    """Zendesk's webhook headers: base64 HMAC-SHA256 over timestamp + raw body."""
    timestamp = iso(datetime.now(UTC))
    digest = hmac.new(secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "x-zendesk-webhook-id": "01SANDBOXWEBHOOK0000000001",
        "x-zendesk-webhook-invocation-id": str(uuid.uuid4().int)[:12],
        "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
        "x-zendesk-webhook-signature-timestamp": timestamp,
    }


@router.post("/_sandbox/tickets/{ticket_id}/customer_reply")
async def customer_reply(
    ticket_id: str, reply: CustomerReply, session: SessionDep
) -> dict[str, Any]:
    """The requester writes in: record the public comment and post the signed trigger webhook."""
    ticket = _ticket(session, ticket_id)
    audit = apply_update(
        session, ticket, {"comment": {"body": reply.body, "public": True}}, ticket.requester_id
    )
    if ticket.status in ("pending", "solved"):
        ticket.status = "open"
        session.add(ticket)
        session.commit()
    requester = session.get(ZendeskUser, ticket.requester_id)
    comment_id = audit.events[0]["id"]
    payload = {
        "event": "comment_added",
        "ticket": {
            "id": str(ticket.id),
            "status": ticket.status,
            "tags": " ".join(ticket.tags),
            "subject": ticket.subject,
            "requester_email": requester.email if requester else "",
        },
        "comment": {
            "id": str(comment_id),
            "body": reply.body,
            "public": "true",
            "author_email": requester.email if requester else "",
            "created_at": iso(audit.created_at),
        },
    }
    deliveries = emit_webhook(session, PLATFORM, "comment_added", json.dumps(payload), sign)
    return {"comment_id": comment_id, "webhooks": [d.id for d in deliveries]}


@router.post("/_sandbox/tickets/{ticket_id}/bulk_comments")
async def bulk_comments(ticket_id: str, bulk: BulkComments, session: SessionDep) -> dict[str, Any]:
    """Fill a ticket with internal comments (to reach the 5,000-comment limit in tests)."""
    ticket = _ticket(session, ticket_id)
    moment = now(session)
    session.add_all(
        ZendeskComment(
            ticket_id=ticket.id,
            author_id=BOT_USER_ID,
            body=f"filler {i}",
            public=False,
            created_at=moment,
        )
        for i in range(bulk.count)
    )
    session.commit()
    return {"comments": _comment_count(session, ticket.id)}


@router.post("/_sandbox/tickets")
async def open_ticket(new: NewTicket, session: SessionDep) -> dict[str, Any]:
    """A new, empty ticket of the requester with this email (created if unknown)."""
    email = new.email.strip().lower()
    user = session.exec(select(ZendeskUser).where(ZendeskUser.email == email)).first()
    if user is None:
        top = session.exec(select(func.max(ZendeskUser.id))).one() or 800000
        user = ZendeskUser(id=max(int(top), 800000) + 1, name=new.name or email, email=email)
        session.add(user)
    top_ticket = session.exec(select(func.max(ZendeskTicket.id))).one() or 1000
    moment = now(session)
    ticket = ZendeskTicket(
        id=int(top_ticket) + 1,
        subject=new.subject,
        description=new.subject,
        requester_id=user.id,
        group_id=360001,
        created_at=moment,
        updated_at=moment,
    )
    session.add(ticket)
    session.commit()
    return {"id": str(ticket.id)}


# --- demo data ------------------------------------------------------------------------------

GROUPS = {360001: "Support", 360002: "Escalations", 360003: "Retention"}

# (ticket id, requester, email, subject, first message, tags)
TICKETS: list[tuple[int, str, str, str, str, list[str]]] = [
    (
        1001,
        "Max Moreno",
        "max@example.com",
        "Restart my subscription",
        "I cancelled my subscription last month but I miss it. Can I restart it?",
        ["restart_subscription", "stayai"],
    ),
    (
        1002,
        "Kim Kowalski",
        "kim@example.com",
        "Swap the product in my subscription",
        "Can I swap my subscription to a different flavour from the next box?",
        ["swap_subscription_product", "stayai"],
    ),
    (
        1003,
        "Sam Silva",
        "sam@example.com",
        "Order 7001 arrived damaged",
        "My order 7001 arrived today and the bottle was broken. Can you send a new one?",
        ["reshipment", "stayai"],
    ),
    (
        1004,
        "Casey Chen",
        "casey@example.com",
        "Replacement for order 7002",
        "One item in order 7002 from a few months ago was damaged. Can I get a replacement?",
        ["reshipment", "stayai"],
    ),
]


def seed(session: Session) -> None:
    created = now(session)
    session.add(
        ZendeskUser(id=BOT_USER_ID, name="Ticketflow", email=SANDBOX_ZENDESK_EMAIL, role="agent")
    )
    for group_id, name in GROUPS.items():
        session.add(ZendeskGroup(id=group_id, name=name))
    for offset, (ticket_id, name, email, subject, text, tags) in enumerate(TICKETS):
        user_id = 800001 + offset
        session.add(ZendeskUser(id=user_id, name=name, email=email))
        session.add(
            ZendeskTicket(
                id=ticket_id,
                subject=subject,
                description=text,
                status="new",
                requester_id=user_id,
                group_id=360001,
                tags=tags,
                created_at=created,
                updated_at=created,
            )
        )
        audit = ZendeskAudit(ticket_id=ticket_id, author_id=user_id, created_at=created)
        session.add(audit)
        session.flush()
        comment = ZendeskComment(
            ticket_id=ticket_id,
            audit_id=audit.id,
            author_id=user_id,
            body=text,
            public=True,
            created_at=created,
        )
        session.add(comment)
        session.flush()
        audit.events = [{"id": comment.id, "type": "Comment", "body": text, "public": True}]
        session.add(audit)
    session.commit()
