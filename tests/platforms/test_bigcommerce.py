"""BigCommerce connector against its emulator, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

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
from activities.platforms.bigcommerce import BigCommerceConnector
from activities.platforms.config import PlatformSettings
from tests.sandbox_fixtures import SandboxControl


@pytest.fixture
async def bigcommerce(platform_settings: PlatformSettings):
    connector = BigCommerceConnector(platform_settings.bigcommerce)
    yield connector
    await connector.aclose()


def side_effects(sandbox: SandboxControl, operation: str | None = None) -> list[dict]:
    return sandbox.side_effects("bigcommerce", operation)


def test_raw_curl_shape(sandbox: SandboxControl) -> None:
    """The issue's acceptance call: seeded order with the token, real 401 shape without."""
    path = "/bigcommerce/stores/sandboxstore/v2/orders/5001"
    ok = sandbox.client.get(path, headers={"X-Auth-Token": "sandbox-bigcommerce-token"})
    assert ok.status_code == 200
    assert ok.json()["status"] == "Awaiting Fulfillment"
    assert ok.json()["total_inc_tax"] == "80.0000"
    denied = sandbox.client.get(path)
    assert denied.status_code == 401
    assert denied.json()["status"] == 401 and "title" in denied.json()


async def test_order_details(bigcommerce: BigCommerceConnector) -> None:
    order = await bigcommerce.get_order("5001")
    assert order.email == "alex@example.com"
    assert order.total == 80.0
    assert order.status == "processing" and order.cancellable
    assert order.items[0].quantity == 2 and order.items[0].product_id == "111"
    shipped = await bigcommerce.get_order("5002")
    assert shipped.status == "shipped" and not shipped.cancellable
    assert shipped.tracking_number == "9400100000000000005002"


async def test_unknown_order_is_not_found(bigcommerce: BigCommerceConnector) -> None:
    with pytest.raises(NotFound) as raised:
        await bigcommerce.get_order("999999")
    assert raised.value.non_retryable and raised.value.type in NON_RETRYABLE_ERROR_TYPES


async def test_wrong_token_is_auth_error(platform_settings: PlatformSettings) -> None:
    settings = platform_settings.bigcommerce.model_copy(update={"access_token": SecretStr("wrong")})
    connector = BigCommerceConnector(settings)
    with pytest.raises(PlatformAuthError) as raised:
        await connector.get_order("5001")
    await connector.aclose()
    assert raised.value.non_retryable and raised.value.status == 401
    assert "wrong" not in str(raised.value)


async def test_rate_limit_then_success(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("bigcommerce", rate_limit_next=1, retry_after=7)
    with pytest.raises(PlatformRateLimited) as raised:
        await bigcommerce.get_order("5001")
    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay == timedelta(seconds=7)
    assert (await bigcommerce.get_order("5001")).id == "5001"


async def test_server_error_then_success(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("bigcommerce", fail_next=1)
    with pytest.raises(PlatformUnavailable) as raised:
        await bigcommerce.get_order("5001")
    assert not raised.value.non_retryable and raised.value.status == 500
    assert (await bigcommerce.get_order("5001")).id == "5001"


async def test_cancel_is_idempotent_and_shipped_is_refused(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    first = await bigcommerce.cancel_order("5001", "customer asked", "wf-1/step-3")
    again = await bigcommerce.cancel_order("5001", "customer asked", "wf-1/step-3")
    assert first.status == again.status == "cancelled"
    assert (await bigcommerce.get_order("5001")).status == "cancelled"
    assert [e["operation"] for e in side_effects(sandbox)] == ["order.update"]
    with pytest.raises(PlatformRejected, match="can no longer be cancelled"):
        await bigcommerce.cancel_order("5002", None, "wf-2/step-3")


async def test_coupon_replay_creates_one_coupon(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    first = await bigcommerce.create_coupon("alex@example.com", 15, "wf-1/step-4")
    again = await bigcommerce.create_coupon("alex@example.com", 15, "wf-1/step-4")
    other = await bigcommerce.create_coupon("alex@example.com", 15, "wf-9/step-4")
    assert first.code == again.code != other.code
    assert first.percent == 15
    creates = side_effects(sandbox, "coupon.create")
    assert [e["idempotency_key"] for e in creates] == ["wf-1/step-4", "wf-9/step-4"]
    coupons = await bigcommerce._json("GET", "/v2/coupons", params={"code": first.code})
    assert coupons[0]["name"] == f"ticketflow 15% {first.code} (wf-1)"


async def test_discount_shipping_swap_paid(bigcommerce: BigCommerceConnector) -> None:
    discount = await bigcommerce.set_discount("5001", 25, "k1")
    assert discount.new_total == 60.0
    assert (await bigcommerce.set_discount("5001", 25, "k1")).new_total == 60.0
    upgraded = await bigcommerce.upgrade_shipping("5001", "Express", "k2")
    assert upgraded.shipping_method == "Express"
    assert (await bigcommerce.get_order("5001")).shipping_method == "Express"
    swap = await bigcommerce.swap_product("5001", "111", "112", "k3")
    assert swap.added_product_id == "112"
    replay = await bigcommerce.swap_product("5001", "111", "112", "k3")
    assert replay.added_product_id == "112"
    assert [i.product_id for i in (await bigcommerce.get_order("5001")).items] == ["112"]
    assert (await bigcommerce.mark_paid("5001", "k4")).paid


async def test_refund_replay_refunds_once(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    first = await bigcommerce.refund("5002", None, "lost parcel", "wf-2/step-5")
    again = await bigcommerce.refund("5002", None, "lost parcel", "wf-2/step-5")
    assert first.refund_id == again.refund_id and first.amount == 45.0
    refunds = side_effects(sandbox, "order.refund")
    assert len(refunds) == 1
    assert (await bigcommerce.get_order("5002")).status == "refunded"


async def test_status_change_emits_order_webhook(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    await bigcommerce.cancel_order("5001", None, "wf-1/step-3")
    hooks = sandbox.webhooks("bigcommerce")
    assert [h["event"] for h in hooks] == ["store/order/statusUpdated"]
    assert '"new_status_id": 5' in hooks[0]["body"]


# What customers type as their order number; none of them can be a BigCommerce order id.
NOT_ORDER_NUMBERS = [
    "ABC-12",
    "#5001x",
    "5001/../5002",
    "",
    "  ",
    "5 001",
    "0",
    "9" * 30,
    "9" * 5000,
]


def assert_not_found_before_any_call(raised: pytest.ExceptionInfo, sandbox: SandboxControl) -> None:
    assert isinstance(raised.value, NotFound)
    assert raised.value.non_retryable and raised.value.type in NON_RETRYABLE_ERROR_TYPES
    assert "not a BigCommerce order number" in str(raised.value)
    assert sandbox.faults_served("bigcommerce")["requests"] == 0


@pytest.mark.parametrize("order_id", NOT_ORDER_NUMBERS)
async def test_order_number_that_cannot_exist_is_not_found_without_a_call(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl, order_id: str
) -> None:
    """Not a retried ValueError: NotFound at once, the customer's text not echoed back."""
    with pytest.raises(NotFound) as raised:
        await bigcommerce.get_order(order_id)
    assert_not_found_before_any_call(raised, sandbox)
    if len(order_id.strip()) > 1:  # ("0" is in the message's example)
        assert order_id not in str(raised.value)


async def test_every_order_write_refuses_a_bad_order_number_before_writing(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    bad = "ABC-12"
    writes = [
        lambda: bigcommerce.cancel_order(bad, "customer asked", "k1"),
        lambda: bigcommerce.refund(bad, None, "lost", "k2"),
        lambda: bigcommerce.set_discount(bad, 10, "k3"),
        lambda: bigcommerce.upgrade_shipping(bad, "Express", "k4"),
        lambda: bigcommerce.swap_product(bad, "111", "112", "k5"),
        lambda: bigcommerce.mark_paid(bad, "k6"),
    ]
    for write in writes:
        with pytest.raises(NotFound) as raised:
            await write()
        assert_not_found_before_any_call(raised, sandbox)
    assert side_effects(sandbox) == []


async def test_order_number_as_the_storefront_shows_it(bigcommerce: BigCommerceConnector) -> None:
    """The storefront writes "Order #5001"; a customer copying it means order 5001."""
    assert (await bigcommerce.get_order("#5001")).id == "5001"
    assert (await bigcommerce.get_order(" 5001 ")).id == "5001"


async def test_swap_to_a_product_id_that_cannot_exist_is_refused_before_writing(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    with pytest.raises(NotFound, match="not a BigCommerce product id") as raised:
        await bigcommerce.swap_product("5001", "111", "Oat Milk", "k1")
    assert raised.value.non_retryable and "Oat Milk" not in str(raised.value)
    assert sandbox.faults_served("bigcommerce")["requests"] == 0
    assert [i.product_id for i in (await bigcommerce.get_order("5001")).items] == ["111"]
