"""BigCommerce emulator: v2 orders and coupons, v3 customers, refund quotes, refunds, hooks.

Held to BigCommerce's OpenAPI files (bigcommerce/docs ``reference/orders.v2.oas2.yml``,
``orders.v3.yml``; what it simplifies is listed in ``sandbox/FIDELITY.md``):

- Auth: ``X-Auth-Token`` must match the store's token and the store hash must exist.
- Errors: v2 paths answer lists ``[{"status", "message"}]``, v3 paths
  ``{status, title, type, errors}``; the refund endpoint answers its 422s as
  ``{"data": [{status, title, type}]}``. An order id that cannot exist (not digits, above
  2^63-1) is a plain 404 in the path's shape.
- ``PUT v2/orders/{id}``: money fields are accepted as numbers or strings and answered as
  4-decimal strings; ``payment_status`` is read-only (400). ``products`` works line by
  line: an entry without ``id`` adds a line, ``{id, quantity: 0}`` removes one, ``{id, ...}``
  updates one; any products change recalculates the subtotal and clears the manual
  discount (a ``discount_amount`` in the same body is applied after that).
- Refunds: ``POST v3/orders/{id}/payment_actions/refund_quotes {items}`` prices the items
  and offers ``refund_methods``; ``POST .../refunds {items, payments}`` needs both, and the
  payments must add up to the items' total. Items are ``PRODUCT`` (order product ``id`` and
  ``quantity``), ``SHIPPING``/``HANDLING`` (address ``id`` and ``amount``) or ``ORDER``
  (order id and ``amount``), each with an optional ``reason`` kept on the refund.

Status ids follow the real table (PLATFORMS.md).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, select

from sandbox.core import (
    EmulatorError,
    SandboxModel,
    SessionDep,
    WebhookSubscription,
    emit_webhook,
    iso,
    now,
)
from sandbox.credentials import (
    SANDBOX_BIGCOMMERCE_STORE_HASH,
    SANDBOX_BIGCOMMERCE_TOKEN,
)
from sandbox.routes import record_request_write

PLATFORM = "bigcommerce"

STATUS_NAMES: dict[int, str] = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}

# Products the store sells (for swaps).
PRODUCTS: dict[int, tuple[str, str, float]] = {
    111: ("COF-1LB", "Cold Brew Coffee 1lb", 40.0),
    112: ("DEC-1LB", "Decaf Coffee 1lb", 40.0),
    113: ("ESP-1LB", "Espresso Roast 1lb", 40.0),
}


class BcCustomer(SandboxModel, table=True):
    __tablename__ = "bigcommerce_customer"

    id: int = Field(primary_key=True)
    email: str = Field(index=True)
    first_name: str
    last_name: str


class BcOrder(SandboxModel, table=True):
    __tablename__ = "bigcommerce_order"

    id: int = Field(primary_key=True)
    customer_id: int
    email: str
    status_id: int
    subtotal_inc_tax: float
    shipping_cost_inc_tax: float = 0.0
    discount_amount: float = 0.0
    refunded_amount: float = 0.0
    payment_status: str = "captured"
    date_created: datetime
    date_shipped: datetime | None = None
    staff_notes: str = ""
    products: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    shipping_address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    shipments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class BcCoupon(SandboxModel, table=True):
    __tablename__ = "bigcommerce_coupon"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class BcRefund(SandboxModel, table=True):
    __tablename__ = "bigcommerce_refund"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(index=True)
    total_amount: float
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    payments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created: datetime


ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
# Ids are positive integers that fit a signed 64-bit column.
MAX_ID = 2**63 - 1


def v2_error(status: int, message: str) -> JSONResponse:
    return JSONResponse([{"status": status, "message": message}], status_code=status)


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "status": status,
            "title": title,
            "type": ERROR_TYPE,
            "errors": errors or {},
        },
        status_code=status,
    )


def refund_error(status: int, title: str) -> JSONResponse:
    """The refund endpoint's own error shape: a ``data`` list of ``{status, title, type}``."""
    return JSONResponse(
        {"data": [{"status": status, "title": title, "type": ERROR_TYPE}]}, status_code=status
    )


def error_response(status: int, message: str) -> JSONResponse:
    return error_response_at("/v2/", status, message)


def error_response_at(path: str, status: int, message: str) -> JSONResponse:
    """An injected failure in the shape of the path's API version (v2 list, v3 object)."""
    response = v3_error(status, message) if "/v3/" in path else v2_error(status, message)
    if status == 429:
        response.headers["X-Rate-Limit-Requests-Left"] = "0"
        response.headers["X-Rate-Limit-Requests-Quota"] = "150"
        response.headers["X-Rate-Limit-Time-Window-Ms"] = "30000"
        response.headers["X-Rate-Limit-Time-Reset-Ms"] = "1000"
    return response


async def check_auth(request: Request, store_hash: str) -> None:
    """Unknown store hash -> 404; missing or wrong X-Auth-Token -> 401, as the real API,
    each in the shape of the API version the path is under."""
    error = v3_error if "/v3/" in request.url.path else v2_error
    if store_hash != SANDBOX_BIGCOMMERCE_STORE_HASH:
        raise EmulatorError(error(404, "Store not found."))
    if request.headers.get("X-Auth-Token") != SANDBOX_BIGCOMMERCE_TOKEN:
        raise EmulatorError(error(401, "No credentials were supplied or they are invalid."))


router = APIRouter(dependencies=[Depends(check_auth)])


def money(value: float) -> str:
    """BigCommerce writes money as a string with four decimals."""
    return f"{value:.4f}"


def order_total(order: BcOrder) -> float:
    return max(0.0, order.subtotal_inc_tax + order.shipping_cost_inc_tax - order.discount_amount)


def order_json(order: BcOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "status_id": order.status_id,
        "status": STATUS_NAMES.get(order.status_id, "Unknown"),
        "date_created": format_datetime(order.date_created),
        "date_shipped": format_datetime(order.date_shipped) if order.date_shipped else "",
        "subtotal_inc_tax": money(order.subtotal_inc_tax),
        "shipping_cost_inc_tax": money(order.shipping_cost_inc_tax),
        "discount_amount": money(order.discount_amount),
        "total_inc_tax": money(order_total(order)),
        "refunded_amount": money(order.refunded_amount),
        "currency_code": "USD",
        "payment_status": order.payment_status,
        "staff_notes": order.staff_notes,
        "billing_address": {"email": order.email, **order.shipping_address},
        "products": {"url": f"/v2/orders/{order.id}/products", "resource": "/products"},
        "shipping_addresses": {"url": f"/v2/orders/{order.id}/shipping_addresses"},
    }


def parse_id(value: str) -> int | None:
    """A path id as BigCommerce stores it; anything else names no row (a 404, not a 500 or
    a validation error)."""
    if not value.isdecimal() or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def load_order(session: Session, order_id: str | int) -> BcOrder | None:
    number = parse_id(str(order_id))
    return session.get(BcOrder, number) if number is not None else None


NOT_FOUND = "The requested resource was not found."


@router.get("/stores/{store_hash}/v2/orders/{order_id}")
async def get_order(order_id: str, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    return order_json(order) if order else v2_error(404, NOT_FOUND)


MONEY_FIELDS = ("discount_amount", "shipping_cost_inc_tax")
READ_ONLY_FIELDS = ("payment_status", "refunded_amount", "total_inc_tax", "id")


def as_money(value: Any) -> float | None:
    """BigCommerce takes money as a number or a number in a string; never negative."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return amount if amount >= 0 else None


@router.put("/stores/{store_hash}/v2/orders/{order_id}")
async def update_order(order_id: str, request: Request, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    body = await request.json()
    for field in READ_ONLY_FIELDS:
        if field in body:
            return v2_error(400, f"The field '{field}' is read-only and cannot be written.")
    amounts: dict[str, float] = {}
    for field in MONEY_FIELDS:
        if field in body:
            amount = as_money(body[field])
            if amount is None:
                return v2_error(400, f"The field '{field}' is invalid.")
            amounts[field] = amount
    previous = order.status_id
    if "status_id" in body:
        if body["status_id"] not in STATUS_NAMES:
            return v2_error(400, "The field 'status_id' is invalid.")
        order.status_id = int(body["status_id"])
    if "staff_notes" in body:
        order.staff_notes = str(body["staff_notes"])
    if "products" in body:
        problem = change_products(order, body["products"])
        if problem:
            return v2_error(400, problem)
    if "shipping_cost_inc_tax" in amounts:
        order.shipping_cost_inc_tax = amounts["shipping_cost_inc_tax"]
    if "discount_amount" in amounts:
        order.discount_amount = amounts["discount_amount"]
    session.add(order)
    session.commit()
    result = order_json(order)
    record_request_write(
        session,
        request,
        PLATFORM,
        "order.update",
        body=body,
        response=result,
        resource_id=order.id,
    )
    if order.status_id != previous:
        send_status_webhook(session, order.id, previous, order.status_id)
    return result


def change_products(order: BcOrder, changes: Any) -> str | None:
    """Apply a v2 ``products`` list line by line (add without ``id``, remove with
    ``quantity: 0``, update with ``id``); then the subtotal is recalculated and the manual
    discount cleared, as BigCommerce does. A problem message, or None."""
    if not isinstance(changes, list):
        return "The field 'products' is invalid."
    lines = [dict(line) for line in order.products]
    for change in changes:
        if not isinstance(change, dict):
            return "The field 'products' is invalid."
        if "id" in change:
            line = next((item for item in lines if item["id"] == change["id"]), None)
            if line is None:
                return f"The order product {change['id']} was not found."
            quantity = int(change.get("quantity", line["quantity"]))
            if quantity == 0:
                lines.remove(line)
                continue
            line["quantity"] = quantity
            if "price_inc_tax" in change:
                line["price_inc_tax"] = float(change["price_inc_tax"])
            continue
        try:
            lines.append(product_line(change, next_line_id(lines)))
        except (KeyError, TypeError, ValueError):
            return "The field 'product_id' is invalid."
    order.products = lines
    order.subtotal_inc_tax = sum(p["price_inc_tax"] * p["quantity"] for p in lines)
    order.discount_amount = 0.0
    return None


def next_line_id(lines: list[dict[str, Any]]) -> int:
    return max((line["id"] for line in lines), default=0) + 1


def product_line(product: dict[str, Any], line_id: int) -> dict[str, Any]:
    sku, name, price = PRODUCTS[int(product["product_id"])]
    return {
        "id": line_id,
        "product_id": int(product["product_id"]),
        "sku": sku,
        "name": name,
        "quantity": int(product.get("quantity", 1)),
        "price_inc_tax": float(product.get("price_inc_tax", price)),
        "quantity_refunded": 0,
    }


@router.get("/stores/{store_hash}/v2/orders/{order_id}/products")
async def order_products(order_id: str, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    return [
        {
            "id": p["id"],
            "order_id": order.id,
            "product_id": p["product_id"],
            "sku": p["sku"],
            "name": p["name"],
            "quantity": p["quantity"],
            "quantity_refunded": p.get("quantity_refunded", 0),
            "price_inc_tax": money(p["price_inc_tax"]),
            "total_inc_tax": money(p["price_inc_tax"] * p["quantity"]),
            "applied_discounts": [],
        }
        for p in order.products
    ]


SHIPPING_ADDRESS_ID = 1


@router.get("/stores/{store_hash}/v2/orders/{order_id}/shipping_addresses")
async def order_addresses(order_id: str, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    return [address_json(order)]


def address_json(order: BcOrder) -> dict[str, Any]:
    return {
        "id": SHIPPING_ADDRESS_ID,
        "order_id": order.id,
        "email": order.email,
        **order.shipping_address,
        "cost_inc_tax": money(order.shipping_cost_inc_tax),
    }


@router.put("/stores/{store_hash}/v2/orders/{order_id}/shipping_addresses/{address_id}")
async def update_address(
    order_id: str, address_id: str, request: Request, session: SessionDep
) -> Any:
    order = load_order(session, order_id)
    if order is None or parse_id(address_id) != SHIPPING_ADDRESS_ID:
        return v2_error(404, NOT_FOUND)
    body = await request.json()
    order.shipping_address = {**order.shipping_address, **body}
    session.add(order)
    session.commit()
    result = address_json(order)
    record_request_write(
        session,
        request,
        PLATFORM,
        "order.shipping_address.update",
        body=body,
        response=result,
        resource_id=order.id,
    )
    return result


@router.get("/stores/{store_hash}/v2/orders/{order_id}/shipments")
async def order_shipments(order_id: str, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    return order.shipments


@router.get("/stores/{store_hash}/v2/coupons")
async def list_coupons(session: SessionDep, code: str | None = None) -> Any:
    query = select(BcCoupon)
    if code:
        query = query.where(BcCoupon.code == code)
    return [{"id": c.id, **c.body} for c in session.exec(query).all()]


# A coupon code: up to 50 letters, digits, spaces, underscores and hyphens (marketing.v2.yml).
COUPON_CODE = re.compile(r"[A-Za-z0-9_ -]{1,50}")


@router.post("/stores/{store_hash}/v2/coupons")
async def create_coupon(request: Request, session: SessionDep) -> Any:
    body = await request.json()
    for field in ("name", "code", "type", "amount", "applies_to"):
        if field not in body:
            return v2_error(400, f"The required field '{field}' was not supplied.")
    if len(str(body["name"])) > 100 or not COUPON_CODE.fullmatch(str(body["code"])):
        return v2_error(400, "The field 'name' or 'code' is invalid.")
    if session.exec(select(BcCoupon).where(BcCoupon.code == body["code"])).first():
        return v2_error(409, f"The coupon code '{body['code']}' is already in use.")
    names = (c.body.get("name") for c in session.exec(select(BcCoupon)).all())
    if body["name"] in names:  # ⚠ the document says unique, not which status says so
        return v2_error(409, f"The coupon name '{body['name']}' is already in use.")
    coupon = BcCoupon(code=body["code"], body={**body, "num_uses": 0, "enabled": True})
    session.add(coupon)
    session.commit()
    result = {"id": coupon.id, **coupon.body}
    record_request_write(
        session,
        request,
        PLATFORM,
        "coupon.create",
        body=body,
        response=result,
        resource_id=coupon.id,
    )
    return JSONResponse(result, status_code=201)


@router.get("/stores/{store_hash}/v3/customers")
async def list_customers(request: Request, session: SessionDep) -> Any:
    emails = request.query_params.get("email:in", "")
    wanted = {e.strip().lower() for e in emails.split(",") if e.strip()}
    customers = session.exec(select(BcCustomer)).all()
    data = [
        {"id": c.id, "email": c.email, "first_name": c.first_name, "last_name": c.last_name}
        for c in customers
        if not wanted or c.email.lower() in wanted
    ]
    return {
        "data": data,
        "meta": {
            "pagination": {
                "total": len(data),
                "count": len(data),
                "per_page": 50,
                "current_page": 1,
                "total_pages": 1,
            }
        },
    }


# --- refunds: quote, then refund ---------------------------------------------------------

REFUND_ITEM_TYPES = ("PRODUCT", "GIFT_WRAPPING", "SHIPPING", "HANDLING", "ORDER", "FEE")
# What the sandbox store's orders were paid with, first; store credit as the alternative.
REFUND_PROVIDERS = (("testgateway", "Test Payment Gateway"), ("storecredit", "Store Credit"))


class RefundProblem(Exception):
    """Items BigCommerce would not refund; the message is its title."""


def price_items(order: BcOrder, items: Any) -> float:
    """The total the items refund, checked against what the order has left to refund."""
    if not isinstance(items, list) or not items:
        raise RefundProblem("The field 'items' is required and cannot be empty.")
    total = 0.0
    shipping_left = order.shipping_cost_inc_tax
    for item in items:
        kind = item.get("item_type") if isinstance(item, dict) else None
        if kind not in REFUND_ITEM_TYPES:
            raise RefundProblem("Each item needs an 'item_type' BigCommerce knows.")
        reason = item.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 1000:
            raise RefundProblem("An item's 'reason' is a text of at most 1000 characters.")
        if kind == "PRODUCT":
            line = next((p for p in order.products if p["id"] == item.get("item_id")), None)
            quantity = item.get("quantity")
            if line is None or not isinstance(quantity, int) or quantity < 1:
                raise RefundProblem(
                    "A PRODUCT item needs an order product 'item_id' and a quantity."
                )
            if quantity > line["quantity"] - line.get("quantity_refunded", 0):
                raise RefundProblem("The quantity to refund exceeds the quantity left to refund.")
            total += line["price_inc_tax"] * quantity
            continue
        amount = as_money(item.get("amount"))
        if amount is None:
            raise RefundProblem(f"A {kind} item needs a non-negative 'amount'.")
        if kind in ("SHIPPING", "HANDLING"):
            if item.get("item_id") != SHIPPING_ADDRESS_ID or amount > shipping_left + 1e-9:
                raise RefundProblem("The shipping refund exceeds the shipping cost left.")
            shipping_left -= amount
        elif kind == "ORDER" and item.get("item_id") != order.id:
            raise RefundProblem("An ORDER item's 'item_id' is the order's id.")
        elif kind not in ("ORDER",):
            raise RefundProblem(f"The sandbox store has no {kind} to refund.")
        total += amount
    total = round(total, 2)
    left = round(order_total(order) - order.refunded_amount, 2)
    if total <= 0:
        raise RefundProblem("The refund total must be more than zero.")
    if total > left + 1e-9:
        raise RefundProblem(
            f"The refund total {total:.2f} exceeds the amount left to refund ({left:.2f})."
        )
    return total


@router.post("/stores/{store_hash}/v3/orders/{order_id}/payment_actions/refund_quotes")
async def create_refund_quote(order_id: str, request: Request, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v3_error(404, NOT_FOUND)
    body = await request.json()
    try:
        total = price_items(order, body.get("items") if isinstance(body, dict) else None)
    except RefundProblem as problem:
        return v3_error(422, str(problem), {"items": str(problem)})
    methods = [
        [
            {
                "provider_id": provider,
                "provider_description": description,
                "amount": total,
                "offline": False,
                "offline_provider": False,
                "offline_reason": "",
            }
        ]
        for provider, description in REFUND_PROVIDERS
    ]
    quote = {
        "order_id": order.id,
        "total_refund_amount": total,
        "total_refund_tax_amount": 0,
        "order_level_refund_amount": 0,
        "rounding": 0,
        "adjustment": 0,
        "tax_inclusive": True,
        "refund_methods": methods,
    }
    return JSONResponse({"data": quote, "meta": {}}, status_code=201)


@router.get("/stores/{store_hash}/v3/orders/{order_id}/payment_actions/refunds")
async def list_refunds(order_id: str, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v3_error(404, NOT_FOUND)
    refunds = session.exec(select(BcRefund).where(BcRefund.order_id == order.id)).all()
    return {"data": [refund_json(r) for r in refunds], "meta": {}}


def refund_json(refund: BcRefund) -> dict[str, Any]:
    reasons = [str(i.get("reason") or "") for i in refund.items]
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "user_id": 0,
        "created": iso(refund.created),
        # ⚠ The top-level reason is read-only in the docs; here, the items' reasons.
        "reason": "; ".join(r for r in dict.fromkeys(reasons) if r),
        "total_amount": refund.total_amount,
        "total_tax": 0,
        "uses_merchant_override_values": False,
        "items": refund.items,
        "payments": refund.payments,
    }


@router.post("/stores/{store_hash}/v3/orders/{order_id}/payment_actions/refunds")
async def create_refund(order_id: str, request: Request, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v3_error(404, NOT_FOUND)
    body = await request.json()
    if not isinstance(body, dict):
        return refund_error(422, "The request body must be an object.")
    try:
        total = price_items(order, body.get("items"))
    except RefundProblem as problem:
        return refund_error(422, str(problem))
    payments = body.get("payments")
    if not isinstance(payments, list) or not payments:
        return refund_error(422, "The field 'payments' is required and cannot be empty.")
    providers = {provider for provider, _ in REFUND_PROVIDERS}
    paid = 0.0
    for payment in payments:
        amount = as_money(payment.get("amount")) if isinstance(payment, dict) else None
        if amount is None or payment.get("provider_id") not in providers:
            return refund_error(422, "Each payment needs a known 'provider_id' and an 'amount'.")
        paid += amount
    if abs(round(paid, 2) - total) > 0.005:
        return refund_error(
            422, f"The payments ({paid:.2f}) do not add up to the refund total ({total:.2f})."
        )
    refund = BcRefund(
        order_id=order.id,
        total_amount=total,
        items=[refund_item(order, item) for item in body["items"]],
        payments=[
            {
                "id": index + 1,
                "provider_id": p["provider_id"],
                "amount": float(p["amount"]),
                "offline": bool(p.get("offline", False)),
                "is_declined": False,
                "declined_message": "",
            }
            for index, p in enumerate(payments)
        ],
        created=now(session),
    )
    refunded = {i["item_id"]: i["quantity"] for i in body["items"] if i["item_type"] == "PRODUCT"}
    order.products = [
        {**p, "quantity_refunded": p.get("quantity_refunded", 0) + refunded.get(p["id"], 0)}
        for p in order.products
    ]
    order.refunded_amount = round(order.refunded_amount + total, 2)
    previous = order.status_id
    order.status_id = 4 if order.refunded_amount >= round(order_total(order), 2) else 14
    session.add(refund)
    session.add(order)
    session.commit()
    result = {"data": refund_json(refund), "meta": {}}
    record_request_write(
        session,
        request,
        PLATFORM,
        "order.refund",
        body=body,
        response=result,
        resource_id=order.id,
        status_code=201,
    )
    send_status_webhook(session, order.id, previous, order.status_id)
    return JSONResponse(result, status_code=201)


def refund_item(order: BcOrder, item: dict[str, Any]) -> dict[str, Any]:
    """A refunded item as the refund shows it: what was asked and what it came to."""
    kept = {
        "item_type": item["item_type"],
        "item_id": item["item_id"],
        "reason": str(item.get("reason") or ""),
    }
    if item["item_type"] == "PRODUCT":
        line = next(p for p in order.products if p["id"] == item["item_id"])
        return {
            **kept,
            "quantity": item["quantity"],
            "requested_amount": round(line["price_inc_tax"] * item["quantity"], 2),
        }
    return {**kept, "requested_amount": float(item["amount"])}


@router.post("/stores/{store_hash}/v3/hooks")
async def create_hook(request: Request, session: SessionDep) -> Any:
    """Register a webhook; custom ``headers`` are sent verbatim (⚠ the shared-secret scheme)."""
    body = await request.json()
    subscription = WebhookSubscription(
        platform=PLATFORM,
        url=str(body.get("destination", "")),
        secret=json.dumps(body.get("headers") or {}),
        external_id=str(body.get("scope", "")),
    )
    session.add(subscription)
    session.commit()
    return {"data": {"id": subscription.id, **body, "is_active": True}, "meta": {}}


def send_status_webhook(session: Session, order_id: int, previous: int, new: int) -> None:
    moment = now(session)
    body = json.dumps(
        {
            "scope": "store/order/statusUpdated",
            "store_id": "1001",
            "producer": f"stores/{SANDBOX_BIGCOMMERCE_STORE_HASH}",
            "hash": f"{order_id}-{previous}-{new}",
            "created_at": int(moment.timestamp()),
            "data": {
                "type": "order",
                "id": order_id,
                "status": {"previous_status_id": previous, "new_status_id": new},
            },
        }
    )
    emit_webhook(
        session,
        PLATFORM,
        "store/order/statusUpdated",
        body,
        lambda secret, _body: json.loads(secret) if secret else {},
    )


def demo_customers(session: Session) -> list[dict[str, Any]]:
    """Who the store knows, with their orders (the console's test chat offers them)."""
    customers = session.exec(select(BcCustomer).order_by(BcCustomer.id)).all()  # type: ignore[arg-type]
    orders = session.exec(select(BcOrder).order_by(BcOrder.id)).all()  # type: ignore[arg-type]
    return [
        {
            "email": c.email,
            "name": f"{c.first_name} {c.last_name}",
            "holds": [f"order {o.id}" for o in orders if o.customer_id == c.id],
        }
        for c in customers
    ]


def seed(session: Session) -> None:
    moment = now(session)
    session.add(BcCustomer(id=1, email="alex@example.com", first_name="Alex", last_name="Moreau"))
    session.add(BcCustomer(id=2, email="blair@example.com", first_name="Blair", last_name="Okafor"))
    session.add(
        BcOrder(
            id=5001,
            customer_id=1,
            email="alex@example.com",
            status_id=11,
            subtotal_inc_tax=80.0,
            date_created=moment - timedelta(hours=6),
            products=[product_line({"product_id": 111, "quantity": 2}, 1)],
            shipping_address=_address("Alex", "Moreau", "12 Rue Lane", "Portland", "OR", "97201"),
        )
    )
    session.add(
        BcOrder(
            id=5002,
            customer_id=2,
            email="blair@example.com",
            status_id=2,
            subtotal_inc_tax=40.0,
            shipping_cost_inc_tax=5.0,
            date_created=moment - timedelta(days=4),
            date_shipped=moment - timedelta(days=2),
            products=[product_line({"product_id": 113, "quantity": 1}, 1)],
            shipping_address=_address("Blair", "Okafor", "8 Elm St", "Austin", "TX", "73301"),
            shipments=[
                {
                    "id": 1,
                    "order_id": 5002,
                    "tracking_number": "9400100000000000005002",
                    "shipping_provider": "usps",
                    "tracking_carrier": "usps",
                    "shipping_method": "Standard",
                    "date_created": format_datetime(moment - timedelta(days=2)),
                }
            ],
        )
    )


def _address(
    first: str, last: str, street: str, city: str, state: str, zip_: str
) -> dict[str, Any]:
    return {
        "first_name": first,
        "last_name": last,
        "street_1": street,
        "street_2": "",
        "city": city,
        "state": state,
        "zip": zip_,
        "country": "United States",
        "country_iso2": "US",
        "shipping_method": "Standard",
    }
