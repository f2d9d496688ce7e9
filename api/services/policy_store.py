"""The policy store: drafts, immutable versions, the published pointer, rollback, import
and export, over the app database (tables in activities/policy_versions.py, which the
worker reads too).

A version's hash is its compiled plan's `version` (a sha256 prefix of the source and the
catalog entries it uses), so importing the same file twice, or publishing a draft equal to
an older version, creates nothing new: the published pointer moves to the existing row.
Every write lands in `policy_audit`; its highest id is the change counter the API watches
to reload the published set (`PublishedSet`).

Errors are `StoreError`s carrying the HTTP status a caller acts on (404 unknown, 409
stale or referenced, 422 a draft with errors, with its diagnostics); the routes render them
as problem+json.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from activities.policy_versions import (
    PolicyAudit,
    PolicyDraft,
    PolicyVersion,
    StoredPolicy,
    published_rows,
)
from policies.compiler import CompileResult, PolicyIndex, compile_policy
from policies.diagnostics import Diagnostic
from policies.library import load_library
from policies.parser import split_front_matter
from policies.plan import Plan


class StoreError(Exception):
    def __init__(
        self, status: int, detail: str, diagnostics: list[Diagnostic] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.diagnostics = diagnostics or []


@dataclass
class PublishedPolicy:
    id: str
    version: str
    source: str
    plan: Plan
    draft: str | None = None
    draft_diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class DraftResult:
    policy_id: str
    created: bool
    result: CompileResult


@dataclass
class ImportResult:
    policy_id: str
    version: str
    action: str  # "published" | "unchanged"


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(
    session: Session,
    policy_id: str,
    action: str,
    author: str,
    version: str | None = None,
    message: str = "",
) -> None:
    session.add(
        PolicyAudit(
            policy_id=policy_id,
            action=action,
            version_hash=version,
            author=author,
            message=message[:1000],
        )
    )


def _live(session: Session, policy_id: str) -> StoredPolicy:
    policy = session.get(StoredPolicy, policy_id)
    if policy is None or policy.deleted_at is not None:
        raise StoreError(404, f"no policy {policy_id!r}")
    return policy


def _published_row(session: Session, policy: StoredPolicy) -> PolicyVersion | None:
    if policy.published_version_id is None:
        return None
    return session.get(PolicyVersion, policy.published_version_id)


#: What a version reference can be: a hash, or the start of one ("0000000" is well formed
#: and simply not found; a NUL, which PostgreSQL cannot even compare, is not).
_VERSION_REF = re.compile(r"[0-9A-Za-z]{1,64}")


def _version_row(session: Session, policy_id: str, version: str) -> PolicyVersion:
    if not _VERSION_REF.fullmatch(version):
        raise StoreError(404, f"policy {policy_id!r} has no version {version!r}")
    row = session.exec(
        select(PolicyVersion).where(
            PolicyVersion.policy_id == policy_id, PolicyVersion.version_hash == version
        )
    ).first()
    if row is None:
        raise StoreError(404, f"policy {policy_id!r} has no version {version!r}")
    return row


def store_index(session: Session, also: str | None = None) -> PolicyIndex:
    """Ids and titles of the published policies, for compiling `#references` (a hand-over
    to a policy that is only a draft would find nothing to load); `also` adds the draft
    being checked."""
    index = PolicyIndex()
    sources = {row.policy_id: row.source for row in published_rows(session)}
    if also is not None:
        sources["\0draft"] = also
    seen: set[str] = set()
    for source in sources.values():
        meta = split_front_matter(source)[0]
        policy_id = meta.get("id")
        if isinstance(policy_id, str) and policy_id not in seen:
            seen.add(policy_id)
            index.add(policy_id, str(meta.get("title") or ""))
    return index


def compile_draft(
    session: Session, source: str, default_platforms: Sequence[str] = ()
) -> CompileResult:
    """A draft as the store compiles it: against the published policies, by the id its
    front matter declares, a role it names no platform for on the deployment's
    `default_platforms` (TICKETFLOW_DEFAULT_PLATFORMS, passed in by the caller)."""
    return compile_policy(
        source,
        library=store_index(session, also=source),
        require_id=True,
        default_platforms=default_platforms,
    )


def referrers(session: Session, policy_id: str) -> list[str]:
    """Live policies whose published plan hands over to `policy_id`."""
    return sorted(
        row.policy_id
        for row in published_rows(session)
        if row.policy_id != policy_id and policy_id in row.plan().policies
    )


# -- reads -------------------------------------------------------------------------------


def get_policy(
    engine: Engine, policy_id: str, *, default_platforms: Sequence[str] = ()
) -> PublishedPolicy:
    with Session(engine) as session:
        policy = _live(session, policy_id)
        row = _published_row(session, policy)
        draft = session.get(PolicyDraft, policy_id)
        if row is None and draft is None:
            raise StoreError(404, f"no policy {policy_id!r}")
        draft_diagnostics: list[Diagnostic] = []
        if draft is not None:
            draft_diagnostics = compile_draft(session, draft.source, default_platforms).diagnostics
        if row is None:
            raise StoreError(404, f"policy {policy_id!r} has a draft but no published version yet")
        return PublishedPolicy(
            id=policy_id,
            version=row.version_hash,
            source=row.source,
            plan=row.plan(),
            draft=draft.source if draft else None,
            draft_diagnostics=draft_diagnostics,
        )


def list_versions(engine: Engine, policy_id: str) -> tuple[str | None, list[PolicyVersion]]:
    """(the published hash, every version newest first)."""
    with Session(engine) as session:
        policy = _live(session, policy_id)
        row = _published_row(session, policy)
        versions = session.exec(
            select(PolicyVersion)
            .where(PolicyVersion.policy_id == policy_id)
            .order_by(col(PolicyVersion.id).desc())
        ).all()
        return (row.version_hash if row else None), list(versions)


def get_version(engine: Engine, policy_id: str, version: str) -> PolicyVersion:
    with Session(engine) as session:
        _live(session, policy_id)
        return _version_row(session, policy_id, version)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "line"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def plan_changes(old: Plan, new: Plan) -> list[dict[str, Any]]:
    """What changed between two plans: front-matter fields, then steps removed or added
    (compared without their line numbers, so moving text does not count)."""
    changes: list[dict[str, Any]] = []
    header = ["title", "ticket_types", "triggers", "platforms", "roles", "variants"]
    header += ["defaults", "settings", "tools", "policies"]
    for name in header:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            before = [v.model_dump() for v in before] if name == "variants" else before
            after = [v.model_dump() for v in after] if name == "variants" else after
            changes.append({"change": "field", "field": name, "from": before, "to": after})
    old_nodes, new_nodes = old.walk(), new.walk()

    def signature(node: Any) -> str:
        return json.dumps(_strip_lines(node.model_dump(mode="json")), sort_keys=True)

    matcher = difflib.SequenceMatcher(
        a=[signature(n) for n in old_nodes], b=[signature(n) for n in new_nodes], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        touched = []
        if tag in ("replace", "delete"):
            touched += [("removed", node) for node in old_nodes[i1:i2]]
        if tag in ("replace", "insert"):
            touched += [("added", node) for node in new_nodes[j1:j2]]
        changes += [
            {
                "change": change,
                "kind": node.kind,
                "line": node.line,
                "node": node.model_dump(mode="json"),
            }
            for change, node in touched
        ]
    return changes


def diff(engine: Engine, policy_id: str, old: str, new: str) -> tuple[str, list[dict[str, Any]]]:
    """(a unified diff of the two sources, the plan's changes)."""
    with Session(engine) as session:
        _live(session, policy_id)
        a, b = _version_row(session, policy_id, old), _version_row(session, policy_id, new)
        text = "".join(
            difflib.unified_diff(
                a.source.splitlines(keepends=True),
                b.source.splitlines(keepends=True),
                fromfile=f"{policy_id}@{old}",
                tofile=f"{policy_id}@{new}",
            )
        )
        return text, plan_changes(a.plan(), b.plan())


@dataclass
class PolicyOverview:
    """One line of the console's policy list."""

    id: str
    title: str
    version: str | None
    published_at: datetime | None
    draft_errors: int | None = None  # None: no draft
    draft_warnings: int = 0
    draft_updated_at: datetime | None = None
    draft_author: str = ""


@dataclass
class EditablePolicy:
    """What the console's editor shows: the published version (if any) and the draft."""

    id: str
    published: PolicyVersion | None
    draft: PolicyDraft | None
    draft_result: CompileResult | None

    @property
    def source(self) -> str:
        """The text to edit: the draft, else the published source."""
        if self.draft is not None:
            return self.draft.source
        return self.published.source if self.published is not None else ""


def overview(engine: Engine, *, default_platforms: Sequence[str] = ()) -> list[PolicyOverview]:
    """Every live policy (published or only drafted), by id, with its draft's state."""
    with Session(engine) as session:
        policies = session.exec(
            select(StoredPolicy)
            .where(col(StoredPolicy.deleted_at).is_(None))
            .order_by(col(StoredPolicy.id))
        ).all()
        drafts = {d.policy_id: d for d in session.exec(select(PolicyDraft)).all()}
        found = []
        for policy in policies:
            row = _published_row(session, policy)
            draft = drafts.get(policy.id)
            if row is None and draft is None:
                continue
            title = row.plan().title if row is not None else ""
            line = PolicyOverview(
                id=policy.id,
                title=title,
                version=row.version_hash if row else None,
                published_at=row.created_at if row else None,
            )
            if draft is not None:
                result = compile_draft(session, draft.source, default_platforms)
                line.draft_errors, line.draft_warnings = len(result.errors), len(result.warnings)
                line.draft_updated_at, line.draft_author = draft.updated_at, draft.author
                line.title = line.title or (result.plan.title if result.plan else "")
            found.append(line)
        return found


def editable(
    engine: Engine, policy_id: str, *, default_platforms: Sequence[str] = ()
) -> EditablePolicy:
    """A live policy for the editor; 404 when there is none (neither published nor drafted)."""
    with Session(engine) as session:
        policy = _live(session, policy_id)
        row = _published_row(session, policy)
        draft = session.get(PolicyDraft, policy_id)
        if row is None and draft is None:
            raise StoreError(404, f"no policy {policy_id!r}")
        result = None
        if draft is not None:
            result = compile_draft(session, draft.source, default_platforms)
        return EditablePolicy(policy_id, row, draft, result)


# -- writes ------------------------------------------------------------------------------


def save_draft(
    engine: Engine,
    policy_id: str,
    source: str,
    author: str,
    *,
    default_platforms: Sequence[str] = (),
) -> DraftResult:
    """Save (replace) the policy's draft and compile it; creates the policy when new."""
    with Session(engine) as session:
        policy = session.get(StoredPolicy, policy_id)
        created = policy is None or policy.deleted_at is not None
        if policy is None:
            policy = StoredPolicy(id=policy_id)
        policy.deleted_at = None
        session.add(policy)
        draft = session.get(PolicyDraft, policy_id) or PolicyDraft(policy_id=policy_id, source="")
        draft.source, draft.author, draft.updated_at = source, author, _now()
        session.add(draft)
        _audit(session, policy_id, "save", author)
        result = compile_draft(session, source, default_platforms)
        session.commit()
    return DraftResult(policy_id=policy_id, created=created, result=result)


def _check_id(session: Session, policy_id: str, plan: Plan) -> None:
    """A draft must keep its policy's id: renaming one that others hand over to would
    break them (409 naming them), and any other rename is a new policy (422)."""
    if plan.id == policy_id:
        return
    callers = referrers(session, policy_id)
    if callers:
        raise StoreError(
            409,
            f"the draft renames {policy_id!r} to {plan.id!r}, but "
            f"{', '.join(callers)} hand over to it; change those first",
        )
    raise StoreError(
        422,
        f"the draft's front matter says id {plan.id!r} but this is policy {policy_id!r}; "
        f"to rename, PUT the source as /policies/{plan.id} and delete this one",
    )


def _add_version(
    session: Session, policy_id: str, source: str, plan: Plan, author: str, message: str
) -> PolicyVersion:
    plan = plan.model_copy(update={"source_path": None})
    row = session.exec(
        select(PolicyVersion).where(
            PolicyVersion.policy_id == policy_id, PolicyVersion.version_hash == plan.version
        )
    ).first()
    if row is None:
        row = PolicyVersion(
            policy_id=policy_id,
            version_hash=plan.version,
            source=source,
            plan_json=plan.to_json(),
            author=author,
            message=message[:1000],
        )
        session.add(row)
        session.flush()
    return row


def _locked(session: Session, policy_id: str) -> StoredPolicy:
    policy = session.exec(
        select(StoredPolicy).where(StoredPolicy.id == policy_id).with_for_update()
    ).first()
    if policy is None or policy.deleted_at is not None:
        raise StoreError(404, f"no policy {policy_id!r}")
    return policy


def _ready(
    session: Session,
    policy_id: str,
    expected_version: str | None,
    default_platforms: Sequence[str] = (),
) -> tuple[StoredPolicy, PolicyDraft, Plan]:
    """What publishing checks first: 409 when `expected_version` is not the published one
    (someone published in between) or there is no draft, 422 with the diagnostics when the
    draft has errors, 409/422 when it renames the policy."""
    policy = _locked(session, policy_id)
    current = _published_row(session, policy)
    current_hash = current.version_hash if current else None
    if expected_version is not None and expected_version != current_hash:
        raise StoreError(
            409,
            f"policy {policy_id!r} is at version {current_hash!r}, not the expected "
            f"{expected_version!r}: someone published in between; review and retry",
        )
    draft = session.get(PolicyDraft, policy_id)
    if draft is None:
        raise StoreError(409, f"policy {policy_id!r} has no draft to publish")
    result = compile_draft(session, draft.source, default_platforms)
    if not result.ok or result.plan is None:
        errors = result.errors
        raise StoreError(
            422,
            f"the draft of {policy_id!r} has {len(errors)} error(s); nothing was published",
            errors,
        )
    _check_id(session, policy_id, result.plan)
    return policy, draft, result.plan


def store_draft(
    engine: Engine, policy_id: str, author: str, *, default_platforms: Sequence[str] = ()
) -> str:
    """The draft stored as a version, not published (a test chat runs it by its hash);
    422 with the diagnostics when it has errors. Storing the same source again is a no-op."""
    with Session(engine) as session:
        _locked(session, policy_id)
        draft = session.get(PolicyDraft, policy_id)
        if draft is None:
            raise StoreError(409, f"policy {policy_id!r} has no draft")
        result = compile_draft(session, draft.source, default_platforms)
        if not result.ok or result.plan is None:
            errors = result.errors
            raise StoreError(422, f"the draft has {len(errors)} error(s) to fix first", errors)
        _check_id(session, policy_id, result.plan)
        row = _add_version(session, policy_id, draft.source, result.plan, author, "test chat")
        session.commit()
        return row.version_hash


def draft_plan(
    engine: Engine,
    policy_id: str,
    expected_version: str | None = None,
    *,
    default_platforms: Sequence[str] = (),
) -> Plan:
    """The plan the draft would publish, after the same checks as `publish` (for running
    its conversation scripts first); changes nothing."""
    with Session(engine) as session:
        return _ready(session, policy_id, expected_version, default_platforms)[2]


def _was_live(session: Session, policy_id: str, version: str) -> bool:
    """Whether this version was ever the published one (published, imported, rolled back
    to), by the audit trail."""
    seen = session.exec(
        select(PolicyAudit.id).where(
            PolicyAudit.policy_id == policy_id,
            PolicyAudit.version_hash == version,
            col(PolicyAudit.action).in_(("publish", "import", "rollback")),
        )
    ).first()
    return seen is not None


def publish(
    engine: Engine,
    policy_id: str,
    *,
    message: str,
    author: str,
    expected_version: str | None = None,
    tested_version: str | None = None,
    default_platforms: Sequence[str] = (),
) -> str:
    """Publish the draft (the refusals of `_ready`; nothing changes on one);
    `tested_version`: 409 unless the draft still compiles to the plan whose scripts ran.
    Returns the published version hash."""
    with Session(engine) as session:
        policy, draft, plan = _ready(session, policy_id, expected_version, default_platforms)
        if tested_version is not None and plan.version != tested_version:
            raise StoreError(
                409,
                f"the draft of {policy_id!r} changed while its conversation scripts ran; "
                "publish again",
            )
        row = _add_version(session, policy_id, draft.source, plan, author, message)
        if not _was_live(session, policy_id, row.version_hash):
            # Stored before for a test chat or an experiment: what changed goes in its
            # history line now (a version published before keeps its first message).
            row.message = message[:1000]
            session.add(row)
        policy.published_version_id = row.id
        session.add(policy)
        session.delete(draft)
        _audit(session, policy_id, "publish", author, row.version_hash, message)
        session.commit()
        return row.version_hash


def rollback(engine: Engine, policy_id: str, version: str, author: str) -> str:
    with Session(engine) as session:
        policy = _locked(session, policy_id)
        row = _version_row(session, policy_id, version)
        policy.published_version_id = row.id
        session.add(policy)
        _audit(session, policy_id, "rollback", author, version)
        session.commit()
        return row.version_hash


def delete(engine: Engine, policy_id: str, author: str) -> None:
    """409 naming the policies that hand over to it; else it is gone from routing and
    reads (its versions stay: running tickets know them)."""
    with Session(engine) as session:
        policy = _locked(session, policy_id)
        callers = referrers(session, policy_id)
        if callers:
            raise StoreError(
                409,
                f"{', '.join(callers)} hand over to {policy_id!r}; change them before deleting it",
            )
        policy.deleted_at = _now()
        policy.published_version_id = None
        session.add(policy)
        draft = session.get(PolicyDraft, policy_id)
        if draft is not None:
            session.delete(draft)
        _audit(session, policy_id, "delete", author)
        session.commit()


def import_directory(
    engine: Engine,
    directory: Path | str | None = None,
    *,
    author: str = "import",
    default_platforms: Sequence[str] = (),
) -> tuple[list[ImportResult], list[CompileResult]]:
    """Publish every policy file of `directory` (default: the bundled library) whose
    version the store does not already publish; idempotent by version hash. Returns (what
    happened per policy, the files that did not compile, or that do not declare their
    `id`: the store knows a policy by the id its source declares)."""
    library = load_library(directory, default_platforms=default_platforms)
    done: list[ImportResult] = []
    refused: list[CompileResult] = []
    with Session(engine) as session:
        for result in library.results:
            plan = result.plan
            if plan is None or not result.ok or not result.path:
                continue
            source = Path(result.path).read_text(encoding="utf-8")
            if split_front_matter(source)[0].get("id") != plan.id:
                # named after its file: the store would not know it by that id
                refused.append(
                    compile_policy(
                        source,
                        path=result.path,
                        library=library.index,
                        require_id=True,
                        default_platforms=default_platforms,
                    )
                )
                continue
            policy = session.get(StoredPolicy, plan.id) or StoredPolicy(id=plan.id)
            current = _published_row(session, policy) if policy.deleted_at is None else None
            if current is not None and current.version_hash == plan.version:
                done.append(ImportResult(plan.id, plan.version, "unchanged"))
                continue
            policy.deleted_at = None
            session.add(policy)
            message = f"imported from {Path(result.path).name}"
            row = _add_version(session, plan.id, source, plan, author, message)
            policy.published_version_id = row.id
            _audit(session, plan.id, "import", author, row.version_hash, message)
            done.append(ImportResult(plan.id, plan.version, "published"))
        session.commit()
    return done, [r for r in library.results if not r.ok] + refused


def import_on_first_start(
    engine: Engine, *, default_platforms: Sequence[str] = ()
) -> list[ImportResult]:
    """The bundled library, once: only while the store holds no policy at all (after
    that the store is the truth, and `ticketflow policy import` brings files in)."""
    with Session(engine) as session:
        if session.exec(select(StoredPolicy)).first() is not None:
            return []
    try:
        return import_directory(engine, author="first start", default_platforms=default_platforms)[
            0
        ]
    except IntegrityError:  # another process imported at the same moment
        return []


def export_directory(engine: Engine, directory: Path | str) -> list[Path]:
    """Write each live policy's published source to `DIR/{id}.md`."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    with Session(engine) as session:
        for row in published_rows(session):
            path = root / f"{row.policy_id}.md"
            path.write_text(row.source, encoding="utf-8")
            written.append(path)
    return written
