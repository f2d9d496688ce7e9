"""Who is signed in to the console, and what they may do: the session cookie, the role a
page needs, and the CSRF check on every write.

The cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' forms do not
carry it on a POST), scoped to /console, and Secure when the request came over HTTPS. On
top of that every write (any method but GET/HEAD) must echo the session's CSRF token, as
a form field `csrf_token` or an `X-CSRF-Token` header; the sign-in form, which has no
session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.console.users import Role, SignedIn, session_user
from api.deps import EngineDep

SESSION_COOKIE = "tf_console"
LOGIN_CSRF_COOKIE = "tf_console_login"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"


class SignInRequired(Exception):
    """No valid session: pages answer with a redirect to the sign-in page."""


class ConsoleRefusal(Exception):
    """A console request refused with a status and a sentence for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


async def current_user(request: Request, engine: EngineDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    user = await run_in_threadpool(session_user, engine, token) if token else None
    if user is None:
        raise SignInRequired()
    request.state.console_user = user
    return user


Viewer = Annotated[SignedIn, Depends(current_user)]


@dataclass(frozen=True)
class Write:
    """A checked console write: who, and the form they sent (empty for JSON bodies)."""

    user: SignedIn
    form: FormData

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name, default)
        return value if isinstance(value, str) else default


class RequireRole:
    """`Depends(RequireRole(Role.EDITOR))`: signed in, with at least that role, and (on
    a write) the session's CSRF token echoed; 403 otherwise."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, request: Request, user: Viewer) -> Write:
        form = FormData()
        if request.method not in ("GET", "HEAD"):
            given = request.headers.get(CSRF_HEADER)
            content_type = request.headers.get("content-type", "")
            if given is None and content_type.startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                field = form.get("csrf_token")
                given = field if isinstance(field, str) else None
            if not tokens_match(user.csrf_token, given):
                raise ConsoleRefusal(
                    403,
                    "this form is out of date (its security token does not match your "
                    "session); reload the page and try again",
                )
        if not user.allows(self.role):
            raise ConsoleRefusal(
                403,
                f"your role ({user.role}) cannot do this: it takes the {self.role} role or higher",
            )
        return Write(user, form)


Editor = Annotated[Write, Depends(RequireRole(Role.EDITOR))]
Operator = Annotated[Write, Depends(RequireRole(Role.OPERATOR))]
#: Any signed-in user, CSRF-checked (a POST that changes nothing, like a check).
Reader = Annotated[Write, Depends(RequireRole(Role.VIEWER))]
