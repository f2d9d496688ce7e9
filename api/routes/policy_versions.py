"""Authoring policies in the policy store: save a draft, publish it, see versions and
their differences, roll back, delete. Reads take any key; writes `policies:write`.

Every refusal is problem+json with a sentence saying why, and changes nothing: a draft
with errors (422, its diagnostics in `errors`), a stale `expected_version` (409), an
unknown version (404), deleting or renaming a policy others hand over to (409 naming them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import KeyInfo, Scope
from api.deps import (
    DefaultPlatformsDep,
    EngineDep,
    PublishedDep,
    require_api_key,
    require_scope,
)
from api.problems import ProblemError, problem_responses
from api.routes.policies import POLICY_SOURCE_BODY, read_source, store_problem
from api.services import policy_store
from api.services.policy_publishing import PolicyScripts as PolicyScripts
from api.services.policy_publishing import ScriptFailures, publish_draft
from api.services.policy_store import StoreError
from policies.diagnostics import Diagnostic
from policies.plan import Plan

router = APIRouter(
    prefix="/policies",
    tags=["policies"],
    dependencies=[Depends(require_api_key)],
    responses=problem_responses(401),
)

Writer = Annotated[KeyInfo, Depends(require_scope(Scope.POLICIES_WRITE))]


class DraftSaved(BaseModel):
    policy_id: str
    created: bool = Field(description="the policy was new")
    ok: bool = Field(description="no errors: the draft can be published")
    errors: int
    warnings: int
    diagnostics: list[Diagnostic]


class PublishRequest(BaseModel):
    message: str = Field(max_length=1000)
    expected_version: str | None = Field(
        default=None, description="refuse (409) unless this is the published version now"
    )


class RollbackRequest(BaseModel):
    version: str


class Published(BaseModel):
    version: str


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class VersionSummary(BaseModel):
    version: str
    author: str
    message: str
    created_at: datetime
    published: bool


class VersionList(BaseModel):
    policy_id: str
    published: str | None
    versions: list[VersionSummary] = Field(description="newest first")


class VersionDetail(BaseModel):
    policy_id: str
    version: str
    author: str
    message: str
    created_at: datetime
    source: str
    plan: Plan


class PolicyDiff(BaseModel):
    policy_id: str
    from_version: str = Field(alias="from")
    to_version: str = Field(alias="to")
    diff: str = Field(description="unified diff of the sources")
    plan_changes: list[dict[str, Any]] = Field(
        description="front-matter fields changed, then steps removed or added"
    )


def _valid_id(policy_id: str) -> str:
    if (
        not policy_id
        or len(policy_id) > 100
        or not all(c.isalnum() or c in "_-" for c in policy_id)
    ):
        raise StoreError(422, "a policy id is 1–100 letters, digits, `_` or `-`")
    return policy_id


@router.put(
    "/{policy_id}",
    responses=problem_responses(400, 413, 422),
    openapi_extra=POLICY_SOURCE_BODY,
)
async def save_draft(
    policy_id: str,
    request: Request,
    key: Writer,
    engine: EngineDep,
    default_platforms: DefaultPlatformsDep,
) -> DraftSaved:
    """Save the policy's draft (`text/markdown`, or JSON `{"source"}`) and return its
    diagnostics; creates the policy when new. Tickets keep the published version."""
    source = await read_source(request)
    try:
        saved = await run_in_threadpool(
            policy_store.save_draft,
            engine,
            _valid_id(policy_id),
            source,
            key.name,
            default_platforms=default_platforms,
        )
    except StoreError as err:
        raise store_problem(err) from None
    result = saved.result
    return DraftSaved(
        policy_id=policy_id,
        created=saved.created,
        ok=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
        diagnostics=result.diagnostics,
    )


@router.post("/{policy_id}/publish", responses=problem_responses(400, 404, 409, 422))
async def publish(
    policy_id: str,
    body: PublishRequest,
    request: Request,
    key: Writer,
    engine: EngineDep,
    published: PublishedDep,
    default_platforms: DefaultPlatformsDep,
) -> Published:
    """Publish the draft: the next ticket takes it. 422 with the diagnostics when it has
    errors, or with the failures when the policy's conversation scripts fail against it;
    409 when `expected_version` is stale. Running tickets stay on their version."""
    try:
        version = await publish_draft(
            engine,
            published,
            request.app.state.policy_scripts,
            policy_id,
            message=body.message,
            author=key.name,
            expected_version=body.expected_version,
            default_platforms=default_platforms,
        )
    except ScriptFailures as failed:
        raise ProblemError(
            422, str(failed), [{"code": "script", "message": line} for line in failed.failures]
        ) from None
    except StoreError as err:
        raise store_problem(err) from None
    return Published(version=version)


@router.post("/{policy_id}/rollback", responses=problem_responses(400, 404, 422))
def rollback(
    policy_id: str,
    body: RollbackRequest,
    key: Writer,
    engine: EngineDep,
    published: PublishedDep,
) -> Published:
    """Publish an earlier version again (new tickets take it; no new version is made)."""
    try:
        version = policy_store.rollback(engine, policy_id, body.version, key.name)
    except StoreError as err:
        raise store_problem(err) from None
    published.invalidate()
    return Published(version=version)


@router.delete(
    "/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 409),
)
def delete_policy(
    policy_id: str, key: Writer, engine: EngineDep, published: PublishedDep
) -> Response:
    """Stop routing to the policy (its versions stay for running tickets); 409 naming the
    policies that hand over to it."""
    try:
        policy_store.delete(engine, policy_id, key.name)
    except StoreError as err:
        raise store_problem(err) from None
    published.invalidate()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{policy_id}/versions", responses=problem_responses(404))
def list_versions(policy_id: str, engine: EngineDep) -> VersionList:
    try:
        current, rows = policy_store.list_versions(engine, policy_id)
    except StoreError as err:
        raise store_problem(err) from None
    return VersionList(
        policy_id=policy_id,
        published=current,
        versions=[
            VersionSummary(
                version=row.version_hash,
                author=row.author,
                message=row.message,
                created_at=_aware(row.created_at),
                published=row.version_hash == current,
            )
            for row in rows
        ],
    )


@router.get("/{policy_id}/versions/{version}", responses=problem_responses(404))
def get_version(policy_id: str, version: str, engine: EngineDep) -> VersionDetail:
    try:
        row = policy_store.get_version(engine, policy_id, version)
    except StoreError as err:
        raise store_problem(err) from None
    return VersionDetail(
        policy_id=policy_id,
        version=row.version_hash,
        author=row.author,
        message=row.message,
        created_at=_aware(row.created_at),
        source=row.source,
        plan=row.plan(),
    )


@router.get("/{policy_id}/diff", responses=problem_responses(404, 422))
def diff(
    policy_id: str,
    engine: EngineDep,
    from_version: Annotated[str, Query(alias="from")],
    to_version: Annotated[str, Query(alias="to")],
) -> PolicyDiff:
    """A unified diff of two versions' sources, and what changed in their plans."""
    try:
        text, changes = policy_store.diff(engine, policy_id, from_version, to_version)
    except StoreError as err:
        raise store_problem(err) from None
    return PolicyDiff.model_validate(
        {
            "policy_id": policy_id,
            "from": from_version,
            "to": to_version,
            "diff": text,
            "plan_changes": changes,
        }
    )
