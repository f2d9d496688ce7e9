"""Shopify connector (Admin GraphQL): orders, cancellations, refunds, discount codes and
free replacement orders.

Auth: ``X-Shopify-Access-Token`` on ``POST {base_url}/admin/api/{api_version}/graphql.json``
(real base URL ``https://{shop}.myshopify.com``). A bad token is HTTP 401 with
``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
GraphQL errors come as ``errors[]`` with ``extensions.code``; ``THROTTLED`` (the cost bucket
is empty) becomes ``PlatformRateLimited`` whose retry delay is computed from
``extensions.cost`` (``(requestedQueryCost - currentlyAvailable) / restoreRate``). Mutation
``userErrors`` (``orderCancelUserErrors`` for ``orderCancel``) become ``PlatformRejected``
with Shopify's message. ``order(id:)`` answering ``null`` becomes ``NotFound``.

Order ids: a number (``6001``) or a GID (``gid://shopify/Order/6001``) is read with
``order(id:)``; anything else (``#1001``, the name a customer quotes) is searched with
``orders(query: "name:…")`` (quotes escaped, so the text stays one value). An empty id, or a
GID that is not an order's, is ``NotFound`` before any call. ``OrderDetails.id`` is always
the numeric id.

Exactly once. Shopify takes no idempotency key on ``orderCancel`` or
``discountCodeBasicCreate`` (⚠), so those look before they write: a cancelled order
(``cancelledAt`` set) is a no-op success, and a coupon's code is derived from the key and
looked up with ``codeDiscountNodeByCode`` first. ``refundCreate`` carries Shopify's
``@idempotent(key:)`` directive (API 2026-01 and later) with a UUID derived from the key, and
the key is also written into the refund note and looked for before refunding. The key is
also sent as ``Idempotency-Key`` (ignored by Shopify, recorded by the sandbox).

``orderCreate`` (a free replacement, ``@create_replacement_order``) looks before it writes
too: the key is written into the order's ``note`` and the customer's latest orders are
searched for it first.

``orderCancel`` is asynchronous: it answers a ``job {id, done}``; ``done: false`` means
accepted, and the order shows ``cancelledAt`` once the job has run.

Checked against Shopify's Admin API schema for 2026-01 (introspection as shipped in the npm
package ``@shopify/dev-mcp`` 1.16.0; ``tests/platforms/contracts/test_shopify_contract.py``
validates every document and its variables against it): every field, argument, input field
and enum value used here exists and none is deprecated; ``orderCancel`` takes
``refundMethod: {originalPaymentMethodsRefund}`` (``refund: Boolean`` is deprecated) and a
``staffNote`` of at most 255 characters (the reason is cut to fit, our key kept whole);
``discountCodeBasicCreate`` needs ``code``, ``context``, ``customerGets``, ``startsAt`` and
``title`` (``customerSelection`` is deprecated) with a percentage between 0 and 1;
``refundCreate`` takes ``@idempotent(key: String!)``; ``orders(query:)`` documents the
``email`` and ``name`` filters; ``orderCreate(order, options)`` as sent.

⚠ Unconfirmed, kept in step with ``sandbox/shopify.py`` (the schema does not say):
- whether a throttled request is HTTP 200 or 429 (both are handled);
- fulfilled orders are refused here before calling (the REST API refuses them since 2018;
  the GraphQL behaviour is unconfirmed), and the wording of Shopify's ``userErrors``;
- a retry while a cancel job is still queued may get a user error from real Shopify;
- quoting in the search syntax (``email:"…"`` / ``name:"…"``): the filters are documented,
  the treatment of quotes and backslashes is not;
- the coupon is single-use (``usageLimit: 1``), not restricted to the customer;
- ``@idempotent(key:)`` accepting a UUID-shaped key (Shopify recommends UUIDs);
- a replacement sent as custom line items (the original title and SKU at a price of 0,
  ``financialStatus: PAID``, tagged ``ticketflow, replacement``): the order details carry no
  variant id to reorder by, so inventory is not decremented by variant; whether
  ``orderCreate`` honours ``@idempotent`` (not relied on).
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from activities.platforms.base import (
    DEFAULT_RETRY_AFTER,
    NotFound,
    PlatformConnector,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    graphql_error,
    promotion_code,
    promotion_title,
)
from activities.platforms.roles import StoreOperations
from policies.tool_models import (
    Address,
    CouponIssued,
    LineItem,
    OrderCancelled,
    OrderCreated,
    OrderDetails,
    RefundIssued,
)
from ticketflow.settings import ShopifySettings

MONEY = "shopMoney { amount currencyCode }"
ORDER_FIELDS = (
    "id name email note createdAt cancelledAt displayFinancialStatus displayFulfillmentStatus"
    f" totalPriceSet {{ {MONEY} }} totalRefundedSet {{ {MONEY} }}"
    " lineItems(first: 10) { nodes { title sku quantity"
    f" originalUnitPriceSet {{ {MONEY} }} product {{ id }} variant {{ id }} }} }}"
    " shippingAddress { name address1 address2 city provinceCode zip countryCodeV2 }"
    " shippingLine { title }"
    " fulfillments(first: 2) { status displayStatus deliveredAt"
    " trackingInfo(first: 1) { number company } }"
    f" transactions(first: 5) {{ id kind status gateway amountSet {{ {MONEY} }} }}"
    f" refunds(first: 5) {{ id note totalRefundedSet {{ {MONEY} }} }}"
)
DISCOUNT_FIELDS = (
    "id codeDiscount { ... on DiscountCodeBasic { title endsAt"
    " codes(first: 1) { nodes { code } }"
    " customerGets { value { ... on DiscountPercentage { percentage } } } } }"
)
# Fulfillment states in which nothing has left the warehouse yet.
NOT_FULFILLED = {"UNFULFILLED", "ON_HOLD", "SCHEDULED", "OPEN", "PENDING_FULFILLMENT"}
PAID = {"PAID", "PARTIALLY_REFUNDED", "PARTIALLY_PAID"}
REFUNDABLE_FROM = {"SALE", "CAPTURE"}


ORDER_GID = re.compile(r"gid://shopify/Order/[0-9]+")


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def search_term(field: str, value: str) -> str:
    """``field:"value"`` in Shopify's search syntax with quotes and backslashes escaped, so
    what a customer typed stays one value and cannot add terms (``#1001" OR name:"#1002``)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}:"{escaped}"'


STAFF_NOTE_MAX = 255  # orderCancel(staffNote:), as the Admin schema describes the argument


def staff_note(reason: str | None, idempotency_key: str) -> str:
    """``orderCancel``'s staff note: the reason, cut so that the note stays within 255
    characters with our key whole at its end."""
    marker = f" [ticketflow:{idempotency_key}]"
    text = f"Cancelled by ticketflow: {(reason or 'customer request').strip()}"
    room = STAFF_NOTE_MAX - len(marker)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return (text + marker)[-STAFF_NOTE_MAX:]


def numeric_id(gid: str) -> str:
    """``gid://shopify/Order/6001`` -> ``6001``."""
    return gid.rsplit("/", 1)[-1]


def idempotent_key(idempotency_key: str) -> str:
    """The UUID sent in ``@idempotent(key:)``: derived from ticketflow's key, so stable."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ticketflow:{idempotency_key}"))


def _money(bag: dict[str, Any] | None) -> float:
    return round(float(((bag or {}).get("shopMoney") or {}).get("amount") or 0), 2)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def throttle_delay(body: Any) -> timedelta | None:
    """How long until the cost bucket holds the requested cost, from ``extensions.cost``."""
    if not isinstance(body, dict):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return None
    if rate <= 0:
        return None
    return timedelta(seconds=max(1, math.ceil(missing / rate)))


class ShopifyConnector(PlatformConnector, StoreOperations):
    platform = "shopify"

    def __init__(self, settings: ShopifySettings) -> None:
        if not settings.base_url:
            raise ValueError("Shopify needs base_url, e.g. https://{shop}.myshopify.com")
        super().__init__(settings.base_url)
        self._token = settings.access_token
        self.path = f"/admin/api/{settings.api_version}/graphql.json"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self._token.get_secret_value()}

    def retry_after(self, response: httpx.Response) -> timedelta | None:
        delay = super().retry_after(response)
        if delay is None:
            try:
                delay = throttle_delay(response.json())
            except ValueError:
                return None
        return delay

    async def graphql(
        self, query: str, variables: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        response = await self.request(
            "POST",
            self.path,
            json={"query": query, "variables": variables},
            idempotency_key=idempotency_key,
        )
        body = response.json()
        if body.get("errors"):
            raise self._graphql_error(body)
        return dict(body["data"])

    def _graphql_error(self, body: dict[str, Any]) -> PlatformError:
        error = graphql_error(self.platform, body["errors"])
        if isinstance(error, PlatformRateLimited):  # THROTTLED: wait until the bucket refills
            return PlatformRateLimited(
                error.platform_message,
                platform=self.platform,
                next_retry_delay=throttle_delay(body) or DEFAULT_RETRY_AFTER,
            )
        return error

    def _user_errors(self, result: dict[str, Any], field: str = "userErrors") -> None:
        errors = result.get(field) or []
        if errors:
            message = "; ".join(str(e.get("message", "")) for e in errors)
            raise PlatformRejected(message or "rejected", platform=self.platform)

    # --- reads ----------------------------------------------------------------------------

    async def raw_order(self, order_id: str) -> dict[str, Any]:
        order_id = str(order_id).strip()
        if order_id.isdecimal() and len(order_id) <= 19:  # "６００１" is 6001 too
            order_id = str(int(order_id))
        if not order_id:
            raise NotFound("no order given (empty)", platform=self.platform)
        if order_id.startswith("gid://") and not ORDER_GID.fullmatch(order_id):
            raise NotFound(
                "not a Shopify order id (gid://shopify/Order/<number>)", platform=self.platform
            )
        if (order_id.isascii() and order_id.isdigit()) or order_id.startswith("gid://"):
            query = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
            raw = (await self.graphql(query, {"id": order_gid(order_id)}))["order"]
        else:
            found = await self._search(search_term("name", order_id), first=1)
            raw = found[0] if found else None
        if raw is None:
            raise NotFound(f"order {order_id} not found", platform=self.platform)
        return dict(raw)

    async def _search(self, search: str, *, first: int) -> list[dict[str, Any]]:
        query = (
            "query Orders($query: String!, $first: Int!) { orders(first: $first, query: $query,"
            f" sortKey: CREATED_AT, reverse: true) {{ nodes {{ {ORDER_FIELDS} }} }} }}"
        )
        data = await self.graphql(query, {"query": search, "first": first})
        return list(data["orders"]["nodes"])

    async def get_order(self, order_id: str) -> OrderDetails:
        return self._order(await self.raw_order(order_id))

    async def find_orders(self, email: str) -> list[OrderDetails]:
        """The customer's orders, newest first."""
        return [
            self._order(raw) for raw in await self._search(search_term("email", email), first=5)
        ]

    def _order(self, raw: dict[str, Any]) -> OrderDetails:
        financial = raw.get("displayFinancialStatus") or ""
        fulfillment = raw.get("displayFulfillmentStatus") or ""
        shipped = (raw.get("fulfillments") or [None])[0] or {}
        tracking = (shipped.get("trackingInfo") or [None])[0] or {}
        delivered_at = _when(shipped.get("deliveredAt"))
        if raw.get("cancelledAt"):
            status = "cancelled"
        elif financial == "REFUNDED":
            status = "refunded"
        elif delivered_at or shipped.get("displayStatus") == "DELIVERED":
            status = "delivered"
        elif fulfillment in ("FULFILLED", "PARTIALLY_FULFILLED"):
            status = "shipped"
        elif financial in ("PENDING", "EXPIRED"):
            status = "pending"
        else:
            status = "processing"
        address = raw.get("shippingAddress")
        total = raw.get("totalPriceSet") or {}
        return OrderDetails(
            id=numeric_id(raw["id"]),
            platform=self.platform,
            status=status,
            email=raw.get("email") or "",
            total=_money(total),
            currency=(total.get("shopMoney") or {}).get("currencyCode", "USD"),
            created_at=_when(raw["createdAt"]) or datetime.now(UTC),
            items=[
                LineItem(
                    sku=item.get("sku") or numeric_id((item.get("variant") or {}).get("id", "")),
                    name=item["title"],
                    quantity=int(item["quantity"]),
                    price=_money(item.get("originalUnitPriceSet")),
                    product_id=numeric_id(item["product"]["id"]) if item.get("product") else None,
                )
                for item in (raw.get("lineItems") or {}).get("nodes", [])
            ],
            shipping_address=Address(
                name=address.get("name"),
                line1=address.get("address1") or "",
                line2=address.get("address2") or None,
                city=address.get("city") or "",
                region=address.get("provinceCode"),
                postal_code=address.get("zip") or "",
                country=address.get("countryCodeV2") or "US",
            )
            if address
            else None,
            shipping_method=(raw.get("shippingLine") or {}).get("title"),
            tracking_number=tracking.get("number"),
            carrier=tracking.get("company"),
            delivered_at=delivered_at,
            cancellable=not raw.get("cancelledAt") and fulfillment in NOT_FULFILLED,
            refundable=not raw.get("cancelledAt") and financial in PAID,
            paid=financial in PAID | {"REFUNDED"},
        )

    # --- writes ---------------------------------------------------------------------------

    async def cancel_order(
        self, order_id: str, reason: str | None, idempotency_key: str
    ) -> OrderCancelled:
        raw = await self.raw_order(order_id)
        order = self._order(raw)
        if raw.get("cancelledAt"):  # done before (by us on an earlier attempt, or anyone)
            return OrderCancelled(order_id=order.id, status="cancelled")
        if not order.cancellable:
            raise PlatformRejected(
                f"order {order.id} is {order.status} and can no longer be cancelled",
                platform=self.platform,
            )
        query = (
            "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!,"
            " $notifyCustomer: Boolean, $refundMethod: OrderCancelRefundMethodInput!,"
            " $staffNote: String) { orderCancel(orderId: $orderId, reason: $reason,"
            " restock: $restock, notifyCustomer: $notifyCustomer, refundMethod: $refundMethod,"
            " staffNote: $staffNote) { job { id done } orderCancelUserErrors"
            " { field message code } } }"
        )
        variables = {
            "orderId": raw["id"],
            "reason": "CUSTOMER",
            "restock": True,
            "notifyCustomer": True,
            "refundMethod": {"originalPaymentMethodsRefund": True},
            "staffNote": staff_note(reason, idempotency_key),
        }
        result = (await self.graphql(query, variables, idempotency_key=idempotency_key))[
            "orderCancel"
        ]
        self._user_errors(result, "orderCancelUserErrors")
        if not result.get("job"):
            raise PlatformRejected(f"order {order.id}: no cancel job", platform=self.platform)
        # job.done is usually false: Shopify accepted the cancellation and runs it shortly.
        refunded = order.total - _money(raw.get("totalRefundedSet")) if order.refundable else 0.0
        return OrderCancelled(order_id=order.id, status="cancelled", refunded_amount=refunded)

    async def find_discount(self, code: str) -> dict[str, Any] | None:
        query = (
            "query Code($code: String!) { codeDiscountNodeByCode(code: $code)"
            f" {{ {DISCOUNT_FIELDS} }} }}"
        )
        node = (await self.graphql(query, {"code": code}))["codeDiscountNodeByCode"]
        return dict(node) if node else None

    async def create_coupon(self, email: str, percent: int, idempotency_key: str) -> CouponIssued:
        code = promotion_code(idempotency_key)
        node = await self.find_discount(code)
        if node is None:
            starts = datetime.now(UTC)
            query = (
                "mutation Create($basicCodeDiscount: DiscountCodeBasicInput!) {"
                " discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount)"
                f" {{ codeDiscountNode {{ {DISCOUNT_FIELDS} }} userErrors"
                " { field message code } } }"
            )
            discount = {
                "title": promotion_title(percent, idempotency_key),
                "code": code,
                "startsAt": starts.isoformat(),
                "endsAt": (starts + timedelta(days=90)).isoformat(),
                "context": {"all": "ALL"},
                "customerGets": {"value": {"percentage": percent / 100}, "items": {"all": True}},
                "usageLimit": 1,
                "appliesOncePerCustomer": True,
            }
            result = (
                await self.graphql(
                    query, {"basicCodeDiscount": discount}, idempotency_key=idempotency_key
                )
            )["discountCodeBasicCreate"]
            self._user_errors(result)
            node = result["codeDiscountNode"]
        basic = node.get("codeDiscount") or {}
        value = (basic.get("customerGets") or {}).get("value") or {}
        codes = (basic.get("codes") or {}).get("nodes") or [{"code": code}]
        return CouponIssued(
            code=codes[0]["code"],
            percent=round(float(value.get("percentage", percent / 100)) * 100),
            email=email,
            expires_at=_when(basic.get("endsAt")),
        )

    async def refund(
        self, order_id: str, amount: float | None, reason: str | None, idempotency_key: str
    ) -> RefundIssued:
        raw = await self.raw_order(order_id)
        order = self._order(raw)
        marker = f"[ticketflow:{idempotency_key}]"
        for done in raw.get("refunds") or []:
            if marker in (done.get("note") or ""):
                return RefundIssued(
                    refund_id=numeric_id(done["id"]),
                    order_id=order.id,
                    amount=_money(done.get("totalRefundedSet")),
                    currency=order.currency,
                )
        if amount is None:
            amount = round(order.total - _money(raw.get("totalRefundedSet")), 2)
        if amount <= 0:
            raise PlatformRejected(
                f"order {order.id} has nothing left to refund", platform=self.platform
            )
        payment = next(
            (
                t
                for t in raw.get("transactions") or []
                if t.get("kind") in REFUNDABLE_FROM and t.get("status") == "SUCCESS"
            ),
            None,
        )
        if payment is None:
            raise PlatformRejected(
                f"order {order.id} has no captured payment to refund", platform=self.platform
            )
        query = (
            "mutation Refund($input: RefundInput!, $idempotencyKey: String!) {"
            " refundCreate(input: $input) @idempotent(key: $idempotencyKey) {"
            f" refund {{ id note totalRefundedSet {{ {MONEY} }} }} userErrors {{ field message }}"
            " } }"
        )
        refund_input = {
            "orderId": raw["id"],
            "note": f"{reason or 'Refund'} {marker}",
            "notify": True,
            "transactions": [
                {
                    "orderId": raw["id"],
                    "parentId": payment["id"],
                    "gateway": payment["gateway"],
                    "kind": "REFUND",
                    "amount": f"{amount:.2f}",
                }
            ],
        }
        variables = {"input": refund_input, "idempotencyKey": idempotent_key(idempotency_key)}
        result = (await self.graphql(query, variables, idempotency_key=idempotency_key))[
            "refundCreate"
        ]
        self._user_errors(result)
        created = result["refund"]
        return RefundIssued(
            refund_id=numeric_id(created["id"]),
            order_id=order.id,
            amount=_money(created.get("totalRefundedSet")),
            currency=order.currency,
        )

    async def create_replacement(
        self, user_email: str, items: list[LineItem], address: Address, idempotency_key: str
    ) -> OrderCreated:
        """A new, paid, zero-priced order with the same items, shipped to ``address``."""
        marker = f"[ticketflow:{idempotency_key}]"
        for raw in await self._search(search_term("email", user_email), first=5):
            if marker in (raw.get("note") or ""):  # made by an earlier attempt
                return OrderCreated(
                    order_id=numeric_id(raw["id"]),
                    status="processing",
                    total=_money(raw.get("totalPriceSet")),
                )
        first, _, last = (address.name or "").partition(" ")
        order = {
            "email": user_email,
            "financialStatus": "PAID",
            "note": f"Free replacement sent by ticketflow {marker}",
            "tags": ["ticketflow", "replacement"],
            "lineItems": [
                {
                    "title": item.name,
                    "sku": item.sku,
                    "quantity": item.quantity,
                    "requiresShipping": True,
                    "priceSet": {"shopMoney": {"amount": "0.00", "currencyCode": "USD"}},
                }
                for item in items
            ],
            "shippingAddress": {
                "firstName": first or None,
                "lastName": last or None,
                "address1": address.line1,
                "address2": address.line2,
                "city": address.city,
                "provinceCode": address.region,
                "zip": address.postal_code,
                "countryCode": address.country,
            },
        }
        query = (
            "mutation Create($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput)"
            " { orderCreate(order: $order, options: $options) { order { id name"
            f" totalPriceSet {{ {MONEY} }} }} userErrors {{ field message code }} }} }}"
        )
        options = {"sendReceipt": True, "inventoryBehaviour": "BYPASS"}
        variables = {"order": order, "options": options}
        result = (await self.graphql(query, variables, idempotency_key=idempotency_key))[
            "orderCreate"
        ]
        self._user_errors(result)
        created = result["order"]
        return OrderCreated(
            order_id=numeric_id(created["id"]),
            status="processing",
            total=_money(created.get("totalPriceSet")),
        )
