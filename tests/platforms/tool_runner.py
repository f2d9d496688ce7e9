"""Runs the catalog's tool activities as a ticket does, in Temporal's ActivityEnvironment.

The call is built by the workflow's own `ticket_tool_call` (the platform resolved once)
and carried through the pydantic data converter, as Temporal carries it to the worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

from activities.tools import (
    NoteCall,
    Platforms,
    ToolCall,
    internal_note_activity,
    ticket_tool_call,
    tool_activity,
)
from policies.catalog import CATALOG
from ticketflow.settings import Settings


class TicketCall(BaseModel):
    """What a ticket's step knows when it calls a tool."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    params: BaseModel
    platforms: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    helpdesk: str = "web"
    ticket_id: str | None = None


def _carried(value: BaseModel, as_type: type[Any]) -> Any:
    """`value` after a trip through the data converter, decoded as the worker decodes it."""
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(converter.to_payloads([value]), [as_type])[0]


class ToolRunner:
    def __init__(self, settings: Settings) -> None:
        self.platforms = Platforms(settings)
        self._activities = {
            name: tool_activity(spec, self.platforms) for name, spec in CATALOG.items()
        }
        self._note = internal_note_activity(self.platforms)
        self._env = ActivityEnvironment()

    async def run(self, tool: str, call: TicketCall) -> Any:
        spec = CATALOG[tool]
        sent = ticket_tool_call(
            spec,
            call.params,
            platforms=call.platforms,
            helpdesk=call.helpdesk,
            ticket_id=call.ticket_id,
            idempotency_key=call.idempotency_key,
        )
        received = _carried(sent, ToolCall[spec.params])  # type: ignore[name-defined]
        return await self._env.run(self._activities[tool], received)

    async def note(self, call: NoteCall) -> Any:
        return await self._env.run(self._note, _carried(call, NoteCall))


@asynccontextmanager
async def tool_runner(settings: Settings) -> AsyncIterator[ToolRunner]:
    runner = ToolRunner(settings)
    try:
        yield runner
    finally:
        await runner.platforms.aclose()
