"""The console's sign-in and policy pages: server-rendered HTML over the same services the
API routes use (the policy store, the publish flow with its conversation scripts), never
HTTP calls to the API itself. Every form works without JavaScript; the editor bundle
(CodeMirror, `make console-assets`) makes the source box a code editor with diagnostics
as you type."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.console.plan_tree import plan_tree
from api.console.rendering import redirect, render
from api.console.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRefusal,
    Editor,
    Reader,
    Viewer,
    new_login_token,
    set_cookie,
    tokens_match,
)
from api.console.users import SESSION_LIFETIME, sign_in, sign_out
from api.deps import EngineDep, PublishedDep, get_default_platforms
from api.routes.policies import CONTROL_CHARACTER, MAX_SOURCE_BYTES
from api.services import experiments, policy_store
from api.services.outcome_reports import policy_metrics, recent_by_policy
from api.services.policy_publishing import ScriptFailures, publish_draft
from api.services.policy_store import StoreError
from policies.catalog import CATALOG
from policies.diagnostics import Diagnostic
from policies.plan import Plan

router = APIRouter(prefix="/console", include_in_schema=False)

#: The policy list's window for containment and CSAT.
RECENT = timedelta(days=7)
#: The metric periods the policy page offers, in days (0: since the first ticket).
METRIC_PERIODS = {0: "all time", 30: "last 30 days", 7: "last 7 days"}
POLICY_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
NEW_POLICY = """---
id: {id}
title: {title}
triggers: []
---

1. Tell the customer: Thanks for reaching out, we are on it.
"""


def _safe_next(target: str | None) -> str:
    """Only a console path (never another site) after signing in."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console/policies"


# -- signing in and out ------------------------------------------------------------------


@router.get("")
async def console_home() -> RedirectResponse:
    return redirect("/console/policies")


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    token = new_login_token()
    response = render(request, "login.html", login_token=token, next=_safe_next(next))
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(
    request: Request,
    engine: EngineDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise ConsoleRefusal(403, "the sign-in form is out of date; reload the page and try again")
    result = await run_in_threadpool(sign_in, engine, email, password)
    if result.token is None:
        token = new_login_token()
        response = render(
            request,
            "login.html",
            429 if result.locked else 401,
            login_token=token,
            next=_safe_next(next),
            email=email,
            error=result.refusal,
        )
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response
    done = redirect(_safe_next(next))
    set_cookie(request, done, SESSION_COOKIE, result.token, int(SESSION_LIFETIME.total_seconds()))
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return done


@router.post("/logout")
async def logout(request: Request, engine: EngineDep, write: Reader) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(sign_out, engine, token)
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="lax")
    return response


# -- policies ----------------------------------------------------------------------------


@router.get("/policies")
async def policy_list(request: Request, user: Viewer, engine: EngineDep) -> HTMLResponse:
    policies = await run_in_threadpool(
        policy_store.overview, engine, default_platforms=get_default_platforms(request)
    )
    since = datetime.now(UTC) - RECENT
    recent = await run_in_threadpool(recent_by_policy, engine, since)
    running = await run_in_threadpool(experiments.running_by_policy, engine)
    return render(request, "policies.html", policies=policies, recent=recent, running=running)


@router.post("/policies")
async def new_policy(request: Request, write: Editor, engine: EngineDep) -> Response:
    """Start a policy: a draft with the id and title given (nothing routes to it until it
    is published)."""
    policy_id = write.field("policy_id").strip()
    title = write.field("title").strip() or policy_id.replace("_", " ").capitalize()
    if not POLICY_ID.match(policy_id):
        raise ConsoleRefusal(422, "a policy id is 1–100 letters, digits, `_` or `-`")
    existing = {
        p.id
        for p in await run_in_threadpool(
            policy_store.overview, engine, default_platforms=get_default_platforms(request)
        )
    }
    if policy_id in existing:
        return redirect(f"/console/policies/{policy_id}")
    source = NEW_POLICY.format(id=policy_id, title=title.replace("\n", " "))
    await run_in_threadpool(
        policy_store.save_draft,
        engine,
        policy_id,
        source,
        write.user.email,
        default_platforms=get_default_platforms(request),
    )
    return redirect(f"/console/policies/{policy_id}")


def _completions(engine_ids: list[str]) -> dict[str, Any]:
    """What the editor completes: tools with their signatures, policies, context names."""
    tools = [
        {"label": name, "signature": spec.signature(), "info": spec.description}
        for name, spec in sorted(CATALOG.items())
    ]
    results = sorted({spec.result_var for spec in CATALOG.values()})
    return {"tools": tools, "policies": engine_ids, "context": results}


async def _editor_page(
    request: Request,
    engine: EngineDep,
    policy_id: str,
    *,
    status_code: int = 200,
    source: str | None = None,
    diagnostics: list[Diagnostic] | None = None,
    plan: Plan | None = None,
    refusal: str | None = None,
    refusal_lines: list[str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    try:
        shown = await run_in_threadpool(
            policy_store.editable,
            engine,
            policy_id,
            default_platforms=get_default_platforms(request),
        )
        published_id, versions = await run_in_threadpool(
            policy_store.list_versions, engine, policy_id
        )
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    overview = await run_in_threadpool(
        policy_store.overview, engine, default_platforms=get_default_platforms(request)
    )
    period = _period(request.query_params.get("days"))
    since = datetime.now(UTC) - timedelta(days=period) if period else None
    metrics = await run_in_threadpool(policy_metrics, engine, policy_id, since)
    running = (await run_in_threadpool(experiments.running_by_policy, engine)).get(policy_id)
    if diagnostics is None and shown.draft_result is not None:
        diagnostics, plan = shown.draft_result.diagnostics, shown.draft_result.plan
    if plan is None and shown.draft is None and shown.published is not None:
        plan = shown.published.plan()
    return render(
        request,
        "policy.html",
        status_code,
        policy=shown,
        policy_id=policy_id,
        source=source if source is not None else shown.source,
        diagnostics=diagnostics or [],
        plan_rows=plan_tree(plan),
        versions=versions,
        published_version=published_id,
        refusal=refusal,
        refusal_lines=refusal_lines or [],
        notice=notice or request.query_params.get("notice"),
        completions=_completions([p.id for p in overview]),
        metrics=metrics,
        period=period,
        periods=METRIC_PERIODS,
        running_experiment=running,
    )


def _period(days: str | None) -> int:
    try:
        chosen = int(days or 0)
    except ValueError:
        return 0
    return chosen if chosen in METRIC_PERIODS else 0


@router.get("/policies/{policy_id}")
async def policy_editor(
    request: Request, policy_id: str, user: Viewer, engine: EngineDep
) -> HTMLResponse:
    return await _editor_page(request, engine, policy_id)


def _checked_source(text: str) -> str:
    if len(text.encode()) > MAX_SOURCE_BYTES:
        raise ConsoleRefusal(413, "the policy is over 256 KiB")
    control = CONTROL_CHARACTER.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise ConsoleRefusal(
            422, f"line {line} has a control character (from a copy and paste?): delete it"
        )
    return text.replace("\r\n", "\n")


@router.post("/policies/{policy_id}/check")
async def check(request: Request, policy_id: str, write: Reader, engine: EngineDep) -> Response:
    """The editor's diagnostics as you type (JSON in, JSON out; CSRF header)."""
    body = await request.json()
    source = _checked_source(str(body.get("source", "")) if isinstance(body, dict) else "")

    def compiled() -> dict[str, Any]:
        with policy_store.Session(engine) as session:
            result = policy_store.compile_draft(session, source, get_default_platforms(request))
        return {
            "ok": result.ok,
            "diagnostics": [d.model_dump() for d in result.diagnostics],
            "plan": plan_tree(result.plan if result.ok else None),
        }

    return JSONResponse(await run_in_threadpool(compiled), headers={"Cache-Control": "no-store"})


@router.post("/policies/{policy_id}/draft")
async def save_draft(
    request: Request, policy_id: str, write: Editor, engine: EngineDep
) -> Response:
    source = _checked_source(write.field("source"))
    saved = await run_in_threadpool(
        policy_store.save_draft,
        engine,
        policy_id,
        source,
        write.user.email,
        default_platforms=get_default_platforms(request),
    )
    errors = len(saved.result.errors)
    notice = "Draft saved." + (
        f" It has {errors} error(s) to fix before publishing." if errors else ""
    )
    return redirect(f"/console/policies/{policy_id}?notice={notice.replace(' ', '+')}")


@router.post("/policies/{policy_id}/publish")
async def publish(
    request: Request,
    policy_id: str,
    write: Editor,
    engine: EngineDep,
    published: PublishedDep,
) -> Response:
    message = write.field("message").strip()[:1000] or "published from the console"
    expected = write.field("expected_version") or None
    try:
        version = await publish_draft(
            engine,
            published,
            request.app.state.policy_scripts,
            policy_id,
            message=message,
            author=write.user.email,
            expected_version=expected,
            default_platforms=get_default_platforms(request),
        )
    except ScriptFailures as failed:
        return await _editor_page(
            request,
            engine,
            policy_id,
            status_code=422,
            refusal=str(failed),
            refusal_lines=failed.failures,
        )
    except StoreError as err:
        return await _editor_page(
            request,
            engine,
            policy_id,
            status_code=err.status,
            refusal=err.detail,
            refusal_lines=[f"line {d.line}: {d.message}" for d in err.diagnostics],
        )
    return redirect(f"/console/policies/{policy_id}?notice=Published+version+{version}.")


@router.post("/policies/{policy_id}/rollback")
async def rollback(
    policy_id: str, write: Editor, engine: EngineDep, published: PublishedDep
) -> Response:
    version = write.field("version")
    try:
        await run_in_threadpool(policy_store.rollback, engine, policy_id, version, write.user.email)
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    published.invalidate()
    return redirect(f"/console/policies/{policy_id}?notice=Rolled+back+to+version+{version}.")


@router.get("/policies/{policy_id}/diff")
async def diff_page(
    request: Request,
    policy_id: str,
    user: Viewer,
    engine: EngineDep,
    against: str | None = None,
) -> HTMLResponse:
    """The draft (or, with `against`, the published version) against the published one
    (or `against`): what publishing would change, line by line."""
    try:
        shown = await run_in_threadpool(
            policy_store.editable,
            engine,
            policy_id,
            default_platforms=get_default_platforms(request),
        )
        old = shown.published.source if shown.published else ""
        old_name = f"published {shown.published.version_hash}" if shown.published else "nothing"
        if against:
            old = (
                await run_in_threadpool(policy_store.get_version, engine, policy_id, against)
            ).source
            old_name = f"version {against}"
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    new, new_name = shown.source, "draft" if shown.draft else "published"
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), fromfile=old_name, tofile=new_name, lineterm=""
        )
    )
    return render(request, "diff.html", policy_id=policy_id, lines=lines)
