"""The codec server: Temporal's remote codec protocol, so the Temporal UI and CLI show
decrypted payloads to whoever may call the API.

`POST /codec/encode` and `POST /codec/decode` take and return
`{"payloads": [{"metadata": {key: base64}, "data": base64}]}` and read the `X-Namespace`
header (absent, or this deployment's namespace). Auth: an API key
(`Authorization: Bearer …`, as the CLI sends with `--codec-auth`), or, when
`TICKETFLOW_CODEC_UI_WITHOUT_KEY` is on (`ticketflow dev` turns it on), a request from a
loopback address carrying one of the Temporal UI's origins, which is what the dev UI sends
(it has no login, so it has no token to pass). CORS (only on /codec) allows the UI's
origins with credentials; the preflight needs no key.

The same endpoints under `/console/codec` also take the console's session cookie (path
/console), for a UI with no login of its own: with `TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`
the browser sends it, so whoever is signed in to the console (any role: viewers read
transcripts there too) sees decoded payloads, and nobody else does. Only from one of the UI
origins: the cookie is SameSite=Lax, so a page of the same site could make the browser send
it, and CORS only stops such a page from reading the answer, not from the request being served.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from api.auth import Scope as KeyScope
from api.console.session import SESSION_COOKIE
from api.console.users import session_user
from api.deps import (
    EngineDep,
    RequireScope,
    SettingsDep,
    TemporalDep,
    authenticated_key,
    bearer,
    get_rate_limiter,
)
from api.problems import problem_responses
from api.ratelimit import RateLimiter
from ticketflow.settings import Settings
from workflows.payload_codec import PayloadDecryptionError

PREFIX = "/codec"
CONSOLE_PREFIX = "/console/codec"


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, description="values base64")
    data: str = Field(default="", description="base64")


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload]


def ui_origins(settings: Settings) -> list[str]:
    """The Temporal UI's origins: configured, or the dev UI under both loopback names."""
    configured = [o.strip().rstrip("/") for o in settings.codec_ui_origins.split(",")]
    if any(configured):
        return [o for o in configured if o]
    port = settings.temporal_ui_port
    return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]


class CodecCors:
    """CORS for the Temporal UI on /codec only; every other route keeps same-origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(
            (PREFIX + "/", CONSOLE_PREFIX + "/")
        ):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CodecAccess(RequireScope):
    """The dev UI from loopback without a key (when allowed); on /console/codec, a console
    session from a UI origin; anyone else needs a key with the `tickets` scope: decoded
    payloads are transcripts."""

    def __init__(self) -> None:
        super().__init__(KeyScope.TICKETS)

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        settings: SettingsDep,
        engine: EngineDep,
        limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if (
            credentials is None
            and settings.codec_ui_without_key
            and _loopback(request.client.host if request.client else None)
            and request.headers.get("origin") in ui_origins(settings)
        ):
            return
        if (
            credentials is None
            and request.url.path.startswith(CONSOLE_PREFIX + "/")
            and request.headers.get("origin") in ui_origins(settings)
            and await _console_session(request, engine)
        ):
            return
        key = await authenticated_key(engine, limiter, credentials)
        await RequireScope.__call__(self, key)


async def _console_session(request: Request, engine: Engine) -> bool:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return False
    return await run_in_threadpool(session_user, engine, token) is not None


require_codec_access = CodecAccess()


def require_namespace(
    settings: SettingsDep,
    x_namespace: Annotated[str | None, Header(description="the payloads' namespace")] = None,
) -> None:
    if x_namespace is not None and x_namespace != settings.temporal_namespace:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"this codec server serves namespace {settings.temporal_namespace!r}, "
            f"not {x_namespace!r}",
        )


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, f"{where} is not valid base64") from None


def _from_json(body: CodecPayloads) -> list[Payload]:
    return [
        Payload(
            metadata={k: _b64(v, f"payloads[{i}].metadata.{k}") for k, v in p.metadata.items()},
            data=_b64(p.data, f"payloads[{i}].data"),
        )
        for i, p in enumerate(body.payloads)
    ]


def _to_json(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )


def _codec(client: TemporalDep) -> PayloadCodec | None:
    return client.data_converter.payload_codec


async def encode(body: CodecPayloads, client: TemporalDep) -> CodecPayloads:
    codec = _codec(client)
    payloads = _from_json(body)
    return _to_json(list(payloads if codec is None else await codec.encode(payloads)))


async def decode(body: CodecPayloads, client: TemporalDep) -> CodecPayloads:
    codec = _codec(client)
    payloads = _from_json(body)
    try:
        return _to_json(list(payloads if codec is None else await codec.decode(payloads)))
    except PayloadDecryptionError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(err)) from None


def codec_router(prefix: str, *, in_schema: bool = True) -> APIRouter:
    """The two codec endpoints under ``prefix`` (both prefixes serve the same protocol)."""
    router = APIRouter(
        prefix=prefix,
        tags=["codec"],
        dependencies=[Depends(require_codec_access), Depends(require_namespace)],
        responses=problem_responses(400, 401, 403, 422),
        include_in_schema=in_schema,
    )
    router.post("/encode", summary="Encrypt payloads (Temporal remote codec protocol)")(encode)
    # 400 also when a payload's key is not in the keyring, or it was altered
    router.post("/decode", summary="Decrypt payloads (Temporal remote codec protocol)")(decode)
    return router


router = codec_router(PREFIX)
#: For the Temporal UI in a browser signed in to the console (not in the API's schema).
console_router = codec_router(CONSOLE_PREFIX, in_schema=False)
