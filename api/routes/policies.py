"""Policy API: what the library holds, exactly what each policy will run, and a checker
for a draft before it is published."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.auth import Scope
from api.deps import (
    DefaultPlatformsDep,
    EngineDep,
    LibraryDep,
    require_api_key,
    require_scope,
)
from api.problems import ProblemError, problem_responses
from api.services import policy_store
from api.services.policy_store import StoreError
from policies.compiler import CompileResult, compile_policy
from policies.diagnostics import Diagnostic
from policies.plan import Plan

router = APIRouter(
    prefix="/policies",
    tags=["policies"],
    dependencies=[Depends(require_api_key)],
    responses=problem_responses(401),
)

MAX_SOURCE_BYTES = 256 * 1024


class PolicySummary(BaseModel):
    id: str
    title: str
    version: str
    ticket_types: list[str]
    triggers: list[str]
    platforms: list[str]
    warnings: int


class PolicyDetail(BaseModel):
    id: str
    title: str
    version: str
    source: str = Field(description="the Markdown as written")
    plan: Plan = Field(description="the compiled plan a ticket runs")
    diagnostics: list[Diagnostic]
    draft: str | None = Field(default=None, description="the unpublished draft, if any")
    draft_diagnostics: list[Diagnostic] | None = Field(
        default=None, description="the draft's diagnostics (None: no draft)"
    )


class PolicyDraft(BaseModel):
    source: str = Field(description="the policy's Markdown", max_length=MAX_SOURCE_BYTES)


class CheckResult(BaseModel):
    ok: bool = Field(description="no errors: the policy can run")
    errors: int
    warnings: int
    diagnostics: list[Diagnostic]
    plan: Plan | None = Field(description="the compiled plan, None when there are errors")


#: Characters no policy text has (tabs, line breaks and form feeds aside); PostgreSQL cannot
#: even store a NUL.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


#: The documented body of every endpoint that takes a policy's source (`read_source`).
POLICY_SOURCE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PolicyDraft.model_json_schema()},
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}


async def read_source(request: Request) -> str:
    """A policy body: `text/markdown` (UTF-8) or JSON `{"source": …}`; 413 past 256 KiB."""
    raw = await request.body()
    if len(raw) > MAX_SOURCE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "policy source is over 256 KiB")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type.startswith("text/"):
            source = raw.decode("utf-8")
        else:
            source = PolicyDraft.model_validate_json(raw).source
    except ValueError as err:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            'send the policy as text/markdown (UTF-8) or as JSON {"source": "…"}: '
            + str(err).splitlines()[0],
        ) from None
    control = CONTROL_CHARACTER.search(source)
    if control is not None:
        line = source.count("\n", 0, control.start()) + 1
        column = control.start() - (source.rfind("\n", 0, control.start()) + 1) + 1
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the policy has a control character (U+{ord(control.group()):04X}) at line {line}, "
            f"column {column}, most likely from a copy and paste: delete it and send it again",
        )
    return source


def store_problem(err: StoreError) -> HTTPException:
    """A store refusal as problem+json; a draft's diagnostics go in `errors`."""
    if err.diagnostics:
        errors = [
            {
                "code": d.code,
                "line": d.line,
                "column": d.column,
                "message": d.message,
                "severity": d.severity,
                "fix": d.fix,
            }
            for d in err.diagnostics
        ]
        return ProblemError(err.status, err.detail, errors)
    return HTTPException(err.status, err.detail)


def _compiled(library: LibraryDep) -> dict[str, CompileResult]:
    return {r.plan.id: r for r in library.results if r.plan is not None and r.ok}


@router.get("")
def list_policies(library: LibraryDep) -> list[PolicySummary]:
    """Every policy in the library that compiles (those are the ones tickets can run)."""
    return [
        PolicySummary(
            id=plan.id,
            title=plan.title,
            version=plan.version,
            ticket_types=plan.ticket_types,
            triggers=plan.triggers,
            platforms=plan.platforms,
            warnings=len(result.warnings),
        )
        for result in sorted(_compiled(library).values(), key=lambda r: r.plan.id if r.plan else "")
        if (plan := result.plan) is not None
    ]


@router.get("/{policy_id}", responses=problem_responses(404))
def get_policy(
    policy_id: str,
    library: LibraryDep,
    engine: EngineDep,
    default_platforms: DefaultPlatformsDep,
) -> PolicyDetail:
    """The published version (the one new tickets take), its source and compiled plan,
    and the draft when there is one, with its diagnostics."""
    resolved = library.index.resolve(policy_id.lstrip("#")) or policy_id.lstrip("#")
    try:
        shown = policy_store.get_policy(engine, resolved, default_platforms=default_platforms)
    except StoreError as err:
        raise store_problem(err) from None
    return PolicyDetail(
        id=shown.id,
        title=shown.plan.title,
        version=shown.version,
        source=shown.source,
        plan=shown.plan,
        # as it was published: on the platforms its plan keeps, whatever the setting now
        diagnostics=compile_policy(
            shown.source, library=library.index, default_platforms=shown.plan.platforms
        ).diagnostics,
        draft=shown.draft,
        draft_diagnostics=shown.draft_diagnostics if shown.draft is not None else None,
    )


@router.post(
    "/check",
    # Authoring: compiling drafts is for policy writers, not for a ticket integration.
    dependencies=[Depends(require_scope(Scope.POLICIES_WRITE))],
    responses=problem_responses(413, 422),
    openapi_extra=POLICY_SOURCE_BODY,
)
async def check_policy(
    request: Request, library: LibraryDep, default_platforms: DefaultPlatformsDep
) -> CheckResult:
    """Compile a draft (Markdown as `text/markdown`, or JSON `{"source": …}`) against the
    library: every diagnostic with line and column, and the plan it would run."""
    source = await read_source(request)
    result = compile_policy(
        source, library=library.index, require_id=True, default_platforms=default_platforms
    )
    return CheckResult(
        ok=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
        diagnostics=result.diagnostics,
        plan=result.plan if result.ok else None,
    )
