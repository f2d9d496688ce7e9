"""Route shapes the emulators share: a platform's API route (auth, error shape, usage
headers), fixed-window rate counting, Idempotency-Key replay and recording, pagination."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlmodel import Session

from sandbox.core import SideEffect, find_side_effect, record_side_effect

Item = TypeVar("Item")


def is_control_path(path: str) -> bool:
    """The sandbox's own controls under a platform prefix, open to everyone."""
    return "/_sandbox/" in path


def platform_route(
    *,
    authorized: Callable[[Request], bool],
    unauthorized: Callable[[], Response],
    error: type[Exception],
    error_answer: Callable[[Any], Response],
    usage_headers: Callable[[], dict[str, str]],
    is_open: Callable[[str], bool] = is_control_path,
) -> type[APIRoute]:
    """An ``APIRoute`` class for one platform's router: a request that is not
    ``authorized`` gets ``unauthorized()``; an ``error`` raised by the endpoint is answered
    with ``error_answer(exc)``; every answer carries ``usage_headers()``. Open paths (the
    sandbox controls, token endpoints) skip auth and usage headers."""

    class PlatformRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            open_path = is_open(self.path)

            async def route(request: Request) -> Response:
                response: Response
                if not open_path and not authorized(request):
                    response = unauthorized()
                else:
                    try:
                        response = await handler(request)
                    except error as exc:
                        response = error_answer(exc)
                if not open_path:
                    response.headers.update(usage_headers())
                return response

            return route

    return PlatformRoute


class RateWindow:
    """Requests counted in fixed windows of ``seconds``, against ``limit`` per window."""

    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        self.limit, self.seconds = limit, seconds
        self.start, self.used = 0.0, 0

    def hit(self) -> int:
        """Count one request; how many the window has left after it."""
        current = time.time()
        if current - self.start > self.seconds:
            self.start, self.used = current, 0
        self.used += 1
        return max(0, self.limit - self.used)

    @property
    def resets_at(self) -> int:
        """Epoch second at which the current window ends."""
        return int(self.start + self.seconds)


def idempotency_key(request: Request) -> str | None:
    return request.headers.get("Idempotency-Key")


def record_request_write(
    session: Session,
    request: Request,
    platform: str,
    operation: str,
    *,
    body: Any = None,
    response: Any = None,
    resource_id: str | int | None = None,
    status_code: int = 200,
    fallback_key: str | None = None,
) -> SideEffect:
    """Record a write made by ``request`` under its ``Idempotency-Key`` header (or
    ``fallback_key`` without one)."""
    return record_side_effect(
        session,
        platform,
        operation,
        idempotency_key=idempotency_key(request) or fallback_key,
        request=body,
        response=response,
        resource_id=resource_id,
        status_code=status_code,
    )


Answer = tuple[dict[str, Any], int]


async def idempotent_write(
    request: Request,
    session: Session,
    platform: str,
    operation: str,
    resource_id: str,
    apply: Callable[[dict[str, Any]], Answer],
) -> JSONResponse:
    """Replay the first successful answer for a repeated Idempotency-Key; else
    ``apply(json body)`` and record the write when it succeeded."""
    key = idempotency_key(request)
    earlier = find_side_effect(session, platform, key, operation)
    if earlier is not None:
        return JSONResponse(earlier.response, status_code=earlier.status_code)
    body = await request.json() if await request.body() else {}
    result, status = apply(body)
    if status < 300:
        record_side_effect(
            session,
            platform,
            operation,
            idempotency_key=key,
            request=body,
            response=result,
            resource_id=result.get("id", resource_id),
            status_code=status,
        )
    return JSONResponse(result, status_code=status)


def page_params(request: Request, size_param: str, max_size: int = 100) -> tuple[int, int]:
    """(page from 1, page size) from the query: ``page`` and ``size_param``, the size between
    1 and ``max_size`` (the default)."""
    size = max(1, min(max_size, int(request.query_params.get(size_param, max_size))))
    page = max(1, int(request.query_params.get("page", 1)))
    return page, size


def page_of(items: Sequence[Item], page: int, size: int) -> Sequence[Item]:
    """Page ``page`` (from 1) of ``size`` items."""
    start = (page - 1) * size
    return items[start : start + size]


def has_next_page(total: int, page: int, size: int) -> bool:
    return page * size < total
