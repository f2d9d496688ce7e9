"""The customer's silence: while the bot waits for the customer, remind them once after a
while, then close the ticket (a ticket nobody ever wrote to closes quietly); an unanswered
satisfaction question ends at its own hour.

The policy's settings may change both delays (`reminder_after`, `auto_close_after`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.claim_models import parse_duration
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_models import Outcome, TicketMemory
    from workflows.ticket_status import SearchIndex, settle_status

DEFAULT_REMINDER_AFTER = timedelta(hours=24)
DEFAULT_AUTO_CLOSE_AFTER = timedelta(hours=72)

REMINDER = "Just checking in: are you still there? Reply here and I'll pick up where we left off."
AUTO_CLOSE = (
    "I haven't heard back, so I'm closing this conversation for now. "
    "Write to us any time and we'll continue."
)


class CustomerSilence:
    def __init__(self, mem: TicketMemory, helpdesk: HelpdeskIO, index: SearchIndex) -> None:
        self.mem = mem
        self.helpdesk = helpdesk
        self.index = index
        # Set from `workflow.patched(LEAN_TURNS)`: one timer kept across turns.
        self.keeps_timer = False
        # The silence timer kept across turns: its task and when it fires.
        self._timer: asyncio.Future[None] | None = None
        self._timer_at: datetime | None = None

    async def wait(self, pending: Callable[[], bool]) -> None:
        """Wait until `pending` (the next inbox item), acting on the silence meanwhile."""
        if self.keeps_timer:
            await self._wait_keeping_the_timer(pending)
            return
        due = self._due()
        timeout = None if due is None else max(due - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(pending, timeout=timeout)
        except TimeoutError:
            await self._on_silence()

    async def _wait_keeping_the_timer(self, pending: Callable[[], bool]) -> None:
        """The same waits on one timer across turns: a timer per wait is started and then
        cancelled by the next message (two history events a turn). A running timer that
        fires no later than the silence is due is kept; when it fires before (the customer
        spoke since) the next wait starts one for what is left. Only an earlier due time
        (the CSAT question's hour, say) replaces it."""
        if self.mem.silent_since is None:
            self.mem.silent_since = workflow.now()  # a state carried from an older run
        due = self._due()
        timer_at = self._timer_at
        if due is not None and (self._timer is None or (timer_at and timer_at > due)):
            if self._timer is not None:
                self._timer.cancel()
            left = max(due - workflow.now(), timedelta(seconds=1))
            self._timer = asyncio.ensure_future(workflow.sleep(left))
            self._timer_at = workflow.now() + left
        timer = self._timer
        await workflow.wait_condition(lambda: pending() or bool(timer and timer.done()))
        if timer is None or not timer.done():
            return
        self._timer = self._timer_at = None
        due = self._due()
        if not pending() and due is not None and workflow.now() >= due:
            await self._on_silence()

    def _due(self) -> datetime | None:
        """When the silence calls for the bot; None while someone else has the next word."""
        mem = self.mem
        if mem.csat_waiting and mem.csat_until is not None:
            return mem.csat_until
        if mem.held or mem.waiting_for_claim:
            return None  # an agent or the carrier has the next word
        plan = mem.current_plan()
        settings = plan.settings if plan else {}
        since = mem.silent_since or workflow.now()
        if bool(mem.seen) and not mem.reminded:
            return since + parse_duration(settings.get("reminder_after"), DEFAULT_REMINDER_AFTER)
        return since + parse_duration(settings.get("auto_close_after"), DEFAULT_AUTO_CLOSE_AFTER)

    async def _on_silence(self) -> None:
        mem = self.mem
        if mem.csat_waiting:
            mem.csat_waiting = False  # no rating: the ticket ends as it was
            return
        if bool(mem.seen) and not mem.reminded:
            mem.reminded = True
            mem.reminders_sent += 1
            await self.helpdesk.tell([REMINDER], key=f"reminder-{mem.reminders_sent}", nudge=True)
            return
        if bool(mem.seen):
            await self.helpdesk.tell([AUTO_CLOSE], key=f"auto-close-{len(mem.seen)}")
        mem.outcome = Outcome.ABANDONED
        settle_status(mem, self.index)
