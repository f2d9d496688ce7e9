"""BigCommerce connector (REST v2 orders/coupons, v3 customers/refunds).

Auth: ``X-Auth-Token`` + ``Accept: application/json``; paths under
``{base_url}/stores/{store_hash}/``. Held to BigCommerce's OpenAPI files (bigcommerce/docs
``reference/orders.v2.oas2.yml``, ``orders.v3.yml``, ``customers.v3.yml``,
``marketing.v2.yml``); ``tests/platforms/contracts/test_bigcommerce_contract.py`` checks
every request below against them, ``sandbox/FIDELITY.md`` lists what the emulator simplifies.

- Money written through ``PUT v2/orders/{id}`` is a string with four decimals
  (``"8.0000"``), as the document declares; ``payment_status`` is read-only and never written.
- Product swap: ``PUT v2/orders/{id} {products: [{id: <old line>, quantity: 0},
  {product_id: <new>, quantity}]}`` (a line without ``id`` is added, quantity 0 removes
  one; the new line takes the catalog price). A products change clears the order's manual
  discount, so the same PUT carries the discount again and the connector writes it once
  more if the answer shows it dropped.
- Refund: ``POST v3/orders/{id}/payment_actions/refund_quotes {items}`` then
  ``POST .../refunds {items, payments}`` with the payments of the first refund method the
  quote offers that can be paid online. A full refund names every line (products by
  quantity, shipping by amount) when they add up to what is left to refund, else it is one
  ``ORDER`` amount; a partial refund is one ``ORDER`` amount. There is no top-level reason.
- Coupons: ``POST v2/coupons`` with the required ``name`` (unique, so it carries the code),
  ``code``, ``type``, ``amount`` (a string) and ``applies_to``.
- Errors: v2 lists ``[{status, message}]``, v3 ``{status, title, type, errors}``, the refund
  endpoint's 422 ``{data: [{status, title, type}]}``; ``error_message`` reads all three.

BigCommerce accepts no idempotency key, so writes are made idempotent by shape (absolute
values: status, discount amount, shipping method) or by looking before writing: coupons use
a code derived from the key and are looked up by code first; a refund carries
``[ticketflow:<key>]`` in each item's ``reason`` (documented on the request and returned on
the refund's items) and the order's refunds are listed first. The key is still sent as
``Idempotency-Key`` (ignored by BigCommerce, recorded by the sandbox).

⚠ Not settled by the documents, kept in step with ``sandbox/bigcommerce.py``: status ids
other than 0/4/5/6; whether a ``discount_amount`` in the same PUT as a products change
survives the recalculation (hence the read-back); a retry that finds the swap already made
cannot know a discount dropped by a crash between the two writes; which refund method the
quote lists first (the connector takes the first all-online one and refuses an
offline-only refund); what BigCommerce answers to a PUT naming ``payment_status`` (the
sandbox says 400); the 401/404 bodies (documented without a schema); 429 is retried after
``Retry-After`` or else ``X-Rate-Limit-Time-Reset-Ms``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from activities.platforms.base import (
    NotFound,
    PlatformConnector,
    PlatformRejected,
    promotion_code,
    promotion_title,
)
from activities.platforms.roles import StoreOperations
from policies.tool_models import (
    Address,
    CouponIssued,
    DiscountApplied,
    LineItem,
    OrderCancelled,
    OrderDetails,
    OrderPaid,
    ProductSwapped,
    RefundIssued,
    ShippingUpgraded,
)
from ticketflow.settings import BigCommerceSettings

# BigCommerce status id -> the catalog's coarse status.
STATUS: dict[int, str] = {
    0: "pending",
    1: "pending",
    2: "shipped",
    3: "shipped",
    4: "refunded",
    5: "cancelled",
    6: "cancelled",
    7: "pending",
    8: "processing",
    9: "processing",
    10: "delivered",
    11: "processing",
    12: "pending",
    13: "disputed",
    14: "refunded",
}
CANCELLED = 5
AWAITING_PAYMENT = (0, 7)
AWAITING_FULFILLMENT = 11
PAID = ("captured", "paid")
CANCELLABLE = {0, 1, 7, 8, 9, 11, 12}
# Order and product ids are positive integers; anything larger names no row of any store.
MAX_ID = 2**63 - 1


def _number(value: str | int, what: str) -> int:
    """An order or product id as BigCommerce knows it: digits, optionally written ``#5001``
    as the storefront shows order numbers. Anything else (``ABC-12``, ``#5001x``, a path)
    cannot exist: ``NotFound`` before any call, so the policy decides at once instead of a
    ``ValueError`` being retried. The message never repeats the text, which the customer
    typed and may be anything."""
    text = str(value).strip().removeprefix("#").strip()
    if text.isdecimal() and len(text) <= len(str(MAX_ID)) and 0 < int(text) <= MAX_ID:
        return int(text)
    raise NotFound(
        f"not a BigCommerce {what} (they are whole numbers, like 5001)", platform="bigcommerce"
    )


def order_number(order_id: str | int) -> int:
    return _number(order_id, "order number")


def product_number(product_id: str | int) -> int:
    return _number(product_id, "product id")


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _decimal(value: float) -> str:
    """Money as the v2 order fields declare it: a string with four decimals."""
    return f"{value:.4f}"


# A refund item's reason is at most this long (orders.v3.yml).
MAX_REASON = 1000


def _date(value: str | None) -> datetime | None:
    return parsedate_to_datetime(value) if value else None


class BigCommerceConnector(PlatformConnector, StoreOperations):
    platform = "bigcommerce"

    def __init__(self, settings: BigCommerceSettings) -> None:
        super().__init__(settings.base_url or "https://api.bigcommerce.com")
        self._token = settings.access_token
        self.store = f"/stores/{settings.store_hash}"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self._token.get_secret_value()}

    def retry_after(self, response: httpx.Response) -> timedelta | None:
        delay = super().retry_after(response)
        reset_ms = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        if delay is None and reset_ms and reset_ms.isdigit():
            return timedelta(milliseconds=int(reset_ms))
        return delay

    def error_message(self, response: httpx.Response) -> str:
        """v2 and v3 bodies are read by the shared lookup; the refund endpoint's
        ``{data: [{status, title, type}]}`` is read here."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            titles = [str(e.get("title") or "") for e in body["data"] if isinstance(e, dict)]
            if any(titles):
                return "; ".join(t for t in titles if t)[:1000]
        return super().error_message(response)

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, f"{self.store}{path}", **kwargs)
        return response.json() if response.content else None

    # --- reads ----------------------------------------------------------------------------

    async def raw_order(self, order_id: str | int) -> dict[str, Any]:
        return dict(await self._json("GET", f"/v2/orders/{order_number(order_id)}"))

    async def get_order(self, order_id: str) -> OrderDetails:
        number = order_number(order_id)
        order = await self.raw_order(order_id)
        products = await self._json("GET", f"/v2/orders/{number}/products")
        addresses = await self._json("GET", f"/v2/orders/{number}/shipping_addresses")
        shipments = await self._json("GET", f"/v2/orders/{number}/shipments") or []
        address = addresses[0] if addresses else None
        shipment = shipments[0] if shipments else None
        status_id = int(order["status_id"])
        return OrderDetails(
            id=str(order["id"]),
            platform=self.platform,
            status=STATUS.get(status_id, "unknown"),
            email=(order.get("billing_address") or {}).get("email", ""),
            total=_money(order["total_inc_tax"]),
            currency=order.get("currency_code", "USD"),
            created_at=_date(order["date_created"]) or datetime.now(UTC),
            items=[
                LineItem(
                    sku=p.get("sku", ""),
                    name=p["name"],
                    quantity=int(p["quantity"]),
                    price=_money(p["price_inc_tax"]),
                    product_id=str(p["product_id"]),
                )
                for p in products
            ],
            shipping_address=Address(
                name=f"{address['first_name']} {address['last_name']}".strip(),
                line1=address["street_1"],
                line2=address.get("street_2") or None,
                city=address["city"],
                region=address.get("state"),
                postal_code=address["zip"],
                country=address.get("country_iso2", "US"),
            )
            if address
            else None,
            shipping_method=address.get("shipping_method") if address else None,
            tracking_number=shipment.get("tracking_number") if shipment else None,
            carrier=shipment.get("tracking_carrier") if shipment else None,
            delivered_at=None,
            cancellable=status_id in CANCELLABLE,
            refundable=status_id not in (4, 5, 6),
            paid=order.get("payment_status") in PAID,
        )

    # --- writes ---------------------------------------------------------------------------

    async def set_discount(
        self, order_id: str, percent: int, idempotency_key: str
    ) -> DiscountApplied:
        number = order_number(order_id)
        order = await self.raw_order(number)
        subtotal = _money(order["subtotal_inc_tax"])
        updated = await self._json(
            "PUT",
            f"/v2/orders/{number}",
            json={"discount_amount": _decimal(round(subtotal * percent / 100, 2))},
            idempotency_key=idempotency_key,
        )
        return DiscountApplied(
            order_id=str(number), percent=percent, new_total=_money(updated["total_inc_tax"])
        )

    async def upgrade_shipping(
        self, order_id: str, shipping_method: str, idempotency_key: str
    ) -> ShippingUpgraded:
        number = order_number(order_id)
        addresses = await self._json("GET", f"/v2/orders/{number}/shipping_addresses")
        if not addresses:
            raise PlatformRejected(
                f"order {number} has no shipping address", platform=self.platform
            )
        await self._json(
            "PUT",
            f"/v2/orders/{number}/shipping_addresses/{addresses[0]['id']}",
            json={"shipping_method": shipping_method},
            idempotency_key=idempotency_key,
        )
        await self._json(
            "PUT",
            f"/v2/orders/{number}",
            json={"shipping_cost_inc_tax": _decimal(0)},
            idempotency_key=idempotency_key,
        )
        return ShippingUpgraded(order_id=str(number), shipping_method=shipping_method)

    async def swap_product(
        self, order_id: str, from_product_id: str | None, to_product_id: str, idempotency_key: str
    ) -> ProductSwapped:
        number = order_number(order_id)
        to_id = str(product_number(to_product_id))
        from_id = None if from_product_id is None else str(product_number(from_product_id))
        products = await self._json("GET", f"/v2/orders/{number}/products")
        ids = [str(p["product_id"]) for p in products]
        if from_id is None and len(ids) == 1:
            from_id = ids[0]
        if from_id not in ids:
            if to_id in ids:  # a retry after the swap went through
                return ProductSwapped(
                    order_id=str(number),
                    removed_product_id=from_id or "",
                    added_product_id=to_id,
                )
            raise PlatformRejected(
                f"order {number} has no product {from_id}", platform=self.platform
            )
        line = next(p for p in products if str(p["product_id"]) == from_id)
        discount = _money((await self.raw_order(number)).get("discount_amount"))
        change: dict[str, Any] = {
            "products": [
                {"id": int(line["id"]), "quantity": 0},
                {"product_id": int(to_id), "quantity": int(line["quantity"])},
            ]
        }
        if discount > 0:
            change["discount_amount"] = _decimal(discount)
        updated = await self._json(
            "PUT", f"/v2/orders/{number}", json=change, idempotency_key=idempotency_key
        )
        if discount > 0 and _money(updated.get("discount_amount")) < discount:
            # The products change cleared the manual discount: give it back.
            await self._json(
                "PUT",
                f"/v2/orders/{number}",
                json={"discount_amount": _decimal(discount)},
                idempotency_key=f"{idempotency_key}/discount",
            )
        return ProductSwapped(
            order_id=str(number), removed_product_id=from_id, added_product_id=to_id
        )

    async def create_coupon(self, email: str, percent: int, idempotency_key: str) -> CouponIssued:
        code = promotion_code(idempotency_key)
        existing = await self._json("GET", "/v2/coupons", params={"code": code})
        coupon = existing[0] if existing else None
        if coupon is None:
            expires = datetime.now(UTC) + timedelta(days=90)
            coupon = await self._json(
                "POST",
                "/v2/coupons",
                json={
                    # Unique (BigCommerce requires it: the code is in it), no customer data.
                    "name": promotion_title(percent, idempotency_key),
                    "code": code,
                    "type": "percentage_discount",
                    "amount": f"{percent:.2f}",
                    "expires": expires.strftime("%a, %d %b %Y %H:%M:%S +0000"),
                    "max_uses": 1,
                    "max_uses_per_customer": 1,
                    "applies_to": {"entity": "categories", "ids": [0]},
                },
                idempotency_key=idempotency_key,
            )
        return CouponIssued(
            code=coupon["code"],
            percent=int(float(coupon["amount"])),
            email=email,
            expires_at=_date(coupon.get("expires")),
        )

    async def mark_paid(self, order_id: str, idempotency_key: str) -> OrderPaid:
        """Move an order awaiting payment on to Awaiting Fulfillment. ``payment_status`` is
        read-only at BigCommerce: the order counts as paid once its status moved on or its
        payment is captured."""
        number = order_number(order_id)
        order = await self.raw_order(number)
        if int(order["status_id"]) in AWAITING_PAYMENT:
            order = await self._json(
                "PUT",
                f"/v2/orders/{number}",
                json={"status_id": AWAITING_FULFILLMENT},
                idempotency_key=idempotency_key,
            )
        paid = order.get("payment_status") in PAID or int(order["status_id"]) not in (
            AWAITING_PAYMENT
        )
        return OrderPaid(order_id=str(number), paid=paid)

    async def cancel_order(
        self, order_id: str, reason: str | None, idempotency_key: str
    ) -> OrderCancelled:
        number = order_number(order_id)
        order = await self.raw_order(number)
        status_id = int(order["status_id"])
        if status_id != CANCELLED:
            if status_id not in CANCELLABLE:
                raise PlatformRejected(
                    f"order {number} is {order['status']} and can no longer be cancelled",
                    platform=self.platform,
                )
            change: dict[str, Any] = {"status_id": CANCELLED}
            if reason:
                change["staff_notes"] = f"Cancelled by ticketflow: {reason}"
            order = await self._json(
                "PUT", f"/v2/orders/{number}", json=change, idempotency_key=idempotency_key
            )
        return OrderCancelled(order_id=str(number), status="cancelled")

    async def refund(
        self, order_id: str, amount: float | None, reason: str | None, idempotency_key: str
    ) -> RefundIssued:
        number = order_number(order_id)
        refunds = f"/v3/orders/{number}/payment_actions/refunds"
        marker = f"[ticketflow:{idempotency_key}]"
        for done in (await self._json("GET", refunds))["data"]:
            if any(marker in str(i.get("reason") or "") for i in done.get("items") or []):
                return RefundIssued(
                    refund_id=str(done["id"]),
                    order_id=str(number),
                    amount=_money(done["total_amount"]),
                )
        text = (reason or "Refund")[: MAX_REASON - len(marker) - 1]
        items = await self._refund_items(number, amount, f"{text} {marker}")
        quote = (
            await self._json(
                "POST", f"/v3/orders/{number}/payment_actions/refund_quotes", json={"items": items}
            )
        )["data"]
        body = {"items": items, "payments": self._payments(number, quote)}
        created = (await self._json("POST", refunds, json=body, idempotency_key=idempotency_key))[
            "data"
        ]
        return RefundIssued(
            refund_id=str(created["id"]),
            order_id=str(number),
            amount=_money(created["total_amount"]),
        )

    async def _refund_items(
        self, number: int, amount: float | None, reason: str
    ) -> list[dict[str, Any]]:
        """Every line (products by quantity, shipping by amount) for a full refund when they
        add up to what is left to refund; else one order-level amount."""
        order = await self.raw_order(number)
        left = round(_money(order["total_inc_tax"]) - _money(order.get("refunded_amount")), 2)
        if amount is not None and abs(amount - left) >= 0.005:
            return [
                {
                    "item_type": "ORDER",
                    "item_id": number,
                    "amount": round(amount, 2),
                    "reason": reason,
                }
            ]
        products = await self._json("GET", f"/v2/orders/{number}/products")
        items: list[dict[str, Any]] = []
        lines_total = 0.0
        for p in products:
            quantity = int(p["quantity"]) - int(p.get("quantity_refunded") or 0)
            if quantity > 0:
                items.append(
                    {
                        "item_type": "PRODUCT",
                        "item_id": int(p["id"]),
                        "quantity": quantity,
                        "reason": reason,
                    }
                )
                lines_total += _money(p["price_inc_tax"]) * quantity
        shipping = _money(order.get("shipping_cost_inc_tax"))
        if shipping > 0:
            addresses = await self._json("GET", f"/v2/orders/{number}/shipping_addresses")
            if addresses:
                items.append(
                    {
                        "item_type": "SHIPPING",
                        "item_id": int(addresses[0]["id"]),
                        "amount": shipping,
                        "reason": reason,
                    }
                )
                lines_total += shipping
        if items and abs(round(lines_total, 2) - left) < 0.005:
            return items
        return [{"item_type": "ORDER", "item_id": number, "amount": left, "reason": reason}]

    def _payments(self, number: int, quote: dict[str, Any]) -> list[dict[str, Any]]:
        """The first refund method the quote offers that is paid entirely online."""
        for method in quote.get("refund_methods") or []:
            if method and not any(option.get("offline") for option in method):
                return [
                    {
                        "provider_id": option["provider_id"],
                        "amount": option["amount"],
                        "offline": False,
                    }
                    for option in method
                ]
        raise PlatformRejected(
            f"order {number} can only be refunded offline; a person has to do it",
            platform=self.platform,
        )
