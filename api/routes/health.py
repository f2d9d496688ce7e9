"""Liveness and readiness: `ticketflow dev` and load balancers poll this."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import TemporalDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(client: TemporalDep) -> dict[str, str]:
    return {"status": "ok", "temporal_namespace": client.namespace}
