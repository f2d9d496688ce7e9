"""What people do to a ticket from outside the conversation: an agent takes it over,
replies, notes, releases it back to the bot or resolves it; an operator or the helpdesk
closes it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.ticket_claims import ClaimFollowUp
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_models import (
        AgentAction,
        Outcome,
        TicketMemory,
        TicketStatus,
        TranscriptEntry,
    )
    from workflows.ticket_status import SearchIndex, set_status


class AgentActions:
    def __init__(
        self, mem: TicketMemory, helpdesk: HelpdeskIO, claims: ClaimFollowUp, index: SearchIndex
    ) -> None:
        self.mem = mem
        self.helpdesk = helpdesk
        self.claims = claims
        self.index = index

    async def on_action(self, action: AgentAction) -> None:
        mem = self.mem
        now = workflow.now()
        if action.action == "takeover":
            mem.agent = action.agent or "agent"
            mem.agent_took_over = True
            set_status(mem, TicketStatus.ESCALATED, self.index)
        elif action.action == "release":
            if not mem.held:
                text = "An agent's release arrived while the bot had the ticket; nothing to do."
                mem.transcript.append(TranscriptEntry(role="system", text=text, at=now))
                return
            # Back to the bot: it resumes where the plan waits, or routes anew.
            mem.agent = None
            mem.escalated = False
            mem.silent_since = now
            mem.reminded = False
            mem.inbox[0:0] = mem.deferred
            mem.deferred = []
        elif action.action == "resolve":
            if mem.waiting_for_claim:
                await self.claims.stop()
            hint = mem.interpreter.outcome_hint if mem.interpreter else None
            mem.outcome = hint or (Outcome.ESCALATED if mem.held else Outcome.RESOLVED)
        elif action.action == "note" and action.text:
            mem.transcript.append(TranscriptEntry(role="agent", text=action.text, at=now))
        elif action.action == "reply" and action.text:
            # A person answering takes the ticket: the bot stays silent until released.
            if not mem.held:
                mem.agent = action.agent or "agent"
                mem.agent_took_over = True
                set_status(mem, TicketStatus.ESCALATED, self.index)
            mem.agent_replies += 1
            await self.helpdesk.agent_reply(action.text, key=str(mem.agent_replies))

    async def close(self) -> None:
        """Closed from outside (an operator, the helpdesk): ends whatever it waits for."""
        mem = self.mem
        mem.csat_waiting = False  # a rating that never came
        if mem.outcome is not None:
            return
        if mem.waiting_for_claim:
            await self.claims.stop()
        hint = mem.interpreter.outcome_hint if mem.interpreter else None
        mem.outcome = Outcome.ESCALATED if mem.held else (hint or Outcome.RESOLVED)
