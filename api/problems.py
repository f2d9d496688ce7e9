"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

``detail`` stays a plain sentence (what the caller should read); validation errors add
``errors`` with the field locations.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ticketflow.api")


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="validation errors (field location and message)"
    )


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        jsonable_encoder(body.model_dump(exclude_none=True)),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


# For `responses=` on routes, so OpenAPI documents the error bodies.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


class ProblemError(HTTPException):
    """An HTTP error whose problem+json carries `errors` (e.g. a draft's diagnostics)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(status, detail)
        self.errors = errors


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers) if exc.headers else None
    errors = exc.errors if isinstance(exc, ProblemError) else None
    return problem_response(request, exc.status_code, detail, headers=headers, errors=errors)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]
    first = errors[0] if errors else None
    where = ".".join(str(part) for part in first["loc"]) if first else ""
    detail = f"{where}: {first['msg']}" if first else "invalid request"
    return problem_response(request, 422, detail, errors=errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
