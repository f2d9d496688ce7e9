"""Stay AI (Retextion) emulator: REST subscriptions, orders and addresses.

Auth: ``X-RETEXTION-ACCESS-TOKEN``; errors ``{"message": ...}`` (⚠ shape). Confirmed paths:
list/get subscriptions, cancel, pause, unpause, ``PUT lines/{lineId}``. ⚠ Unconfirmed and
kept in step with ``activities/platforms/stayai.py``: ``POST /subscriptions/{id}/skip``,
``/reactivate``, ``GET|POST /orders``, ``POST /orders/{id}/mark-paid``,
``POST /orders/{id}/discount``, ``POST /orders/{id}/cancel {reason}`` (refused with 400 once
the order is fulfilled or already cancelled; a paid order is refunded to the original
payment), ``POST /discount-codes {code, percentage, customerEmail, usageLimit, expiresAt}``
(409 for a code that exists), ``GET /discount-codes/{code}``, ``PUT /addresses/{id}``.
Writes honour ``Idempotency-Key``: the same key replays the first successful answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, SQLModel, func, select

from activities.platforms.config import SANDBOX_STAYAI_TOKEN
from sandbox.core import EmulatorError, SessionDep, find_side_effect, iso, now, record_side_effect

PLATFORM = "stayai"
VARIANTS = {
    "var_greens_30": ("Daily Greens, 30 servings", 45.0),
    "var_greens_60": ("Daily Greens, 60 servings", 80.0),
    "var_protein_van": ("Protein Blend, Vanilla", 50.0),
    "var_protein_choc": ("Protein Blend, Chocolate", 50.0),
}


class StaySubscription(SQLModel, table=True):
    __tablename__ = "stayai_subscription"

    id: str = Field(primary_key=True)
    email: str = Field(index=True)
    status: str
    nextOrderDate: datetime | None = None
    cancelledAt: datetime | None = None
    billingInterval: str = "MONTH"
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    shippingAddress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class StayOrder(SQLModel, table=True):
    __tablename__ = "stayai_order"

    id: str = Field(primary_key=True)
    email: str = Field(index=True)
    status: str
    financialStatus: str = "PAID"
    subtotal: float
    discountPercent: int = 0
    createdAt: datetime
    deliveredAt: datetime | None = None
    trackingNumber: str | None = None
    carrier: str | None = None
    lineItems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    shippingAddress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class StayDiscountCode(SQLModel, table=True):
    __tablename__ = "stayai_discount_code"

    id: str = Field(primary_key=True)
    code: str = Field(index=True, unique=True)  # stored upper case: codes are case-insensitive
    percentage: int
    customerEmail: str | None = None
    usageLimit: int | None = None
    expiresAt: datetime | None = None
    createdAt: datetime


class StayAddress(SQLModel, table=True):
    __tablename__ = "stayai_address"

    id: str = Field(primary_key=True)
    email: str
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "statusCode": status}, status_code=status)


def error_response(status: int, message: str) -> JSONResponse:
    return error(status, message)


async def check_auth(request: Request) -> None:
    if request.headers.get("X-RETEXTION-ACCESS-TOKEN") != SANDBOX_STAYAI_TOKEN:
        raise EmulatorError(error(401, "Unauthorized"))


router = APIRouter(dependencies=[Depends(check_auth)])


def sub_json(sub: StaySubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "customer": {"email": sub.email},
        "status": sub.status,
        "nextOrderDate": iso(sub.nextOrderDate) if sub.nextOrderDate else None,
        "cancelledAt": iso(sub.cancelledAt) if sub.cancelledAt else None,
        "billingInterval": sub.billingInterval,
        "lineItems": sub.lines,
        "shippingAddress": sub.shippingAddress,
    }


def order_json(order: StayOrder) -> dict[str, Any]:
    total = round(order.subtotal * (100 - order.discountPercent) / 100, 2)
    return {
        "id": order.id,
        "customer": {"email": order.email},
        "status": order.status,
        "financialStatus": order.financialStatus,
        "subtotalPrice": order.subtotal,
        "discountPercent": order.discountPercent,
        "totalPrice": total,
        "createdAt": iso(order.createdAt),
        "deliveredAt": iso(order.deliveredAt) if order.deliveredAt else None,
        "trackingNumber": order.trackingNumber,
        "carrier": order.carrier,
        "lineItems": order.lineItems,
        "shippingAddress": order.shippingAddress,
    }


async def idempotent_write(
    request: Request, session: SessionDep, operation: str, resource_id: str, apply: Any
) -> Any:
    """Replay the first answer for a repeated Idempotency-Key; else apply and record."""
    key = request.headers.get("Idempotency-Key")
    earlier = find_side_effect(session, PLATFORM, key, operation)
    if earlier is not None:
        return JSONResponse(earlier.response, status_code=earlier.status_code)
    body = await request.json() if await request.body() else {}
    result, status = apply(body)
    if status < 300:
        record_side_effect(
            session,
            PLATFORM,
            operation,
            idempotency_key=key,
            request=body,
            response=result,
            resource_id=result.get("id", resource_id),
            status_code=status,
        )
    return JSONResponse(result, status_code=status)


@router.get("/subscriptions")
async def list_subscriptions(
    session: SessionDep,
    email: str | None = None,
    status: str | None = None,
    page: int = 1,
    pageSize: int = 25,
) -> Any:
    query = select(StaySubscription)
    if email:
        query = query.where(func.lower(StaySubscription.email) == email.lower())
    if status:
        query = query.where(StaySubscription.status == status)
    subs = session.exec(query).all()
    start = (page - 1) * pageSize
    return {"data": [sub_json(s) for s in subs[start : start + pageSize]], "total": len(subs)}


@router.get("/subscriptions/{sub_id}")
async def get_subscription(sub_id: str, session: SessionDep) -> Any:
    sub = session.get(StaySubscription, sub_id)
    return sub_json(sub) if sub else error(404, "Subscription not found")


def _sub_action(action: str) -> Any:
    async def handler(sub_id: str, request: Request, session: SessionDep) -> Any:
        sub = session.get(StaySubscription, sub_id)
        if sub is None:
            return error(404, "Subscription not found")

        def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
            assert sub is not None
            moment = now(session)
            if action == "skip":
                if sub.status != "ACTIVE" or sub.nextOrderDate is None:
                    return {"message": "Only active subscriptions can be skipped"}, 400
                sub.nextOrderDate = sub.nextOrderDate + timedelta(days=30)
            elif action == "cancel":
                sub.status, sub.cancelledAt = "CANCELLED", moment
            elif action == "reactivate":
                if sub.status == "ACTIVE":
                    return {"message": "Subscription is already active"}, 400
                sub.status, sub.cancelledAt = "ACTIVE", None
                sub.nextOrderDate = moment + timedelta(days=1)
            elif action == "pause":
                sub.status = "PAUSED"
            elif action == "unpause":
                sub.status = "ACTIVE"
            session.add(sub)
            session.commit()
            return sub_json(sub), 200

        return await idempotent_write(request, session, f"subscription.{action}", sub_id, apply)

    return handler


for _action in ("skip", "cancel", "reactivate", "pause", "unpause"):
    router.post(f"/subscriptions/{{sub_id}}/{_action}")(_sub_action(_action))


@router.put("/subscriptions/{sub_id}/lines/{line_id}")
async def update_line(sub_id: str, line_id: str, request: Request, session: SessionDep) -> Any:
    sub = session.get(StaySubscription, sub_id)
    if sub is None or not any(line["id"] == line_id for line in sub.lines):
        return error(404, "Subscription line not found")

    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        assert sub is not None
        variant = body.get("variantId")
        if variant is not None and variant not in VARIANTS:
            return {"message": f"Variant {variant} not found", "statusCode": 400}, 400
        lines = []
        for line in sub.lines:
            if line["id"] == line_id:
                if variant:
                    title, price = VARIANTS[variant]
                    line = {**line, "variantId": variant, "title": title, "price": price}
                if "quantity" in body:
                    line = {**line, "quantity": int(body["quantity"])}
            lines.append(line)
        sub.lines = lines
        session.add(sub)
        session.commit()
        return sub_json(sub), 200

    return await idempotent_write(request, session, "subscription.line.update", sub_id, apply)


@router.get("/orders/{order_id}")
async def get_order(order_id: str, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    return order_json(order) if order else error(404, "Order not found")


@router.post("/orders")
async def create_order(request: Request, session: SessionDep) -> Any:
    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if not body.get("email") or not body.get("lineItems") or not body.get("shippingAddress"):
            return {"message": "email, lineItems and shippingAddress are required"}, 400
        count = len(session.exec(select(StayOrder)).all())
        order = StayOrder(
            id=str(7100 + count),
            email=body["email"],
            status="UNFULFILLED",
            financialStatus="PENDING",
            subtotal=round(
                sum(
                    float(i.get("price", 0)) * int(i.get("quantity", 1)) for i in body["lineItems"]
                ),
                2,
            ),
            createdAt=now(session),
            lineItems=body["lineItems"],
            shippingAddress=body["shippingAddress"],
        )
        session.add(order)
        session.commit()
        return order_json(order), 201

    return await idempotent_write(request, session, "order.create", "", apply)


@router.post("/orders/{order_id}/mark-paid")
async def mark_paid(order_id: str, request: Request, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    if order is None:
        return error(404, "Order not found")

    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        assert order is not None
        order.financialStatus = "PAID"
        session.add(order)
        session.commit()
        return order_json(order), 200

    return await idempotent_write(request, session, "order.mark_paid", order_id, apply)


@router.post("/orders/{order_id}/discount")
async def discount(order_id: str, request: Request, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    if order is None:
        return error(404, "Order not found")

    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        assert order is not None
        percent = int(body.get("percent", -1))
        if not 0 <= percent <= 100:
            return {"message": "percent must be between 0 and 100"}, 400
        order.discountPercent = percent
        session.add(order)
        session.commit()
        return order_json(order), 200

    return await idempotent_write(request, session, "order.discount", order_id, apply)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(order_id: str, request: Request, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    if order is None:
        return error(404, "Order not found")

    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        assert order is not None
        if order.status == "CANCELLED":
            return {"message": "Order is already cancelled", "statusCode": 400}, 400
        if order.status != "UNFULFILLED" or order.deliveredAt is not None:
            message = "Order has been fulfilled and can no longer be cancelled"
            return {"message": message, "statusCode": 400}, 400
        order.status = "CANCELLED"
        if order.financialStatus == "PAID":
            order.financialStatus = "REFUNDED"
        elif order.financialStatus == "PENDING":
            order.financialStatus = "VOIDED"
        session.add(order)
        session.commit()
        return {**order_json(order), "cancelReason": body.get("reason")}, 200

    return await idempotent_write(request, session, "order.cancel", order_id, apply)


def discount_code_json(code: StayDiscountCode) -> dict[str, Any]:
    return {
        "id": code.id,
        "code": code.code,
        "percentage": code.percentage,
        "customerEmail": code.customerEmail,
        "usageLimit": code.usageLimit,
        "expiresAt": iso(code.expiresAt) if code.expiresAt else None,
        "createdAt": iso(code.createdAt),
    }


@router.get("/discount-codes/{code}")
async def get_discount_code(code: str, session: SessionDep) -> Any:
    query = select(StayDiscountCode).where(StayDiscountCode.code == code.strip().upper())
    found = session.exec(query).first()
    return discount_code_json(found) if found else error(404, "Discount code not found")


@router.post("/discount-codes")
async def create_discount_code(request: Request, session: SessionDep) -> Any:
    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        code = str(body.get("code") or "").strip().upper()
        try:
            percentage = int(body.get("percentage", -1))
        except (TypeError, ValueError):
            percentage = -1
        if not code:
            return {"message": "code is required", "statusCode": 400}, 400
        if not 1 <= percentage <= 100:
            return {"message": "percentage must be between 1 and 100", "statusCode": 400}, 400
        taken = select(StayDiscountCode).where(StayDiscountCode.code == code)
        if session.exec(taken).first() is not None:
            return {"message": f"Discount code {code} already exists", "statusCode": 409}, 409
        expires = body.get("expiresAt")
        count = len(session.exec(select(StayDiscountCode)).all())
        created = StayDiscountCode(
            id=f"dc_{count + 1}",
            code=code,
            percentage=percentage,
            customerEmail=body.get("customerEmail"),
            usageLimit=body.get("usageLimit"),
            expiresAt=datetime.fromisoformat(expires) if expires else None,
            createdAt=now(session),
        )
        session.add(created)
        session.commit()
        return discount_code_json(created), 201

    return await idempotent_write(request, session, "discount_code.create", "", apply)


@router.put("/addresses/{address_id}")
async def update_address(address_id: str, request: Request, session: SessionDep) -> Any:
    address = session.get(StayAddress, address_id)
    if address is None:
        return error(404, "Address not found")

    def apply(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        assert address is not None
        address.address = {**address.address, **body}
        session.add(address)
        for sub in session.exec(select(StaySubscription)).all():
            if sub.shippingAddress.get("id") == address_id:
                sub.shippingAddress = {**address.address, "id": address_id}
                session.add(sub)
        session.commit()
        return {"id": address.id, **address.address}, 200

    return await idempotent_write(request, session, "address.update", address_id, apply)


def seed(session: Session) -> None:
    moment = now(session)
    day = timedelta(days=1)
    people = {
        "sam@example.com": ("Sam Park", "5 Beacon St", "Boston", "MA", "02108"),
        "casey@example.com": ("Casey Reed", "300 Lake Shore Dr", "Chicago", "IL", "60601"),
        "max@example.com": ("Max Weber", "14 Oak Ave", "Madison", "WI", "53703"),
        "kim@example.com": ("Kim Nguyen", "88 Market St", "San Jose", "CA", "95113"),
    }
    addresses: dict[str, dict[str, Any]] = {}
    for email, (name, street, city, region, postal) in people.items():
        address_id = f"addr_{email.split('@')[0]}"
        addresses[email] = {
            "id": address_id,
            "name": name,
            "address1": street,
            "city": city,
            "province": region,
            "zip": postal,
            "countryCode": "US",
        }
        session.add(StayAddress(id=address_id, email=email, address=addresses[email]))

    def line(variant: str, qty: int = 1) -> dict[str, Any]:
        title, price = VARIANTS[variant]
        return {
            "id": f"line_{variant}",
            "variantId": variant,
            "title": title,
            "quantity": qty,
            "price": price,
        }

    session.add_all(
        [
            StaySubscription(
                id="sub_sam",
                email="sam@example.com",
                status="ACTIVE",
                nextOrderDate=moment + 25 * day,
                lines=[line("var_greens_30")],
                shippingAddress=addresses["sam@example.com"],
            ),
            StaySubscription(
                id="sub_max",
                email="max@example.com",
                status="CANCELLED",
                cancelledAt=moment - 30 * day,
                lines=[line("var_protein_van")],
                shippingAddress=addresses["max@example.com"],
            ),
            StaySubscription(
                id="sub_kim",
                email="kim@example.com",
                status="ACTIVE",
                nextOrderDate=moment + 12 * day,
                lines=[line("var_protein_van")],
                shippingAddress=addresses["kim@example.com"],
            ),
            # sam: delivered 3 days ago, arrived damaged; inside the reshipment window.
            StayOrder(
                id="7001",
                email="sam@example.com",
                status="FULFILLED",
                subtotal=45.0,
                createdAt=moment - 8 * day,
                deliveredAt=moment - 3 * day,
                trackingNumber="9400100000000000007001",
                carrier="USPS",
                lineItems=[line("var_greens_30")],
                shippingAddress=addresses["sam@example.com"],
            ),
            # sam's next box: paid, not yet fulfilled; can still be cancelled.
            StayOrder(
                id="7003",
                email="sam@example.com",
                status="UNFULFILLED",
                subtotal=45.0,
                createdAt=moment - day,
                lineItems=[line("var_greens_30")],
                shippingAddress=addresses["sam@example.com"],
            ),
            # casey: delivered 58 days ago; outside the 30-day reshipment window.
            StayOrder(
                id="7002",
                email="casey@example.com",
                status="FULFILLED",
                subtotal=80.0,
                createdAt=moment - 62 * day,
                deliveredAt=moment - 58 * day,
                trackingNumber="9400100000000000007002",
                carrier="USPS",
                lineItems=[line("var_greens_60")],
                shippingAddress=addresses["casey@example.com"],
            ),
        ]
    )
    session.commit()
