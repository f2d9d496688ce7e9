"""The console's ticket pages: the list from Temporal visibility with filters, one
ticket's state, transcript, trace and outcome (from its workflow's queries, through the
same TicketService as the API), a link to its execution in the Temporal UI, and the agent
actions for operators (reply to the customer, take over, release, resolve, note)."""

from __future__ import annotations

import re
from typing import get_args
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.console.rendering import redirect, render
from api.console.session import ConsoleRefusal, Operator, Viewer
from api.deps import SettingsDep, TicketServiceDep
from api.services.tickets import TicketSummary
from workflows import search_attributes as sa
from workflows.ticket_models import AgentAction, TicketStatus

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


@router.get("")
async def ticket_list(request: Request, user: Viewer, tickets: TicketServiceDep) -> HTMLResponse:
    chosen = {
        name: value.strip()
        for name in FILTERS
        if (value := request.query_params.get(name, "")) and value.strip()
    }
    bad = [name for name, value in chosen.items() if not FILTER_VALUE.match(value)]
    found: list[TicketSummary] = []
    error = None
    if bad:
        error = f"{', '.join(bad)}: letters, digits, spaces and _ . : - only"
    else:
        filters = {FILTERS[name].name: value for name, value in chosen.items()}
        try:
            found, _ = await tickets.page(filters, PAGE_SIZE, None)
        except HTTPException as err:
            error = str(err.detail)
    return render(
        request,
        "tickets.html",
        tickets=found,
        chosen=chosen,
        statuses=[s.value for s in TicketStatus],
        error=error,
        page_size=PAGE_SIZE,
    )


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
    temporal_link = (
        f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(ticket_id, safe='')}"
    )
    return render(
        request,
        "ticket.html",
        ticket=view,
        temporal_link=temporal_link,
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
