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

Under CLAIM_SWEEP (new follow-ups) it does not look on a schedule of its own: the shared
sweep (workflows/claim_sweep.py) looks at every claim once a check slot and wakes it only
when its claim changed; it sleeps between that, the weekly "still working on it", its
deadline and the signals. Older histories replay their own schedules (claim_looks.py).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimCancel, ClaimStatus
    from workflows.claim_looks import (
        CARRIER_GIVE_UP,
        CARRIER_RETRY,
        CARRIER_TIMEOUT,
        carrier_failure,
    )
    from workflows.claim_models import (
        FINAL_STATUSES,
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
    from workflows.claim_sweep import CLAIM_SWEEP, SweptLooks

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


@workflow.defn
class CarrierClaimWorkflow(SweptLooks):
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
        self._swept = False
        self._sweep_started = carried.sweep_started if carried else False
        self._recheck = carried.recheck if carried else False
        # A run carried from before the sweep counted its looks up to its last entry.
        self._looked_through: datetime = (
            (carried.looked_through or carried.history[-1].at) if carried else start.filed_at
        )

    @workflow.run
    async def run(self, start: ClaimFollowUpStart) -> ClaimResult:
        # Decided in the run's first activation (as the ticket decides its patches): runs
        # from before it replay the looks they scheduled at any second.
        self._lean = workflow.patched(LEAN_CLAIM_CHECKS)
        self._retries = self._lean and workflow.patched(LOOKS_AS_RETRIES)
        self._swept = self._retries and workflow.patched(CLAIM_SWEEP)
        while self._resolution is None and not self._ticket_gone:
            if self._cancel_requested:
                if self._swept:
                    self._sweep_looks(reported=False)
                await self._cancel()
            elif self._signals:
                await self._take(self._signals.popleft())
            elif workflow.now() >= self._deadline_at:
                if self._swept:
                    self._sweep_looks(reported=False)
                await self._check()  # one last look before giving up
                if self._resolution is None:
                    await self._give_up()
            elif self._swept:
                await self._sleep_between_sweeps()
            elif self._retries:
                await self._watch()
            else:
                await self._wait_for_next_check()
            if self._resolution is None and self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._start.model_copy(update={"carried": self._carry()}))
        self._next_check_at = None
        if self._swept:
            self._sweep_looks(reported=False)  # the sweeps up to its end (the ticket closed)
        workflow.set_current_details(f"Claim {start.claim_id}: {self._resolution or 'stopped'}.")
        return ClaimResult(
            claim_id=start.claim_id,
            status=self._status,
            resolution=self._resolution or "ticket_closed",
            approved_amount=self._approved_amount,
            history=self._history,
        )

    # -- the schedule -----------------------------------------------------------------------

    def _upcoming(self) -> LookRun | None:
        """The looks planned after the current report (None once it is final)."""
        if self._resolution is not None or not self._retries:
            return None
        if self._swept:
            return self._sweep_run()
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

    # -- what happened to the claim ------------------------------------------------------------

    async def _take(self, signal: ClaimSignal) -> None:
        if self._swept and signal.source == "sweep":
            await self._poked()
            return
        if self._swept:
            self._sweep_looks(reported=False)
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
            reason = carrier_failure(err)
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
            looked_through=self._looked_through,
            sweep_started=self._sweep_started,
            recheck=self._recheck,
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
