"""BigCommerce emulator: v2 orders and coupons, v3 customers, refunds and hooks.

Auth like the real API: ``X-Auth-Token`` must match the store's token and the store hash
must exist. v2 errors are lists ``[{"status", "message"}]``; v3 errors are
``{status, title, type, errors}``. Status ids follow the real table (PLATFORMS.md).
"""

from __future__ import annotations

import json
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
    reason: str = ""
    total_amount: float
    created: datetime


def v2_error(status: int, message: str) -> JSONResponse:
    return JSONResponse([{"status": status, "message": message}], status_code=status)


def v3_error(status: int, title: str, errors: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "status": status,
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": errors or {},
        },
        status_code=status,
    )


def error_response(status: int, message: str) -> JSONResponse:
    response = v2_error(status, message)
    if status == 429:
        response.headers["X-Rate-Limit-Requests-Left"] = "0"
        response.headers["X-Rate-Limit-Requests-Quota"] = "150"
        response.headers["X-Rate-Limit-Time-Window-Ms"] = "30000"
        response.headers["X-Rate-Limit-Time-Reset-Ms"] = "1000"
    return response


async def check_auth(request: Request, store_hash: str) -> None:
    """Unknown store hash -> 404; missing or wrong X-Auth-Token -> 401, as the real API."""
    if store_hash != SANDBOX_BIGCOMMERCE_STORE_HASH:
        raise EmulatorError(v3_error(404, "Store not found."))
    if request.headers.get("X-Auth-Token") != SANDBOX_BIGCOMMERCE_TOKEN:
        raise EmulatorError(v3_error(401, "No credentials were supplied or they are invalid."))


router = APIRouter(dependencies=[Depends(check_auth)])


def order_json(order: BcOrder) -> dict[str, Any]:
    subtotal = order.subtotal_inc_tax
    total = max(0.0, subtotal + order.shipping_cost_inc_tax - order.discount_amount)
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "status_id": order.status_id,
        "status": STATUS_NAMES.get(order.status_id, "Unknown"),
        "date_created": format_datetime(order.date_created),
        "date_shipped": format_datetime(order.date_shipped) if order.date_shipped else "",
        "subtotal_inc_tax": f"{subtotal:.4f}",
        "shipping_cost_inc_tax": f"{order.shipping_cost_inc_tax:.4f}",
        "discount_amount": f"{order.discount_amount:.4f}",
        "total_inc_tax": f"{total:.4f}",
        "refunded_amount": f"{order.refunded_amount:.4f}",
        "currency_code": "USD",
        "payment_status": order.payment_status,
        "staff_notes": order.staff_notes,
        "billing_address": {"email": order.email, **order.shipping_address},
        "products": {"url": f"/v2/orders/{order.id}/products", "resource": "/products"},
        "shipping_addresses": {"url": f"/v2/orders/{order.id}/shipping_addresses"},
    }


def load_order(session: Session, order_id: int) -> BcOrder | None:
    return session.get(BcOrder, order_id)


NOT_FOUND = "The requested resource was not found."


@router.get("/stores/{store_hash}/v2/orders/{order_id}")
async def get_order(order_id: int, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    return order_json(order) if order else v2_error(404, NOT_FOUND)


@router.put("/stores/{store_hash}/v2/orders/{order_id}")
async def update_order(order_id: int, request: Request, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    body = await request.json()
    previous = order.status_id
    if "status_id" in body:
        if body["status_id"] not in STATUS_NAMES:
            return v2_error(400, "The field 'status_id' is invalid.")
        order.status_id = int(body["status_id"])
    if "discount_amount" in body:
        order.discount_amount = float(body["discount_amount"])
    if "shipping_cost_inc_tax" in body:
        order.shipping_cost_inc_tax = float(body["shipping_cost_inc_tax"])
    if "payment_status" in body:
        order.payment_status = str(body["payment_status"])
    if "staff_notes" in body:
        order.staff_notes = str(body["staff_notes"])
    if "products" in body:
        try:
            order.products = [product_line(p) for p in body["products"]]
        except KeyError:
            return v2_error(400, "The field 'product_id' is invalid.")
        order.subtotal_inc_tax = sum(p["price_inc_tax"] * p["quantity"] for p in order.products)
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
        resource_id=order_id,
    )
    if order.status_id != previous:
        send_status_webhook(session, order.id, previous, order.status_id)
    return result


def product_line(product: dict[str, Any]) -> dict[str, Any]:
    sku, name, price = PRODUCTS[int(product["product_id"])]
    return {
        "product_id": int(product["product_id"]),
        "sku": sku,
        "name": name,
        "quantity": int(product.get("quantity", 1)),
        "price_inc_tax": float(product.get("price_inc_tax", price)),
    }


@router.get("/stores/{store_hash}/v2/orders/{order_id}/products")
async def order_products(order_id: int, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    return [
        {
            "id": index + 1,
            "order_id": order.id,
            "product_id": p["product_id"],
            "sku": p["sku"],
            "name": p["name"],
            "quantity": p["quantity"],
            "price_inc_tax": f"{p['price_inc_tax']:.4f}",
        }
        for index, p in enumerate(order.products)
    ]


@router.get("/stores/{store_hash}/v2/orders/{order_id}/shipping_addresses")
async def order_addresses(order_id: int, session: SessionDep) -> Any:
    order = load_order(session, order_id)
    if order is None:
        return v2_error(404, NOT_FOUND)
    return [{"id": 1, "order_id": order.id, "email": order.email, **order.shipping_address}]


@router.put("/stores/{store_hash}/v2/orders/{order_id}/shipping_addresses/{address_id}")
async def update_address(
    order_id: int, address_id: int, request: Request, session: SessionDep
) -> Any:
    order = load_order(session, order_id)
    if order is None or address_id != 1:
        return v2_error(404, NOT_FOUND)
    body = await request.json()
    order.shipping_address = {**order.shipping_address, **body}
    session.add(order)
    session.commit()
    result = {"id": 1, "order_id": order.id, "email": order.email, **order.shipping_address}
    record_request_write(
        session,
        request,
        PLATFORM,
        "order.shipping_address.update",
        body=body,
        response=result,
        resource_id=order_id,
    )
    return result


@router.get("/stores/{store_hash}/v2/orders/{order_id}/shipments")
async def order_shipments(order_id: int, session: SessionDep) -> Any:
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


@router.post("/stores/{store_hash}/v2/coupons")
async def create_coupon(request: Request, session: SessionDep) -> Any:
    body = await request.json()
    for field in ("name", "code", "type", "amount", "applies_to"):
        if field not in body:
            return v2_error(400, f"The required field '{field}' was not supplied.")
    if session.exec(select(BcCoupon).where(BcCoupon.code == body["code"])).first():
        return v2_error(409, f"The coupon code '{body['code']}' is already in use.")
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


@router.get("/stores/{store_hash}/v3/orders/{order_id}/payment_actions/refunds")
async def list_refunds(order_id: int, session: SessionDep) -> Any:
    if load_order(session, order_id) is None:
        return v3_error(404, NOT_FOUND)
    refunds = session.exec(select(BcRefund).where(BcRefund.order_id == order_id)).all()
    return {"data": [refund_json(r) for r in refunds], "meta": {}}


def refund_json(refund: BcRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "reason": refund.reason,
        "total_amount": refund.total_amount,
        "created": refund.created.isoformat(),
    }


@router.post("/stores/{store_hash}/v3/orders/{order_id}/payment_actions/refunds")
async def create_refund(order_id: int, request: Request, session: SessionDep) -> Any:
    """Simplified: ``{reason, payments: [{amount, provider_id, offline}]}`` (⚠ no quote step)."""
    order = load_order(session, order_id)
    if order is None:
        return v3_error(404, NOT_FOUND)
    body = await request.json()
    amount = round(sum(float(p.get("amount", 0)) for p in body.get("payments", [])), 2)
    total = order.subtotal_inc_tax + order.shipping_cost_inc_tax - order.discount_amount
    if amount <= 0 or amount > round(total - order.refunded_amount, 2) + 1e-9:
        return v3_error(
            422,
            "The refund amount is invalid.",
            {"payments": f"refund of {amount:.2f} exceeds the refundable amount"},
        )
    refund = BcRefund(
        order_id=order_id,
        reason=str(body.get("reason", "")),
        total_amount=amount,
        created=now(session),
    )
    order.refunded_amount = round(order.refunded_amount + amount, 2)
    previous = order.status_id
    order.status_id = 4 if order.refunded_amount >= round(total, 2) else 14
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
        resource_id=order_id,
        status_code=201,
    )
    send_status_webhook(session, order.id, previous, order.status_id)
    return JSONResponse(result, status_code=201)


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
            products=[product_line({"product_id": 111, "quantity": 2})],
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
            products=[product_line({"product_id": 113, "quantity": 1})],
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
