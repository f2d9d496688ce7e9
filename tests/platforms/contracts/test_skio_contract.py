"""Skio's contract (GraphQL at ``graphql.skio.com/v1/graphql``), per operation the connector uses.

Source of truth: Skio's API reference (code.skio.com; a generated page with no version
number, read from a copy of it in a public repository, which documents queries
``SubscriptionByPk``, ``Subscriptions``, ``StorefrontUsers``, ``Orders`` with their types, and
the mutations ``cancelSubscription`` and ``swapSubscriptionProductVariants`` with their input
and output types). ``skipSubscription`` and ``reactivateSubscription`` are not on that page:
their input and output are taken from public integrations that call them (⚠, see the
connector's docstring).

Skio publishes no schema file, so the part of its schema the connector touches is written
below in our own words as SDL, from the reference: types, fields, nullability, argument and
input types. Every document the connector sent (the sandbox's request log) is validated
against it with graphql-core and its variables coerced; every answer the emulator gave is
checked against the selected fields' types. Hasura names input types in UpperCamelCase
after the action (``CancelSubscriptionInput``), ids are ``uuid``, money is ``numeric``.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema

from activities.platforms.base import NotFound
from activities.platforms.skio import SkioConnector
from sandbox.skio import COFFEE, DECAF, SUB_JO
from tests.platforms.contracts.graphql_contract import (
    document_problems,
    response_problems,
    root_field,
)
from tests.platforms.contracts.shapes import BOOL, STR, Shape, pattern, problems
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

# The documented part of Skio's schema that the connector uses, in our own words.
SKIO_SDL = """
scalar uuid
scalar timestamptz
scalar numeric
scalar jsonb

input String_comparison_exp { _eq: String _in: [String!] _is_null: Boolean }
input uuid_comparison_exp { _eq: uuid _in: [uuid!] _is_null: Boolean }
input timestamptz_comparison_exp { _eq: timestamptz _is_null: Boolean }
input StorefrontUser_bool_exp {
  email: String_comparison_exp
  id: uuid_comparison_exp
  platformId: String_comparison_exp
}
input Subscription_bool_exp {
  StorefrontUser: StorefrontUser_bool_exp
  id: uuid_comparison_exp
  platformId: String_comparison_exp
  status: String_comparison_exp
}
input SubscriptionLine_bool_exp { removedAt: timestamptz_comparison_exp }
input Order_bool_exp {
  StorefrontUser: StorefrontUser_bool_exp
  id: uuid_comparison_exp
  platformId: String_comparison_exp
}

type Product { id: uuid! platformId: String! title: String! }
type ProductVariant {
  id: uuid!
  platformId: String!
  title: String!
  sku: String
  price: numeric!
  Product: Product!
}
type SubscriptionLine {
  id: uuid!
  quantity: Int!
  priceWithoutDiscount: numeric
  removedAt: timestamptz
  ProductVariant: ProductVariant!
}
type Address {
  id: uuid!
  firstName: String
  lastName: String
  address1: String
  address2: String
  city: String
  province: String
  zip: String
  country: String
}
type OrderLineItem {
  id: uuid!
  quantity: Int!
  priceWithoutDiscount: numeric
  ProductVariant: ProductVariant
}
type Order {
  id: uuid!
  platformId: String!
  platformNumber: String
  createdAt: timestamptz!
  processedAt: timestamptz
  cancelledAt: timestamptz
  deliveredAt: timestamptz
  totalPrice: numeric
  StorefrontUser: StorefrontUser
  OrderLineItems: [OrderLineItem!]!
}
type StorefrontUser {
  id: uuid!
  email: String
  firstName: String
  lastName: String
  platformId: String
  ShippingAddresses: [Address!]!
  Orders: [Order!]!
  Subscriptions: [Subscription!]!
}
type Subscription {
  id: uuid!
  platformId: String
  status: String!
  createdAt: timestamptz
  nextBillingDate: timestamptz
  cancelledAt: timestamptz
  StorefrontUser: StorefrontUser!
  ShippingAddress: Address
  SubscriptionLines(where: SubscriptionLine_bool_exp): [SubscriptionLine!]!
}

type query_root {
  SubscriptionByPk(id: uuid!): Subscription
  Subscriptions(where: Subscription_bool_exp, limit: Int): [Subscription!]!
  StorefrontUsers(where: StorefrontUser_bool_exp, limit: Int): [StorefrontUser!]!
  Orders(where: Order_bool_exp, limit: Int): [Order!]!
}

input CancelSubscriptionInput {
  subscriptionId: uuid!
  shouldSendNotif: Boolean
  permanentlyCancel: Boolean
  cancelSessionId: String
}
type CancelSubscriptionOutput { ok: Boolean! }
enum SwapPricingOptionType { CUSTOM NEW_VARIANT_PRICE SAME }
input SwapSubscriptionProductVariantsInput {
  subscriptionId: String!
  oldProductVariantId: String!
  newProductVariantId: String!
  newCustomPrice: String
  pricingOption: SwapPricingOptionType
}
type SwapSubscriptionProductVariantsOutput { ok: Boolean! }
# Not on the reference page (public integrations' usage, unconfirmed):
input SkipSubscriptionInput { subscriptionId: String! }
type SkipSubscriptionOutput { ok: Boolean! message: String nextBillingDate: String }
input ReactivateSubscriptionInput { subscriptionId: String! newBillingDate: String }
type ReactivateSubscriptionOutput { ok: Boolean! }

type mutation_root {
  cancelSubscription(input: CancelSubscriptionInput!): CancelSubscriptionOutput
  swapSubscriptionProductVariants(
    input: SwapSubscriptionProductVariantsInput!
  ): SwapSubscriptionProductVariantsOutput
  skipSubscription(input: SkipSubscriptionInput!): SkipSubscriptionOutput
  reactivateSubscription(input: ReactivateSubscriptionInput!): ReactivateSubscriptionOutput
}

schema { query: query_root mutation: mutation_root }
"""
SCHEMA = build_schema(SKIO_SDL)
UUID = pattern(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "a uuid")
DATE = pattern(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d))?", "an ISO 8601 date")

# What each mutation is sent: the subscription, and nothing the input type does not name.
CANCEL_INPUT = Shape(
    required={"subscriptionId": UUID}, optional={"shouldSendNotif": BOOL}, closed=True
)
SKIP_INPUT = Shape(required={"subscriptionId": UUID}, closed=True)
REACTIVATE_INPUT = Shape(
    required={"subscriptionId": UUID}, optional={"newBillingDate": DATE}, closed=True
)
SWAP_INPUT = Shape(
    required={"subscriptionId": UUID, "oldProductVariantId": STR, "newProductVariantId": STR},
    closed=True,
)


@pytest.fixture
async def skio(sandbox_settings: Settings):
    connector = SkioConnector(sandbox_settings.skio)
    yield connector
    await connector.aclose()


def graphql_traffic(sandbox: SandboxControl) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests("skio", "POST") if r["path"].endswith("/v1/graphql")]


def by_root(sandbox: SandboxControl, field: str) -> list[dict[str, Any]]:
    return [r for r in graphql_traffic(sandbox) if root_field(r["body"]["query"]) == field]


async def subscription_of(skio: SkioConnector, email: str) -> str:
    (subscription,) = await skio.list_subscriptions(email)
    return subscription.id


async def every_operation(skio: SkioConnector) -> None:
    rio = await subscription_of(skio, "rio@example.com")
    jo = await subscription_of(skio, "jo@example.com")
    await skio.get_account("jo@example.com")
    await skio.get_account("nobody@example.com")
    await skio.get_order("9001")
    await skio.skip_next(rio, "wf-s/step-1")
    await skio.swap(jo, DECAF, "wf-w/step-1")
    await skio.cancel(jo, "wf-c/step-1")
    await skio.reactivate(jo, "wf-r/step-1")


async def test_documents_and_answers_follow_the_reference(
    skio: SkioConnector, sandbox: SandboxControl
) -> None:
    await every_operation(skio)
    traffic = graphql_traffic(sandbox)
    roots = {root_field(r["body"]["query"]) for r in traffic}
    assert roots == {
        "Subscriptions",
        "SubscriptionByPk",
        "StorefrontUsers",
        "Orders",
        "skipSubscription",
        "swapSubscriptionProductVariants",
        "cancelSubscription",
        "reactivateSubscription",
    }
    found: list[str] = []
    for r in traffic:
        query, variables = r["body"]["query"], r["body"].get("variables") or {}
        name = root_field(query)
        found += [f"{name} {p}" for p in document_problems(SCHEMA, query, variables)]
        assert r["status"] == 200 and "errors" not in r["response"], r["response"]
        found += [f"{name} {p}" for p in response_problems(SCHEMA, query, r["response"]["data"])]
    assert found == []


async def test_mutation_inputs(skio: SkioConnector, sandbox: SandboxControl) -> None:
    await every_operation(skio)
    for field, shape in (
        ("cancelSubscription", CANCEL_INPUT),
        ("skipSubscription", SKIP_INPUT),
        ("reactivateSubscription", REACTIVATE_INPUT),
        ("swapSubscriptionProductVariants", SWAP_INPUT),
    ):
        sent = [r["body"]["variables"]["input"] for r in by_root(sandbox, field)]
        assert sent, field
        assert [p for value in sent for p in problems(shape, value)] == [], field


async def test_answers_carry_only_what_was_selected(
    skio: SkioConnector, sandbox: SandboxControl
) -> None:
    """Like any GraphQL server, the emulator answers the selection set, nothing more."""
    await skio.get_account("jo@example.com")
    (users,) = by_root(sandbox, "StorefrontUsers")
    (user,) = users["response"]["data"]["StorefrontUsers"]
    assert set(user) == {"id", "email", "firstName", "lastName", "ShippingAddresses", "Orders"}
    assert all(set(order) == {"platformId"} for order in user["Orders"])


async def test_emulator_refuses_what_the_reference_does_not_have(
    sandbox: SandboxControl,
) -> None:
    """Hasura-style validation errors (HTTP 200, ``errors[].extensions.code``) for an
    undocumented field or a wrongly named input type, and for an id that is not a uuid."""

    def ask(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = sandbox.client.post(
            "/skio/v1/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": "API sandbox-skio-token"},
        )
        assert answer.status_code == 200
        return dict(answer.json())

    field = ask(
        "query U($email: String!) { StorefrontUsers(where: {email: {_eq: $email}})"
        " { id defaultAddress } }",
        {"email": "jo@example.com"},
    )
    assert field["errors"][0]["extensions"]["code"] == "validation-failed"
    assert "defaultAddress" in field["errors"][0]["message"]
    output = ask(
        "mutation M($input: CancelSubscriptionInput!) { cancelSubscription(input: $input)"
        " { ok message } }",
        {"input": {"subscriptionId": "00000000-0000-4000-8000-000000000000"}},
    )
    assert output["errors"][0]["extensions"]["code"] == "validation-failed"
    wrong_type = ask(
        "mutation M($input: cancelSubscriptionInput!) { cancelSubscription(input: $input) { ok } }",
        {"input": {"subscriptionId": "00000000-0000-4000-8000-000000000000"}},
    )
    assert wrong_type["errors"][0]["extensions"]["code"] == "validation-failed"
    not_uuid = ask("query S($id: uuid!) { SubscriptionByPk(id: $id) { id } }", {"id": "sub_rio"})
    assert not_uuid["errors"][0]["extensions"]["code"] == "data-exception"


async def test_unknown_ids(skio: SkioConnector) -> None:
    with pytest.raises(NotFound):
        await skio.get_subscription("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):
        await skio.get_subscription("sub_nope")  # not a uuid: no such subscription either
    with pytest.raises(NotFound):
        await skio.get_order("123456")


def test_the_reference_sees_drift() -> None:
    """The SDL is not vacuous: what the connector sent before issue 19 fails it."""
    old_cancel = (
        "mutation M($input: cancelSubscriptionInput!) { cancelSubscription(input: $input)"
        " { ok message } }"
    )
    assert document_problems(SCHEMA, old_cancel, {"input": {"subscriptionId": "x"}})
    old_order = (
        "query O($orderId: String!) { Orders(where: {platformId: {_eq: $orderId}})"
        " { id status trackingNumber carrier shippingAddress } }"
    )
    assert len(document_problems(SCHEMA, old_order, {"orderId": "9001"})) == 4
    old_user = (
        "query U($email: String!) { StorefrontUsers(where: {email: {_eq: $email}})"
        " { id defaultAddress } }"
    )
    assert document_problems(SCHEMA, old_user, {"email": "a@b.c"})


async def test_removed_lines_are_left_out(skio: SkioConnector, sandbox: SandboxControl) -> None:
    """The reference's own example filters ``SubscriptionLines`` on ``removedAt`` being null:
    a subscription keeps the lines it no longer ships (jo's once held an espresso line)."""
    jo = await skio.get_subscription(SUB_JO)
    assert jo.product_id == COFFEE and jo.quantity == 2
    (read,) = by_root(sandbox, "SubscriptionByPk")
    assert "SubscriptionLines(where: {removedAt: {_is_null: true}})" in read["body"]["query"]
