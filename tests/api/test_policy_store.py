"""The policy store over the app database (SQLite and PostgreSQL): drafts, publish with its
refusals, versions, rollback, references, import."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, func, select
from temporalio.exceptions import ApplicationError

from activities.policy_store import LoadPolicyRequest, PolicyActivities, RouteRequest
from activities.policy_versions import PolicyVersion, PolicyVersions
from api.services import policy_store as store
from api.services.policy_store import StoreError
from policies.library import DEFAULT_LIBRARY_DIR


def source(policy_id: str, body: str = "Tell the customer: Thanks for writing.") -> str:
    return (
        f"---\nid: {policy_id}\ntitle: {policy_id.replace('_', ' ').title()}\n"
        f"ticket_types: [{policy_id} request]\n---\n## Steps\n\n1. {body}\n"
    )


CREATED: list[str] = []


def fresh_id() -> str:
    policy_id = f"p_{uuid.uuid4().hex[:8]}"
    CREATED.append(policy_id)
    return policy_id


@pytest.fixture(autouse=True)
def _forget_test_policies(app_engine: Engine) -> Iterator[None]:
    """Delete what a test created (callers first), so the shared database lists only the
    library's policies to the other tests."""
    yield
    while CREATED:
        try:
            store.delete(app_engine, CREATED.pop(), "tests")
        except StoreError:
            pass


def publish(engine: Engine, policy_id: str, text: str, **kw: str) -> str:
    draft = store.save_draft(engine, policy_id, text, "tests")
    assert draft.result.ok, draft.result.diagnostics
    return store.publish(engine, policy_id, message="v", author="tests", **kw)


def test_draft_publish_versions_and_rollback(app_engine: Engine) -> None:
    pid = fresh_id()
    v1 = publish(app_engine, pid, source(pid))
    assert store.get_policy(app_engine, pid).version == v1
    v2 = publish(app_engine, pid, source(pid, "Tell the customer: Hello again."))
    assert v2 != v1
    published, versions = store.list_versions(app_engine, pid)
    assert published == v2 and [v.version_hash for v in versions] == [v2, v1]
    text, changes = store.diff(app_engine, pid, v1, v2)
    assert "-1. Tell the customer: Thanks" in text and "+1. Tell the customer: Hello" in text
    assert {c["change"] for c in changes} == {"removed", "added"}
    assert store.rollback(app_engine, pid, v1, "tests") == v1
    assert store.get_policy(app_engine, pid).version == v1
    # The worker's read-only view: by hash (cached), and what is published now.
    worker = PolicyVersions(app_engine)
    plan = worker.plan(pid, v2)
    assert plan is not None and plan.version == v2
    published_plan = worker.published(pid)
    assert published_plan is not None and published_plan.version == v1


def test_a_version_tried_before_publishing_takes_the_publish_message(app_engine: Engine) -> None:
    """A test chat stores the draft as a version first; publishing that draft then writes
    what changed into the history, where a version published before keeps its own."""
    pid = fresh_id()
    store.save_draft(app_engine, pid, source(pid), "tests")
    tried = store.store_draft(app_engine, pid, "editor@example.com")
    published = store.publish(app_engine, pid, message="Greet the customer", author="tests")
    assert published == tried
    _, versions = store.list_versions(app_engine, pid)
    assert [(v.version_hash, v.message) for v in versions] == [(tried, "Greet the customer")]

    publish(app_engine, pid, source(pid, "Tell the customer: Hello again."))
    store.save_draft(app_engine, pid, source(pid), "tests")
    assert store.publish(app_engine, pid, message="Back to the greeting", author="tests") == tried
    _, versions = store.list_versions(app_engine, pid)
    assert {v.version_hash: v.message for v in versions}[tried] == "Greet the customer"


def test_broken_draft_is_refused_and_published_unchanged(app_engine: Engine) -> None:
    pid = fresh_id()
    v1 = publish(app_engine, pid, source(pid))
    broken = source(pid).replace(
        "---\n## Steps", "---\n## Steps\n\n1. Hand over to #no_such_policy"
    )
    draft = store.save_draft(app_engine, pid, broken, "tests")
    assert not draft.result.ok
    with pytest.raises(StoreError) as err:
        store.publish(app_engine, pid, message="broken", author="tests")
    assert err.value.status == 422 and err.value.diagnostics
    assert all(d.line >= 1 and d.code for d in err.value.diagnostics)
    shown = store.get_policy(app_engine, pid)
    assert shown.version == v1 and shown.draft == broken


def test_stale_expected_version_is_a_conflict(app_engine: Engine) -> None:
    pid = fresh_id()
    v1 = publish(app_engine, pid, source(pid))
    v2 = publish(app_engine, pid, source(pid, "Tell the customer: Two."), expected_version=v1)
    store.save_draft(app_engine, pid, source(pid, "Tell the customer: Three."), "tests")
    with pytest.raises(StoreError) as err:
        store.publish(app_engine, pid, message="late", author="tests", expected_version=v1)
    assert err.value.status == 409 and v1 in err.value.detail
    assert store.get_policy(app_engine, pid).version == v2


def test_unknown_versions_and_policies_are_not_found(app_engine: Engine) -> None:
    pid = fresh_id()
    v1 = publish(app_engine, pid, source(pid))
    for call in (
        lambda: store.get_version(app_engine, pid, "0000000000"),
        lambda: store.rollback(app_engine, pid, "0000000000", "tests"),
        lambda: store.diff(app_engine, pid, v1, "0000000000"),
        lambda: store.get_policy(app_engine, fresh_id()),
    ):
        with pytest.raises(StoreError) as err:
            call()
        assert err.value.status == 404
    assert store.get_policy(app_engine, pid).version == v1


def test_a_policy_others_hand_over_to_cannot_be_deleted_or_renamed(app_engine: Engine) -> None:
    target, caller = fresh_id(), fresh_id()
    publish(app_engine, target, source(target))
    publish(app_engine, caller, source(caller, f"Hand over to #{target}"))
    with pytest.raises(StoreError) as err:
        store.delete(app_engine, target, "tests")
    assert err.value.status == 409 and caller in err.value.detail
    renamed = source(target).replace(f"id: {target}", f"id: {target}_new")
    store.save_draft(app_engine, target, renamed, "tests")
    with pytest.raises(StoreError) as err:
        store.publish(app_engine, target, message="rename", author="tests")
    assert err.value.status == 409 and caller in err.value.detail
    assert store.get_policy(app_engine, target).id == target
    # Once nobody hands over to it, it can go.
    store.delete(app_engine, caller, "tests")
    store.delete(app_engine, target, "tests")
    with pytest.raises(StoreError):
        store.get_policy(app_engine, target)


def test_import_is_idempotent_by_hash(
    app_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store.import_directory(app_engine, DEFAULT_LIBRARY_DIR)

    def count() -> int:
        with Session(app_engine) as session:
            return session.exec(select(func.count(col(PolicyVersion.id)))).one()

    before = count()
    done, failed = store.import_directory(app_engine, DEFAULT_LIBRARY_DIR)
    assert not failed and done and {d.action for d in done} == {"unchanged"}
    assert count() == before
    out = tmp_path_factory.mktemp("export")
    written = store.export_directory(app_engine, out)
    assert {p.name for p in written} >= {"refund.md", "skip_next_shipment.md"}
    assert (out / "refund.md").read_text() == (DEFAULT_LIBRARY_DIR / "refund.md").read_text()


async def test_the_worker_loads_by_hash_or_as_published_and_routes_with_the_store(
    app_engine: Engine,
) -> None:
    pid = fresh_id()
    v1 = publish(app_engine, pid, source(pid))
    v2 = publish(app_engine, pid, source(pid, "Tell the customer: Two."))
    worker = PolicyActivities(versions=PolicyVersions(app_engine))
    pinned = await worker.load_policy(LoadPolicyRequest(policy_id=pid, version=v1))
    assert pinned.version == v1
    # No version (a hand-over): the one published at first use.
    assert (await worker.load_policy(LoadPolicyRequest(policy_id=pid))).version == v2
    # A policy only the store knows routes like the API would route it.
    routed = await worker.route_ticket(
        RouteRequest(text="hi", helpdesk="web", ticket_type=f"{pid} request")
    )
    assert routed.policy_id == pid
    # Without a store the worker keeps the bundled library (tests, conversation scripts).
    with pytest.raises(ApplicationError):
        await PolicyActivities().load_policy(LoadPolicyRequest(policy_id=pid))


async def test_the_worker_builds_its_router_once_per_published_set(app_engine: Engine) -> None:
    pid = fresh_id()
    publish(app_engine, pid, source(pid))
    versions = PolicyVersions(app_engine)
    worker = PolicyActivities(versions=versions)
    request = RouteRequest(text="I want to cancel my order", helpdesk="web")
    first = await worker.route_ticket(request)
    published = versions.published_set.current()
    assert published is not None
    router = worker.for_published(published).router
    # The next ticket routes with the same router (its phrases embedded once)...
    assert await worker.route_ticket(request) == first
    assert worker.for_published(published).router is router
    # ...until a publish makes a new set.
    publish(app_engine, pid, source(pid, "Tell the customer: Two."))
    versions.published_set.invalidate()
    await worker.route_ticket(request)
    republished = versions.published_set.current()
    assert republished is not None and republished is not published
    assert worker.for_published(republished).router is not router


def test_the_migrations_match_the_table_models(app_engine: Engine) -> None:
    with app_engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []
