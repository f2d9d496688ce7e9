"""The store / subscription / carrier tool activities against the real sandbox."""

from __future__ import annotations

import pytest

from activities.platforms.base import NotFound, PlatformRejected
from policies.tool_models import (
    CancelOrderParams,
    CreateOrderParams,
    EmailParams,
    OrderIdParams,
    SetDiscountParams,
    SubscriptionIdParams,
    SwapSubscriptionParams,
    TrackingParams,
)
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

STAYAI = ["Stay AI", "Kustomer"]
SKIO = ["Skio", "Zendesk"]
# A Skio shop's store is Shopify (Skio holds no tracking): the policies list it first.
SKIO_SHOP = ["Shopify", "Skio", "Kustomer"]
BIGCOMMERCE = ["BigCommerce", "Zendesk"]


@pytest.fixture
async def tools(sandbox_settings: Settings):
    async with tool_runner(sandbox_settings) as runner:
        yield runner


async def test_generic_tools_resolve_to_the_policy_platform(tools: ToolRunner) -> None:
    bc = await tools.run(
        "get_order_details",
        TicketCall(params=OrderIdParams(order_id="5001"), platforms=BIGCOMMERCE),
    )
    assert bc.platform == "bigcommerce" and bc.email == "alex@example.com"
    stay = await tools.run(
        "get_order_details", TicketCall(params=OrderIdParams(order_id="7001"), platforms=STAYAI)
    )
    assert stay.platform == "stayai" and stay.email == "sam@example.com"
    skio = await tools.run("skio_order_details", TicketCall(params=OrderIdParams(order_id="9001")))
    # Skio documents an order's delivery, not its tracking (that is the store's, Shopify's).
    assert skio.status == "delivered" and skio.delivered_at is not None
    assert skio.tracking_number is None


async def test_reshipment_eligibility_sam_yes_casey_no(tools: ToolRunner) -> None:
    sam = await tools.run(
        "check_reshipment_eligibility",
        TicketCall(params=OrderIdParams(order_id="7001"), platforms=STAYAI),
    )
    casey = await tools.run(
        "check_reshipment_eligibility",
        TicketCall(params=OrderIdParams(order_id="7002"), platforms=STAYAI),
    )
    assert sam.eligible
    assert not casey.eligible and "30 days" in (casey.reason or "")


async def test_reshipment_creates_one_order_paid_and_free(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    original = await tools.run(
        "stayai_order_details", TicketCall(params=OrderIdParams(order_id="7001"))
    )
    assert original.shipping_address is not None
    create = TicketCall(
        params=CreateOrderParams(
            items=original.items, address=original.shipping_address, user_email=original.email
        ),
        platforms=STAYAI,
        idempotency_key="ticket-kustomer-1/n4",
    )
    first = await tools.run("create_stayai_order", create)
    again = await tools.run("create_stayai_order", create)
    assert first.order_id == again.order_id
    assert len(sandbox.side_effects("stayai", "order.create")) == 1
    paid = await tools.run(
        "set_order_to_paid",
        TicketCall(
            params=OrderIdParams(order_id=first.order_id), platforms=STAYAI, idempotency_key="n5"
        ),
    )
    free = await tools.run(
        "set_discount_to_order",
        TicketCall(
            params=SetDiscountParams(order_id=first.order_id, percent=100),
            platforms=STAYAI,
            idempotency_key="n6",
        ),
    )
    assert paid.paid and free.new_total == 0


async def test_side_effects_need_a_key(tools: ToolRunner) -> None:
    with pytest.raises(PlatformRejected, match="idempotency key"):
        await tools.run(
            "cancel_order",
            TicketCall(params=CancelOrderParams(order_id="5001"), platforms=BIGCOMMERCE),
        )


async def test_cancel_shipped_bigcommerce_order_is_refused(tools: ToolRunner) -> None:
    with pytest.raises(PlatformRejected, match="no longer be cancelled"):
        await tools.run(
            "cancel_order",
            TicketCall(
                params=CancelOrderParams(order_id="5002"),
                platforms=BIGCOMMERCE,
                idempotency_key="k",
            ),
        )


async def test_tool_missing_on_platform_is_rejected(tools: ToolRunner) -> None:
    with pytest.raises(PlatformRejected, match="not available on Skio"):
        await tools.run(
            "cancel_order",
            TicketCall(
                params=CancelOrderParams(order_id="9001"), platforms=SKIO, idempotency_key="k"
            ),
        )


async def test_skio_skip_once_and_unknown_subscription(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    subs = await tools.run(
        "get_subscriptions",
        TicketCall(params=EmailParams(email="rio@example.com"), platforms=SKIO),
    )
    rio = subs.subscriptions[0]
    call = TicketCall(
        params=SubscriptionIdParams(subscription_id=rio.id),
        platforms=SKIO,
        idempotency_key="ticket-z-7/n2",
    )
    first = await tools.run("skip_next_shipment", call)
    again = await tools.run("skip_next_shipment", call)
    assert rio.next_shipment_date is not None
    assert first.subscription.next_shipment_date == again.subscription.next_shipment_date
    assert (first.subscription.next_shipment_date - rio.next_shipment_date).days == 30
    assert len(sandbox.side_effects("skio", "skipSubscription")) == 1
    with pytest.raises(NotFound):
        await tools.run(
            "skip_next_shipment",
            TicketCall(
                params=SubscriptionIdParams(subscription_id="sub_nope"),
                platforms=SKIO,
                idempotency_key="k",
            ),
        )


async def test_stayai_restart_and_swap(tools: ToolRunner) -> None:
    restarted = await tools.run(
        "reactivate_subscription",
        TicketCall(
            params=SubscriptionIdParams(subscription_id="sub_max"),
            platforms=STAYAI,
            idempotency_key="k1",
        ),
    )
    assert restarted.subscription.status == "active"
    swapped = await tools.run(
        "swap_subscription_product",
        TicketCall(
            params=SwapSubscriptionParams(
                subscription_id="sub_kim", new_product_id="var_protein_choc"
            ),
            platforms=STAYAI,
            idempotency_key="k2",
        ),
    )
    assert swapped.subscription.product_id == "var_protein_choc"


async def test_tracking_and_claim_for_skio_order(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    tracking = await tools.run(
        "get_tracking_info",
        TicketCall(params=TrackingParams(order_id="9002"), platforms=SKIO_SHOP),
    )
    assert tracking.status == "in_transit" and not tracking.delivered
    call = TicketCall(
        params=OrderIdParams(order_id="9001"), platforms=SKIO_SHOP, idempotency_key="ticket-z-9/n3"
    )
    claim = await tools.run("file_carrier_claim", call)
    replay = await tools.run("file_carrier_claim", call)
    assert claim.claim_id == replay.claim_id and claim.status == "submitted"
    assert len(sandbox.side_effects("easypost", "claim.create")) == 1
