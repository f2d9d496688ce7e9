"""The console's test chat (Kodif's test screen): an editor talks to a policy's draft or
any version as a customer on the web channel, and after each turn sees the bot's replies
and the trace (ran / skipped / waiting / failed). The ticket is a real TicketWorkflow
marked `trial`: pinned to the chosen version, outside any experiment, with no outcome row,
so the policy's metrics count only real customers. A draft is stored as an unpublished
version first (a ticket runs a version by its hash)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from temporalio.client import WorkflowExecutionStatus

from api.console.rendering import redirect, render
from api.console.session import ConsoleRefusal, Editor
from api.deps import EngineDep, TicketServiceDep
from api.services import policy_store
from api.services.policy_store import StoreError
from api.services.tickets import TicketView
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    Customer,
    CustomerMessage,
    TicketStart,
    parse_ticket_workflow_id,
    ticket_workflow_id,
)

router = APIRouter(prefix="/console/policies", include_in_schema=False)

DRAFT = "draft"
CHAT_PREFIX = "chat-"
DEMO_CUSTOMER = "alex@example.com"  # a customer the sandbox knows (demo data)


async def _running(tickets: TicketServiceDep, ticket_id: str) -> bool:
    """The ticket still takes messages (its outcome may be set while it waits for the
    customer's rating)."""
    described = await tickets.client.get_workflow_handle(ticket_id).describe()
    return described.status == WorkflowExecutionStatus.RUNNING


def _chat_ticket(ticket_id: str) -> bool:
    parsed = parse_ticket_workflow_id(ticket_id)
    return parsed is not None and parsed[0] == "web" and parsed[1].startswith(CHAT_PREFIX)


async def _chat_page(
    request: Request,
    engine: EngineDep,
    tickets: TicketServiceDep,
    policy_id: str,
    *,
    ticket_id: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    refusal: str | None = None,
    refusal_lines: list[str] | None = None,
) -> HTMLResponse:
    try:
        published, versions = await run_in_threadpool(policy_store.list_versions, engine, policy_id)
        shown = await run_in_threadpool(policy_store.editable, engine, policy_id)
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    view: TicketView | None = None
    running = False
    if ticket_id:
        if not _chat_ticket(ticket_id):
            raise ConsoleRefusal(404, f"{ticket_id!r} is not a test chat")
        try:
            view = await tickets.view(ticket_id)
        except HTTPException as err:
            raise ConsoleRefusal(err.status_code, str(err.detail)) from None
        running = await _running(tickets, ticket_id)
    values = {
        "version": DRAFT if shown.draft else (published or ""),
        "email": DEMO_CUSTOMER,
        "name": "Alex",
        "context": "{}",
        **(form or {}),
    }
    return render(
        request,
        "chat.html",
        status_code,
        policy_id=policy_id,
        published_version=published,
        versions=versions,
        has_draft=shown.draft is not None,
        form=values,
        ticket=view,
        running=running,
        refusal=refusal,
        refusal_lines=refusal_lines or [],
    )


@router.get("/{policy_id}/chat")
async def chat_page(
    request: Request,
    policy_id: str,
    write: Editor,
    engine: EngineDep,
    tickets: TicketServiceDep,
    ticket: str | None = None,
) -> HTMLResponse:
    return await _chat_page(request, engine, tickets, policy_id, ticket_id=ticket)


def _context(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as err:
        raise ValueError(f"the context is not JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(value, dict):
        raise ValueError('the context is a JSON object, like {"order_id": "5001"}')
    return value


@router.post("/{policy_id}/chat")
async def chat_turn(
    request: Request,
    policy_id: str,
    write: Editor,
    engine: EngineDep,
    tickets: TicketServiceDep,
) -> Response:
    """One customer message: the first starts a trial ticket on the chosen version (the
    draft stored first), the next ones go to that ticket; then the page shows the turn."""
    form = {
        name: write.field(name).strip()
        for name in ("version", "email", "name", "context", "ticket")
    }
    text = write.field("text").strip()[:MAX_MESSAGE_CHARS]
    ticket_id = form["ticket"] or None

    async def refused(status_code: int, why: str, lines: list[str] | None = None) -> Response:
        return await _chat_page(
            request,
            engine,
            tickets,
            policy_id,
            ticket_id=ticket_id,
            status_code=status_code,
            form=form,
            refusal=why,
            refusal_lines=lines,
        )

    if not text:
        return await refused(422, "write the customer's message first")
    if ticket_id is None:
        try:
            context = _context(form["context"])
            version = form["version"]
            if version == DRAFT:
                version = await run_in_threadpool(
                    policy_store.store_draft, engine, policy_id, write.user.email
                )
            else:
                await run_in_threadpool(policy_store.get_version, engine, policy_id, version)
        except ValueError as err:
            return await refused(422, str(err))
        except StoreError as err:
            lines = [f"line {d.line}: {d.message}" for d in err.diagnostics]
            return await refused(err.status, err.detail, lines)
        external_id = f"{CHAT_PREFIX}{uuid.uuid4().hex[:12]}"
        ticket_id = ticket_workflow_id("web", external_id)
        start = TicketStart(
            helpdesk="web",
            external_id=external_id,
            customer=Customer(email=form["email"] or None, name=form["name"] or None),
            policy_id=policy_id,
            policy_version=version,
            context=context,
            trial=True,
        )
    elif not _chat_ticket(ticket_id):
        raise ConsoleRefusal(404, f"{ticket_id!r} is not a test chat")
    else:
        if not await _running(tickets, ticket_id):
            return await refused(409, "this chat has ended; start a new one")
        start = TicketStart(helpdesk="web", external_id=ticket_id.removeprefix("ticket-web-"))
    message = CustomerMessage(message_id=uuid.uuid4().hex[:16], text=text)
    try:
        await tickets.update_with_start(ticket_id, start, message)
    except HTTPException as err:
        return await refused(err.status_code, str(err.detail))
    return redirect(
        f"/console/policies/{quote(policy_id)}/chat?ticket={quote(ticket_id)}#transcript"
    )
