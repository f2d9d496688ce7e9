"""Kustomer emulator: customers, conversations, messages, drafts, notes, teams, signed webhooks.

Real paths under ``/kustomer/v1``; ``Authorization: Bearer <key>``; JSON:API resources and
errors; ``x-ratelimit-*`` headers. Customers are found by ``POST /v1/customers/search`` (the
criteria in the body) or ``GET /v1/customers/email={email}``, created by
``POST /v1/customers``; ``POST /v1/customers/{id}/conversations`` opens a conversation.
A draft created without ``scheduled: true`` is sent at
once and becomes an ``out`` message that keeps the draft's ``externalId`` (⚠, see the
connector). Sandbox controls under ``/kustomer/_sandbox/`` (no auth): set the webhook target,
simulate a customer message (recorded, then ``kustomer.message.create`` posted, signed).
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, col, select

from sandbox.core import (
    NewTicket,
    SandboxModel,
    SessionDep,
    add_webhook_target_route,
    emit_webhook,
    hmac_sha256_hex,
    iso,
    now,
    record_side_effect,
)
from sandbox.credentials import SANDBOX_KUSTOMER_API_KEY, SANDBOX_KUSTOMER_WEBHOOK_SECRET
from sandbox.routes import RateWindow, has_next_page, page_of, page_params, platform_route

PLATFORM = "kustomer"
WEBHOOK_SECRET = SANDBOX_KUSTOMER_WEBHOOK_SECRET
ORG_ID = "5f0000000000000000000001"
BOT_USER_ID = "5f00000000000000000000b0"
RATE_LIMIT = 1000
STATUSES = ("open", "snoozed", "done")


class KustomerError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _errors(status: int, code: str, title: str, detail: str) -> JSONResponse:
    body = {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}
    return JSONResponse(body, status_code=status)


def error_response(status: int, message: str) -> JSONResponse:
    """Kustomer's JSON:API error shape (also used by the sandbox's fault injection)."""
    code = "rate_limited" if status == 429 else "error"
    return _errors(status, code, message, message)


_window = RateWindow(RATE_LIMIT)


def _rate_headers() -> dict[str, str]:
    remaining = _window.hit()
    return {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(_window.resets_at),
    }


def _authorized(request: Request) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(key, SANDBOX_KUSTOMER_API_KEY)


# Bearer auth, JSON:API errors and rate-limit headers on every API route.
router = APIRouter(
    route_class=platform_route(
        authorized=_authorized,
        unauthorized=lambda: _errors(
            401, "unauthorized", "Unauthorized", "Invalid or missing API key"
        ),
        error=KustomerError,
        error_answer=lambda exc: _errors(exc.status, exc.code, exc.title, exc.detail),
        usage_headers=_rate_headers,
    )
)


# --- tables ---------------------------------------------------------------------------------


class KustomerCustomer(SandboxModel, table=True):
    __tablename__ = "kustomer_customer"

    id: str = Field(primary_key=True)
    name: str
    email: str = Field(index=True)
    locations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime


class KustomerConversation(SandboxModel, table=True):
    __tablename__ = "kustomer_conversation"

    id: str = Field(primary_key=True)
    customer_id: str = Field(index=True)
    name: str
    status: str = "open"
    priority: int = 1
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    assigned_users: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    assigned_teams: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    queue_id: str | None = None
    created_at: datetime
    updated_at: datetime


class KustomerEntry(SandboxModel, table=True):
    """A message (``kind`` message) or an internal note (``kind`` note) on a conversation."""

    __tablename__ = "kustomer_entry"

    id: str = Field(primary_key=True)
    kind: str = "message"
    conversation_id: str = Field(index=True)
    customer_id: str
    channel: str
    direction: str = "in"
    body: str
    external_id: str | None = Field(default=None, index=True)
    created_at: datetime


class KustomerTeam(SandboxModel, table=True):
    __tablename__ = "kustomer_team"

    id: str = Field(primary_key=True)
    name: str


def _new_id() -> str:
    return uuid.uuid4().hex[:24]


# --- views ----------------------------------------------------------------------------------


def customer_json(customer: KustomerCustomer) -> dict[str, Any]:
    return {
        "type": "customer",
        "id": customer.id,
        "attributes": {
            "name": customer.name,
            "displayName": customer.name,
            "emails": [{"type": "home", "email": customer.email}],
            "locations": customer.locations,
            "createdAt": iso(customer.created_at),
        },
        "relationships": {"org": {"data": {"type": "org", "id": ORG_ID}}},
        "links": {"self": f"/v1/customers/{customer.id}"},
    }


def conversation_json(conversation: KustomerConversation) -> dict[str, Any]:
    return {
        "type": "conversation",
        "id": conversation.id,
        "attributes": {
            "name": conversation.name,
            "status": conversation.status,
            "priority": conversation.priority,
            "channels": conversation.channels,
            "tags": conversation.tags,
            "assignedUsers": conversation.assigned_users,
            "assignedTeams": conversation.assigned_teams,
            "queue": {"id": conversation.queue_id} if conversation.queue_id else None,
            "createdAt": iso(conversation.created_at),
            "updatedAt": iso(conversation.updated_at),
        },
        "relationships": {
            "customer": {"data": {"type": "customer", "id": conversation.customer_id}},
            "org": {"data": {"type": "org", "id": ORG_ID}},
        },
        "links": {"self": f"/v1/conversations/{conversation.id}"},
    }


def entry_json(entry: KustomerEntry) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "body": entry.body,
        "externalId": entry.external_id,
        "createdAt": iso(entry.created_at),
    }
    if entry.kind == "message":
        attributes |= {
            "channel": entry.channel,
            "direction": entry.direction,
            "preview": entry.body[:200],
            "status": "sent" if entry.direction == "out" else "received",
        }
    return {
        "type": entry.kind,
        "id": entry.id,
        "attributes": attributes,
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": entry.conversation_id}},
            "customer": {"data": {"type": "customer", "id": entry.customer_id}},
        },
    }


def _customer(session: Session, customer_id: str) -> KustomerCustomer:
    customer = session.get(KustomerCustomer, customer_id)
    if customer is None:
        raise KustomerError(404, "not_found", "Not Found", f"Customer {customer_id} not found")
    return customer


def _conversation(session: Session, conversation_id: str) -> KustomerConversation:
    conversation = session.get(KustomerConversation, conversation_id)
    if conversation is None:
        raise KustomerError(
            404, "not_found", "Not Found", f"Conversation {conversation_id} not found"
        )
    return conversation


def _paged(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    page, page_size = page_params(request, "pageSize")
    chunk = page_of(items, page, page_size)
    path = request.url.path
    next_link = None
    if has_next_page(len(items), page, page_size):
        next_link = f"{path}?page={page + 1}&pageSize={page_size}"
    return {
        "data": chunk,
        "links": {"self": f"{path}?page={page}&pageSize={page_size}", "next": next_link},
        "meta": {"page": page, "pageSize": page_size, "totalCount": len(items)},
    }


# --- API ------------------------------------------------------------------------------------


@router.get("/v1/customers/email={email}")
async def customer_by_email(email: str, session: SessionDep) -> dict[str, Any]:
    found = session.exec(
        select(KustomerCustomer).where(KustomerCustomer.email == email.lower())
    ).first()
    if found is None:
        raise KustomerError(404, "not_found", "Not Found", f"No customer with email {email}")
    return {"data": customer_json(found)}


SEARCH_FIELDS: dict[str, Callable[[KustomerCustomer], list[str]]] = {
    "customer_email": lambda c: [c.email],
    "customer_name": lambda c: [c.name],
    "customer_any_text": lambda c: [c.email, c.name],
}
SEARCH_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda have, want: have.lower() == want.lower(),
    "contains": lambda have, want: want.lower() in have.lower(),
}


def _matches(customer: KustomerCustomer, criterion: Any) -> bool:
    """One ``{field: {operator: value}}`` criterion, or a nested ``{and|or: [...]}``."""
    if not isinstance(criterion, dict) or len(criterion) != 1:
        raise KustomerError(400, "invalid", "Bad Request", "a criterion has exactly one field")
    ((field, test),) = criterion.items()
    if field in ("and", "or"):
        return _all_or_any(customer, field, test)
    if field not in SEARCH_FIELDS:
        raise KustomerError(400, "invalid", "Bad Request", f"unknown search field {field}")
    if not isinstance(test, dict) or len(test) != 1:
        raise KustomerError(400, "invalid", "Bad Request", f"{field} needs one operator")
    ((operator, value),) = test.items()
    if operator not in SEARCH_OPERATORS or not isinstance(value, str):
        raise KustomerError(400, "invalid", "Bad Request", f"unsupported operator on {field}")
    return any(SEARCH_OPERATORS[operator](have, value) for have in SEARCH_FIELDS[field](customer))


def _all_or_any(customer: KustomerCustomer, combinator: str, criteria: Any) -> bool:
    if not isinstance(criteria, list) or not criteria:
        raise KustomerError(400, "invalid", "Bad Request", f"{combinator} must be a list")
    results = [_matches(customer, c) for c in criteria]
    return all(results) if combinator == "and" else any(results)


@router.post("/v1/customers/search")
async def search_customers(request: Request, session: SessionDep) -> dict[str, Any]:
    """Kustomer's customer search: ``{"and"|"or": [{field: {operator: value}}],
    "queryContext": "customer"}``; fields ``customer_email``, ``customer_name``,
    ``customer_any_text``, operators ``equals`` and ``contains``. The criteria travel in
    the body, so what the customer typed never appears in a URL."""
    try:
        query = await request.json()
    except ValueError:
        raise KustomerError(400, "invalid", "Bad Request", "body must be JSON") from None
    if not isinstance(query, dict) or query.get("queryContext") != "customer":
        raise KustomerError(400, "invalid", "Bad Request", 'queryContext must be "customer"')
    combinators = [k for k in ("and", "or") if k in query]
    if len(combinators) != 1:
        raise KustomerError(400, "invalid", "Bad Request", "give exactly one of and / or")
    customers = session.exec(select(KustomerCustomer).order_by(col(KustomerCustomer.id))).all()
    found = [c for c in customers if _all_or_any(c, combinators[0], query[combinators[0]])]
    return _paged(request, [customer_json(c) for c in found])


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise KustomerError(400, "invalid", "Bad Request", f"{key} must be a non-empty string")
    return value


@router.post("/v1/customers", status_code=201)
async def create_customer(request: Request, session: SessionDep) -> dict[str, Any]:
    """``{name, emails: [{type, email}], locations: [...]}`` -> the new customer."""
    body = await request.json()
    if not isinstance(body, dict):
        raise KustomerError(400, "invalid", "Bad Request", "body must be an object")
    name = _text(body, "name", required=True)
    emails = [e.get("email") for e in body.get("emails") or [] if isinstance(e, dict)]
    if not emails or not all(isinstance(e, str) and "@" in e for e in emails):
        raise KustomerError(400, "invalid", "Bad Request", "emails needs one valid email")
    email = str(emails[0]).lower()
    if session.exec(select(KustomerCustomer).where(KustomerCustomer.email == email)).first():
        raise KustomerError(409, "conflict", "Conflict", "a customer with this email exists")
    locations = body.get("locations") or []
    if not isinstance(locations, list) or not all(isinstance(x, dict) for x in locations):
        raise KustomerError(400, "invalid", "Bad Request", "locations must be a list of objects")
    customer = KustomerCustomer(
        id=_new_id(), name=str(name), email=email, locations=locations, created_at=now(session)
    )
    session.add(customer)
    session.commit()
    session.refresh(customer)
    return {"data": customer_json(customer)}


@router.post("/v1/customers/{customer_id}/conversations", status_code=201)
async def create_conversation(
    customer_id: str, request: Request, session: SessionDep
) -> dict[str, Any]:
    """``{name?, channels?, tags?}`` -> a new open conversation of the customer."""
    customer = _customer(session, customer_id)
    body = await request.json()
    if not isinstance(body, dict):
        raise KustomerError(400, "invalid", "Bad Request", "body must be an object")
    channels = body.get("channels") or ["chat"]
    tags = body.get("tags") or []
    if not all(isinstance(x, str) for x in [*channels, *tags]):
        raise KustomerError(400, "invalid", "Bad Request", "channels and tags are strings")
    at = now(session)
    conversation = KustomerConversation(
        id=_new_id(),
        customer_id=customer.id,
        name=_text(body, "name") or "New conversation",
        channels=list(channels),
        tags=list(tags),
        created_at=at,
        updated_at=at,
    )
    session.add(conversation)
    session.commit()
    session.refresh(conversation)
    return {"data": conversation_json(conversation)}


@router.get("/v1/customers/{customer_id}")
async def show_customer(customer_id: str, session: SessionDep) -> dict[str, Any]:
    return {"data": customer_json(_customer(session, customer_id))}


@router.get("/v1/customers/{customer_id}/conversations")
async def customer_conversations(
    customer_id: str, request: Request, session: SessionDep
) -> dict[str, Any]:
    _customer(session, customer_id)
    rows = session.exec(
        select(KustomerConversation)
        .where(KustomerConversation.customer_id == customer_id)
        .order_by(col(KustomerConversation.created_at))
    ).all()
    return _paged(request, [conversation_json(c) for c in rows])


@router.get("/v1/conversations/{conversation_id}")
async def show_conversation(conversation_id: str, session: SessionDep) -> dict[str, Any]:
    return {"data": conversation_json(_conversation(session, conversation_id))}


@router.patch("/v1/conversations/{conversation_id}")
async def update_conversation(
    conversation_id: str, request: Request, session: SessionDep
) -> dict[str, Any]:
    conversation = _conversation(session, conversation_id)
    changes = await request.json()
    if not isinstance(changes, dict):
        raise KustomerError(400, "invalid", "Bad Request", "body must be an object")
    if "status" in changes and changes["status"] not in STATUSES:
        raise KustomerError(
            400, "invalid", "Bad Request", f"status must be one of {', '.join(STATUSES)}"
        )
    if "priority" in changes and changes["priority"] not in (1, 2, 3, 4, 5):
        raise KustomerError(400, "invalid", "Bad Request", "priority must be 1 to 5")
    for key in ("assignedTeams", "assignedUsers"):
        if key in changes and (not isinstance(changes[key], list) or len(changes[key]) > 10):
            raise KustomerError(400, "invalid", "Bad Request", f"{key} takes up to 10 ids")
    if "assignedTeams" in changes:
        for team_id in changes["assignedTeams"]:
            if session.get(KustomerTeam, team_id) is None:
                raise KustomerError(400, "invalid", "Bad Request", f"unknown team {team_id}")
        conversation.assigned_teams = list(changes["assignedTeams"])
    if "assignedUsers" in changes:
        conversation.assigned_users = list(changes["assignedUsers"])
    if "status" in changes:
        conversation.status = changes["status"]
    if "priority" in changes:
        conversation.priority = int(changes["priority"])
    if "tags" in changes:
        conversation.tags = [str(t) for t in changes["tags"]]
    if "queue" in changes:
        conversation.queue_id = (changes["queue"] or {}).get("id")
    conversation.updated_at = now(session)
    session.add(conversation)
    session.commit()
    session.refresh(conversation)
    record_side_effect(
        session,
        PLATFORM,
        "conversation.update",
        idempotency_key=None,
        request=changes,
        resource_id=conversation.id,
    )
    return {"data": conversation_json(conversation)}


def _entries(session: Session, conversation_id: str, kind: str) -> list[KustomerEntry]:
    return list(
        session.exec(
            select(KustomerEntry)
            .where(KustomerEntry.conversation_id == conversation_id, KustomerEntry.kind == kind)
            .order_by(col(KustomerEntry.created_at), col(KustomerEntry.id))
        ).all()
    )


def _entry_list(kind: str) -> None:
    """``GET /v1/conversations/{conversation_id}/{kind}s``: its entries of ``kind``, paged."""

    async def list_entries(
        conversation_id: str, request: Request, session: SessionDep
    ) -> dict[str, Any]:
        _conversation(session, conversation_id)
        return _paged(request, [entry_json(e) for e in _entries(session, conversation_id, kind)])

    path = f"/v1/conversations/{{conversation_id}}/{kind}s"
    router.add_api_route(path, list_entries, methods=["GET"], name=f"conversation_{kind}s")


_entry_list("message")
_entry_list("note")


class DraftIn(BaseModel):
    conversation: str | None = None
    channel: str
    body: str
    to: str | None = None
    from_: str | None = PydanticField(default=None, alias="from")
    externalId: str | None = None
    scheduled: bool = False
    sendAt: str | None = None


@router.post("/v1/customers/{customer_id}/drafts", status_code=201)
async def create_draft(customer_id: str, draft: DraftIn, session: SessionDep) -> dict[str, Any]:
    """Create a draft; unscheduled drafts are sent at once (an ``out`` message)."""
    customer = _customer(session, customer_id)
    if not draft.body.strip():
        raise KustomerError(400, "invalid", "Bad Request", "body is required")
    if draft.conversation is None:
        raise KustomerError(400, "invalid", "Bad Request", "conversation is required")
    conversation = _conversation(session, draft.conversation)
    if conversation.customer_id != customer.id:
        raise KustomerError(
            400, "invalid", "Bad Request", "conversation belongs to another customer"
        )
    moment = now(session)
    draft_id = _new_id()
    status = "scheduled" if draft.scheduled else "sent"
    if not draft.scheduled:
        kind = "note" if draft.channel == "note" else "message"
        session.add(
            KustomerEntry(
                id=_new_id(),
                kind=kind,
                conversation_id=conversation.id,
                customer_id=customer.id,
                channel=draft.channel,
                direction="out",
                body=draft.body,
                external_id=draft.externalId,
                created_at=moment,
            )
        )
        if draft.channel not in conversation.channels and draft.channel != "note":
            conversation.channels = [*conversation.channels, draft.channel]
        conversation.updated_at = moment
        session.add(conversation)
        session.commit()
    resource = {
        "type": "draft",
        "id": draft_id,
        "attributes": {
            "channel": draft.channel,
            "body": draft.body,
            "status": status,
            "externalId": draft.externalId,
            "createdAt": iso(moment),
        },
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": conversation.id}},
            "customer": {"data": {"type": "customer", "id": customer.id}},
        },
    }
    record_side_effect(
        session,
        PLATFORM,
        "draft.create",
        idempotency_key=draft.externalId,
        request=draft.model_dump(),
        response={"id": draft_id, "status": status},
        resource_id=conversation.id,
        status_code=201,
    )
    return {"data": resource}


class NoteIn(BaseModel):
    conversation: str
    body: str
    externalId: str | None = None


@router.post("/v1/notes", status_code=201)
async def create_note(note: NoteIn, session: SessionDep) -> dict[str, Any]:
    conversation = _conversation(session, note.conversation)
    if not 1 <= len(note.body) <= 10240:
        raise KustomerError(400, "invalid", "Bad Request", "body must be 1 to 10,240 characters")
    entry = KustomerEntry(
        id=_new_id(),
        kind="note",
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        channel="note",
        direction="out",
        body=note.body,
        external_id=note.externalId,
        created_at=now(session),
    )
    session.add(entry)
    session.commit()
    session.refresh(entry)
    record_side_effect(
        session,
        PLATFORM,
        "note.create",
        idempotency_key=note.externalId,
        request=note.model_dump(),
        response={"id": entry.id},
        resource_id=conversation.id,
        status_code=201,
    )
    return {"data": entry_json(entry)}


@router.get("/v1/teams")
async def list_teams(session: SessionDep) -> dict[str, Any]:
    teams = session.exec(select(KustomerTeam).order_by(col(KustomerTeam.name))).all()
    return {
        "data": [{"type": "team", "id": t.id, "attributes": {"name": t.name}} for t in teams],
        "links": {"next": None},
    }


# --- sandbox controls -----------------------------------------------------------------------


class CustomerMessage(BaseModel):
    body: str
    channel: str = "email"


add_webhook_target_route(
    router, PLATFORM, what="``kustomer.message.create``", default_secret=WEBHOOK_SECRET
)


def sign(event: str) -> Callable[[str, str], dict[str, str]]:
    def headers(secret: str, body: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Kustomer-Webhook-Event": event,
            "X-Kustomer-Webhook-Signature": hmac_sha256_hex(secret, body),
        }

    return headers


@router.post("/_sandbox/tickets")
async def open_ticket(new: NewTicket, session: SessionDep) -> dict[str, Any]:
    """A new, empty conversation of the customer with this email (created if unknown)."""
    email = new.email.strip().lower()
    customer = session.exec(select(KustomerCustomer).where(KustomerCustomer.email == email)).first()
    moment = now(session)
    if customer is None:
        customer = KustomerCustomer(
            id=_new_id(), name=new.name or email, email=email, created_at=moment
        )
        session.add(customer)
    conversation = KustomerConversation(
        id=_new_id(),
        customer_id=customer.id,
        name=new.subject,
        channels=["chat"],
        created_at=moment,
        updated_at=moment,
    )
    session.add(conversation)
    session.commit()
    return {"id": conversation.id}


@router.post("/_sandbox/conversations/{conversation_id}/customer_reply")
async def customer_reply(
    conversation_id: str, message: CustomerMessage, session: SessionDep
) -> dict[str, Any]:
    """The customer writes in: record an ``in`` message, reopen, post the signed webhook."""
    conversation = _conversation(session, conversation_id)
    entry = KustomerEntry(
        id=_new_id(),
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        channel=message.channel,
        direction="in",
        body=message.body,
        created_at=now(session),
    )
    session.add(entry)
    conversation.status = "open"
    conversation.updated_at = entry.created_at
    session.add(conversation)
    session.commit()
    session.refresh(entry)
    event = "kustomer.message.create"
    envelope = {
        "id": uuid.uuid4().hex[:24],
        "name": event,
        "org": ORG_ID,
        "partition": ORG_ID,
        "data": entry_json(entry),
        "changes": None,  # null on a create event, as Kustomer's event catalog shows
        "createdAt": iso(entry.created_at),
    }
    deliveries = emit_webhook(session, PLATFORM, event, json.dumps(envelope), sign(event))
    return {"message_id": entry.id, "webhooks": [d.id for d in deliveries]}


# --- demo data ------------------------------------------------------------------------------

TEAMS = {
    "5f00000000000000000000a1": "Support",
    "5f00000000000000000000b2": "Escalations",
    "5f00000000000000000000c3": "Retention",
}

ADDRESSES: dict[str, dict[str, Any]] = {
    "sam": {
        "address": "12 Harbor St",
        "cityName": "Portland",
        "regionCode": "OR",
        "zipCode": "97201",
        "countryCode": "US",
    },
    "casey": {
        "address": "8 Elm Ave",
        "cityName": "Austin",
        "regionCode": "TX",
        "zipCode": "78701",
        "countryCode": "US",
    },
    "jo": {
        "address": "44 Pine Rd",
        "cityName": "Denver",
        "regionCode": "CO",
        "zipCode": "80202",
        "countryCode": "US",
    },
    "lee": {
        "address": "301 Oak Blvd",
        "cityName": "Columbus",
        "regionCode": "OH",
        "zipCode": "43004",
        "countryCode": "US",
    },
}

# (n, first name, full name, conversation name, first message, tags)
CONVERSATIONS: list[tuple[int, str, str, str, str, list[str]]] = [
    (
        1,
        "alex",
        "Alex Abbott",
        "Cancel order 5001",
        "Please cancel my order 5001, I ordered it by mistake.",
        ["cancel_order", "bigcommerce"],
    ),
    (
        2,
        "blair",
        "Blair Brooks",
        "Cancel order 5002",
        "I want to cancel order 5002.",
        ["cancel_order", "bigcommerce"],
    ),
    (
        3,
        "sam",
        "Sam Silva",
        "Order 7001 arrived damaged",
        "Order 7001 arrived with a broken bottle. Can you send a replacement?",
        ["reshipment", "stayai"],
    ),
    (
        4,
        "casey",
        "Casey Chen",
        "Replacement for order 7002",
        "An item in order 7002 was damaged, can I get a new one?",
        ["reshipment", "stayai"],
    ),
    (
        5,
        "jo",
        "Jo Jensen",
        "Order 9001 never arrived",
        "Tracking for order 9001 says delivered but I never got it.",
        ["not_received", "skio"],
    ),
    (
        6,
        "lee",
        "Lee Lopez",
        "Where is order 9002?",
        "My order 9002 has not moved for 10 days.",
        ["not_received", "skio"],
    ),
    (
        7,
        "rio",
        "Rio Reyes",
        "Skip my next shipment",
        "I still have plenty left, please skip my next delivery.",
        ["skip_next_shipment", "skio"],
    ),
    (
        8,
        "kim",
        "Kim Kowalski",
        "Swap the product in my subscription",
        "Can I switch my subscription to another flavour?",
        ["swap_subscription_product", "stayai"],
    ),
]


def customer_id(n: int) -> str:
    return f"5f000000000000000000c{n:03d}"


def conversation_id(n: int) -> str:
    return f"5f000000000000000000d{n:03d}"


def seed(session: Session) -> None:
    created = now(session)
    for team_id, name in TEAMS.items():
        session.add(KustomerTeam(id=team_id, name=name))
    for n, first, name, subject, text, tags in CONVERSATIONS:
        location = ADDRESSES.get(first)
        session.add(
            KustomerCustomer(
                id=customer_id(n),
                name=name,
                email=f"{first}@example.com",
                locations=[{"type": "home", "name": name, **location}] if location else [],
                created_at=created,
            )
        )
        session.add(
            KustomerConversation(
                id=conversation_id(n),
                customer_id=customer_id(n),
                name=subject,
                channels=["email"],
                tags=tags,
                created_at=created,
                updated_at=created,
            )
        )
        session.add(
            KustomerEntry(
                id=f"5f000000000000000000e{n:03d}",
                conversation_id=conversation_id(n),
                customer_id=customer_id(n),
                channel="email",
                direction="in",
                body=text,
                created_at=created,
            )
        )
    session.commit()
