"""The console's ticket pages: the live list from Temporal visibility with filters and
pages (the visibility's page token, carried in the link), one ticket's state, transcript,
trace, outcome and carrier-claim follow-up (from its workflows' queries, through the same
TicketService as the API), a link to its execution in the Temporal UI, and the agent
actions for operators (reply to the customer, take over, release, resolve, note)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.console.rendering import redirect, render
from api.console.session import ConsoleRefusal, Operator, Viewer
from api.deps import SettingsDep, TicketServiceDep
from api.services.tickets import TicketSummary
from workflows import search_attributes as sa
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_models import ClaimProgress, ClaimView
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import AgentAction, TicketMemory, TicketStatus

router = APIRouter(prefix="/console/tickets", include_in_schema=False)

#: Search-attribute values are matched literally (as the API's FILTER_VALUE).
FILTER_VALUE = re.compile(r"^[A-Za-z0-9 _.:-]{1,100}$")
FILTERS = {
    "status": sa.TICKET_STATUS,
    "policy": sa.POLICY_ID,
    "outcome": sa.OUTCOME,
    "helpdesk": sa.HELPDESK,
    "variant": sa.VARIANT,
}
ACTIONS = {
    "reply": "Reply to the customer (takes the ticket over)",
    "takeover": "Take over (the bot goes silent)",
    "note": "Add an internal note",
    "release": "Release to the bot",
    "resolve": "Resolve (end the ticket)",
}
assert set(ACTIONS) == set(get_args(AgentAction.model_fields["action"].annotation))
PAGE_SIZE = 50


def _token(text: str) -> bytes | None:
    """The next page's visibility token from the link (URL-safe base64); None: page one."""
    if not text:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ConsoleRefusal(
            422, "this page link is not valid; start from the first page"
        ) from None


def _page_link(chosen: dict[str, str], size: int, token: bytes | None) -> str | None:
    if token is None:
        return None
    query: dict[str, Any] = dict(chosen)
    if size != PAGE_SIZE:
        query["size"] = size
    query["page"] = base64.urlsafe_b64encode(token).decode().rstrip("=")
    return f"/console/tickets?{urlencode(query)}"


@router.get("")
async def ticket_list(request: Request, user: Viewer, tickets: TicketServiceDep) -> HTMLResponse:
    """The newest tickets first, `size` (at most 50) a page; a script on the page reloads
    the list every few seconds with the same filters and page."""
    chosen = {
        name: value.strip()
        for name in FILTERS
        if (value := request.query_params.get(name, "")) and value.strip()
    }
    size_text = request.query_params.get("size", "")
    size = int(size_text) if size_text.isdigit() else PAGE_SIZE
    size = max(1, min(PAGE_SIZE, size))
    token = _token(request.query_params.get("page", ""))
    bad = [name for name, value in chosen.items() if not FILTER_VALUE.match(value)]
    found: list[TicketSummary] = []
    next_token: bytes | None = None
    error = None
    if bad:
        error = f"{', '.join(bad)}: letters, digits, spaces and _ . : - only"
    else:
        filters = {FILTERS[name].name: value for name, value in chosen.items()}
        try:
            found, next_token = await tickets.page(filters, size, token)
        except HTTPException as err:
            error = str(err.detail)
    first_query = urlencode({**chosen, **({"size": size} if size != PAGE_SIZE else {})})
    return render(
        request,
        "tickets.html",
        tickets=found,
        chosen=chosen,
        statuses=[s.value for s in TicketStatus],
        error=error,
        page_size=size,
        later_page=token is not None,
        first_page=f"/console/tickets?{first_query}" if first_query else "/console/tickets",
        next_page=_page_link(chosen, size, next_token),
    )


async def _claim_follow_up(
    tickets: TicketServiceDep, ticket_id: str
) -> tuple[ClaimProgress | None, ClaimView | None, str | None]:
    """The ticket's last claim report and, while its follow-up runs, that workflow's own
    view (carrier, checks, next check, deadline) and id; (None, None, None) without a claim."""
    memory: TicketMemory = await tickets.client.get_workflow_handle(ticket_id).query(
        TicketWorkflow.snapshot
    )
    child_id = memory.claim_child_id
    view: ClaimView | None = None
    if child_id:
        try:
            asked: ClaimView = await tickets.client.get_workflow_handle(child_id).query(
                CarrierClaimWorkflow.status
            )
            view = asked.as_of(datetime.now(UTC))  # its looks move on between its steps
        except (RPCError, WorkflowQueryFailedError):  # ended meanwhile: the last report says how
            view = None
    return memory.claim_last, view, child_id


@router.get("/{ticket_id}")
async def ticket_page(
    request: Request,
    ticket_id: str,
    user: Viewer,
    tickets: TicketServiceDep,
    settings: SettingsDep,
) -> HTMLResponse:
    try:
        view = await tickets.view(ticket_id)
    except HTTPException as err:
        raise ConsoleRefusal(err.status_code, str(err.detail)) from None
    namespace = quote(settings.temporal_namespace, safe="")
    workflows = f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows"
    claim_last, claim_view, claim_child = await _claim_follow_up(tickets, ticket_id)
    return render(
        request,
        "ticket.html",
        ticket=view,
        temporal_link=f"{workflows}/{quote(ticket_id, safe='')}",
        claim_last=claim_last,
        claim_view=claim_view,
        claim_link=f"{workflows}/{quote(claim_child, safe='')}" if claim_child else None,
        actions=ACTIONS,
        notice=request.query_params.get("notice"),
    )


@router.post("/{ticket_id}/act")
async def act(ticket_id: str, write: Operator, tickets: TicketServiceDep) -> Response:
    """An agent action by the signed-in operator, in their name."""
    action = write.field("action")
    text = write.field("text").strip()[:4000] or None
    if action not in ACTIONS:
        raise ConsoleRefusal(422, f"choose one of: {', '.join(ACTIONS)}")
    if action in ("note", "reply") and not text:
        raise ConsoleRefusal(422, f"a {action} needs its text")
    try:
        await tickets.act(
            ticket_id,
            AgentAction.model_validate({"action": action, "agent": write.user.email, "text": text}),
        )
    except HTTPException as err:
        raise ConsoleRefusal(err.status_code, str(err.detail)) from None
    notice = quote(f"{ACTIONS[action].split(' (')[0]}: sent to the ticket.")
    return redirect(f"/console/tickets/{quote(ticket_id, safe='')}?notice={notice}")
