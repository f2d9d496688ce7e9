"""Policy API: what the library holds, exactly what each policy will run, and a checker
for a draft before it is published."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.auth import Scope
from api.deps import LibraryDep, require_api_key, require_scope
from api.problems import problem_responses
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


class PolicyDraft(BaseModel):
    source: str = Field(description="the policy's Markdown", max_length=MAX_SOURCE_BYTES)


class CheckResult(BaseModel):
    ok: bool = Field(description="no errors: the policy can run")
    errors: int
    warnings: int
    diagnostics: list[Diagnostic]
    plan: Plan | None = Field(description="the compiled plan, None when there are errors")


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
def get_policy(policy_id: str, library: LibraryDep) -> PolicyDetail:
    """The policy's source, its compiled plan and the version tickets are pinned to."""
    resolved = library.index.resolve(policy_id.lstrip("#")) or policy_id
    result = _compiled(library).get(resolved)
    if result is None or result.plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no policy {policy_id!r}")
    source = Path(result.path).read_text(encoding="utf-8") if result.path else ""
    return PolicyDetail(
        id=result.plan.id,
        title=result.plan.title,
        version=result.plan.version,
        source=source,
        plan=result.plan,
        diagnostics=result.diagnostics,
    )


@router.post(
    "/check",
    # Authoring: compiling drafts is for policy writers, not for a ticket integration.
    dependencies=[Depends(require_scope(Scope.POLICIES_WRITE))],
    responses=problem_responses(413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": PolicyDraft.model_json_schema()},
                "text/markdown": {"schema": {"type": "string"}},
            },
        }
    },
)
async def check_policy(request: Request, library: LibraryDep) -> CheckResult:
    """Compile a draft (Markdown as `text/markdown`, or JSON `{"source": …}`) against the
    library: every diagnostic with line and column, and the plan it would run."""
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
    result = compile_policy(source, library=library.index)
    return CheckResult(
        ok=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
        diagnostics=result.diagnostics,
        plan=result.plan if result.ok else None,
    )
