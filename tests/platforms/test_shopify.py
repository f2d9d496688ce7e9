"""Shopify (Admin GraphQL) connector and tools against its emulator, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from activities.platforms.base import (
    NON_RETRYABLE_ERROR_TYPES,
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from activities.platforms.shopify import ShopifyConnector
from policies.tool_models import (
    Address,
    CancelOrderParams,
    CreateOrderParams,
    FutureDiscountParams,
    LineItem,
    OrderIdParams,
    RefundParams,
    SetDiscountParams,
    TrackingParams,
)
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

GRAPHQL = "/shopify/admin/api/2026-01/graphql.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}
SHOPIFY = ["Shopify", "Zendesk"]


@pytest.fixture
async def shopify(sandbox_settings: Settings):
    connector = ShopifyConnector(sandbox_settings.shopify)
    yield connector
    await connector.aclose()


def side_effects(sandbox: SandboxControl, operation: str) -> list[dict]:
    return sandbox.side_effects("shopify", operation)


def test_raw_graphql_shape(sandbox: SandboxControl) -> None:
    """The seeded order over plain HTTP, with cost info; Shopify's own 401 without a token."""
    query = {
        "query": "query O($id: ID!) { order(id: $id) { id name email"
        " totalPriceSet { shopMoney { amount currencyCode } } } }"
    }
    body = {**query, "variables": {"id": "gid://shopify/Order/6001"}}
    ok = sandbox.client.post(GRAPHQL, json=body, headers=TOKEN)
    assert ok.status_code == 200
    order = ok.json()["data"]["order"]
    assert order["name"] == "#1001" and order["email"] == "dana@example.com"
    assert order["totalPriceSet"]["shopMoney"] == {"amount": "64.00", "currencyCode": "USD"}
    cost = ok.json()["extensions"]["cost"]
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0 and cost["actualQueryCost"] > 0
    denied = sandbox.client.post(GRAPHQL, json=body)
    assert denied.status_code == 401
    assert denied.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    unknown = sandbox.client.post(GRAPHQL, json={"query": "{ shop { name } }"}, headers=TOKEN)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "undefinedField"


async def test_order_details(shopify: ShopifyConnector) -> None:
    order = await shopify.get_order("6001")
    assert (order.id, order.platform, order.email) == ("6001", "shopify", "dana@example.com")
    assert order.total == 64.0 and order.currency == "USD"
    assert order.status == "processing" and order.cancellable and order.refundable
    assert order.items[0].quantity == 2 and order.items[0].product_id == "8101"
    assert order.shipping_address is not None and order.shipping_address.city == "Portland"
    shipped = await shopify.get_order("#1002")  # the name a customer quotes
    assert shipped.id == "6002" and shipped.status == "shipped" and not shipped.cancellable
    assert (shipped.tracking_number, shipped.carrier) == ("9400100000000000006002", "USPS")
    assert (await shopify.get_order("gid://shopify/Order/6002")).email == "drew@example.com"


async def test_orders_by_customer_email(shopify: ShopifyConnector) -> None:
    assert [o.id for o in await shopify.find_orders("dana@example.com")] == ["6001"]
    assert await shopify.find_orders("nobody@example.com") == []


async def test_unknown_order_is_not_found(shopify: ShopifyConnector) -> None:
    with pytest.raises(NotFound) as raised:
        await shopify.get_order("999999")
    assert raised.value.non_retryable and raised.value.type in NON_RETRYABLE_ERROR_TYPES
    with pytest.raises(NotFound):
        await shopify.get_order("#9999")


async def test_wrong_token_is_auth_error(sandbox_settings: Settings) -> None:
    leaked = SecretStr("shpat_leaked_secret")
    settings = sandbox_settings.shopify.model_copy(update={"access_token": leaked})
    connector = ShopifyConnector(settings)
    with pytest.raises(PlatformAuthError, match="Invalid API key or access token") as raised:
        await connector.get_order("6001")
    await connector.aclose()
    assert raised.value.non_retryable and raised.value.status == 401
    assert "shpat_leaked_secret" not in str(raised.value)


async def test_throttled_429_then_success(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("shopify", rate_limit_next=1, retry_after=7)
    with pytest.raises(PlatformRateLimited, match="Throttled") as raised:
        await shopify.get_order("6001")
    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay == timedelta(seconds=7)
    assert (await shopify.get_order("6001")).id == "6001"


async def test_cost_bucket_throttles_then_refills(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    """Expensive searches drain the query-cost bucket: THROTTLED (HTTP 200), retried after
    the time the bucket needs to refill, then fine once sandbox time has passed."""
    with pytest.raises(PlatformRateLimited, match="Throttled") as raised:
        for _ in range(10):
            await shopify.find_orders("dana@example.com")
    assert not raised.value.non_retryable
    delay = raised.value.next_retry_delay
    assert delay is not None and timedelta(seconds=1) <= delay <= timedelta(seconds=5)
    sandbox.advance(seconds=30)
    assert [o.id for o in await shopify.find_orders("dana@example.com")] == ["6001"]


async def test_server_error_then_success(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("shopify", fail_next=1)
    with pytest.raises(PlatformUnavailable) as raised:
        await shopify.get_order("6001")
    assert not raised.value.non_retryable and raised.value.status == 500
    assert (await shopify.get_order("6001")).id == "6001"


async def test_cancel_is_idempotent_and_fulfilled_is_refused(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    first = await shopify.cancel_order("6001", "customer asked", "wf-1/step-3")
    assert first.status == "cancelled" and first.refunded_amount == 64.0
    order = await shopify.get_order("6001")  # the cancel job has run by now
    assert order.status == "cancelled" and not order.cancellable
    again = await shopify.cancel_order("6001", "customer asked", "wf-1/step-3")
    assert again.status == "cancelled"
    cancels = side_effects(sandbox, "orderCancel")
    assert [e["idempotency_key"] for e in cancels] == ["wf-1/step-3"]
    assert cancels[0]["response"]["job"]["done"] is False  # accepted, run asynchronously
    with pytest.raises(PlatformRejected, match="can no longer be cancelled"):
        await shopify.cancel_order("6002", None, "wf-2/step-3")
    assert len(side_effects(sandbox, "orderCancel")) == 1


async def test_discount_replay_creates_one_code(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    first = await shopify.create_coupon("dana@example.com", 15, "wf-1/step-4")
    again = await shopify.create_coupon("dana@example.com", 15, "wf-1/step-4")
    other = await shopify.create_coupon("dana@example.com", 15, "wf-9/step-4")
    assert first.code == again.code != other.code
    assert first.percent == again.percent == 15
    assert first.expires_at is not None
    assert first.expires_at - datetime.now(UTC) > timedelta(days=89)
    creates = side_effects(sandbox, "discountCodeBasicCreate")
    assert [e["idempotency_key"] for e in creates] == ["wf-1/step-4", "wf-9/step-4"]
    # The title every store admin sees names the ticket, never the customer.
    node = await shopify.find_discount(first.code)
    assert node is not None
    assert node["codeDiscount"]["title"] == f"ticketflow 15% {first.code} (wf-1)"


async def test_user_errors_are_rejections(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    with pytest.raises(PlatformRejected, match=r"between 0\.0 and 1\.0") as raised:
        await shopify.create_coupon("dana@example.com", 0, "wf-3/step-1")
    assert raised.value.non_retryable
    with pytest.raises(PlatformRejected, match="greater than net payment"):
        await shopify.refund("6001", 500.0, None, "wf-3/step-2")
    assert sandbox.side_effects("shopify") == []


async def test_refund_replay_refunds_once(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    first = await shopify.refund("6002", 10.0, "late parcel", "wf-2/step-5")
    again = await shopify.refund("6002", 10.0, "late parcel", "wf-2/step-5")
    assert first.refund_id == again.refund_id and first.amount == 10.0
    assert len(side_effects(sandbox, "refundCreate")) == 1
    rest = await shopify.refund("6002", None, "lost parcel", "wf-2/step-6")
    assert rest.amount == 28.0
    assert (await shopify.get_order("6002")).status == "refunded"


def test_emulator_honours_idempotent_directive(sandbox: SandboxControl) -> None:
    """refundCreate with the same @idempotent key twice refunds once and replays the answer."""
    mutation = (
        "mutation R($input: RefundInput!, $key: String!) { refundCreate(input: $input)"
        " @idempotent(key: $key) { refund { id } userErrors { field message } } }"
    )
    refund = {
        "orderId": "gid://shopify/Order/6001",
        "transactions": [
            {
                "orderId": "gid://shopify/Order/6001",
                "parentId": "gid://shopify/OrderTransaction/60010",
                "gateway": "shopify_payments",
                "kind": "REFUND",
                "amount": "5.00",
            }
        ],
    }
    body = {"query": mutation, "variables": {"input": refund, "key": "3f0c9a52-uuid"}}
    answers = [sandbox.client.post(GRAPHQL, json=body, headers=TOKEN).json() for _ in range(2)]
    assert answers[0]["data"] == answers[1]["data"]
    assert answers[0]["data"]["refundCreate"]["refund"]["id"].startswith("gid://shopify/Refund/")
    assert len(side_effects(sandbox, "refundCreate")) == 1


# --- the tools, as Temporal activities ----------------------------------------------------------


@pytest.fixture
async def tools(sandbox_settings: Settings):
    async with tool_runner(sandbox_settings) as runner:
        yield runner


async def test_shopify_order_details_activity(tools: ToolRunner) -> None:
    order = await tools.run(
        "shopify_order_details", TicketCall(params=OrderIdParams(order_id="6001"))
    )
    assert order.platform == "shopify" and order.email == "dana@example.com"


async def test_generic_store_tools_resolve_to_shopify(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    order = await tools.run(
        "get_order_details",
        TicketCall(params=OrderIdParams(order_id="6001"), platforms=SHOPIFY),
    )
    assert order.platform == "shopify" and order.total == 64.0
    cancel = TicketCall(
        params=CancelOrderParams(order_id="6001", reason="changed mind"),
        platforms=SHOPIFY,
        idempotency_key="ticket-zendesk-7/n5",
    )
    assert (await tools.run("cancel_order", cancel)).status == "cancelled"
    assert (await tools.run("cancel_order", cancel)).status == "cancelled"
    assert len(side_effects(sandbox, "orderCancel")) == 1
    coupon = await tools.run(
        "create_future_discount",
        TicketCall(
            params=FutureDiscountParams(email="dana@example.com", percent=10),
            platforms=SHOPIFY,
            idempotency_key="ticket-zendesk-7/n6",
        ),
    )
    assert coupon.code.startswith("TF") and coupon.percent == 10
    refund = await tools.run(
        "refund_order",
        TicketCall(
            params=RefundParams(order_id="6002", amount=5.0),
            platforms=SHOPIFY,
            idempotency_key="ticket-zendesk-8/n2",
        ),
    )
    assert refund.amount == 5.0
    tracking = await tools.run(
        "get_tracking_info",
        TicketCall(params=TrackingParams(order_id="6002"), platforms=SHOPIFY),
    )
    assert tracking.tracking_number == "9400100000000000006002"


async def test_order_edits_are_not_offered_on_shopify(tools: ToolRunner) -> None:
    call = TicketCall(
        params=SetDiscountParams(order_id="6001", percent=10),
        platforms=SHOPIFY,
        idempotency_key="ticket-zendesk-7/n3",
    )
    with pytest.raises(PlatformRejected, match="not available on Shopify"):
        await tools.run("set_discount_to_order", call)


# --- the Skio shop's orders and free replacements (orderCreate) ----------------------------

SKIO_SHOP = ["shopify", "skio", "kustomer"]
JO = Address(
    name="Jo Lindqvist", line1="41 Pine Rd", city="Denver", region="CO", postal_code="80202"
)


async def test_skio_orders_live_in_shopify(shopify: ShopifyConnector) -> None:
    """Skio's Orders.platformId is the Shopify order id: 9001 and 9002 are read here."""
    jo = await shopify.get_order("9001")
    assert (jo.email, jo.status, jo.total, jo.tracking_number) == (
        "jo@example.com",
        "delivered",
        64.0,
        "9400100000000000009001",
    )
    lee = await shopify.get_order("#1004")
    assert lee.id == "9002" and lee.status == "shipped" and lee.refundable


async def test_replacement_is_a_free_paid_order_created_once(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    original = await shopify.get_order("9001")
    first = await shopify.create_replacement("jo@example.com", original.items, JO, "wf-9/n6")
    again = await shopify.create_replacement("jo@example.com", original.items, JO, "wf-9/n6")
    assert first == again and first.total == 0.0
    order = await shopify.get_order(first.order_id)
    assert order.status == "processing" and order.paid and order.total == 0.0
    assert [(i.name, i.sku, i.quantity) for i in order.items] == [
        ("Cold Brew Coffee 1 lb", "SKIO-COF-1LB", 2)
    ]
    assert order.shipping_address is not None and order.shipping_address.name == "Jo Lindqvist"
    creates = side_effects(sandbox, "orderCreate")
    assert [e["idempotency_key"] for e in creates] == ["wf-9/n6"]
    other = await shopify.create_replacement("jo@example.com", original.items, JO, "wf-10/n6")
    assert other.order_id != first.order_id


async def test_replacement_user_errors_are_rejections(
    shopify: ShopifyConnector, sandbox: SandboxControl
) -> None:
    with pytest.raises(PlatformRejected, match="Line items can't be blank") as raised:
        await shopify.create_replacement("jo@example.com", [], JO, "wf-11/n6")
    assert raised.value.non_retryable
    nowhere = JO.model_copy(update={"postal_code": ""})
    item = LineItem(sku="SKIO-COF-1LB", name="Cold Brew Coffee 1 lb")
    with pytest.raises(PlatformRejected, match="zip can't be blank"):
        await shopify.create_replacement("jo@example.com", [item], nowhere, "wf-11/n7")
    assert side_effects(sandbox, "orderCreate") == []


async def test_skio_shop_refunds_and_replacements_run_in_shopify(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    """shipment_not_received ([shopify, skio, kustomer]) hands over to #Refund and to
    #Skio reshipment: their generic store tools run on Shopify."""
    refund = await tools.run(
        "refund_order",
        TicketCall(
            params=RefundParams(order_id="9002", reason="lost in transit"),
            platforms=SKIO_SHOP,
            idempotency_key="ticket-kustomer-d006/1/refund/n5",
        ),
    )
    assert refund.amount == 32.0
    assert (await tools.platforms.connectors["shopify"].get_order("9002")).status == "refunded"
    order = await tools.platforms.connectors["shopify"].get_order("9001")
    replacement = await tools.run(
        "create_replacement_order",
        TicketCall(
            params=CreateOrderParams(items=order.items, address=JO, user_email="jo@example.com"),
            platforms=SKIO_SHOP,
            idempotency_key="ticket-kustomer-d005/1/reshipment_skio_kustomer/n6",
        ),
    )
    assert replacement.total == 0.0
    assert len(side_effects(sandbox, "orderCreate")) == 1
    tracking = await tools.run(
        "get_tracking_info",
        TicketCall(params=TrackingParams(order_id="9002"), platforms=SKIO_SHOP),
    )
    assert tracking.tracking_number == "9400100000000000009002"
