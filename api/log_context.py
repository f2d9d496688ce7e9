"""The ids the API's log lines carry: the ticket, its policy and its run.

The composition root routes all logging through structlog and merges its context
variables into every line; the API binds ids only, never what the customer wrote or who
they are. Each request is its own asyncio task, so what one request binds never reaches
another's lines.
"""

from __future__ import annotations

import logging

import structlog

log = logging.getLogger("ticketflow.api")


def bind_ticket(ticket_id: str, *, policy_id: str | None = None, run_id: str | None = None) -> None:
    fields = {"ticket_id": ticket_id, "policy_id": policy_id, "run_id": run_id}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v})
