"""How a ticket ended, measured: the satisfaction question a policy may ask at its end
(`csat: true` in its front matter), and the outcome row written when the ticket ends
(`record_outcome`, activities/outcomes.py), which experiments and per-version metrics
count."""

from __future__ import annotations

import re
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.outcomes import (
        ACTIVITY_NAME,
        UNRESOLVED_OUTCOMES,
        OutcomeRecord,
        money_of,
    )
    from policies.plan import Plan
    from workflows.activity_options import LOCAL_ACTIVITY_TIMED_OUT
    from workflows.claim_models import parse_duration
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_models import TicketMemory, TicketStart

#: Patch id: tickets that start on this code are assigned to a running experiment's variant
#: when they enter its policy (`enter_policy`), may ask for a satisfaction rating at the
#: end, and write their outcome row when they end; older histories replay without.
MEASURES_OUTCOMES = "measures-outcomes"

CSAT_QUESTION = (
    "Before you go: how would you rate the help you got today, from 1 (poor) to 5 (great)?"
)
CSAT_THANKS = "Thank you for the rating!"
DEFAULT_CSAT_WAIT = timedelta(hours=24)
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=30,
)
#: The outcome row written as a local activity (LEAN_TURNS): one try, this long at most,
#: before the regular activity takes over with RECORD_RETRY.
LOCAL_RECORD_TIMEOUT = timedelta(seconds=5)

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def rating_in(text: str) -> int | None:
    """The 1–5 rating a reply gives ("4", "5/5", "four stars", "I'd say 3"); None when it
    gives none or several different ones."""
    lowered = text.lower()
    found = {int(n) for n in re.findall(r"(?<![\d.,])([1-5])(?![\d.,]\d)", lowered)}
    found |= {value for word, value in _WORDS.items() if re.search(rf"\b{word}\b", lowered)}
    stars = lowered.count("⭐") or lowered.count("★")
    if stars and not found and stars <= 5:
        found = {stars}
    return found.pop() if len(found) == 1 else None


class TicketMeasures:
    def __init__(self, start: TicketStart, mem: TicketMemory, helpdesk: HelpdeskIO) -> None:
        self.start = start
        self.mem = mem
        self.helpdesk = helpdesk
        # Set by the workflow from `workflow.patched(MEASURES_OUTCOMES)` at the run's start.
        self.on = False
        # Set from `workflow.patched(LEAN_TURNS)`: the row is written by a local activity
        # first (a marker, in the last turn's workflow task, instead of an activity task and
        # one more workflow task); the regular activity only if that fails.
        self.records_locally = False

    def _first_plan(self) -> Plan | None:
        """The plan of the first policy the ticket entered: it owns the ticket's outcome row
        and decides whether to ask for a rating."""
        return next(iter(self.mem.plans.values()), None)

    def wants_csat(self) -> bool:
        """Ask once, after the policy reached its own ending with a customer who wrote to
        it (not after a close or an agent's resolve), when the ticket's first policy says
        `csat: true`."""
        mem = self.mem
        first = self._first_plan()
        return (
            self.on
            and not mem.csat_asked
            and mem.outcome is not None
            and mem.outcome not in UNRESOLVED_OUTCOMES
            and bool(mem.seen)
            and mem.interpreter is not None
            and mem.interpreter.finished  # the policy's own ending, not a close
            and first is not None
            and first.settings.get("csat") is True
        )

    def ask_csat(self) -> str:
        """The rating question (the caller says it); the ticket then waits `csat_wait`
        (default a day) for the answer before it ends."""
        mem = self.mem
        mem.csat_asked = True
        mem.csat_waiting = True
        first = self._first_plan()
        assert first is not None  # wants_csat checked it
        wait = parse_duration(first.settings.get("csat_wait"), DEFAULT_CSAT_WAIT)
        mem.csat_until = workflow.now() + wait
        workflow.set_current_details("Waiting for the customer's rating.")
        return CSAT_QUESTION

    async def answer(self, text: str, message_id: str) -> list[str] | None:
        """The customer's reply to the rating question: their rating, thanked; None when it
        is not a rating (the conversation is over either way)."""
        mem = self.mem
        mem.csat_waiting = False
        rating = rating_in(text)
        if rating is None:
            return None
        mem.csat = rating
        await self.helpdesk.tell([CSAT_THANKS], key=f"msg-{message_id}")
        return [CSAT_THANKS]

    async def record(self) -> None:
        """The outcome row; a store that stays unreachable loses the row, never the ticket."""
        mem = self.mem
        mem.outcome_recorded = True
        if not self.on or mem.outcome is None or self.start.trial:
            return
        first = self._first_plan()
        assignment = next(iter(mem.assignments.values()), None)
        context = mem.interpreter.context if mem.interpreter else {}
        kept, refunded = money_of(str(mem.outcome), context)
        agent = mem.handoffs > 0 or mem.agent_took_over
        record = OutcomeRecord(
            ticket_id=workflow.info().workflow_id,
            helpdesk=self.start.helpdesk,
            policy_id=first.id if first else None,
            policy_version=first.version if first else None,
            experiment_id=assignment.experiment_id if assignment else None,
            variant=assignment.variant if assignment else None,
            outcome=str(mem.outcome),
            contained=not agent and mem.outcome not in UNRESOLVED_OUTCOMES,
            escalated=agent,
            turns=len(mem.seen),
            started_at=mem.started_at or workflow.info().start_time,
            ended_at=workflow.now(),
            revenue_kept=kept,
            refunded=refunded,
            csat=mem.csat,
        )
        if self.records_locally:
            try:
                await workflow.execute_local_activity(
                    ACTIVITY_NAME,
                    record,
                    result_type=bool,
                    start_to_close_timeout=LOCAL_RECORD_TIMEOUT,
                    retry_policy=RetryPolicy(maximum_attempts=1),
                )
                return
            # Timed out (live or replayed) or refused by the store: the regular activity
            # retries. The write is idempotent: a late first try is harmless.
            except (*LOCAL_ACTIVITY_TIMED_OUT, ApplicationError):
                workflow.logger.warning("could not record the outcome at once; retrying")
        try:
            await workflow.execute_activity(
                ACTIVITY_NAME,
                record,
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RECORD_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("could not record the ticket's outcome")
