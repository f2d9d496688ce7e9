"""The ids the API's log lines carry: the ticket, its policy and its run.

The composition root routes all logging through structlog and merges its context
variables into every line; the API binds ids only, never what the customer wrote or who
they are. Each request is its own asyncio task, so what one request binds never reaches
another's lines.
"""

from __future__ import annotations

import logging

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("ticketflow.api")


def bind_ticket(ticket_id: str, *, policy_id: str | None = None, run_id: str | None = None) -> None:
    fields = {"ticket_id": ticket_id, "policy_id": policy_id, "run_id": run_id}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v})


class TicketLogContext:
    """ASGI middleware: each request starts with no bound ids, and one under
    ``/tickets/{ticket_id}`` binds the ticket id for every line it logs (uvicorn's access
    line included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            structlog.contextvars.clear_contextvars()
            parts = str(scope.get("path", "")).strip("/").split("/")
            if len(parts) >= 2 and parts[0] == "tickets" and parts[1]:
                bind_ticket(parts[1])
        await self.app(scope, receive, send)
