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
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings


@pytest.fixture
async def bigcommerce(sandbox_settings: Settings):
    connector = BigCommerceConnector(sandbox_settings.bigcommerce)
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
    (error,) = denied.json()  # a v2 path answers in the v2 shape
    assert error["status"] == 401 and error["message"]


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


async def test_wrong_token_is_auth_error(sandbox_settings: Settings) -> None:
    settings = sandbox_settings.bigcommerce.model_copy(update={"access_token": SecretStr("wrong")})
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


# --- issue 19: the vendor's contract (bigcommerce/docs reference/orders.v2.oas2.yml and
# orders.v3.yml); contract details per field are in tests/platforms/contracts/ ---------------

STORE = "/bigcommerce/stores/sandboxstore"
TOKEN = {"X-Auth-Token": "sandbox-bigcommerce-token"}


def sent(sandbox: SandboxControl, method: str, path_end: str) -> list[dict]:
    """The requests the emulator received for one operation, oldest first."""
    return [r for r in sandbox.requests("bigcommerce", method) if r["path"].endswith(path_end)]


async def test_full_refund_is_quoted_then_made_per_line_with_the_key_in_item_reasons(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    """A quote first, then the refund of every line (products by quantity, shipping by
    amount) paid as the quote offered; no top-level reason: our key travels in each item's
    documented ``reason`` and is found there on a replay."""
    first = await bigcommerce.refund("5002", None, "lost parcel", "wf-2/step-5")
    assert first.amount == 45.0
    (quote,) = sent(sandbox, "POST", "/payment_actions/refund_quotes")
    (made,) = sent(sandbox, "POST", "/payment_actions/refunds")
    assert "reason" not in made["body"]
    assert made["body"]["items"] == quote["body"]["items"]
    kinds = sorted(
        (i["item_type"], i.get("quantity"), i.get("amount")) for i in made["body"]["items"]
    )
    assert kinds == [("PRODUCT", 1, None), ("SHIPPING", None, 5.0)]
    assert all("[ticketflow:wf-2/step-5]" in i["reason"] for i in made["body"]["items"])
    offered = quote["response"]["data"]["refund_methods"][0]
    assert made["body"]["payments"] == [
        {"provider_id": o["provider_id"], "amount": o["amount"], "offline": o["offline"]}
        for o in offered
    ]
    listed = sandbox.client.get(f"{STORE}/v3/orders/5002/payment_actions/refunds", headers=TOKEN)
    (refund,) = listed.json()["data"]
    assert all("[ticketflow:wf-2/step-5]" in i["reason"] for i in refund["items"])
    again = await bigcommerce.refund("5002", None, "lost parcel", "wf-2/step-5")
    assert again.refund_id == first.refund_id
    assert len(sent(sandbox, "POST", "/payment_actions/refunds")) == 1


async def test_partial_refund_is_one_order_level_amount(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    refund = await bigcommerce.refund("5001", 20.0, None, "wf-1/step-9")
    assert refund.amount == 20.0
    (made,) = sent(sandbox, "POST", "/payment_actions/refunds")
    (item,) = made["body"]["items"]
    assert (item["item_type"], item["item_id"], item["amount"]) == ("ORDER", 5001, 20.0)
    order = await bigcommerce.raw_order("5001")
    assert order["status_id"] == 14 and order["refunded_amount"] == "20.0000"


async def test_refund_over_what_is_left_is_refused_with_bigcommerce_words(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    with pytest.raises(PlatformRejected, match="exceeds") as raised:
        await bigcommerce.refund("5002", 100.0, None, "wf-2/step-6")
    assert raised.value.status == 422
    assert sent(sandbox, "POST", "/payment_actions/refunds") == []


async def test_refund_422_body_is_bigcommerce_data_list_and_its_title_is_read(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    """The refund endpoint answers 422 as ``{data: [{status, title, type}]}``; the
    connector's message is that title, not the HTTP reason phrase."""
    body = {
        "items": [{"item_type": "ORDER", "item_id": 5002, "amount": 10.0}],
        "payments": [{"provider_id": "testgateway", "amount": 99.0, "offline": False}],
    }
    path = f"{bigcommerce.store}/v3/orders/5002/payment_actions/refunds"
    with pytest.raises(PlatformRejected) as raised:
        await bigcommerce.request("POST", path, json=body)
    answer = sent(sandbox, "POST", "/payment_actions/refunds")[0]["response"]
    assert set(answer) == {"data"} and answer["data"][0]["status"] == 422
    assert set(answer["data"][0]) >= {"status", "title", "type"}
    assert answer["data"][0]["title"] in str(raised.value)


async def test_order_writes_send_money_as_strings_and_never_payment_status(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    await bigcommerce.set_discount("5001", 10, "k1")
    await bigcommerce.upgrade_shipping("5001", "Express", "k2")
    await bigcommerce.mark_paid("5001", "k3")
    puts = [r["body"] for r in sent(sandbox, "PUT", "/v2/orders/5001")]
    assert {"discount_amount": "8.0000"} in puts
    assert {"shipping_cost_inc_tax": "0.0000"} in puts
    assert all("payment_status" not in body for body in puts)


def test_payment_status_is_read_only_at_the_emulator(sandbox: SandboxControl) -> None:
    answer = sandbox.client.put(
        f"{STORE}/v2/orders/5001", json={"payment_status": "captured"}, headers=TOKEN
    )
    assert answer.status_code == 400
    assert answer.json()[0]["status"] == 400 and "payment_status" in answer.json()[0]["message"]


def test_products_put_adds_lines_without_id_removes_with_zero_and_drops_discounts(
    sandbox: SandboxControl,
) -> None:
    """BigCommerce's v2 PUT: a line without ``id`` is added, ``{id, quantity: 0}`` removes
    one, and changing products clears the manual discount."""
    order = f"{STORE}/v2/orders/5001"
    sandbox.client.put(order, json={"discount_amount": "8.0000"}, headers=TOKEN)
    added = sandbox.client.put(
        order, json={"products": [{"product_id": 112, "quantity": 1}]}, headers=TOKEN
    )
    assert added.status_code == 200 and added.json()["discount_amount"] == "0.0000"
    lines = sandbox.client.get(f"{order}/products", headers=TOKEN).json()
    assert [(p["product_id"], p["quantity"]) for p in lines] == [(111, 2), (112, 1)]
    old = lines[0]["id"]
    sandbox.client.put(order, json={"products": [{"id": old, "quantity": 0}]}, headers=TOKEN)
    lines = sandbox.client.get(f"{order}/products", headers=TOKEN).json()
    assert [(p["product_id"], p["quantity"]) for p in lines] == [(112, 1)]


async def test_swap_removes_the_old_line_adds_the_new_and_keeps_the_discount(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    await bigcommerce.set_discount("5001", 10, "k1")
    await bigcommerce.swap_product("5001", "111", "112", "k2")
    swap = [r["body"] for r in sent(sandbox, "PUT", "/v2/orders/5001") if "products" in r["body"]]
    (body,) = swap
    removed, added = body["products"]
    assert removed == {"id": 1, "quantity": 0}
    assert added == {"product_id": 112, "quantity": 2}
    order = await bigcommerce.get_order("5001")
    assert [(i.product_id, i.quantity) for i in order.items] == [("112", 2)]
    assert order.total == 72.0  # the 10% manual discount survived the products change
    assert (await bigcommerce.raw_order("5001"))["discount_amount"] == "8.0000"


@pytest.mark.parametrize(
    "path",
    [
        "/v2/orders/99999999999999999999",
        "/v2/orders/9223372036854775808",
        "/v2/orders/abc",
        "/v2/orders/abc/products",
        "/v2/orders/-1/shipments",
    ],
)
def test_v2_order_id_that_cannot_exist_is_404_in_the_v2_shape(
    sandbox: SandboxControl, path: str
) -> None:
    answer = sandbox.client.get(f"{STORE}{path}", headers=TOKEN)
    assert answer.status_code == 404
    assert answer.json() == [{"status": 404, "message": "The requested resource was not found."}]


@pytest.mark.parametrize("order_id", ["abc", "99999999999999999999"])
def test_v3_order_id_that_cannot_exist_is_404_in_the_v3_shape(
    sandbox: SandboxControl, order_id: str
) -> None:
    answer = sandbox.client.get(
        f"{STORE}/v3/orders/{order_id}/payment_actions/refunds", headers=TOKEN
    )
    assert answer.status_code == 404
    assert answer.json()["status"] == 404 and {"title", "type"} <= set(answer.json())


def test_v2_and_v3_say_unauthorized_each_in_their_own_shape(sandbox: SandboxControl) -> None:
    v2 = sandbox.client.get(f"{STORE}/v2/orders/5001")
    assert v2.status_code == 401 and v2.json()[0]["status"] == 401
    assert v2.json()[0]["message"]
    v3 = sandbox.client.get(f"{STORE}/v3/customers")
    assert v3.status_code == 401 and v3.json()["status"] == 401 and v3.json()["title"]


async def test_an_order_refunded_in_full_has_nothing_left_to_refund(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    await bigcommerce.refund("5002", None, None, "wf-2/step-5")
    with pytest.raises(PlatformRejected, match="more than zero"):
        await bigcommerce.refund("5002", None, None, "wf-2/step-7")
    assert len(sent(sandbox, "POST", "/payment_actions/refunds")) == 1


def test_injected_faults_answer_in_the_shape_of_the_path_s_api_version(
    sandbox: SandboxControl,
) -> None:
    sandbox.fault("bigcommerce", fail_next=1)
    v3 = sandbox.client.get(f"{STORE}/v3/orders/5001/payment_actions/refunds", headers=TOKEN)
    assert v3.status_code == 500 and v3.json()["status"] == 500 and v3.json()["title"]
    sandbox.fault("bigcommerce", rate_limit_next=1)
    v2 = sandbox.client.get(f"{STORE}/v2/orders/5001", headers=TOKEN)
    assert v2.status_code == 429 and v2.json()[0]["status"] == 429
    assert v2.headers["X-Rate-Limit-Time-Reset-Ms"]
