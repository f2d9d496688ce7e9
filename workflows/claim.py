"""CarrierClaimWorkflow: follow one filed carrier claim until the carrier decides.

A child of the ticket that filed the claim (``claim-{ticket id}-{claim id}``). It looks at
the claim on a durable timer (every 24 h by default, policy front matter
``claim_check_every``), each look landing at a jittered moment inside its slot so many claims
do not hit the carrier at once; slots are anchored on the filing time, so jitter never
drifts. A ``claim_update`` signal (a verified carrier webhook forwarded by the ticket, or
"check now") wakes it at once. It ends when the claim is approved, partly approved, rejected
or cancelled, or at the deadline (30 days by default, ``claim_deadline``), after one last
look.

After every look it signals the ticket (``claim_progress``): the ticket traces each check,
tells the customer when the status changes (and weekly, if the policy wants, that we are
still on it), and carries the policy on when the progress is final. Reporting by signal
rather than by the child's return value keeps the ticket free to continue-as-new.
The follow-up continues-as-new itself before its history grows large.

Under LOOKS_AS_RETRIES a run of looks is one activity whose Temporal retries, a check
interval apart, are the looks (a retry writes no history event): the workflow wakes only
when the claim changed, when the weekly "still working on it" is due, at the deadline, or
for a signal (which cancels the run). Each claim then looks at one fixed moment of its slot.
"""

from __future__ import annotations

import math
import re
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.claims import (
        CARRIER_SILENT,
        CLAIM_UNCHANGED,
        ClaimCancel,
        ClaimLookup,
        ClaimStatus,
        ClaimWatch,
    )
    from workflows.activity_options import NON_RETRYABLE, platform_retry
    from workflows.claim_models import (
        CHECK_JITTER,
        CHECK_JITTER_BUCKETS,
        FINAL_STATUSES,
        STATUS_WORDS,
        STILL_WORKING_EVERY,
        ClaimCarry,
        ClaimCheck,
        ClaimFollowUpStart,
        ClaimProgress,
        ClaimResult,
        ClaimSignal,
        ClaimView,
        LookRun,
        Resolution,
        count_checks,
    )

CARRIER_RETRY = platform_retry(timedelta(minutes=1))
CARRIER_TIMEOUT = timedelta(seconds=30)
# A carrier that stays down this long misses this look; the next slot tries again.
CARRIER_GIVE_UP = timedelta(minutes=10)

#: Patch id: follow-ups that start on this code look at the claim at one of
#: CHECK_JITTER_BUCKETS moments inside the jitter, not at any second of it, and look in a
#: local activity; older histories replay their looks as they were.
LEAN_CLAIM_CHECKS = "lean-claim-checks"
#: Patch id: follow-ups that start on this code look in runs of Temporal retries of one
#: activity (`watch_carrier_claim`) at one fixed moment of each slot; older histories
#: replay their looks one timer each.
LOOKS_AS_RETRIES = "claim-looks-as-retries"

# Where a status sits in the claim's life: a late webhook never moves the claim back.
_RANK = {"submitted": 0, "in_review": 1}


def parse_duration(value: Any, default: timedelta) -> timedelta:
    """Front-matter durations: a number of hours, or '30s' / '90m' / '24h' / '30d' / '2w'."""
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return timedelta(hours=float(value)) if value > 0 else default
    text = str(value).strip().lower()
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        amount = float(text[:-1])
        return timedelta(**{units[text[-1]]: amount}) if amount > 0 else default
    return default


def parse_flag(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"yes", "true", "on", "weekly"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"no", "false", "off", "never"}:
        return False
    return default


@workflow.defn
class CarrierClaimWorkflow:
    @workflow.init
    def __init__(self, start: ClaimFollowUpStart) -> None:
        self._start = start
        carried = start.carried
        self._status = carried.status if carried else start.status
        self._approved_amount = carried.approved_amount if carried else None
        self._history: list[ClaimCheck] = (
            list(carried.history)
            if carried
            else [ClaimCheck(at=start.filed_at, status=start.status, source="filed", changed=True)]
        )
        self._slot = carried.slot if carried else 1
        self._phase: float | None = carried.phase_seconds if carried else None
        self._running: LookRun | None = None
        self._next_check_at: datetime | None = carried.next_check_at if carried else None
        self._last_notice_at = carried.last_notice_at if carried else start.filed_at
        self._cancel_requested = carried.cancel_requested if carried else False
        self._signals: deque[ClaimSignal] = deque(carried.pending if carried else [])
        self._deadline_at = start.filed_at + start.deadline
        self._resolution: Resolution | None = None
        self._ticket_gone = False
        self._lean = False
        self._retries = False

    @workflow.run
    async def run(self, start: ClaimFollowUpStart) -> ClaimResult:
        # Decided in the run's first activation (as the ticket decides its patches): runs
        # from before it replay the looks they scheduled at any second.
        self._lean = workflow.patched(LEAN_CLAIM_CHECKS)
        self._retries = self._lean and workflow.patched(LOOKS_AS_RETRIES)
        while self._resolution is None and not self._ticket_gone:
            if self._cancel_requested:
                await self._cancel()
            elif self._signals:
                await self._take(self._signals.popleft())
            elif workflow.now() >= self._deadline_at:
                await self._check()  # one last look before giving up
                if self._resolution is None:
                    await self._give_up()
            elif self._retries:
                await self._watch()
            else:
                await self._wait_for_next_check()
            if self._resolution is None and self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._start.model_copy(update={"carried": self._carry()}))
        self._next_check_at = None
        workflow.set_current_details(f"Claim {start.claim_id}: {self._resolution or 'stopped'}.")
        return ClaimResult(
            claim_id=start.claim_id,
            status=self._status,
            resolution=self._resolution or "ticket_closed",
            approved_amount=self._approved_amount,
            history=self._history,
        )

    # -- the schedule -----------------------------------------------------------------------

    def _slot_time(self, slot: int) -> datetime:
        every = self._start.check_every
        spread = CHECK_JITTER * every.total_seconds()
        if self._retries:
            # One moment per claim, drawn once: a run's retries keep to it.
            if self._phase is None:
                bucket = workflow.random().randrange(CHECK_JITTER_BUCKETS)
                self._phase = bucket * spread / CHECK_JITTER_BUCKETS
            return self._start.filed_at + slot * every + timedelta(seconds=self._phase)
        jitter = workflow.random().uniform(0, spread)
        if self._lean:
            jitter = (
                math.floor(jitter / spread * CHECK_JITTER_BUCKETS) * spread / CHECK_JITTER_BUCKETS
            )
        return self._start.filed_at + slot * every + timedelta(seconds=jitter)

    async def _wait_for_next_check(self) -> None:
        if self._next_check_at is None:
            self._next_check_at = self._slot_time(self._slot)
        due = min(self._next_check_at, self._deadline_at)
        workflow.set_current_details(
            f"Claim {self._start.claim_id}: {self._status}; next check {due:%Y-%m-%d %H:%M} UTC."
        )
        wait = due - workflow.now()
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: bool(self._signals) or self._cancel_requested or self._ticket_gone,
                    timeout=wait,
                )
                return  # woken by a signal: the loop takes it
            except TimeoutError:
                pass
        if due >= self._deadline_at:
            return  # the loop takes the last look at the deadline
        # The next slot starts after now, so a worker that was down for days makes one
        # catch-up look, not one per missed day.
        elapsed = (workflow.now() - self._start.filed_at) / self._start.check_every
        self._slot = max(self._slot + 1, math.floor(elapsed) + 1)
        self._next_check_at = None
        await self._check()

    async def _watch(self) -> None:
        """Sleep to the next slot, then look in a run of retries until the claim changes,
        the weekly note is due or the last slot before the deadline has been looked at."""
        if self._next_check_at is None:
            self._next_check_at = self._slot_time(self._slot)
        due = min(self._next_check_at, self._deadline_at)
        workflow.set_current_details(
            f"Claim {self._start.claim_id}: {self._status}; next check {due:%Y-%m-%d %H:%M} UTC."
        )
        if due > workflow.now() and await self._woken_within(due - workflow.now()):
            return
        if due >= self._deadline_at:
            return  # the loop takes the last look at the deadline
        every = self._start.check_every
        run = LookRun(start=workflow.now(), every=every, looks=self._looks_planned(due))
        self._running = run
        watch = workflow.start_activity(
            "watch_carrier_claim",
            ClaimWatch(claim_id=self._start.claim_id, status=self._status),
            result_type=ClaimStatus,
            start_to_close_timeout=CARRIER_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=every,
                backoff_coefficient=1.0,
                maximum_interval=every,
                maximum_attempts=run.looks,
                non_retryable_error_types=NON_RETRYABLE,
            ),
            cancellation_type=workflow.ActivityCancellationType.TRY_CANCEL,
            summary=f"watch claim {self._start.claim_id}",
        )
        await workflow.wait_condition(lambda: watch.done() or self._woken())
        self._running = None
        now = workflow.now()
        # The next slot starts after now (a worker down for days makes one catch-up look).
        elapsed = (now - self._start.filed_at - timedelta(seconds=self._phase or 0)) / every
        self._slot = max(self._slot + 1, math.floor(elapsed) + 1)
        self._next_check_at = None
        if not watch.done():
            watch.cancel()  # a signal: the loop takes it; the looks so far changed nothing
            try:
                await watch
            except ActivityError:
                pass
            self._quiet_looks(run, run.done_by(now))
            return
        try:
            claim = await watch
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(err)
            kind = cause.type if isinstance(cause, ApplicationError) else None
            looks = run.looks if kind in (CLAIM_UNCHANGED, CARRIER_SILENT) else run.done_by(now)
            self._quiet_looks(run, looks - 1)
            silent = "" if kind == CLAIM_UNCHANGED else f"the carrier did not answer: {reason}"
            await self._observe(self._status, None, "check", detail=silent)
            return
        self._quiet_looks(run, claim.look - 1)
        await self._observe(claim.status, claim.approved_amount, "check")

    def _woken(self) -> bool:
        return bool(self._signals) or self._cancel_requested or self._ticket_gone

    async def _woken_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(self._woken, timeout=wait)
        except TimeoutError:
            return False
        return True

    def _looks_planned(self, first: datetime) -> int:
        """Looks from `first`, one interval apart: up to the weekly note (if the policy
        wants one) and never at or past the deadline."""
        every = self._start.check_every
        looks = math.ceil((self._deadline_at - first) / every)
        if self._start.still_working_updates:
            # The look at which "still working on it" is due (as _observe decides it).
            wait = STILL_WORKING_EVERY - every / 2 - (first - self._last_notice_at)
            looks = min(looks, max(0, math.ceil(wait / every)) + 1)
        return max(1, looks)

    def _quiet_looks(self, run: LookRun, looks: int) -> None:
        """The run's first `looks` changed nothing: one history entry, not reported."""
        if looks > 0:
            at = run.start + (looks - 1) * run.every
            self._history.append(
                ClaimCheck(at=at, status=self._status, source="check", looks=looks)
            )

    def _upcoming(self) -> LookRun | None:
        """The looks planned after the current report (None once it is final)."""
        if self._resolution is not None or not self._retries:
            return None
        due = self._next_check_at or self._slot_time(self._slot)
        if due >= self._deadline_at:
            return LookRun(start=self._deadline_at, every=self._start.check_every)
        return LookRun(start=due, every=self._start.check_every, looks=self._looks_planned(due))

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._start.max_history_events
        )

    # -- looking at the claim -----------------------------------------------------------------

    async def _check(self, *, source: str = "check", detail: str = "") -> None:
        try:
            claim = await self._look(ClaimLookup(claim_id=self._start.claim_id))
        except ActivityError as err:
            reason = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            await self._observe(
                self._status, None, "check", detail=f"the carrier did not answer: {reason}"
            )
            return
        await self._observe(
            claim.status,
            claim.approved_amount,
            "cancel" if source == "cancel" else "check",
            detail=detail,
        )

    async def _look(self, lookup: ClaimLookup) -> ClaimStatus:
        """One read of the claim. Under LEAN_CLAIM_CHECKS a local activity, run inside the
        workflow task the timer woke (a marker: one workflow task and five history events
        less per look); before it, an activity of its own."""
        if self._lean:
            local: ClaimStatus = await workflow.execute_local_activity(
                "get_carrier_claim",
                lookup,
                result_type=ClaimStatus,
                start_to_close_timeout=CARRIER_TIMEOUT,
                schedule_to_close_timeout=CARRIER_GIVE_UP,
                retry_policy=CARRIER_RETRY,
                summary=f"check claim {lookup.claim_id}",
            )
            return local
        claim: ClaimStatus = await workflow.execute_activity(
            "get_carrier_claim",
            lookup,
            result_type=ClaimStatus,
            start_to_close_timeout=CARRIER_TIMEOUT,
            schedule_to_close_timeout=CARRIER_GIVE_UP,
            retry_policy=CARRIER_RETRY,
            summary=f"check claim {lookup.claim_id}",
        )
        return claim

    async def _take(self, signal: ClaimSignal) -> None:
        if signal.status is None:
            await self._check()
            return
        status = signal.status
        if _RANK.get(status, 9) < _RANK.get(self._status, 0):
            # An out-of-order webhook (in_review after a later status): trace it, keep ours.
            await self._observe(self._status, None, "webhook", detail=f"late webhook: {status}")
            return
        await self._observe(status, signal.approved_amount, "webhook")

    async def _cancel(self) -> None:
        self._cancel_requested = False
        try:
            claim = await workflow.execute_activity(
                "cancel_carrier_claim",
                ClaimCancel(
                    claim_id=self._start.claim_id,
                    idempotency_key=f"{self._start.idempotency_prefix}/claim/"
                    f"{self._start.claim_id}/cancel",
                ),
                result_type=ClaimStatus,
                start_to_close_timeout=CARRIER_TIMEOUT,
                schedule_to_close_timeout=CARRIER_GIVE_UP,
                retry_policy=CARRIER_RETRY,
                summary=f"cancel claim {self._start.claim_id}",
            )
        except ActivityError as err:
            reason = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            # Refused (the carrier already decided, say): read what it decided instead.
            await self._check(
                source="cancel", detail=f"the carrier refused to withdraw it: {reason}"
            )
            return
        await self._observe(
            claim.status,
            claim.approved_amount,
            "cancel",
            detail="withdrawn at the customer's request",
        )

    async def _give_up(self) -> None:
        days = self._start.deadline / timedelta(days=1)
        self._resolution = "deadline"
        check = ClaimCheck(
            at=workflow.now(),
            status=self._status,
            source="deadline",
            detail=f"no decision after {days:g} days",
        )
        self._history.append(check)
        await self._report(check, previous=self._status, still_working=False)

    async def _observe(
        self, status: str, approved_amount: float | None, source: Any, *, detail: str = ""
    ) -> None:
        now = workflow.now()
        previous = self._status
        changed = status != previous
        self._status = status
        if approved_amount is not None:
            self._approved_amount = approved_amount
        check = ClaimCheck(
            at=now,
            status=status,
            source=source,
            changed=changed,
            approved_amount=self._approved_amount if status in FINAL_STATUSES else None,
            detail=detail,
        )
        self._history.append(check)
        if status in FINAL_STATUSES:
            self._resolution = status  # type: ignore[assignment]
        still_working = False
        if changed:
            self._last_notice_at = now
        elif (
            self._resolution is None
            and source == "check"
            and self._start.still_working_updates
            # half a slot of slack: jittered looks still fall on the weekly one
            and now - self._last_notice_at >= STILL_WORKING_EVERY - self._start.check_every / 2
        ):
            still_working = True
            self._last_notice_at = now
        await self._report(check, previous=previous, still_working=still_working)

    async def _report(self, check: ClaimCheck, *, previous: str, still_working: bool) -> None:
        ticket_id = self._start.ticket_id
        if ticket_id is None:
            return
        final = self._resolution is not None
        progress = ClaimProgress(
            claim_id=self._start.claim_id,
            check=check,
            previous=previous,
            final=final,
            resolution=self._resolution,
            still_working=still_working,
            history=self._history if final else [],
            upcoming=self._upcoming(),
        )
        try:
            await workflow.get_external_workflow_handle(ticket_id).signal(
                "claim_progress", progress
            )
        except FailureError as err:
            # The ticket has ended (closed by an agent, terminated): nobody to tell any more.
            workflow.logger.warning("claim %s: ticket unreachable (%s)", self._start.claim_id, err)
            self._ticket_gone = True

    def _carry(self) -> ClaimCarry:
        return ClaimCarry(
            status=self._status,
            approved_amount=self._approved_amount,
            history=self._history,
            slot=self._slot,
            phase_seconds=self._phase,
            next_check_at=self._next_check_at,
            last_notice_at=self._last_notice_at,
            cancel_requested=self._cancel_requested,
            pending=list(self._signals),
        )

    # -- handlers -------------------------------------------------------------------------------

    @workflow.signal
    def claim_update(self, signal: ClaimSignal) -> None:
        """A verified carrier webhook, "check now" (no status), the customer's cancel, or the
        ticket's word that it closed."""
        if signal.stop:
            self._ticket_gone = True  # the ticket closed: nobody to report to any more
        elif signal.cancel:
            self._cancel_requested = True
        else:
            self._signals.append(signal)

    @workflow.query
    def status(self) -> ClaimView:
        return ClaimView(
            claim_id=self._start.claim_id,
            ticket_id=self._start.ticket_id,
            carrier=self._start.carrier,
            status=self._status,
            filed_at=self._start.filed_at,
            next_check_at=(
                min(self._next_check_at, self._deadline_at) if self._next_check_at else None
            ),
            deadline_at=self._deadline_at,
            checks=count_checks(self._history),
            last_change_at=self._last_change_at(),
            running=self._running,
        )

    @workflow.query
    def history(self) -> list[ClaimCheck]:
        return self._history

    def _last_change_at(self) -> datetime:
        return next((c.at for c in reversed(self._history) if c.changed), self._start.filed_at)


# -- what the ticket says about a claim (pure: used inside the ticket workflow) ------------

_CANCEL_CLAIM = re.compile(
    r"\b(cancel|withdraw|drop|close)\w*\b.*\bclaim\b|\bclaim\b.*\b(cancel|withdraw)\w*\b"
    r"|\bfound (it|the (package|parcel))\b"
    r"|\b(package|parcel) (has )?(arrived|turned up|showed up)\b",
    re.I,
)
_KEEP_CLAIM = re.compile(r"\b(don't|dont|do not|not|never)\s+(cancel|withdraw)", re.I)


def wants_claim_cancelled(text: str) -> bool:
    """Whether the customer withdraws the claim ("cancel the claim", "the parcel turned up")."""
    text = text.replace("’", "'")
    return bool(_CANCEL_CLAIM.search(text)) and not _KEEP_CLAIM.search(text)


def _every(interval: timedelta) -> str:
    if interval == timedelta(days=1):
        return "every day"
    if interval % timedelta(days=1) == timedelta(0):
        return f"every {interval.days} days"
    if interval % timedelta(hours=1) == timedelta(0):
        return f"every {interval // timedelta(hours=1)} hours"
    return f"every {interval.total_seconds():g} seconds"


def claim_filed_message(claim_id: str, carrier: str, check_every: timedelta) -> str:
    with_whom = f"with {carrier} " if carrier else ""
    return (
        f"Your claim {with_whom}is filed (reference {claim_id}). I'll check on it "
        f"{_every(check_every)} and write here as soon as anything changes."
    )


def progress_message(progress: ClaimProgress) -> str | None:
    """What the customer hears about a check that did not end the follow-up (or None)."""
    check = progress.check
    words = STATUS_WORDS.get(check.status, f"the claim is {check.status}")
    if check.source == "cancel" and check.status != "cancelled":
        return f"I couldn't withdraw claim {progress.claim_id}: {words}."
    if check.changed:
        return f"An update on claim {progress.claim_id}: {words}."
    if progress.still_working:
        return (
            f"Still working on it: claim {progress.claim_id} is open and the carrier hasn't "
            "decided yet. I'm checking on it regularly and will write as soon as it moves."
        )
    return None


def final_message(progress: ClaimProgress) -> str:
    claim_id = progress.claim_id
    if progress.resolution in ("approved", "approved_partial"):
        words = STATUS_WORDS[progress.resolution]
        return f"Good news: {words} (claim {claim_id})."
    if progress.resolution == "deadline":
        return (
            f"The carrier still hasn't decided claim {claim_id}, so I'm passing your case to a "
            "member of our team, who will follow up with you here."
        )
    if progress.resolution == "cancelled":
        return f"Claim {claim_id} is withdrawn."
    return f"I'm sorry: the carrier turned down claim {claim_id}."


def status_so_far(claim_id: str, status: str, last_check: datetime | None) -> str:
    words = STATUS_WORDS.get(status, f"the claim is {status}")
    when = f" (last checked {last_check:%b %d, %H:%M} UTC)" if last_check else ""
    return (
        f"Your claim {claim_id} is still open: {words}{when}. I'll write here as soon as the "
        'carrier decides. If the parcel turns up, just say "cancel the claim".'
    )


def history_note(claim_id: str, history: list[ClaimCheck]) -> str:
    """The claim's story for the agent: one line per change, and how many looks."""
    lines = [f"Carrier claim {claim_id} history:"]
    for check in history:
        if check.changed or check.source in ("filed", "deadline", "cancel") or check.detail:
            amount = f" ({check.approved_amount:.2f})" if check.approved_amount else ""
            detail = f": {check.detail}" if check.detail else ""
            lines.append(
                f"- {check.at:%Y-%m-%d %H:%M} {check.source} {check.status}{amount}{detail}"
            )
    looks = count_checks(history)
    lines.append(f"({looks} scheduled checks in all.)")
    return "\n".join(lines)
