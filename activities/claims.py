"""Carrier-claim follow-up activities: read a claim's status, cancel a claim (EasyPost).

Used by ``workflows.claim.CarrierClaimWorkflow``, not by policies (filing is the catalog tool
``@file_carrier_claim``, in ``activities.platforms.carrier``). Reading is safe to retry; cancelling
carries the caller's idempotency key and is a no-op on a claim that is already cancelled.
Both raise only named platform errors (``named_errors``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from temporalio import activity

from activities.platforms.base import named_errors
from activities.platforms.easypost import Claim, EasyPostConnector


class ClaimLookup(BaseModel):
    claim_id: str


class ClaimCancel(BaseModel):
    claim_id: str
    idempotency_key: str


class ClaimStatus(BaseModel):
    claim_id: str
    status: str
    approved_amount: float | None = None


def _status(claim: Claim) -> ClaimStatus:
    return ClaimStatus(
        claim_id=claim.id, status=claim.status, approved_amount=claim.approved_amount
    )


class ClaimActivities:
    """The carrier connector is injected (tests point it at the sandbox)."""

    def __init__(self, easypost: EasyPostConnector) -> None:
        self.easypost = easypost

    @activity.defn(name="get_carrier_claim")
    @named_errors
    async def get_carrier_claim(self, lookup: ClaimLookup) -> ClaimStatus:
        return _status(await self.easypost.get_claim(lookup.claim_id))

    @activity.defn(name="cancel_carrier_claim")
    @named_errors
    async def cancel_carrier_claim(self, request: ClaimCancel) -> ClaimStatus:
        """Withdraw the claim; a claim the carrier already decided is refused (4xx,
        non-retryable: the workflow reads the status instead)."""
        claim = await self.easypost.cancel_claim(request.claim_id, request.idempotency_key)
        return _status(claim)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.get_carrier_claim, self.cancel_carrier_claim]
