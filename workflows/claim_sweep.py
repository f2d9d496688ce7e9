"""The shared claim sweep: one look at every claim per check slot, for all follow-ups.

`ClaimSweepWorkflow` (one per task queue and check interval, id `claims-sweep-{queue}-{n}s`)
runs one `sweep_carrier_claims` activity at each slot (every interval from the Unix epoch):
it walks the carrier's claim list and wakes, by their "check now" signal, only the
follow-ups whose claim changed since the previous slot. The follow-ups (patch
`claim-sweep`) sleep between signals, the weekly "still working on it" and their deadline,
so nothing happens per claim per day. Follow-ups start the sweep once each, with
signal-with-start (`start_claim_sweep`): it starts the sweep if none runs and otherwise
tells the running one how far back to walk and how long to go on; the sweep ends once the
last deadline it heard of has passed. Its history holds timestamps and counts only.

`SweptLooks` is the follow-up's side (a base of CarrierClaimWorkflow).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.claim_sweep import (
        FollowUpSweep,
        SweepCarry,
        SweepLook,
        SweepReach,
        SweepResult,
        SweepStart,
    )
    from activities.claims import ClaimLookup
    from workflows.activity_options import LOCAL_ACTIVITY_TIMED_OUT, LOCAL_RETRY, NON_RETRYABLE
    from workflows.claim_looks import CARRIER_RETRY, ClaimLooks, carrier_failure
    from workflows.claim_models import (
        CHECK_JITTER,
        STILL_WORKING_EVERY,
        ClaimCheck,
        LookRun,
        next_sweep,
        sweeps_between,
    )

#: Patch id: follow-ups that start on this code sleep and are woken by the shared sweep;
#: older histories replay their own schedules (claim_looks.py).
CLAIM_SWEEP = "claim-sweep"
SWEEP_TIMEOUT = timedelta(minutes=5)
# A sweep that cannot finish within this misses its slot; the next one covers its window.
SWEEP_GIVE_UP = timedelta(minutes=30)
#: Continue-as-new after this many sweeps (or sooner, when Temporal suggests it).
SWEEPS_PER_RUN = 100
START_TIMEOUT = timedelta(seconds=30)
START_GIVE_UP = timedelta(minutes=10)


@workflow.defn
class ClaimSweepWorkflow:
    @workflow.init
    def __init__(self, start: SweepStart) -> None:
        carried = start.carried
        self._every = start.every
        self._horizon = carried.horizon if carried else timedelta(0)
        self._until: datetime | None = carried.until if carried else None
        self._since: datetime | None = carried.since if carried else None
        self._last: SweepResult | None = None

    @workflow.run
    async def run(self, start: SweepStart) -> None:
        sweeps = 0
        while True:
            slot = next_sweep(workflow.now(), self._every)
            if self._until is None or slot >= self._until:
                # No follow-up it heard of is still waiting at that slot.
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._until is None or next_sweep(workflow.now(), self._every) >= self._until:
                    return
                continue
            workflow.set_current_details(f"Next sweep {slot:%Y-%m-%d %H:%M:%S} UTC.")
            await workflow.sleep(slot - workflow.now())
            await self._sweep(slot)
            sweeps += 1
            info = workflow.info()
            if sweeps >= SWEEPS_PER_RUN or info.is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                carry = SweepCarry(horizon=self._horizon, until=self._until, since=self._since)
                workflow.continue_as_new(SweepStart(every=self._every, carried=carry))

    async def _sweep(self, slot: datetime) -> None:
        look = SweepLook(slot=slot, since=self._since or slot - self._every, horizon=self._horizon)
        try:
            self._last = await workflow.execute_activity(
                "sweep_carrier_claims",
                look,
                result_type=SweepResult,
                start_to_close_timeout=SWEEP_TIMEOUT,
                schedule_to_close_timeout=min(SWEEP_GIVE_UP, max(self._every, SWEEP_TIMEOUT)),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(minutes=1),
                    non_retryable_error_types=NON_RETRYABLE,
                ),
                summary="sweep the carrier's claims",
            )
        except ActivityError as err:
            # `since` stays: the next sweep looks for changes since the last one that ran.
            workflow.logger.warning("claim sweep missed its slot: %s", carrier_failure(err))
            return
        self._since = slot

    @workflow.signal
    def reach(self, reach: SweepReach) -> None:
        """A follow-up started: walk back as far as its deadline, go on until its end."""
        self._horizon = max(self._horizon, reach.horizon)
        self._until = max(self._until, reach.until) if self._until else reach.until

    @workflow.query
    def last_sweep(self) -> SweepResult | None:
        return self._last


class SweptLooks(ClaimLooks):
    """The follow-up under CLAIM_SWEEP: it sleeps; the sweep's looks are counted, not
    kept one by one (a run of them is one history entry), and the one that saw a change
    wakes it."""

    _swept: bool
    _looked_through: datetime
    _sweep_started: bool
    _recheck: bool

    async def _start_sweep(self) -> None:
        """Once per follow-up: a local activity; if that fails, a retried activity (the
        start is idempotent, so a late first try is harmless)."""
        request = FollowUpSweep(
            task_queue=workflow.info().task_queue,
            every=self._start.check_every,
            reach=SweepReach(horizon=self._start.deadline, until=self._deadline_at),
        )
        try:
            await workflow.execute_local_activity(
                "start_claim_sweep",
                request,
                start_to_close_timeout=START_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            return
        except LOCAL_ACTIVITY_TIMED_OUT as err:
            workflow.logger.warning("claim sweep not started at once: %s", carrier_failure(err))
        try:
            await workflow.execute_activity(
                "start_claim_sweep",
                request,
                start_to_close_timeout=START_TIMEOUT,
                schedule_to_close_timeout=START_GIVE_UP,
                retry_policy=CARRIER_RETRY,
            )
        except ActivityError as err:
            # Webhooks and the deadline still reach it; the next follow-up starts the sweep.
            workflow.logger.warning("claim sweep not started: %s", carrier_failure(err))

    def _sweep_run(self) -> LookRun:
        """The sweep's looks to come: one a slot, after the last accounted, before the
        deadline."""
        every = self._start.check_every
        before_deadline = self._deadline_at - timedelta(microseconds=1)
        return LookRun(
            start=next_sweep(self._looked_through, every),
            every=every,
            looks=sweeps_between(self._looked_through, before_deadline, every),
        )

    def _weekly_note_at(self) -> datetime:
        """After the first sweep at which "still working on it" is due (as _observe decides
        it), once that sweep would have woken us had the claim changed."""
        if not self._start.still_working_updates:
            return self._deadline_at
        every = self._start.check_every
        due = self._last_notice_at + STILL_WORKING_EVERY - every / 2
        slot = next_sweep(due - timedelta(microseconds=1), every)
        return slot + every * CHECK_JITTER

    async def _sleep_between_sweeps(self) -> None:
        if not self._sweep_started:
            await self._start_sweep()
            self._sweep_started = True
        run = self._sweep_run()
        self._running = run
        self._next_check_at = run.start
        wake = min(self._weekly_note_at(), self._deadline_at)
        next_look = min(run.start, self._deadline_at)
        workflow.set_current_details(
            f"Claim {self._start.claim_id}: {self._status}; next check "
            f"{next_look:%Y-%m-%d %H:%M} UTC."
        )
        if self._recheck:  # the carrier did not answer our last look: again after the next sweep
            wake = min(wake, run.start + self._start.check_every * CHECK_JITTER)
        now = workflow.now()
        woken = wake > now and await self._woken_within(wake - now)
        self._running = None
        self._next_check_at = None
        if woken or workflow.now() >= self._deadline_at:
            return  # the loop takes the signal, or the last look at the deadline
        if self._recheck:
            await self._poked()
            return
        # The weekly note: the last sweep looked and saw no change (it would have woken us).
        self._sweep_looks(reported=True)
        await self._observe(self._status, None, "check")

    def _sweep_looks(self, *, reported: bool) -> None:
        """The sweeps since the last accounted moment looked at the claim and saw it
        unchanged; with `reported`, the last of them is the look reported next."""
        every = self._start.check_every
        now = workflow.now()
        through = min(now, self._deadline_at - timedelta(microseconds=1))
        looks = sweeps_between(self._looked_through, through, every)
        last = next_sweep(through, every) - every
        self._looked_through = now
        if reported and looks:
            looks, last = looks - 1, last - every
        if looks:
            self._history.append(
                ClaimCheck(at=last, status=self._status, source="check", looks=looks)
            )

    async def _poked(self) -> None:
        """The sweep saw the claim change (or our last look went unanswered): look. A claim
        it saw change that we already know of (from a webhook, say) is a look that changed
        nothing: counted, not told."""
        self._sweep_looks(reported=True)
        self._recheck = False
        try:
            claim = await self._look(ClaimLookup(claim_id=self._start.claim_id))
        except LOCAL_ACTIVITY_TIMED_OUT as err:
            # The sweep will not wake us for this change again: look after the next one.
            self._recheck = True
            detail = f"the carrier did not answer: {carrier_failure(err)}"
            await self._observe(self._status, None, "check", detail=detail)
            return
        if claim.status == self._status:
            self._history.append(ClaimCheck(at=workflow.now(), status=self._status, source="check"))
            return
        await self._observe(claim.status, claim.approved_amount, "check")
