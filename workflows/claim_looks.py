"""The claim follow-up's own looks at its claim, and the schedules it looked on before the
shared sweep (workflows/claim_sweep.py).

A look of its own reads the claim once: for "check now", at the deadline, after a refused
cancel, and when the sweep pokes it. Before `claim-sweep` each follow-up also kept its own
daily schedule: one timer a look (LEAN_CLAIM_CHECKS and before), or runs of looks as Temporal
retries of `watch_carrier_claim` (LOOKS_AS_RETRIES). Histories of both still replay here.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as TemporalTimeout

with workflow.unsafe.imports_passed_through():
    from activities.claims import (
        CARRIER_SILENT,
        CLAIM_UNCHANGED,
        ClaimLookup,
        ClaimStatus,
        ClaimWatch,
    )
    from workflows.activity_options import (
        LOCAL_ACTIVITY_TIMED_OUT,
        NON_RETRYABLE,
        platform_retry,
    )
    from workflows.claim_models import (
        CHECK_JITTER,
        CHECK_JITTER_BUCKETS,
        STILL_WORKING_EVERY,
        ClaimCheck,
        ClaimFollowUpStart,
        ClaimSignal,
        LookRun,
        Resolution,
    )

CARRIER_RETRY = platform_retry(timedelta(minutes=1))
CARRIER_TIMEOUT = timedelta(seconds=30)
# A carrier that stays down this long misses this look; the next slot tries again.
CARRIER_GIVE_UP = timedelta(minutes=10)


def carrier_failure(err: Exception) -> str:
    """Why a look failed. A local activity that timed out is an ActivityError when it runs
    but the bare timeout failure when its marker is replayed: both read the same here."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError):
        return cause.message
    if isinstance(cause, TemporalTimeout):
        return "it did not answer in time"
    return str(err)


class ClaimLooks:
    """The follow-up's looks (a base of CarrierClaimWorkflow, which owns this state)."""

    _start: ClaimFollowUpStart
    _status: str
    _history: list[ClaimCheck]
    _slot: int
    _phase: float | None
    _running: LookRun | None
    _next_check_at: datetime | None
    _last_notice_at: datetime
    _cancel_requested: bool
    _signals: deque[ClaimSignal]
    _deadline_at: datetime
    _resolution: Resolution | None
    _ticket_gone: bool
    _lean: bool
    _retries: bool

    async def _observe(
        self, status: str, approved_amount: float | None, source: Any, *, detail: str = ""
    ) -> None:
        raise NotImplementedError

    # -- a look of its own ------------------------------------------------------------------

    async def _check(self, *, source: str = "check", detail: str = "") -> None:
        try:
            claim = await self._look(ClaimLookup(claim_id=self._start.claim_id))
        except LOCAL_ACTIVITY_TIMED_OUT as err:
            reason = carrier_failure(err)
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

    def _woken(self) -> bool:
        return bool(self._signals) or self._cancel_requested or self._ticket_gone

    async def _woken_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(self._woken, timeout=wait)
        except TimeoutError:
            return False
        return True

    def _quiet_looks(self, run: LookRun, looks: int) -> None:
        """The run's first `looks` changed nothing: one history entry, not reported."""
        if looks > 0:
            at = run.start + (looks - 1) * run.every
            self._history.append(
                ClaimCheck(at=at, status=self._status, source="check", looks=looks)
            )

    # -- the follow-up's own schedule, before the shared sweep ---------------------------------

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
