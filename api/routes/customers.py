"""Data-subject requests (admin keys only): export or erase every ticket of one customer.

Send the email in the body (`POST /customers/export`, `POST /customers/erase` with
`{"email": …}`): a URL path lands in access logs, proxies and error reports, a body does
not. The path forms the first draft of the API named (`GET /customers/{email}/export`,
`DELETE /customers/{email}`) still work, marked deprecated.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from activities.customer_key import CustomerKeys
from api.auth import KeyInfo, Scope
from api.deps import EngineDep, TemporalDep, authenticated_key, require_scope
from api.problems import problem_responses
from api.services.customers import CustomerExport, CustomerService, ErasureReport, NoWorker

router = APIRouter(
    prefix="/customers",
    tags=["customers"],
    dependencies=[Depends(require_scope(Scope.ADMIN))],
    responses=problem_responses(400, 401, 403, 422),
)

log = logging.getLogger("ticketflow.api.customers")

EMAIL_PATTERN = r"^[^@\s/]{1,200}@[^@\s/]{1,200}$"


class CustomerRef(BaseModel):
    email: str = Field(
        max_length=320,
        pattern=EMAIL_PATTERN,
        description="the customer's email (matched case-insensitively, through its keyed hash)",
    )


def get_customer_keys(request: Request) -> CustomerKeys:
    keys: CustomerKeys = request.app.state.customer_keys
    return keys


def customer_service(
    client: TemporalDep,
    engine: EngineDep,
    keys: Annotated[CustomerKeys, Depends(get_customer_keys)],
) -> CustomerService:
    return CustomerService(client, engine, keys)


ServiceDep = Annotated[CustomerService, Depends(customer_service)]
KeyDep = Annotated[KeyInfo, Depends(authenticated_key)]
PathEmail = Annotated[str, Path(max_length=320, pattern=EMAIL_PATTERN)]


async def _export(service: CustomerService, email: str) -> CustomerExport:
    try:
        return await service.export(email)
    except NoWorker as err:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "no worker answered the tickets' queries; is the worker running?",
        ) from err


@router.post("/export", responses=problem_responses(503))
async def export_customer(body: CustomerRef, service: ServiceDep) -> CustomerExport:
    """Every ticket of the customer (found by CustomerKey): status, policy, outcome, what
    the customer told the bot and the transcript, as JSON."""
    return await _export(service, body.email)


async def _erase(service: CustomerService, email: str, key: KeyInfo) -> ErasureReport:
    report = await service.erase(email)
    # The audit trail: which key erased which tickets (ids only, never the email).
    log.info(
        "customer erasure by API key %s (%s): tickets %s, %d executions, %d deliveries",
        key.id,
        key.name,
        ", ".join(report.tickets) or "none",
        report.executions_deleted,
        report.webhook_deliveries_deleted,
    )
    return report


@router.post("/erase")
async def erase_customer(body: CustomerRef, service: ServiceDep, key: KeyDep) -> ErasureReport:
    """Terminate the customer's open tickets, delete every execution of their tickets and
    claim follow-ups, and the app-database rows tied to them; report what was removed.
    Idempotent: once Temporal has finished deleting (a closed run takes up to about half a
    minute), a repeated request removes nothing more and reports zeros."""
    return await _erase(service, body.email, key)


@router.get("/{email}/export", deprecated=True, responses=problem_responses(503))
async def export_customer_by_path(email: PathEmail, service: ServiceDep) -> CustomerExport:
    """As `POST /customers/export`; prefer that: an email in a URL reaches access logs."""
    return await _export(service, email)


@router.delete("/{email}", deprecated=True)
async def erase_customer_by_path(
    email: PathEmail, service: ServiceDep, key: KeyDep
) -> ErasureReport:
    """As `POST /customers/erase`; prefer that: an email in a URL reaches access logs."""
    return await _erase(service, email, key)
