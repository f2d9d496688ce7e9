"""BigCommerce's contract, per operation the connector uses, checked on real traffic.

Source of truth: BigCommerce's OpenAPI files in its public docs repository
(github.com/bigcommerce/docs, ``reference/orders.v2.oas2.yml`` "Orders V2",
``reference/orders.v3.yml`` (refund quotes, refunds), ``reference/marketing.v2.yml``
(coupons); read at commit 24f580ca, the files carry no version number). The fields below
are written from those files in our own words: what each request may and must carry, with
its types, and the response fields the connector reads. Every check runs on the request the
connector really sent and the answer the emulator really gave (the sandbox's request log).

Where the files are silent (error bodies of most v2 operations, 401s, what a PUT naming a
read-only field gets), the connector's docstring says so with ⚠.
"""

from __future__ import annotations

from typing import Any

import pytest

from activities.platforms.base import NotFound, PlatformRejected
from activities.platforms.bigcommerce import BigCommerceConnector
from tests.platforms.contracts.shapes import (
    BOOL,
    INT,
    MONEY_STRING,
    NUMBER,
    STR,
    Shape,
    any_of,
    assert_all,
    list_of,
    one_of,
    problems,
    rfc2822,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

# --- v2 orders (orders.v2.oas2.yml) ---------------------------------------------------------

# The order as the connector reads it: ids are integers, money is a decimal string, dates
# are RFC 2822, payment_status one of the documented values.
ORDER = Shape(
    required={
        "id": INT,
        "status_id": INT,
        "status": STR,
        "date_created": rfc2822,
        "subtotal_inc_tax": MONEY_STRING,
        "total_inc_tax": MONEY_STRING,
        "discount_amount": MONEY_STRING,
        "shipping_cost_inc_tax": MONEY_STRING,
        "refunded_amount": MONEY_STRING,
        "currency_code": STR,
        "payment_status": one_of(
            "authorized",
            "captured",
            "capture pending",
            "declined",
            "held for review",
            "paid",
            "partially refunded",
            "pending",
            "refunded",
            "void",
            "void pending",
            "",
        ),
        "billing_address": Shape(required={"email": STR}),
    }
)

# A line of the order: its own id (what a PUT or a refund names) and the catalog product id.
ORDER_PRODUCT = Shape(
    required={
        "id": INT,
        "product_id": INT,
        "name": STR,
        "quantity": INT,
        "price_inc_tax": MONEY_STRING,
    },
    optional={"sku": STR, "quantity_refunded": INT},
)

SHIPPING_ADDRESS = Shape(
    required={
        "id": INT,
        "first_name": STR,
        "last_name": STR,
        "street_1": STR,
        "city": STR,
        "zip": STR,
    },
    optional={"street_2": STR, "state": STR, "country_iso2": STR, "shipping_method": STR},
)

SHIPMENT = Shape(optional={"tracking_number": STR, "tracking_carrier": STR})

# PUT v2/orders/{id}: every field optional; the ones the connector writes. Money is declared
# a string; payment_status is read-only and absent from the writable fields. In `products`
# an entry without `id` adds a line (catalog product and quantity), `{id, quantity: 0}`
# removes one.
ADD_LINE = Shape(required={"product_id": INT, "quantity": INT}, closed=True)
REMOVE_LINE = Shape(required={"id": INT, "quantity": one_of(0)}, closed=True)
ORDER_PUT = Shape(
    optional={
        "status_id": one_of(*range(15)),
        "staff_notes": STR,
        "discount_amount": MONEY_STRING,
        "shipping_cost_inc_tax": MONEY_STRING,
        "products": list_of(any_of(REMOVE_LINE, ADD_LINE), min_items=1),
    },
    closed=True,
)
ADDRESS_PUT = Shape(optional={"shipping_method": STR}, closed=True)

# v2 errors: a list of {status, message}.
V2_ERROR = list_of(Shape(required={"status": INT, "message": STR}), min_items=1)

# --- coupons (marketing.v2.yml) -------------------------------------------------------------

# name (unique, up to 100), code (unique, up to 50: letters, digits, space, _ and -), type,
# amount (a string) and applies_to are required; expires is an RFC 2822 date.
COUPON_POST = Shape(
    required={
        "name": STR,
        "code": STR,
        "type": one_of(
            "per_item_discount",
            "per_total_discount",
            "shipping_discount",
            "free_shipping",
            "percentage_discount",
            "promotion",
        ),
        "amount": MONEY_STRING,
        "applies_to": Shape(
            required={"entity": one_of("categories", "products"), "ids": list_of(INT)},
            closed=True,
        ),
    },
    optional={
        "expires": rfc2822,
        "max_uses": INT,
        "max_uses_per_customer": INT,
        "enabled": BOOL,
    },
    closed=True,
)
COUPON = Shape(required={"id": INT, "code": STR, "amount": MONEY_STRING}, optional={"expires": STR})

# --- refunds (orders.v3.yml) ----------------------------------------------------------------


# One item to refund: PRODUCT by order-product id and quantity; SHIPPING/HANDLING by
# address id and amount; ORDER by order id and amount. `reason` (up to 1000) is per item.
def _reason(value: Any, path: str) -> list[str]:
    if isinstance(value, str) and len(value) <= 1000:
        return []
    return [f"{path}: a reason is a string of at most 1000 characters"]


QUANTITY_ITEM = Shape(
    required={"item_type": one_of("PRODUCT", "GIFT_WRAPPING"), "item_id": INT, "quantity": INT},
    optional={"reason": _reason},
    closed=True,
)
AMOUNT_ITEM = Shape(
    required={
        "item_type": one_of("ORDER", "SHIPPING", "HANDLING", "TAX", "FEE"),
        "item_id": INT,
        "amount": NUMBER,
    },
    optional={"reason": _reason},
    closed=True,
)
REFUND_ITEM = any_of(QUANTITY_ITEM, AMOUNT_ITEM)
QUOTE_POST = Shape(required={"items": list_of(REFUND_ITEM, min_items=1)}, closed=True)
PAYMENT = Shape(
    required={"provider_id": STR, "amount": NUMBER},
    optional={"offline": BOOL},
    closed=True,
)
# No top-level reason: items and payments only (and the override we never send).
REFUND_POST = Shape(
    required={
        "items": list_of(REFUND_ITEM, min_items=1),
        "payments": list_of(PAYMENT, min_items=1),
    },
    closed=True,
)
PAYMENT_OPTION = Shape(required={"provider_id": STR, "amount": NUMBER, "offline": BOOL})
QUOTE = Shape(
    required={
        "data": Shape(
            required={
                "order_id": INT,
                "total_refund_amount": NUMBER,
                "refund_methods": list_of(list_of(PAYMENT_OPTION, min_items=1)),
            }
        )
    }
)
REFUND = Shape(
    required={
        "id": INT,
        "order_id": INT,
        "total_amount": NUMBER,
        "items": list_of(
            Shape(required={"item_type": STR, "item_id": INT}, optional={"reason": STR})
        ),
        "payments": list_of(Shape(required={"provider_id": STR, "amount": NUMBER})),
    }
)
REFUND_ANSWER = Shape(required={"data": REFUND})
REFUND_LIST = Shape(required={"data": list_of(REFUND)})
# The refund endpoint's 422: a data list of {status, title, type}. Other v3 errors:
# {status, title, type, errors}.
REFUND_ERROR = Shape(
    required={
        "data": list_of(Shape(required={"status": INT, "title": STR, "type": STR}), min_items=1)
    }
)
V3_ERROR = Shape(required={"status": INT, "title": STR, "type": STR})


@pytest.fixture
async def bigcommerce(sandbox_settings: Settings):
    connector = BigCommerceConnector(sandbox_settings.bigcommerce)
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path_end: str) -> list[dict]:
    return [r for r in sandbox.requests("bigcommerce", method) if r["path"].endswith(path_end)]


async def test_order_reads(bigcommerce: BigCommerceConnector, sandbox: SandboxControl) -> None:
    for number in ("5001", "5002"):
        await bigcommerce.get_order(number)
    assert_all(ORDER, [r["response"] for r in traffic(sandbox, "GET", "/v2/orders/5001")])
    products = [r["response"] for r in traffic(sandbox, "GET", "/products")]
    assert_all(list_of(ORDER_PRODUCT, min_items=1), products)
    addresses = [r["response"] for r in traffic(sandbox, "GET", "/shipping_addresses")]
    assert_all(list_of(SHIPPING_ADDRESS, min_items=1), addresses)
    shipments = [r["response"] for r in traffic(sandbox, "GET", "/shipments")]
    assert_all(list_of(SHIPMENT), shipments)
    assert all(
        r["headers"].get("accept") == "application/json" for r in sandbox.requests("bigcommerce")
    )


async def test_order_writes(bigcommerce: BigCommerceConnector, sandbox: SandboxControl) -> None:
    sandbox.client.put(
        "/bigcommerce/stores/sandboxstore/v2/orders/5001",
        json={"status_id": 7},
        headers={"X-Auth-Token": "sandbox-bigcommerce-token"},
    )  # awaiting payment, so mark_paid writes
    await bigcommerce.mark_paid("5001", "k0")
    await bigcommerce.set_discount("5001", 10, "k1")
    await bigcommerce.upgrade_shipping("5001", "Express", "k2")
    await bigcommerce.swap_product("5001", "111", "112", "k3")
    await bigcommerce.cancel_order("5001", "changed my mind", "k4")
    puts = traffic(sandbox, "PUT", "/v2/orders/5001")[1:]  # (the arrangement above first)
    assert len(puts) == 5
    assert_all(ORDER_PUT, [r["body"] for r in puts])
    assert_all(ORDER, [r["response"] for r in puts])
    assert all(r["status"] == 200 for r in puts)
    address = traffic(sandbox, "PUT", "/shipping_addresses/1")
    assert_all(ADDRESS_PUT, [r["body"] for r in address])
    assert_all(SHIPPING_ADDRESS, [r["response"] for r in address])


async def test_coupons(bigcommerce: BigCommerceConnector, sandbox: SandboxControl) -> None:
    await bigcommerce.create_coupon("alex@example.com", 15, "wf-1/step-4")
    await bigcommerce.create_coupon("alex@example.com", 15, "wf-2/step-4")
    (lookup, _) = traffic(sandbox, "GET", "/v2/coupons")
    assert set(lookup["query"]) == {"code"}
    created = traffic(sandbox, "POST", "/v2/coupons")
    assert_all(COUPON_POST, [r["body"] for r in created])
    assert_all(COUPON, [r["response"] for r in created])
    names = [r["body"]["name"] for r in created]
    assert len(set(names)) == 2 and all(len(n) <= 100 for n in names)  # names are unique
    assert all(len(r["body"]["code"]) <= 50 for r in created)


async def test_refunds_full_and_partial(
    bigcommerce: BigCommerceConnector, sandbox: SandboxControl
) -> None:
    await bigcommerce.refund("5002", None, "lost parcel", "wf-2/step-5")
    await bigcommerce.refund("5001", 20.0, "late", "wf-1/step-5")
    await bigcommerce.refund("5001", None, None, "wf-1/step-6")  # what is left, one amount
    quotes = traffic(sandbox, "POST", "/payment_actions/refund_quotes")
    assert_all(QUOTE_POST, [r["body"] for r in quotes])
    assert_all(QUOTE, [r["response"] for r in quotes])
    assert all(r["status"] == 201 for r in quotes)
    made = traffic(sandbox, "POST", "/payment_actions/refunds")
    assert len(made) == 3
    assert_all(REFUND_POST, [r["body"] for r in made])
    assert_all(REFUND_ANSWER, [r["response"] for r in made])
    assert all(r["status"] == 201 for r in made)
    listed = traffic(sandbox, "GET", "/payment_actions/refunds")
    assert_all(REFUND_LIST, [r["response"] for r in listed])


async def test_error_bodies(bigcommerce: BigCommerceConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(NotFound):
        await bigcommerce.get_order("999999")
    with pytest.raises(PlatformRejected):
        await bigcommerce.refund("5002", 100.0, None, "k")
    with pytest.raises(PlatformRejected):
        await bigcommerce.request(
            "POST",
            f"{bigcommerce.store}/v3/orders/5002/payment_actions/refunds",
            json={"items": [{"item_type": "ORDER", "item_id": 5002, "amount": 1.0}]},
        )
    (missing,) = traffic(sandbox, "GET", "/v2/orders/999999")
    assert missing["status"] == 404 and not problems(V2_ERROR, missing["response"])
    (quote,) = traffic(sandbox, "POST", "/refund_quotes")
    assert quote["status"] == 422 and not problems(V3_ERROR, quote["response"])
    (refund,) = traffic(sandbox, "POST", "/payment_actions/refunds")
    assert refund["status"] == 422 and not problems(REFUND_ERROR, refund["response"])


def test_the_vocabulary_sees_drift() -> None:
    """The shapes are not vacuous: the request the connector sent before issue 19 fails."""
    old_refund = {
        "reason": "x [ticketflow:k]",
        "payments": [{"provider_id": "storecredit", "amount": 45.0, "offline": False}],
    }
    assert "$.items: required, missing" in problems(REFUND_POST, old_refund)
    assert "$.reason: not a documented field" in problems(REFUND_POST, old_refund)
    assert problems(ORDER_PUT, {"discount_amount": 8.0})
    assert problems(ORDER_PUT, {"payment_status": "captured"})
    old_swap = {"products": [{"product_id": 112, "quantity": 2, "price_inc_tax": 40.0}]}
    assert problems(ORDER_PUT, old_swap)
