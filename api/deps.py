"""FastAPI dependencies: what the lifespan made once (settings, the Temporal client, the
database engine, the policy library, the ticket service), as `Annotated` aliases, and the
API-key check: a valid key, its scope, its rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from temporalio.client import Client

from api.auth import KeyInfo, Scope, authenticate
from api.problems import problem_responses
from api.ratelimit import RateLimiter, retry_after
from api.services.published_policies import ApiPublishedSet as PublishedSet
from api.services.tickets import TicketService
from policies.library import PolicyLibrary
from ticketflow.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_default_platforms(request: Request) -> list[str]:
    """The deployment's platforms for a role a policy names none for
    (TICKETFLOW_DEFAULT_PLATFORMS): every compile of a draft is given them."""
    return get_settings(request).default_platforms


def get_temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_published(request: Request) -> PublishedSet:
    published: PublishedSet = request.app.state.published
    return published


def get_library(request: Request) -> PolicyLibrary:
    """The published policy set now (a cheap check of the store per request)."""
    return get_published(request).current()


def get_ticket_service(request: Request) -> TicketService:
    tickets: TicketService = request.app.state.tickets
    return tickets


SettingsDep = Annotated[Settings, Depends(get_settings)]
DefaultPlatformsDep = Annotated[list[str], Depends(get_default_platforms)]
TemporalDep = Annotated[Client, Depends(get_temporal_client)]
EngineDep = Annotated[Engine, Depends(get_engine)]
LibraryDep = Annotated[PolicyLibrary, Depends(get_library)]
PublishedDep = Annotated[PublishedSet, Depends(get_published)]
TicketServiceDep = Annotated[TicketService, Depends(get_ticket_service)]

bearer = HTTPBearer(auto_error=False, description="an API key from `ticketflow apikey create`")


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def authenticated_key(
    engine: EngineDep,
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> KeyInfo:
    """401 unless the request carries `Authorization: Bearer <a valid API key>` (not
    revoked, not expired); 429 with `Retry-After` past the key's rate."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send an API key as `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = await run_in_threadpool(authenticate, engine, credentials.credentials)
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the API key is not valid (unknown, revoked or expired)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    wait = limiter.take(key.id)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many requests with this API key; retry after the Retry-After seconds",
            headers={"Retry-After": retry_after(wait)},
        )
    return key


class RequireScope:
    """A route's (or router's) auth: `Depends(require_scope(Scope.TICKETS))`. 403 when the
    key lacks the scope (`admin` implies every scope); `scope=None` takes any valid key.
    The scope stays readable on the dependency, so tests and the OpenAPI document can see
    what each route needs."""

    def __init__(self, scope: Scope | None) -> None:
        self.scope = scope

    async def __call__(self, key: Annotated[KeyInfo, Depends(authenticated_key)]) -> KeyInfo:
        if not key.allows(self.scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this API key lacks the {self.scope} scope"
            )
        return key


def require_scope(scope: Scope) -> RequireScope:
    return RequireScope(scope)


#: Any valid key, whatever its scopes (reading policies; the codec).
require_api_key = RequireScope(None)


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    scopes: tuple[RequireScope, ...]

    def needs(self, scope: Scope) -> bool:
        return any(dep.scope == scope for dep in self.scopes)

    @property
    def needs_key(self) -> bool:
        return bool(self.scopes)


def route_scopes(dependant: Dependant) -> list[RequireScope]:
    """Every `RequireScope` a route depends on, however deep."""
    found = [d.call for d in dependant.dependencies if isinstance(d.call, RequireScope)]
    for sub in dependant.dependencies:
        found.extend(route_scopes(sub))
    return found


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every API route of `app.routes` (included routers flattened) with the scopes it
    declares, router-level dependencies included."""
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            found.append(
                RouteInfo(
                    path=context.path_format or "",
                    methods=frozenset(context.methods or ()),
                    scopes=tuple(route_scopes(context.dependant)),
                )
            )
    return found


def document_auth(app: FastAPI) -> None:
    """Add 401/429 (and 403 where a scope is named) to the documented answers of every
    route behind a key."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for route in api_routes(app):
            if not route.needs_key:
                continue
            statuses = [401, 429] + ([403] if any(s.scope for s in route.scopes) else [])
            for method in route.methods:
                operation = schema["paths"].get(route.path, {}).get(method.lower())
                if operation is None:
                    continue
                for code, spec in problem_responses(*statuses).items():
                    documented = {k: v for k, v in spec.items() if k != "model"}
                    operation["responses"].setdefault(str(code), documented)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
