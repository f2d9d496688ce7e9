"""`read_message` answers what the activities it stands for answer one by one
(`understand_reply`, `customer_key`, `route_ticket`, `enter_policy` / `load_policy`), on a
real policy store with a running experiment: the same reading, route and plan, the same
variant for the same CustomerKey, no experiment for a test chat; the start's policy
entered without routing, and routed instead when the store lacks it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from activities.customer_key import CustomerKeys
from activities.message_reading import MessageReading, ReadMessageRequest
from activities.policy_store import (
    EnterPolicyRequest,
    LoadPolicyRequest,
    PolicyActivities,
    RouteRequest,
)
from activities.policy_versions import PolicyVersions
from activities.understanding import UnderstandingActivities, UnderstandRequest
from api.db import open_database
from api.services import experiments, policy_store
from api.services.experiments import ExperimentCreate, VariantSpec
from tests.experiments.test_experiment_simulation import keep_plan

KEYS = CustomerKeys(b"a test secret")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An app database of this module's own: the session's is the API tests', whose
    published set a policy and experiment of ours would change."""
    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('reading') / 'app.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def policy(store: Engine) -> tuple[str, str]:
    """A published policy with an experiment running on it: (policy id, published hash)."""
    policy_id = f"keep_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(store, policy_id, keep_plan(policy_id, 10), "tests")
    control = policy_store.publish(store, policy_id, message="v1", author="tests")
    experiments.create(
        store,
        ExperimentCreate(
            id=f"reading-{policy_id}",
            policy=policy_id,
            variants=[
                VariantSpec(name="ten", version=control),
                VariantSpec(name="twenty_five", source=keep_plan(policy_id, 25)),
            ],
            metric="retention",
            minimum_detectable_effect=0.15,
        ),
        "tests",
    )
    return policy_id, control


@pytest.fixture
def policies(store: Engine) -> PolicyActivities:
    return PolicyActivities(versions=PolicyVersions(store), semantic=False)


def _reading(policies: PolicyActivities) -> MessageReading:
    return MessageReading(UnderstandingActivities(), policies, KEYS)


async def test_a_routed_message_gets_what_the_separate_activities_give(
    policy: tuple[str, str], policies: PolicyActivities
) -> None:
    policy_id, _ = policy
    understand = UnderstandRequest(text="I'd like to cancel my plan, alex@example.com")
    route = RouteRequest(text=understand.text, helpdesk="web", ticket_type=f"{policy_id} request")
    read = await _reading(policies).read_message(
        ReadMessageRequest(
            understand=understand, email="Alex@Example.com ", route=route, unit="ticket-web-1"
        )
    )
    assert read.reply == await UnderstandingActivities().understand_reply(understand)
    assert read.customer_key == await KEYS.customer_key("alex@example.com")
    assert read.route == await policies.route_ticket(route)
    assert read.route is not None and read.route.policy_id == policy_id
    # The experiment assigns by the key made here, as `enter_policy` does with that key.
    alone = await policies.enter_policy(
        EnterPolicyRequest(policy_id=policy_id, unit=read.customer_key)
    )
    assert read.entered == alone
    assert read.entered is not None and read.entered.assignment.variant in ("ten", "twenty_five")


async def test_the_same_customer_gets_the_same_variant_and_a_test_chat_none(
    policy: tuple[str, str], policies: PolicyActivities
) -> None:
    policy_id, control = policy
    route = RouteRequest(text="cancel", helpdesk="web", ticket_type=f"{policy_id} request")
    reading = _reading(policies)
    variants = set()
    for ticket in ("ticket-web-1", "ticket-web-2"):  # two tickets of one customer
        read = await reading.read_message(
            ReadMessageRequest(
                understand=UnderstandRequest(text="cancel"),
                email="bo@example.com",
                route=route,
                unit=ticket,  # replaced by the key made from the email
            )
        )
        assert read.entered is not None
        variants.add(read.entered.assignment.variant)
    assert len(variants) == 1 and None not in variants
    trial = await reading.read_message(
        ReadMessageRequest(
            understand=UnderstandRequest(text="cancel"),
            named=LoadPolicyRequest(policy_id=policy_id, version=control),
            route=route,
            unit=None,
        )
    )
    assert trial.named and trial.entered is not None
    assert trial.entered.assignment.experiment_id is None
    assert trial.entered.plan.version == control


async def test_the_starts_policy_is_entered_or_else_the_message_routed(
    policy: tuple[str, str], policies: PolicyActivities
) -> None:
    policy_id, _ = policy
    reading = _reading(policies)
    route = RouteRequest(text="cancel", helpdesk="web", ticket_type=f"{policy_id} request")
    named = await reading.read_message(
        ReadMessageRequest(
            understand=UnderstandRequest(text="cancel"),
            named=LoadPolicyRequest(policy_id=policy_id),
            route=route,
        )
    )
    assert named.route is not None and (named.route.how, named.named) == ("policy_id", True)
    retired = await reading.read_message(
        ReadMessageRequest(
            understand=UnderstandRequest(text="cancel"),
            named=LoadPolicyRequest(policy_id="retired_policy"),
            route=route,
        )
    )
    assert retired.route is not None and retired.route.how == "ticket_type"
    assert not retired.named and retired.entered is not None
    assert retired.entered.plan.id == policy_id
    # A plan the ticket already holds is not loaded again; no routing, no plan.
    cancel = UnderstandRequest(text="cancel")
    pinned = await reading.read_message(
        ReadMessageRequest(understand=cancel, route=route, pinned=[policy_id])
    )
    assert pinned.route is not None and pinned.entered is None
    plain = await reading.read_message(ReadMessageRequest(understand=UnderstandRequest(text="2")))
    assert (plain.route, plain.entered, plain.customer_key) == (None, None, None)
