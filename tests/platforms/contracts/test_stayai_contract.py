"""Stay AI's contract, per subscription operation the connector uses, checked on real traffic.

Sources, in order of weight (Stay AI publishes no OpenAPI file or client library):

- Stay AI's API reference at docs.stay.ai (API v2, base ``https://api.retextion.com/api/v2``),
  read through its pages' stored text: "Billing Schedule" (skip is
  ``POST /subscriptions/{id}/skip-next-order``), "Authentication" (API keys and scopes), and
  the endpoint index that API Evangelist transcribed from it into
  github.com/api-evangelist/stay-ai (``openapi/_original/stay-ai-openapi.yml``, "Stay AI
  API" version 2.0, read at commit 61fbd745 of 2026-08-22): list and get subscriptions,
  ``cancel {cancellationReasons: [string]}`` answering ``{success}``, ``change-frequency``,
  ``PUT lines/{lineId}``, ``set-shipping-address``, ``GET /orders`` by date window only.
- Integrators' pages that link the reference: DigitalGenius (pause ``{pausedUntil:
  YYYY-MM-DD, initiator: MERCHANT|CUSTOMER}``, swap-line-product inputs), Kodif (cancel
  answers ``{"success": true}``; subscriptions carry ``nextBillingDate``, ``cancelledAt``).
- Code that reads the live API: the Singer tap github.com/StackedAnalytics/tap-stay-ai
  (``tap_stay_ai/schemas/subscriptions.json`` at 419dab07: a listed subscription's fields)
  and a second open-source connector that documents ``page`` from 1 and ``pageSize`` 5 to
  100 and reads ``{data, total}``.

The fields below are written from those in our own words: what each request may and must
carry, and the response fields the connector reads. Every check runs on the request the
connector really sent and the answer the emulator really gave (the sandbox's request log).
What none of them settles (skip's and unpause's answers, the line PUT's body, reactivating a
cancelled subscription, error bodies beyond 401) is marked ⚠ in the connector's docstring.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from activities.platforms.base import NotFound, PlatformAuthError
from activities.platforms.stayai import StayAiConnector
from policies.tool_models import Address, LineItem
from tests.platforms.contracts.shapes import (
    BOOL,
    INT,
    NUMBER,
    STR,
    Shape,
    assert_all,
    kind,
    list_of,
    one_of,
    pattern,
    problems,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

TOKEN = {"X-RETEXTION-ACCESS-TOKEN": "sandbox-stayai-token"}
TIMESTAMP = pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "a timestamp")
NULL_OR_TIMESTAMP = kind(str, type(None), what="timestamp or null")
STATUS = one_of("ACTIVE", "PAUSED", "CANCELLED")

# A subscription line: its own id (what the line PUT names), the Shopify variant, quantity.
LINE = Shape(
    required={"lineId": STR, "shopifyVariantId": STR, "quantity": INT},
    optional={"shopifyProductId": STR, "unitPrice": NUMBER, "subtotalPrice": NUMBER},
)
# A subscription as the connector reads it (an open shape: Stay AI sends many more fields).
SUBSCRIPTION = Shape(
    required={
        "id": STR,
        "status": STATUS,
        "emailAddress": STR,
        "nextBillingDate": NULL_OR_TIMESTAMP,
        "lineItems": list_of(LINE),
    },
    optional={
        "subscriptionId": STR,
        "cancelledAt": NULL_OR_TIMESTAMP,
        "pausedUntil": NULL_OR_TIMESTAMP,
        "orderIntervalUnit": STR,
        "orderIntervalFrequency": INT,
    },
)
SUBSCRIPTION_LIST = Shape(required={"data": list_of(SUBSCRIPTION), "total": INT})


# The list's filters, as sent in the query string (so every value is a string): email,
# status, created/updated windows, page from 1, pageSize 5 to 100.
def _page_size(value: Any, path: str) -> list[str]:
    ok = isinstance(value, str) and value.isdigit() and 5 <= int(value) <= 100
    return [] if ok else [f"{path}: pageSize is 5 to 100, got {value!r}"]


LIST_QUERY = Shape(
    optional={
        "email": STR,
        "status": STATUS,
        "page": pattern(r"[1-9]\d*", "a page number from 1"),
        "pageSize": _page_size,
        "createdAtMin": pattern(r"\d+", "a timestamp in milliseconds"),
        "createdAtMax": pattern(r"\d+", "a timestamp in milliseconds"),
    },
    closed=True,
)
# Cancel: an optional list of reason strings, nothing else; the answer is {success}.
CANCEL_POST = Shape(optional={"cancellationReasons": list_of(STR, min_items=1)}, closed=True)
SUCCESS = Shape(required={"success": BOOL})
# Skip and unpause take no documented body (⚠ what they answer).
NO_BODY = Shape(closed=True)
# Pause (used by the tests to arrange a paused subscription): a date, optionally who asked.
PAUSE_POST = Shape(
    required={"pausedUntil": pattern(r"\d{4}-\d\d-\d\d", "a YYYY-MM-DD date")},
    optional={"initiator": one_of("MERCHANT", "CUSTOMER")},
    closed=True,
)
# The line PUT: the path is documented, its body is not (⚠): the new variant only.
LINE_PUT = Shape(required={"variantId": STR}, optional={"quantity": INT}, closed=True)
ERROR = Shape(required={"message": STR})


@pytest.fixture
async def stay(sandbox_settings: Settings):
    connector = StayAiConnector(sandbox_settings.stayai)
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path_end: str) -> list[dict]:
    return [r for r in sandbox.requests("stayai", method) if r["path"].endswith(path_end)]


async def test_subscription_reads(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    (listed,) = await stay.list_subscriptions("sam@example.com")
    one = await stay.get_subscription("sub_sam")
    assert listed == one and one.email == "sam@example.com"
    assert one.next_shipment_date is not None and one.product_id == "var_greens_30"
    (lookup,) = traffic(sandbox, "GET", "/subscriptions")
    assert_all(LIST_QUERY, [lookup["query"]])
    assert lookup["query"]["email"] == "sam@example.com"  # a filter, never a path segment
    assert_all(SUBSCRIPTION_LIST, [lookup["response"]])
    assert_all(SUBSCRIPTION, [r["response"] for r in traffic(sandbox, "GET", "/sub_sam")])
    assert all("@" not in r["path"] for r in sandbox.requests("stayai"))


async def test_cancel(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    done = await stay.cancel("sub_sam", "wf-1/n3")
    assert done.status == "cancelled"
    (posted,) = traffic(sandbox, "POST", "/subscriptions/sub_sam/cancel")
    assert_all(CANCEL_POST, [posted["body"]])
    assert posted["status"] == 200
    assert_all(SUCCESS, [posted["response"]])
    after = traffic(sandbox, "GET", "/subscriptions/sub_sam")[-1]["response"]
    assert after["status"] == "CANCELLED" and after["cancelledAt"]


async def test_skip_next_order(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    before = await stay.get_subscription("sub_sam")
    skipped = await stay.skip_next("sub_sam", "wf-1/n4")
    assert before.next_shipment_date and skipped.next_shipment_date
    assert skipped.next_shipment_date > before.next_shipment_date
    (posted,) = traffic(sandbox, "POST", "/subscriptions/sub_sam/skip-next-order")
    assert_all(NO_BODY, [posted["body"]])
    assert posted["status"] == 200
    assert_all(SUCCESS, [posted["response"]])


async def test_reactivate_unpauses_a_paused_subscription(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    paused = sandbox.client.post(
        "/stayai/subscriptions/sub_kim/pause",
        json={"pausedUntil": "2027-01-31", "initiator": "CUSTOMER"},
        headers=TOKEN,
    )
    assert paused.status_code == 200 and paused.json() == {"success": True}
    assert (await stay.get_subscription("sub_kim")).status == "paused"
    back = await stay.reactivate("sub_kim", "wf-2/n4")
    assert back.status == "active"
    (pause,) = traffic(sandbox, "POST", "/subscriptions/sub_kim/pause")
    assert_all(PAUSE_POST, [pause["body"]])
    (unpause,) = traffic(sandbox, "POST", "/subscriptions/sub_kim/unpause")
    assert_all(NO_BODY, [unpause["body"]])
    assert_all(SUCCESS, [unpause["response"]])
    assert traffic(sandbox, "POST", "/reactivate") == []


async def test_reactivate_a_cancelled_subscription(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    back = await stay.reactivate("sub_max", "wf-3/n4")  # ⚠ path: not in the reference
    assert back.status == "active" and back.next_shipment_date is not None
    (posted,) = traffic(sandbox, "POST", "/subscriptions/sub_max/reactivate")
    assert_all(NO_BODY, [posted["body"]])
    assert traffic(sandbox, "POST", "/unpause") == []


async def test_swap_updates_the_line(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    swapped = await stay.swap("sub_kim", "var_protein_choc", "wf-4/n4")
    assert swapped.product_id == "var_protein_choc"
    (read,) = traffic(sandbox, "GET", "/subscriptions/sub_kim")[:1]
    line_id = read["response"]["lineItems"][0]["lineId"]
    (put,) = traffic(sandbox, "PUT", f"/subscriptions/sub_kim/lines/{line_id}")
    assert_all(LINE_PUT, [put["body"]])
    assert put["status"] == 200


async def test_error_bodies(
    stay: StayAiConnector, sandbox: SandboxControl, sandbox_settings: Settings
) -> None:
    with pytest.raises(NotFound):
        await stay.get_subscription("sub_nope")
    (missing,) = traffic(sandbox, "GET", "/subscriptions/sub_nope")
    assert missing["status"] == 404 and not problems(ERROR, missing["response"])
    other = StayAiConnector(
        sandbox_settings.stayai.model_copy(update={"access_token": SecretStr("x")})
    )
    with pytest.raises(PlatformAuthError):
        await other.list_subscriptions("sam@example.com")
    await other.aclose()
    unauthorized = traffic(sandbox, "GET", "/subscriptions")[-1]
    assert unauthorized["status"] == 401 and not problems(ERROR, unauthorized["response"])


def test_reads_the_contract_shaped_answer_too(stay: StayAiConnector) -> None:
    """⚠ Code that reads ``GET /subscriptions/{id}`` on the live API finds Shopify contract
    fields there (``customer``, ``lines``, ``billingPolicy``, ``nextBillingDate``), not the
    listed ones; the emulator does not answer so, the reader copes with both."""
    line = {
        "id": "gid://shopify/SubscriptionLine/7a25",
        "variantId": "gid://shopify/ProductVariant/3996",
        "title": "Daily Greens, 30 servings",
        "quantity": 2,
    }
    contract = {
        "id": "gid://shopify/SubscriptionContract/101",
        "status": "ACTIVE",
        "customer": {"email": "sam@example.com"},
        "billingPolicy": {"interval": "WEEK", "intervalCount": 1},
        "nextBillingDate": "2027-01-01T00:00:00Z",
    }
    for lines in ([line], {"nodes": [line]}, {"edges": [{"node": line}]}):
        read = stay._subscription({**contract, "lines": lines})
        assert (read.email, read.product_id, read.quantity, read.interval) == (
            "sam@example.com",
            "gid://shopify/ProductVariant/3996",
            2,
            "weekly",
        )


# --- beyond Stay AI's reference (⚠) ---------------------------------------------------------
# Stay AI's orders API lists recurring orders by date window and creates a subscription's next
# order; it has no single-order read, order creation, payment, discount, cancellation,
# discount codes or address ids. What the connector uses there is ours (the connector's
# docstring says so); these shapes pin it, so a change to either side is a deliberate one.

NULLABLE_STR = kind(str, type(None), what="string or null")
ORDER = Shape(
    required={
        "id": STR,
        "status": one_of("UNFULFILLED", "FULFILLED", "CANCELLED"),
        "customer": Shape(required={"email": STR}),
        "totalPrice": NUMBER,
        "createdAt": TIMESTAMP,
        "lineItems": list_of(Shape(required={"quantity": INT}, optional={"price": NUMBER})),
    },
    optional={
        "financialStatus": one_of("PENDING", "PAID", "REFUNDED", "VOIDED"),
        "deliveredAt": NULL_OR_TIMESTAMP,
        "trackingNumber": NULLABLE_STR,
        "carrier": NULLABLE_STR,
    },
)
ADDRESS = Shape(
    required={"address1": STR, "city": STR, "zip": STR, "countryCode": STR},
    optional={"name": NULLABLE_STR, "address2": NULLABLE_STR, "province": NULLABLE_STR},
    closed=True,
)
ORDER_POST = Shape(
    required={
        "email": STR,
        "lineItems": list_of(
            Shape(
                required={"variantId": STR, "quantity": INT},
                optional={"title": STR, "price": NUMBER},
                closed=True,
            ),
            min_items=1,
        ),
        "shippingAddress": ADDRESS,
    },
    optional={"note": STR},
    closed=True,
)
DISCOUNT_POST = Shape(required={"percent": INT}, closed=True)
ORDER_CANCEL_POST = Shape(optional={"reason": STR}, closed=True)
CODE_POST = Shape(
    required={"code": STR, "percentage": INT},
    optional={"customerEmail": STR, "usageLimit": INT, "expiresAt": TIMESTAMP},
    closed=True,
)
CODE = Shape(required={"code": STR, "percentage": INT}, optional={"expiresAt": NULL_OR_TIMESTAMP})


async def test_order_operations_beyond_the_reference(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    address = Address(line1="5 Beacon St", city="Boston", region="MA", postal_code="02108")
    item = LineItem(sku="var_greens_30", name="Daily Greens", price=45.0)
    made = await stay.create_replacement("sam@example.com", [item], address, "wf-9/n8")
    await stay.get_order("7001")
    await stay.cancel_order("7003", "changed my mind", "wf-9/n5")
    await stay.create_coupon("sam@example.com", 20, "wf-9/n7")
    await stay.update_address("addr_sam", address, "wf-9/n6")
    (created,) = traffic(sandbox, "POST", "/orders")
    assert_all(ORDER_POST, [created["body"]])
    assert created["status"] == 201
    assert_all(NO_BODY, [r["body"] for r in traffic(sandbox, "POST", "/mark-paid")])
    assert_all(DISCOUNT_POST, [r["body"] for r in traffic(sandbox, "POST", "/discount")])
    assert_all(ORDER_CANCEL_POST, [r["body"] for r in traffic(sandbox, "POST", "/7003/cancel")])
    writes = [created, *traffic(sandbox, "POST", f"/orders/{made.order_id}/discount")]
    reads = [r for r in sandbox.requests("stayai", "GET") if "/orders/" in r["path"]]
    assert_all(ORDER, [r["response"] for r in [*writes, *reads]])
    (code,) = traffic(sandbox, "POST", "/discount-codes")
    assert_all(CODE_POST, [code["body"]])
    assert_all(CODE, [code["response"]])
    (moved,) = traffic(sandbox, "PUT", "/addresses/addr_sam")
    assert_all(ADDRESS, [moved["body"]])


def test_the_vocabulary_sees_drift() -> None:
    """The shapes are not vacuous: what the connector and emulator used before fails."""
    old = {
        "id": "sub_sam",
        "customer": {"email": "sam@example.com"},
        "status": "ACTIVE",
        "nextOrderDate": "2027-01-01T00:00:00Z",
        "lineItems": [{"id": "line_1", "variantId": "var_greens_30", "quantity": 1}],
    }
    found = problems(SUBSCRIPTION, old)
    assert "$.emailAddress: required, missing" in found
    assert "$.nextBillingDate: required, missing" in found
    assert "$.lineItems[0].lineId: required, missing" in found
    assert problems(SUCCESS, old)  # a cancel answers {success}, not the subscription
    assert problems(LIST_QUERY, {"email": "a@b.c", "pageSize": "500"})
    assert problems(CANCEL_POST, {"reason": "x"})
