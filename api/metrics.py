"""`GET /metrics`: the API process's ticketflow_* metrics in Prometheus' text format.

No API key (Prometheus scrapes it; the labels carry ids and fixed words only); turned off
with TICKETFLOW_API_METRICS=false. The claim follow-ups gauge is read from Temporal
visibility at scrape time: the follow-ups run on whichever worker, so no one process can
count them (every API replica reports the same number: take max(), not sum(), across them).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio.client import Client
from temporalio.service import RPCError

from activities.metrics import CLAIM_FOLLOWUPS_OPEN
from workflows.claims_cli import OPEN_CLAIMS

log = logging.getLogger("ticketflow.metrics")

COUNT_TIMEOUT = timedelta(seconds=2)

router = APIRouter(tags=["metrics"])


async def count_open_claims(client: Client) -> None:
    """Set the gauge from visibility; on a Temporal error it keeps its last value."""
    try:
        counted = await client.count_workflows(OPEN_CLAIMS, rpc_timeout=COUNT_TIMEOUT)
    except RPCError as err:
        log.warning("could not count the open claim follow-ups: %s", err.message)
        return
    CLAIM_FOLLOWUPS_OPEN.set(counted.count)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    if not request.app.state.settings.api_metrics:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "metrics are off here")
    await count_open_claims(request.app.state.temporal)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
