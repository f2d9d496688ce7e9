"""What a platform's webhook module implements (`WebhookSource`: verify, parse) and what
parsing yields; `api/webhooks/receiver.py` does the rest, the same for every platform.

A source knows its platform's signature scheme and payloads and nothing of Temporal or the
app database: it says whether a delivery is authentic (`verify`) and what it carries
(`parse`): customer messages for tickets, claim updates for the tickets that filed the
claims, or the reason it carries nothing to act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field
from starlette.requests import Request

from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    ClaimUpdate,
    CustomerMessage,
    TicketStart,
    ticket_workflow_id,
)

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class Unauthorized(Exception):
    """The delivery does not prove it comes from the platform: 401."""


class Malformed(ValueError):
    """The body is not what the platform sends: 422."""


@dataclass(frozen=True)
class Ignored:
    """A genuine delivery with nothing for a ticket (an agent's note, our own reply, …),
    acknowledged so the platform does not retry it."""

    reason: str


class InboundMessage(BaseModel):
    """One customer message from any helpdesk, ready for its ticket."""

    source: str
    delivery_key: str = Field(description="the platform's message / delivery id (dedupe key)")
    start: TicketStart
    message: CustomerMessage

    @property
    def ticket_id(self) -> str:
        return ticket_workflow_id(self.start.helpdesk, self.start.external_id)


class ClaimReport(BaseModel):
    """A carrier's news about a claim, for the running ticket that filed it."""

    source: str
    delivery_key: str = Field(description="the platform's event id (dedupe key)")
    ticket_id: str
    update: ClaimUpdate


Delivery = InboundMessage | ClaimReport


class WebhookSource(Protocol):
    """One platform's webhooks."""

    def verify(self, request: Request, body: bytes) -> None:
        """Raise `Unauthorized` unless the delivery (its exact body, headers, query) proves
        it comes from the platform; `Malformed` if the body must be read to tell and
        cannot be."""

    def parse(self, body: bytes) -> list[Delivery | Ignored]:
        """What a verified delivery carries, one entry per event in it (most platforms
        send one); raise `Malformed` if it is not what the platform sends."""


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
