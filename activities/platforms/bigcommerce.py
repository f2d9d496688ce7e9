"""BigCommerce connector (REST v2 orders/coupons, v3 customers/refunds).

Auth: ``X-Auth-Token`` + ``Accept: application/json``; paths under
``{base_url}/stores/{store_hash}/``. BigCommerce accepts no idempotency key, so writes are
made idempotent by shape (absolute values: status, discount amount, shipping method) or by
looking before writing: coupons use a code derived from the key and are looked up by code
first; refunds carry the key in their reason and existing refunds are listed first. The key
is still sent as ``Idempotency-Key`` (ignored by BigCommerce, recorded by the sandbox).

⚠ Unconfirmed shapes, kept in step with ``sandbox/bigcommerce.py``: status ids other than
0/4/5/6; writing ``discount_amount``, ``shipping_cost_inc_tax``, ``payment_status`` and
``products`` through ``PUT v2/orders/{id}``; the refund call is simplified to
``POST v3/orders/{id}/payment_actions/refunds {reason, payments: [{amount}]}`` without the
refund-quote step; 429 is retried after ``Retry-After`` or else
``X-Rate-Limit-Time-Reset-Ms``.
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
from activities.platforms.config import BigCommerceSettings
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
            paid=order.get("payment_status") in ("captured", "paid"),
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
            json={"discount_amount": round(subtotal * percent / 100, 2)},
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
            json={"shipping_cost_inc_tax": 0},
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
        lines = [
            {
                "product_id": int(to_id if str(p["product_id"]) == from_id else p["product_id"]),
                "quantity": int(p["quantity"]),
                "price_inc_tax": _money(p["price_inc_tax"]),
            }
            for p in products
        ]
        await self._json(
            "PUT", f"/v2/orders/{number}", json={"products": lines}, idempotency_key=idempotency_key
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
        number = order_number(order_id)
        order = await self.raw_order(number)
        change: dict[str, Any] = {"payment_status": "captured"}
        if int(order["status_id"]) in (0, 7):
            change["status_id"] = 11
        updated = await self._json(
            "PUT", f"/v2/orders/{number}", json=change, idempotency_key=idempotency_key
        )
        return OrderPaid(order_id=str(number), paid=updated["payment_status"] == "captured")

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
        path = f"/v3/orders/{number}/payment_actions/refunds"
        marker = f"[ticketflow:{idempotency_key}]"
        for refund in (await self._json("GET", path))["data"]:
            if marker in refund.get("reason", ""):
                return RefundIssued(
                    refund_id=str(refund["id"]),
                    order_id=str(number),
                    amount=_money(refund["total_amount"]),
                )
        if amount is None:
            order = await self.raw_order(number)
            amount = _money(order["total_inc_tax"]) - _money(order.get("refunded_amount"))
        body = {
            "reason": f"{reason or 'Refund'} {marker}",
            "payments": [
                {"provider_id": "storecredit", "amount": round(amount, 2), "offline": False}
            ],
        }
        created = (await self._json("POST", path, json=body, idempotency_key=idempotency_key))[
            "data"
        ]
        return RefundIssued(
            refund_id=str(created["id"]),
            order_id=str(number),
            amount=_money(created["total_amount"]),
        )
