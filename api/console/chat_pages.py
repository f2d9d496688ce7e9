"""The console's test chat (Kodif's test screen): an editor talks to a policy's draft or
any version as one of the sandbox's demo customers, on the web channel or a sandbox
helpdesk (a fresh ticket opened there), and after each turn sees the bot's replies, the
trace (ran / skipped / waiting / failed), the tool calls with their arguments and results
(from the ticket's history) and the sandbox writes they made. The ticket is a real
TicketWorkflow marked `trial`: pinned to the chosen version, outside any experiment, with
no outcome row, so the policy's metrics count only real customers. A draft is stored as an
unpublished version first (a ticket runs a version by its hash). "Save as test" keeps the
conversation as a script the publish gate runs; "reset the sandbox" reseeds its data."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from temporalio.client import WorkflowExecutionStatus

from api.console.chat_scripts import chat_script
from api.console.rendering import redirect, render
from api.console.sandbox_link import DemoCustomer, SandboxLink, SandboxUnavailable
from api.console.session import ConsoleRefusal, Editor
from api.deps import EngineDep, SettingsDep, TicketServiceDep, get_default_platforms
from api.services import policy_store
from api.services.policy_scripts import policy_scripts, save_script
from api.services.policy_store import StoreError
from api.services.ticket_history import ToolCallView, ticket_history
from api.services.tickets import TicketView
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    Customer,
    CustomerMessage,
    TicketStart,
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


async def _chat_view(tickets: TicketServiceDep, ticket_id: str) -> TicketView:
    """The test chat's ticket; 404 for any other ticket (its customer is a real one)."""
    try:
        view = await tickets.view(ticket_id)
    except HTTPException as err:
        raise ConsoleRefusal(err.status_code, str(err.detail)) from None
    if not view.state.trial:
        raise ConsoleRefusal(404, f"{ticket_id!r} is not a test chat")
    return view


async def _customers(link: SandboxLink) -> tuple[list[DemoCustomer], str | None]:
    try:
        return await link.customers(), None
    except SandboxUnavailable as err:
        return [], str(err)


async def _chat_page(
    request: Request,
    engine: EngineDep,
    tickets: TicketServiceDep,
    link: SandboxLink,
    policy_id: str,
    *,
    ticket_id: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    refusal: str | None = None,
    refusal_lines: list[str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    try:
        published, versions = await run_in_threadpool(policy_store.list_versions, engine, policy_id)
        shown = await run_in_threadpool(
            policy_store.editable,
            engine,
            policy_id,
            default_platforms=get_default_platforms(request),
        )
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    view: TicketView | None = None
    running = False
    calls: list[ToolCallView] = []
    effects: list[dict[str, Any]] = []
    sandbox_note: str | None = None
    if ticket_id:
        view = await _chat_view(tickets, ticket_id)
        running = await _running(tickets, ticket_id)
        calls = (await ticket_history(tickets.client, ticket_id)).tool_calls
        try:
            effects = await link.side_effects(ticket_id)
        except SandboxUnavailable as err:
            sandbox_note = str(err)
    customers, unavailable = await _customers(link)
    saved = await run_in_threadpool(policy_scripts, engine, policy_id)
    values = {
        "version": DRAFT if shown.draft else (published or ""),
        "helpdesk": "web",
        "email": DEMO_CUSTOMER,
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
        helpdesks=link.helpdesks(),
        customers=customers,
        ticket=view,
        running=running,
        tool_calls=calls,
        side_effects=effects,
        saved_scripts=saved,
        sandbox_note=sandbox_note or unavailable,
        refusal=refusal,
        refusal_lines=refusal_lines or [],
        notice=notice,
        pretty=_pretty,
    )


def _pretty(value: Any) -> str:
    """Arguments and results as indented JSON (what the platform got and gave)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@router.get("/{policy_id}/chat")
async def chat_page(
    request: Request,
    policy_id: str,
    write: Editor,
    engine: EngineDep,
    tickets: TicketServiceDep,
    settings: SettingsDep,
    ticket: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    return await _chat_page(
        request,
        engine,
        tickets,
        SandboxLink(settings),
        policy_id,
        ticket_id=ticket,
        notice=notice,
    )


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
    settings: SettingsDep,
) -> Response:
    """One customer message: the first starts a trial ticket on the chosen version (the
    draft stored first) and helpdesk, the next ones go to that ticket; then the page shows
    the turn."""
    link = SandboxLink(settings)
    form = {
        name: write.field(name).strip()
        for name in ("version", "helpdesk", "email", "context", "ticket")
    }
    text = write.field("text").strip()[:MAX_MESSAGE_CHARS]
    ticket_id = form["ticket"] or None

    async def refused(status_code: int, why: str, lines: list[str] | None = None) -> Response:
        return await _chat_page(
            request,
            engine,
            tickets,
            link,
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
        helpdesk = form["helpdesk"] or "web"
        try:
            if helpdesk not in link.helpdesks():
                raise ValueError(f"{helpdesk!r} is not a helpdesk the sandbox emulates here")
            context = _context(form["context"])
            customer = await _chosen_customer(link, form["email"])
            version = form["version"]
            if version == DRAFT:
                version = await run_in_threadpool(
                    policy_store.store_draft,
                    engine,
                    policy_id,
                    write.user.email,
                    default_platforms=settings.default_platforms,
                )
            else:
                await run_in_threadpool(policy_store.get_version, engine, policy_id, version)
            external_id = f"{CHAT_PREFIX}{uuid.uuid4().hex[:12]}"
            if helpdesk != "web":
                if customer is None:
                    raise ValueError("a helpdesk ticket needs a demo customer")
                external_id = await link.open_ticket(helpdesk, customer.email, customer.name)
        except (ValueError, SandboxUnavailable) as err:
            return await refused(422, str(err))
        except StoreError as err:
            lines = [f"line {d.line}: {d.message}" for d in err.diagnostics]
            return await refused(err.status, err.detail, lines)
        ticket_id = ticket_workflow_id(helpdesk, external_id)
        start = TicketStart(
            helpdesk=helpdesk,
            external_id=external_id,
            customer=Customer(
                email=customer.email if customer else None,
                name=(customer.name or None) if customer else None,
            ),
            policy_id=policy_id,
            policy_version=version,
            context=context,
            trial=True,
        )
    else:
        view = await _chat_view(tickets, ticket_id)
        if not await _running(tickets, ticket_id):
            return await refused(409, "this chat has ended; start a new one")
        start = TicketStart(helpdesk=view.state.helpdesk, external_id=view.state.external_id)
    message = CustomerMessage(message_id=uuid.uuid4().hex[:16], text=text)
    try:
        await tickets.update_with_start(ticket_id, start, message)
    except HTTPException as err:
        return await refused(err.status_code, str(err.detail))
    # No fragment: the message box keeps its autofocus (a target element would cancel it).
    return redirect(_chat_url(policy_id, ticket_id))


def _chat_url(policy_id: str, ticket_id: str | None, anchor: str = "", notice: str = "") -> str:
    query = [f"ticket={quote(ticket_id)}"] if ticket_id else []
    if notice:
        query.append(f"notice={quote(notice)}")
    tail = f"?{'&'.join(query)}" if query else ""
    return f"/console/policies/{quote(policy_id)}/chat{tail}{anchor}"


async def _chosen_customer(link: SandboxLink, email: str) -> DemoCustomer | None:
    """The demo customer the editor chose (none: an anonymous visitor on the web channel);
    only the sandbox's own customers, so a chat never carries a real person's data."""
    if not email:
        return None
    for customer in await link.customers():
        if customer.email == email.lower():
            return customer
    raise ValueError(f"{email!r} is not one of the sandbox's demo customers")


@router.post("/{policy_id}/chat/save")
async def save_as_test(
    policy_id: str,
    write: Editor,
    engine: EngineDep,
    tickets: TicketServiceDep,
    settings: SettingsDep,
) -> Response:
    """The chat as a conversation script of the policy, stored for the publish gate."""
    ticket_id = write.field("ticket").strip()
    view = await _chat_view(tickets, ticket_id)
    if view.state.policy_id != policy_id:
        raise ConsoleRefusal(409, f"this chat runs {view.state.policy_id!r}, not {policy_id!r}")
    try:
        effects = await SandboxLink(settings).side_effects(ticket_id)
    except SandboxUnavailable as err:
        raise ConsoleRefusal(503, str(err)) from None
    start = TicketStart.model_validate((await ticket_history(tickets.client, ticket_id)).start)
    name = write.field("name").strip()[:200] or f"saved chat {view.state.external_id}"
    script = chat_script(
        view,
        name=name,
        customer=start.customer.model_dump(include={"email", "name"}, exclude_none=True),
        context=start.context,
        side_effects=effects,
        ended=not await _running(tickets, ticket_id),
    )
    await run_in_threadpool(save_script, engine, policy_id, script, write.user.email)
    return redirect(_chat_url(policy_id, ticket_id, "#saved", notice=f"saved as test: {name}"))


@router.post("/{policy_id}/chat/reset-sandbox")
async def reset_sandbox(policy_id: str, write: Editor, settings: SettingsDep) -> Response:
    """Reseed the sandbox's demo data, rewind its clock, clear its faults and request log:
    the next chat (and a saved script's replay) starts from the same data."""
    try:
        await SandboxLink(settings).reset()
    except SandboxUnavailable as err:
        raise ConsoleRefusal(503, str(err)) from None
    ticket_id = write.field("ticket").strip() or None
    return redirect(_chat_url(policy_id, ticket_id, notice="the sandbox was reset"))
