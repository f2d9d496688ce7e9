"""Carrier-claim follow-up activities: read a claim's status, watch it, cancel it (EasyPost).

Used by ``workflows.claim.CarrierClaimWorkflow``, not by policies (filing is the catalog tool
``@file_carrier_claim``, in ``activities.platforms.carrier``). Reading is safe to retry; cancelling
carries the caller's idempotency key and is a no-op on a claim that is already cancelled.
Both raise only named platform errors (``named_errors``).

``watch_carrier_claim`` is one scheduled look whose Temporal retries are the next looks: it
fails (retryably, as a benign error) while the claim is unchanged, so a run of daily looks
costs the follow-up's history three events in all, not five a look.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.claim_sweep import ClaimSweepActivities
from activities.platforms.base import PlatformError, named_errors
from activities.platforms.easypost import Claim, EasyPostConnector


class ClaimLookup(BaseModel):
    claim_id: str


class ClaimCancel(BaseModel):
    claim_id: str
    idempotency_key: str


class ClaimWatch(BaseModel):
    """Look until the claim is no longer in `status` (the follow-up's retry policy paces
    the looks and bounds how many)."""

    claim_id: str
    status: str


#: The watch's "still `status`" and "the carrier did not answer" (both retryable: the next
#: look is the next retry).
CLAIM_UNCHANGED = "ClaimUnchanged"
CARRIER_SILENT = "CarrierDidNotAnswer"


class ClaimStatus(BaseModel):
    claim_id: str
    status: str
    approved_amount: float | None = None
    look: int = 1  # which look of a watch saw it (a plain read: 1)


def _status(claim: Claim) -> ClaimStatus:
    return ClaimStatus(
        claim_id=claim.id, status=claim.status, approved_amount=claim.approved_amount
    )


def _until_next_look(began: float) -> timedelta | None:
    """The retry interval less what this look took: the next look falls one interval after
    this one was due, not after it answered, so the looks keep to the follow-up's slot
    (and claims that share a slot keep looking at the same moment)."""
    info = activity.info()
    every = info.retry_policy.initial_interval if info.retry_policy else None
    if not every:
        return None
    spent = info.started_time - info.current_attempt_scheduled_time
    spent += timedelta(seconds=time.monotonic() - began)
    return max(every - spent, timedelta(milliseconds=1))


class ClaimActivities:
    """The carrier connector is injected (tests point it at the sandbox)."""

    def __init__(self, easypost: EasyPostConnector) -> None:
        self.easypost = easypost

    @activity.defn(name="get_carrier_claim")
    @named_errors
    async def get_carrier_claim(self, lookup: ClaimLookup) -> ClaimStatus:
        return _status(await self.easypost.get_claim(lookup.claim_id))

    @activity.defn(name="watch_carrier_claim")
    @named_errors
    async def watch_carrier_claim(self, watch: ClaimWatch) -> ClaimStatus:
        """One look; unchanged, or a carrier that does not answer now (429, 5xx, timeout),
        fails retryably so the next retry is the next look. A 4xx fails for good."""
        began = time.monotonic()
        try:
            claim = _status(await self.easypost.get_claim(watch.claim_id))
        except PlatformError as err:
            if err.non_retryable:
                raise
            raise ApplicationError(
                err.message,
                type=CARRIER_SILENT,
                category=ApplicationErrorCategory.BENIGN,
                next_retry_delay=_until_next_look(began),
            ) from None
        if claim.status == watch.status:
            # Benign: the SDK logs it at debug level, not as a failure with its traceback.
            raise ApplicationError(
                f"still {claim.status}",
                type=CLAIM_UNCHANGED,
                category=ApplicationErrorCategory.BENIGN,
                next_retry_delay=_until_next_look(began),
            )
        return claim.model_copy(update={"look": activity.info().attempt})

    @activity.defn(name="cancel_carrier_claim")
    @named_errors
    async def cancel_carrier_claim(self, request: ClaimCancel) -> ClaimStatus:
        """Withdraw the claim; a claim the carrier already decided is refused (4xx,
        non-retryable: the workflow reads the status instead)."""
        claim = await self.easypost.cancel_claim(request.claim_id, request.idempotency_key)
        return _status(claim)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.get_carrier_claim,
            self.watch_carrier_claim,
            self.cancel_carrier_claim,
            *ClaimSweepActivities(self.easypost).activities(),
        ]
