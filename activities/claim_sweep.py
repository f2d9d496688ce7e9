"""The shared claim sweep's side effects: walk the carrier's claim list, poke the follow-ups
whose claim changed, and start the sweep.

One sweep per (task queue, check interval) looks at every claim once a check slot in a few
list pages (``GET /claims``, 100 a page, newest first) instead of each follow-up reading its
own claim: the follow-ups sleep, and only those whose claim changed since the previous sweep
wake, through their "check now" signal (their own look, their own logic).

"Changed" is the claim's ``updated_at`` after the previous sweep's slot (less a minute for
the carrier's clock): a timestamp passed in by the sweep workflow, so nothing is kept in
memory and a worker restart costs nothing. A claim that never changed since it was filed
(``updated_at`` at ``created_at``) wakes nobody. The follow-up's id comes from the claim's
own ``[ticketflow:<key>]`` (the key starts with its ticket's workflow id), so the sweep's
history holds no ticket or claim id: only timestamps and counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from activities.platforms.base import named_errors
from activities.platforms.easypost import Claim, EasyPostConnector

#: The sweep workflow (workflows/claim_sweep.py) and the follow-up's signal it pokes.
SWEEP_WORKFLOW = "ClaimSweepWorkflow"
REACH_SIGNAL = "reach"
CHECK_NOW_SIGNAL = "claim_update"
#: How far the carrier's clock may trail ours: a change stamped this much before the
#: previous sweep's slot is still news (at worst a follow-up looks twice).
CARRIER_CLOCK_SLACK = timedelta(minutes=1)
PAGE_SIZE = 100
POKES_AT_ONCE = 20


def claim_workflow_id(ticket_id: str, claim_id: str) -> str:
    """One follow-up per filed claim, named after its ticket (ids carry no customer data)."""
    return f"claim-{ticket_id}-{claim_id}"


def follow_up_of(claim: Claim) -> str | None:
    """The follow-up's workflow id, from the key the filing step left on the claim (None:
    ticketflow did not file it)."""
    if not claim.key:
        return None
    return claim_workflow_id(claim.key.split("/", 1)[0], claim.id)


def sweep_workflow_id(task_queue: str, every: timedelta) -> str:
    return f"claims-sweep-{task_queue}-{every.total_seconds():g}s"


class SweepReach(BaseModel):
    """A follow-up's word to the sweep: look back this far (its deadline: older claims have
    no live follow-up) and keep sweeping until then (its deadline's moment)."""

    horizon: timedelta
    until: datetime


class SweepCarry(BaseModel):
    horizon: timedelta
    until: datetime
    since: datetime | None = None


class SweepStart(BaseModel):
    every: timedelta
    carried: SweepCarry | None = None


class SweepLook(BaseModel):
    """One sweep: claims changed after `since`, filed after `slot` less `horizon`."""

    slot: datetime
    since: datetime
    horizon: timedelta


class SweepResult(BaseModel):
    pages: int = 0
    claims: int = 0
    changed: int = 0
    woken: int = 0


class FollowUpSweep(BaseModel):
    """What the follow-up's start asks for: the sweep of its task queue and interval."""

    task_queue: str
    every: timedelta
    reach: SweepReach


def changed(claim: Claim, since: datetime) -> bool:
    updated = claim.updated_at
    return updated is not None and updated > claim.created_at and updated > since


class ClaimSweepActivities:
    """The carrier connector is injected; the Temporal client is the worker's."""

    def __init__(self, easypost: EasyPostConnector) -> None:
        self.easypost = easypost

    @activity.defn(name="sweep_carrier_claims")
    @named_errors
    async def sweep_carrier_claims(self, look: SweepLook) -> SweepResult:
        """Walk the claim list newest first down to the oldest claim a follow-up may still
        wait on; wake the follow-ups of the claims that changed since `look.since`."""
        oldest = look.slot - look.horizon
        since = look.since - CARRIER_CLOCK_SLACK
        result = SweepResult()
        to_wake: list[str] = []
        before: str | None = None
        more = True
        while more:
            claims, more = await self.easypost.list_claims(page_size=PAGE_SIZE, before_id=before)
            result.pages += 1
            for claim in claims:
                if claim.created_at < oldest:
                    more = False
                    break
                result.claims += 1
                follow_up = follow_up_of(claim)
                if follow_up and changed(claim, since):
                    to_wake.append(follow_up)
            before = claims[-1].id if claims else None
            more = more and before is not None
            activity.heartbeat(result.pages)
        result.changed = len(to_wake)
        result.woken = await self._wake(to_wake)
        return result

    async def _wake(self, follow_ups: list[str]) -> int:
        client = activity.client()
        gate = asyncio.Semaphore(POKES_AT_ONCE)

        async def wake(workflow_id: str) -> int:
            async with gate:
                try:
                    await client.get_workflow_handle(workflow_id).signal(
                        CHECK_NOW_SIGNAL, {"source": "sweep"}
                    )
                except RPCError as err:
                    if err.status == RPCStatusCode.NOT_FOUND:
                        return 0  # its follow-up has ended (or another system filed it)
                    raise
                return 1

        return sum(await asyncio.gather(*(wake(w) for w in follow_ups)))

    @activity.defn(name="start_claim_sweep")
    async def start_claim_sweep(self, request: FollowUpSweep) -> None:
        """Start the sweep of this task queue and interval, or tell the running one how far
        back and how long to look (signal-with-start: idempotent, and a sweep that ended
        because no follow-up was left starts again)."""
        await activity.client().start_workflow(
            SWEEP_WORKFLOW,
            SweepStart(every=request.every),
            id=sweep_workflow_id(request.task_queue, request.every),
            task_queue=request.task_queue,
            start_signal=REACH_SIGNAL,
            start_signal_args=[request.reach],
            static_summary=f"Carrier claims sweep, every {request.every}",
        )

    def activities(self) -> list[Callable[..., Any]]:
        return [self.sweep_carrier_claims, self.start_claim_sweep]
