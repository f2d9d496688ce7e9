"""Shopify's contract (Admin GraphQL API 2026-01), per operation the connector sends.

Source of truth: Shopify's Admin API schema for version 2026-01, as Shopify ships it in the
npm package ``@shopify/dev-mcp`` 1.16.0 (``dist/data/admin_2026-01.json.gz``, introspection
JSON), installed from the lockfile in ``schemas/``. Two kinds of check run on the traffic
the sandbox logged (``GET /_sandbox/requests``), i.e. on what the connector really sent and
what the emulator really answered:

- every document is validated against the schema and its variables coerced to their
  declared types, and every answer is walked through the selection set and checked against
  the schema's types (``graphql_contract.py``);
- per operation, in our own words: the operation's variables, which of them the schema or
  the input's own description makes required, and the answer's fields the connector reads.

Where the schema is silent (``userErrors`` wording, whether a throttled call is 200 or 429,
how the search syntax treats quotes, whether ``orderCreate`` honours ``@idempotent``), the
connector's docstring says so with ⚠.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from activities.platforms.base import NotFound, PlatformAuthError, PlatformRejected
from activities.platforms.shopify import ShopifyConnector
from policies.tool_models import Address, LineItem
from tests.platforms.contracts.graphql_contract import (
    document_problems,
    response_problems,
    root_field,
    shopify_admin_schema,
)
from tests.platforms.contracts.shapes import (
    BOOL,
    INT,
    NUMBER,
    STR,
    Check,
    Shape,
    assert_all,
    kind,
    list_of,
    one_of,
    pattern,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

VERSION = "2026-01"


def gid(kind_name: str) -> Check:
    return pattern(rf"gid://shopify/{kind_name}/\d+", f"a {kind_name} GID")


TIMESTAMP = pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "ISO 8601")
DECIMAL = pattern(r"\d+(\.\d+)?", "a Decimal written as a string")
NULL_OR_STR = kind(str, type(None), what="string or null")
NULL_OR_TIME = kind(str, type(None), what="timestamp or null")


def nullable(check: Check) -> Check:
    def run(value: Any, path: str) -> list[str]:
        return [] if value is None else check(value, path)

    return run


# --- what the connector reads ---------------------------------------------------------------

# A MoneyBag: the amount in the shop's currency, a Decimal written as a string.
MONEY_BAG = Shape(required={"shopMoney": Shape(required={"amount": DECIMAL, "currencyCode": STR})})
# OrderDisplayFinancialStatus / OrderDisplayFulfillmentStatus values the schema lists.
FINANCIAL = one_of(
    "AUTHORIZED",
    "EXPIRED",
    "PAID",
    "PARTIALLY_PAID",
    "PARTIALLY_REFUNDED",
    "PENDING",
    "REFUNDED",
    "VOIDED",
)
FULFILLMENT = one_of(
    "FULFILLED",
    "IN_PROGRESS",
    "ON_HOLD",
    "OPEN",
    "PARTIALLY_FULFILLED",
    "PENDING_FULFILLMENT",
    "REQUEST_DECLINED",
    "RESTOCKED",
    "SCHEDULED",
    "UNFULFILLED",
)
LINE_ITEM = Shape(
    required={
        "title": STR,
        "quantity": INT,
        "originalUnitPriceSet": MONEY_BAG,
        "product": nullable(Shape(required={"id": gid("Product")})),
        "variant": nullable(Shape(required={"id": gid("ProductVariant")})),
    },
    optional={"sku": NULL_OR_STR},
)
ORDER = Shape(
    required={
        "id": gid("Order"),
        "name": STR,
        "email": NULL_OR_STR,
        "createdAt": TIMESTAMP,
        "cancelledAt": NULL_OR_TIME,
        "displayFinancialStatus": nullable(FINANCIAL),
        "displayFulfillmentStatus": FULFILLMENT,
        "totalPriceSet": MONEY_BAG,
        "totalRefundedSet": MONEY_BAG,
        "lineItems": Shape(required={"nodes": list_of(LINE_ITEM)}),
        "shippingAddress": nullable(
            Shape(
                required={"address1": NULL_OR_STR, "city": NULL_OR_STR, "zip": NULL_OR_STR},
                optional={"countryCodeV2": NULL_OR_STR, "provinceCode": NULL_OR_STR},
            )
        ),
        "fulfillments": list_of(
            Shape(
                required={"status": STR, "trackingInfo": list_of(Shape(optional={"number": STR}))}
            )
        ),
        "transactions": list_of(
            Shape(
                required={
                    "id": gid("OrderTransaction"),
                    "kind": one_of(
                        "AUTHORIZATION",
                        "CAPTURE",
                        "CHANGE",
                        "EMV_AUTHORIZATION",
                        "REFUND",
                        "SALE",
                        "SUGGESTED_REFUND",
                        "VOID",
                    ),
                    "status": one_of(
                        "AWAITING_RESPONSE", "ERROR", "FAILURE", "PENDING", "SUCCESS", "UNKNOWN"
                    ),
                    "gateway": STR,
                    "amountSet": MONEY_BAG,
                }
            )
        ),
        "refunds": list_of(
            Shape(
                required={"id": gid("Refund"), "note": NULL_OR_STR, "totalRefundedSet": MONEY_BAG}
            )
        ),
    }
)
USER_ERRORS = list_of(Shape(required={"message": STR}, optional={"field": list_of(STR)}))

# --- what the connector sends ----------------------------------------------------------------

# order(id: ID!) and orders(first, query, sortKey, reverse): a GID; the search is a string.
ORDER_VARIABLES = Shape(required={"id": gid("Order")}, closed=True)
ORDERS_VARIABLES = Shape(
    required={"query": pattern(r'(email|name):".*"', 'field:"value"'), "first": INT}, closed=True
)
CODE_VARIABLES = Shape(required={"code": STR}, closed=True)

# orderCancel: orderId, reason (an OrderCancelReason) and restock are required; notifyCustomer,
# staffNote and refundMethod optional. refundMethod is a one-of input: exactly one of
# originalPaymentMethodsRefund / storeCreditRefund. The older `refund: Boolean` is not sent.
REFUND_METHOD = Shape(required={"originalPaymentMethodsRefund": BOOL}, closed=True)
CANCEL_VARIABLES = Shape(
    required={
        "orderId": gid("Order"),
        "reason": one_of("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"),
        "restock": BOOL,
    },
    optional={"notifyCustomer": BOOL, "refundMethod": REFUND_METHOD, "staffNote": STR},
    closed=True,
)

# discountCodeBasicCreate(basicCodeDiscount): the input's own description names what a create
# needs: code, context (the deprecated customerSelection no longer), customerGets, startsAt,
# title. The percentage is a Float between 0 and 1; dates are ISO 8601.
BASIC_DISCOUNT = Shape(
    required={
        "code": STR,
        "title": STR,
        "startsAt": TIMESTAMP,
        "context": Shape(required={"all": one_of("ALL")}, closed=True),
        "customerGets": Shape(
            required={
                "value": Shape(required={"percentage": NUMBER}, closed=True),
                "items": Shape(required={"all": one_of(True)}, closed=True),
            },
            closed=True,
        ),
    },
    optional={"endsAt": TIMESTAMP, "usageLimit": INT, "appliesOncePerCustomer": BOOL},
    closed=True,
)
DISCOUNT_VARIABLES = Shape(required={"basicCodeDiscount": BASIC_DISCOUNT}, closed=True)
DISCOUNT_NODE = Shape(
    required={
        "id": gid("DiscountCodeNode"),
        "codeDiscount": Shape(
            required={
                "title": STR,
                "endsAt": NULL_OR_TIME,
                "codes": Shape(required={"nodes": list_of(Shape(required={"code": STR}))}),
                "customerGets": Shape(required={"value": Shape(required={"percentage": NUMBER})}),
            }
        ),
    }
)

# refundCreate(input: RefundInput!): orderId required; each transaction needs orderId,
# gateway, kind and amount (Money, a decimal string), parentId is the captured payment.
# The @idempotent(key:) directive takes a String!.
REFUND_TRANSACTION = Shape(
    required={
        "orderId": gid("Order"),
        "gateway": STR,
        "kind": one_of("REFUND"),
        "amount": DECIMAL,
    },
    optional={"parentId": gid("OrderTransaction")},
    closed=True,
)
REFUND_VARIABLES = Shape(
    required={
        "input": Shape(
            required={
                "orderId": gid("Order"),
                "transactions": list_of(REFUND_TRANSACTION, min_items=1),
            },
            optional={"note": STR, "notify": BOOL},
            closed=True,
        ),
        "idempotencyKey": pattern(r"[0-9a-f-]{36}", "a UUID"),
    },
    closed=True,
)

# orderCreate(order: OrderCreateOrderInput!, options: OrderCreateOptionsInput): each line
# needs a quantity and a variantId or a title; the address is a MailingAddressInput
# (provinceCode and countryCode, not the deprecated province/country).
CREATE_LINE = Shape(
    required={"title": STR, "quantity": INT},
    optional={
        "sku": NULL_OR_STR,
        "requiresShipping": BOOL,
        "priceSet": Shape(
            required={"shopMoney": Shape(required={"amount": DECIMAL, "currencyCode": STR})}
        ),
    },
    closed=True,
)
MAILING_ADDRESS = Shape(
    required={"address1": STR, "city": STR, "zip": STR, "countryCode": STR},
    optional={
        "firstName": NULL_OR_STR,
        "lastName": NULL_OR_STR,
        "address2": NULL_OR_STR,
        "provinceCode": NULL_OR_STR,
    },
    closed=True,
)
CREATE_VARIABLES = Shape(
    required={
        "order": Shape(
            required={
                "email": STR,
                "lineItems": list_of(CREATE_LINE, min_items=1),
                "shippingAddress": MAILING_ADDRESS,
            },
            optional={
                "financialStatus": one_of("PAID", "PENDING", "AUTHORIZED", "PARTIALLY_PAID"),
                "note": STR,
                "tags": list_of(STR),
            },
            closed=True,
        )
    },
    optional={
        "options": Shape(
            optional={
                "sendReceipt": BOOL,
                "sendFulfillmentReceipt": BOOL,
                "inventoryBehaviour": one_of(
                    "BYPASS", "DECREMENT_IGNORING_POLICY", "DECREMENT_OBEYING_POLICY"
                ),
            },
            closed=True,
        )
    },
    closed=True,
)


@pytest.fixture
async def shopify(sandbox_settings: Settings):
    connector = ShopifyConnector(sandbox_settings.shopify)
    yield connector
    await connector.aclose()


def graphql_traffic(sandbox: SandboxControl) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests("shopify", "POST") if r["path"].endswith("/graphql.json")]


def by_root(sandbox: SandboxControl, field: str) -> list[dict[str, Any]]:
    return [r for r in graphql_traffic(sandbox) if root_field(r["body"]["query"]) == field]


async def every_operation(shopify: ShopifyConnector) -> None:
    """Each GraphQL document the connector has, once (some twice, by another path)."""
    await shopify.get_order("6001")
    await shopify.get_order("#1002")
    await shopify.find_orders("dana@example.com")
    await shopify.create_coupon("dana@example.com", 15, "wf-c/step-1")
    await shopify.create_coupon("dana@example.com", 15, "wf-c/step-1")  # found, not made
    await shopify.refund("6002", 10.0, "late", "wf-r/step-1")
    await shopify.cancel_order("6001", "changed my mind", "wf-x/step-1")
    item = LineItem(sku="SKIO-DEC-1LB", name="Decaf Coffee 1 lb", quantity=1, price=32.0)
    address = Address(
        name="Lee Tanaka", line1="9 Lake Ave", city="Seattle", region="WA", postal_code="98101"
    )
    await shopify.create_replacement("lee@example.com", [item], address, "wf-s/step-2")


async def test_documents_and_answers_follow_the_admin_schema(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    schema = shopify_admin_schema(VERSION)
    await every_operation(shopify)
    traffic = graphql_traffic(sandbox)
    roots = {root_field(r["body"]["query"]) for r in traffic}
    assert roots == {
        "order",
        "orders",
        "codeDiscountNodeByCode",
        "discountCodeBasicCreate",
        "refundCreate",
        "orderCancel",
        "orderCreate",
    }
    found: list[str] = []
    for r in traffic:
        query, variables = r["body"]["query"], r["body"].get("variables") or {}
        name = root_field(query)
        found += [f"{name} {p}" for p in document_problems(schema, query, variables)]
        assert r["status"] == 200 and "errors" not in r["response"], r["response"]
        found += [f"{name} {p}" for p in response_problems(schema, query, r["response"]["data"])]
    assert found == []
    assert all(r["path"] == f"/admin/api/{VERSION}/graphql.json" for r in traffic)


async def test_order_reads(shopify: ShopifyConnector, sandbox: SandboxControl) -> None:
    await shopify.get_order("6001")
    await shopify.get_order("#1002")
    await shopify.find_orders("drew@example.com")
    (one,) = by_root(sandbox, "order")
    assert_all(ORDER_VARIABLES, [one["body"]["variables"]])
    assert_all(ORDER, [one["response"]["data"]["order"]])
    searches = by_root(sandbox, "orders")
    assert_all(ORDERS_VARIABLES, [r["body"]["variables"] for r in searches])
    assert_all(
        list_of(ORDER, min_items=1), [r["response"]["data"]["orders"]["nodes"] for r in searches]
    )


async def test_cancel(shopify: ShopifyConnector, sandbox: SandboxControl) -> None:
    reason = "The customer explains at length why the order must go. " * 8  # ~450 characters
    result = await shopify.cancel_order("6001", reason, "wf-x/step-1")
    assert result.status == "cancelled"
    (cancel,) = by_root(sandbox, "orderCancel")
    assert_all(CANCEL_VARIABLES, [cancel["body"]["variables"]])
    # The argument's description caps a staff note at 255 characters; our key stays in it.
    note = cancel["body"]["variables"]["staffNote"]
    assert len(note) <= 255 and note.endswith("[ticketflow:wf-x/step-1]")
    payload = cancel["response"]["data"]["orderCancel"]
    assert_all(
        Shape(
            required={
                "job": Shape(required={"id": gid("Job"), "done": BOOL}),
                "orderCancelUserErrors": USER_ERRORS,
            }
        ),
        [payload],
    )
    # The emulator holds the same limit: a longer note is a user error, the order untouched.
    long_note = {**cancel["body"]["variables"], "staffNote": "x" * 256}
    long_note["orderId"] = "gid://shopify/Order/9001"
    answer = sandbox.client.post(
        f"/shopify/admin/api/{VERSION}/graphql.json",
        json={"query": cancel["body"]["query"], "variables": long_note},
        headers={"X-Shopify-Access-Token": "shpat_sandbox"},
    ).json()["data"]["orderCancel"]
    assert answer["job"] is None
    assert answer["orderCancelUserErrors"][0]["field"] == ["staffNote"]
    # A fulfilled order is refused before any mutation is sent (⚠ in the connector).
    with pytest.raises(PlatformRejected):
        await shopify.cancel_order("6002", None, "wf-y/step-1")
    assert len(by_root(sandbox, "orderCancel")) == 2  # ours and the one above, no third


async def test_coupon(shopify: ShopifyConnector, sandbox: SandboxControl) -> None:
    coupon = await shopify.create_coupon("dana@example.com", 20, "wf-c/step-2")
    assert coupon.percent == 20
    lookups = by_root(sandbox, "codeDiscountNodeByCode")
    assert_all(CODE_VARIABLES, [r["body"]["variables"] for r in lookups])
    (created,) = by_root(sandbox, "discountCodeBasicCreate")
    assert_all(DISCOUNT_VARIABLES, [created["body"]["variables"]])
    percentage = created["body"]["variables"]["basicCodeDiscount"]["customerGets"]["value"]
    assert 0 < percentage["percentage"] <= 1
    payload = created["response"]["data"]["discountCodeBasicCreate"]
    assert_all(
        Shape(required={"codeDiscountNode": DISCOUNT_NODE, "userErrors": USER_ERRORS}), [payload]
    )


async def test_refund(shopify: ShopifyConnector, sandbox: SandboxControl) -> None:
    await shopify.refund("6002", None, "lost", "wf-r/step-2")
    (made,) = by_root(sandbox, "refundCreate")
    assert_all(REFUND_VARIABLES, [made["body"]["variables"]])
    assert "@idempotent(key: $idempotencyKey)" in made["body"]["query"]
    payload = made["response"]["data"]["refundCreate"]
    assert_all(
        Shape(
            required={
                "refund": Shape(
                    required={
                        "id": gid("Refund"),
                        "note": NULL_OR_STR,
                        "totalRefundedSet": MONEY_BAG,
                    }
                ),
                "userErrors": USER_ERRORS,
            }
        ),
        [payload],
    )


async def test_replacement(shopify: ShopifyConnector, sandbox: SandboxControl) -> None:
    item = LineItem(sku="SKIO-DEC-1LB", name="Decaf Coffee 1 lb", quantity=1, price=32.0)
    address = Address(
        name="Lee Tanaka", line1="9 Lake Ave", city="Seattle", region="WA", postal_code="98101"
    )
    await shopify.create_replacement("lee@example.com", [item], address, "wf-s/step-2")
    (made,) = by_root(sandbox, "orderCreate")
    assert_all(CREATE_VARIABLES, [made["body"]["variables"]])
    payload = made["response"]["data"]["orderCreate"]
    assert_all(
        Shape(
            required={
                "order": Shape(required={"id": gid("Order"), "totalPriceSet": MONEY_BAG}),
                "userErrors": USER_ERRORS,
            }
        ),
        [payload],
    )


def test_the_schema_sees_drift() -> None:
    """The checks are not vacuous: documents Shopify would refuse fail them."""
    schema = shopify_admin_schema(VERSION)
    wrong_field = "query O($id: ID!) { order(id: $id) { id financialStatus } }"
    assert document_problems(schema, wrong_field, {"id": "gid://shopify/Order/1"})
    missing_restock = (
        "mutation C($orderId: ID!) { orderCancel(orderId: $orderId, reason: CUSTOMER)"
        " { job { id } } }"
    )
    assert document_problems(schema, missing_restock, {"orderId": "gid://shopify/Order/1"})
    bad_input = "mutation R($input: RefundInput!) { refundCreate(input: $input) { refund { id } } }"
    assert document_problems(
        schema, bad_input, {"input": {"orderId": "gid://shopify/Order/1", "reason": "x"}}
    )
    answer = {"order": {"id": "gid://shopify/Order/1", "displayFulfillmentStatus": "SHIPPED"}}
    query = "query O($id: ID!) { order(id: $id) { id displayFulfillmentStatus } }"
    assert response_problems(schema, query, answer)


async def test_error_bodies(sandbox_settings: Settings, sandbox: SandboxControl) -> None:
    """A bad token is HTTP 401 with a string ``errors``; an unknown order is ``order: null``
    (the schema makes ``QueryRoot.order`` nullable), not an error."""
    bad = ShopifyConnector(
        sandbox_settings.shopify.model_copy(update={"access_token": SecretStr("shpat_wrong")})
    )
    with pytest.raises(PlatformAuthError):
        await bad.get_order("6001")
    await bad.aclose()
    good = ShopifyConnector(sandbox_settings.shopify)
    with pytest.raises(NotFound):
        await good.get_order("999999")
    await good.aclose()
    (refused, missing) = graphql_traffic(sandbox)
    assert refused["status"] == 401 and isinstance(refused["response"]["errors"], str)
    assert missing["status"] == 200 and missing["response"]["data"] == {"order": None}
    schema = shopify_admin_schema(VERSION)
    assert response_problems(schema, missing["body"]["query"], missing["response"]["data"]) == []


def test_answers_carry_only_what_was_selected(sandbox: SandboxControl) -> None:
    """Like Shopify, the emulator answers the selection set: aliases, inline fragments."""

    def ask(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = sandbox.client.post(
            f"/shopify/admin/api/{VERSION}/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": "shpat_sandbox"},
        )
        return dict(answer.json()["data"])

    order = ask(
        "query O($id: ID!) { order(id: $id)"
        " { name total: totalPriceSet { shopMoney { amount } } } }",
        {"id": "gid://shopify/Order/6001"},
    )
    assert order == {"order": {"name": "#1001", "total": {"shopMoney": {"amount": "64.00"}}}}
    code = ask(
        "query C($code: String!) { codeDiscountNodeByCode(code: $code) { codeDiscount {"
        " ... on DiscountCodeBasic { title } ... on DiscountCodeFreeShipping { endsAt } } } }",
        {"code": "welcome10"},
    )
    assert code == {"codeDiscountNodeByCode": {"codeDiscount": {"title": "Welcome 10%"}}}
