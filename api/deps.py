"""FastAPI dependencies: what the lifespan made once (settings, the Temporal client, the
database engine, the policy library, the ticket service), as
`Annotated` aliases, and the API-key check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from temporalio.client import Client

from api.auth import key_is_valid
from api.services.tickets import TicketService
from policies.library import PolicyLibrary
from ticketflow.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_library(request: Request) -> PolicyLibrary:
    library: PolicyLibrary = request.app.state.library
    return library


def get_ticket_service(request: Request) -> TicketService:
    tickets: TicketService = request.app.state.tickets
    return tickets


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal_client)]
EngineDep = Annotated[Engine, Depends(get_engine)]
LibraryDep = Annotated[PolicyLibrary, Depends(get_library)]
TicketServiceDep = Annotated[TicketService, Depends(get_ticket_service)]

bearer = HTTPBearer(auto_error=False, description="an API key from `ticketflow apikey create`")


async def require_api_key(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """401 unless the request carries `Authorization: Bearer <a valid API key>`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send an API key as `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not await run_in_threadpool(key_is_valid, engine, credentials.credentials):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the API key is not valid",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
