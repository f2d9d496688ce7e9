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

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

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


class ClaimReads:
    """Looks that arrive together share the carrier's claim list: one ``GET /claims`` page
    answers up to 100 of them where each would be a request of its own (the follow-ups of
    claims filed close together look at the same moments). Every look is answered by a read
    that started after it asked; a few looks at once, or claims the walk did not reach, are
    read one request each."""

    #: Fewer looks waiting than this: one request each (a walk reads every page).
    BATCH_FROM = 8
    PAGE_SIZE = 100
    #: A walk stops after this many pages (claims older than that are read one by one).
    MAX_PAGES = 30

    def __init__(self, easypost: EasyPostConnector) -> None:
        self.easypost = easypost
        self._waiting: dict[str, list[asyncio.Future[Claim]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def read(self, claim_id: str) -> Claim:
        future: asyncio.Future[Claim] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(claim_id, []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_waiting())
        return await future

    async def _read_waiting(self) -> None:
        await asyncio.sleep(0)  # the looks that arrived together join this read
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            try:
                answers = await self._answers(list(waiting))
            except Exception as err:  # every waiting look hears it
                answers = dict.fromkeys(waiting, err)
            for claim_id, futures in waiting.items():
                answer = answers[claim_id]
                for future in futures:
                    if future.done():
                        continue  # that look gave up (its attempt timed out)
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)

    async def _answers(self, claim_ids: list[str]) -> dict[str, Claim | BaseException]:
        wanted = set(claim_ids)
        found: dict[str, Claim | BaseException] = {}
        if len(wanted) >= self.BATCH_FROM:
            before: str | None = None
            try:
                for _ in range(self.MAX_PAGES):
                    page, more = await self.easypost.list_claims(
                        page_size=self.PAGE_SIZE, before_id=before
                    )
                    found.update((c.id, c) for c in page if c.id in wanted)
                    if not more or not page or len(found) == len(wanted):
                        break
                    before = page[-1].id
            except PlatformError:
                pass  # the rest are asked one by one
        rest = [claim_id for claim_id in claim_ids if claim_id not in found]
        one_by_one = await asyncio.gather(
            *(self.easypost.get_claim(claim_id) for claim_id in rest), return_exceptions=True
        )
        found.update(zip(rest, one_by_one, strict=True))
        return found


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
        self.reads = ClaimReads(easypost)

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
            claim = _status(await self.reads.read(watch.claim_id))
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
        return [self.get_carrier_claim, self.watch_carrier_claim, self.cancel_carrier_claim]
