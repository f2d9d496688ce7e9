"""The ticket's helpdesk I/O: every bot message, internal note and hand-off to a person.

On Zendesk, Kustomer and Salesforce each goes out through the helpdesk's own API; on the
web channel the transcript is the channel (the API returns and shows it).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.tools import INTERNAL_NOTE, NoteCall, ToolCall
    from policies.catalog import CATALOG
    from policies.tool_models import HandoffParams, MessageParams, MessageSent
    from workflows.activity_options import platform_activity
    from workflows.ticket_models import (
        TicketMemory,
        TicketStart,
        TicketStatus,
        TranscriptEntry,
    )
    from workflows.ticket_status import SearchIndex, set_status

REAL_HELPDESKS = {"zendesk", "kustomer", "salesforce"}


class HelpdeskIO:
    def __init__(self, start: TicketStart, mem: TicketMemory) -> None:
        self.start = start
        self.mem = mem
        # The ticket's search attributes; the workflow hands every part the same one.
        self.index = SearchIndex()

    @property
    def real(self) -> bool:
        return self.start.helpdesk in REAL_HELPDESKS

    def _key(self, key: str) -> str:
        return f"{workflow.info().workflow_id}/{key}"

    def _call(self, tool: str, params: MessageParams | HandoffParams, key: str) -> ToolCall[Any]:
        return ToolCall(
            tool=tool,
            platform=self.start.helpdesk,
            params=params,
            idempotency_key=self._key(key),
            ticket_id=self.start.external_id,
            policy_id=self.mem.policy_id,
        )

    async def tell(self, replies: list[str], *, key: str, nudge: bool = False) -> None:
        """Every bot message: into the transcript, and out through the helpdesk. `key`
        names this message among the ticket's (the helpdesk drops a repeated key). The
        customer's silence counts from the last thing either side said, a nudge aside."""
        if replies and not nudge:
            self.mem.silent_since = workflow.now()
        for text in replies:
            self.mem.transcript.append(TranscriptEntry(role="bot", text=text, at=workflow.now()))
        if self.real and replies:
            message = MessageParams(message="\n\n".join(replies))
            spec = CATALOG["send_async_message"]
            await platform_activity(
                spec.name, self._call(spec.name, message, f"reply/{key}"), spec.result
            )

    async def agent_reply(self, text: str, *, key: str) -> None:
        """An agent's public reply: the transcript keeps it as theirs, and the helpdesk
        sends it as written (`verbatim`: never rephrased by a language model)."""
        self.mem.transcript.append(TranscriptEntry(role="agent", text=text, at=workflow.now()))
        if self.real:
            spec = CATALOG["send_async_message"]
            call = self._call(spec.name, MessageParams(message=text), f"agent-reply/{key}")
            call.verbatim = True
            await platform_activity(spec.name, call, spec.result)

    async def internal_note(self, text: str, *, key: str) -> None:
        """A note only agents see (the transcript keeps it as a system entry)."""
        self.mem.transcript.append(TranscriptEntry(role="system", text=text, at=workflow.now()))
        if self.real:
            note = NoteCall(
                platform=self.start.helpdesk,
                ticket_id=self.start.external_id,
                body=text,
                idempotency_key=self._key(f"note/{key}"),
                policy_id=self.mem.policy_id,
            )
            await platform_activity(INTERNAL_NOTE, note, MessageSent)

    async def hand_off(self, *, reason: str, note: str) -> None:
        """To a person: the agent group on the helpdesk, with what was done so far."""
        mem = self.mem
        mem.escalated = True
        mem.handoffs += 1
        set_status(mem, TicketStatus.ESCALATED, self.index)
        summary = self._summary_for_agent(reason, note)
        mem.transcript.append(TranscriptEntry(role="system", text=summary, at=workflow.now()))
        if self.real:
            spec = CATALOG["handoff_to_agent"]
            params = HandoffParams(reason=reason, note=summary)
            call = self._call(spec.name, params, f"handoff/{mem.handoffs}")
            await platform_activity(spec.name, call, spec.result)

    def _summary_for_agent(self, reason: str, note: str) -> str:
        done = [
            f"- {row.detail or row.kind} (step {row.step or row.node})"
            for row in self.mem.trace
            if row.kind == "call" and row.status == "ran"
        ]
        lines = [f"Handed over by ticketflow: {reason}."]
        if note:
            lines.append(note)
        if self.mem.policy_id:
            lines.append(f"Policy: {self.mem.policy_id}.")
        if done:
            lines.append("Done so far:\n" + "\n".join(done))
        return "\n".join(lines)
