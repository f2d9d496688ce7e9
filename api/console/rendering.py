"""Rendering console pages: the Jinja2 templates beside this module, the headers every
page carries, and the answers to a missing session (a redirect to sign in) or a refusal
(an HTML page with the status and why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.console.session import ConsoleRefusal, SignInRequired

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
EDITOR_BUNDLE = STATIC / "build" / "editor.js"

templates = Jinja2Templates(directory=HERE / "templates")

#: Scripts only from this origin (the editor bundle), no framing, no plug-ins. CodeMirror
#: writes its own <style> elements, hence inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = getattr(request.state, "console_user", None)
    path = request.url.path
    section = next(
        (name for name in ("tickets", "experiments") if path.startswith(f"/console/{name}")),
        "policies",
    )
    context.setdefault("section", section)
    response = templates.TemplateResponse(
        request,
        template,
        {"user": user, "editor_bundle": EDITOR_BUNDLE.exists(), **context},
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        return render(request, "error.html", 401, message="your session has ended; sign in again")
    return redirect(f"/console/login?next={quote(target, safe='')}")


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return render(request, "error.html", exc.status, message=exc.message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(ConsoleRefusal, _refused)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
