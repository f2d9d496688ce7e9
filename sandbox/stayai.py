"""Stay AI (Retextion) emulator: REST subscriptions, orders and addresses.

Auth: ``X-RETEXTION-ACCESS-TOKEN`` (401 ``{"message"}`` without it); other errors
``{"message", "statusCode"}`` (⚠ shape). Checked against Stay AI's reference (see
``sandbox/FIDELITY.md`` and ``tests/platforms/contracts/test_stayai_contract.py``): list/get
subscriptions (``{data, total}``; a subscription carries ``emailAddress``,
``nextBillingDate``, ``lineItems[{lineId, shopifyVariantId, quantity, …}]``), ``cancel
{cancellationReasons}`` answering ``{success: true}``, ``skip-next-order``, ``pause
{pausedUntil, initiator}``, ``unpause``, ``PUT lines/{lineId}``. The other subscription
actions answer ``{success: true}`` too (⚠). ⚠ Not in Stay AI's reference and kept in step
with ``activities/platforms/stayai.py``: ``POST /subscriptions/{id}/reactivate``,
``GET /orders/{id}``, ``POST /orders``, ``POST /orders/{id}/mark-paid``,
``POST /orders/{id}/discount``, ``POST /orders/{id}/cancel {reason}`` (refused with 400 once
the order is fulfilled or already cancelled; a paid order is refunded to the original
payment), ``POST /discount-codes {code, percentage, customerEmail, usageLimit, expiresAt}``
(409 for a code that exists), ``GET /discount-codes/{code}``, ``PUT /addresses/{id}``.
Writes honour ``Idempotency-Key``: the same key replays the first successful answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, func, select

from sandbox.core import (
    EmulatorError,
    SandboxModel,
    SessionDep,
    iso,
    now,
)
from sandbox.credentials import SANDBOX_STAYAI_TOKEN
from sandbox.routes import Answer, idempotent_write, page_of

PLATFORM = "stayai"
VARIANTS = {
    "var_greens_30": ("Daily Greens, 30 servings", 45.0),
    "var_greens_60": ("Daily Greens, 60 servings", 80.0),
    "var_protein_van": ("Protein Blend, Vanilla", 50.0),
    "var_protein_choc": ("Protein Blend, Chocolate", 50.0),
}


class StaySubscription(SandboxModel, table=True):
    __tablename__ = "stayai_subscription"

    id: str = Field(primary_key=True)
    email: str = Field(index=True)
    status: str
    nextBillingDate: datetime | None = None
    cancelledAt: datetime | None = None
    pausedUntil: datetime | None = None
    orderIntervalUnit: str = "MONTH"
    orderIntervalFrequency: int = 1
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    shippingAddress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class StayOrder(SandboxModel, table=True):
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


class StayDiscountCode(SandboxModel, table=True):
    __tablename__ = "stayai_discount_code"

    id: str = Field(primary_key=True)
    code: str = Field(index=True, unique=True)  # stored upper case: codes are case-insensitive
    percentage: int
    customerEmail: str | None = None
    usageLimit: int | None = None
    expiresAt: datetime | None = None
    createdAt: datetime


class StayAddress(SandboxModel, table=True):
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
    """The fields a listed subscription carries in the third-party schemas read against the
    live API (a subset: no customerId, prices in cents, …); the by-id answer has the same
    shape here (⚠ Stay AI may answer that one in Shopify's contract shape)."""
    return {
        "id": sub.id,
        "subscriptionId": f"gid://shopify/SubscriptionContract/{sub.id}",
        "emailAddress": sub.email,
        "status": sub.status,
        "nextBillingDate": iso(sub.nextBillingDate) if sub.nextBillingDate else None,
        "cancelledAt": iso(sub.cancelledAt) if sub.cancelledAt else None,
        "pausedUntil": iso(sub.pausedUntil) if sub.pausedUntil else None,
        "orderIntervalUnit": sub.orderIntervalUnit,
        "orderIntervalFrequency": sub.orderIntervalFrequency,
        "lineItems": sub.lines,
        "shippingAddress": sub.shippingAddress,
    }


def interval(sub: StaySubscription) -> timedelta:
    """One billing interval (a month counted as 30 days)."""
    days = {"DAY": 1, "WEEK": 7, "MONTH": 30, "YEAR": 365}.get(sub.orderIntervalUnit, 30)
    return timedelta(days=days * sub.orderIntervalFrequency)


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


Row = TypeVar("Row", StaySubscription, StayOrder, StayAddress)
# A write's change to its row; it answers (body, status) itself only to refuse.
Change = Callable[[Session, Row, dict[str, Any]], Answer | None]


def row_write(
    method: str,
    path: str,
    model: type[Row],
    missing: str,
    operation: str,
    answer: Callable[[Row], dict[str, Any]],
) -> Callable[[Change[Row]], Change[Row]]:
    """Register ``change(session, row, body)`` as the write at ``path``, whose one path
    parameter names the row: an unknown row is a 404 ``missing``; else the change runs once
    per Idempotency-Key, then the row is saved and answered with ``answer(row)`` (unless the
    change refused)."""

    def register(change: Change[Row]) -> Change[Row]:
        async def write(request: Request, session: SessionDep) -> Any:
            (row_id,) = request.path_params.values()
            row = session.get(model, row_id)
            if row is None:
                return error(404, missing)

            def apply(body: dict[str, Any]) -> Answer:
                assert row is not None
                refusal = change(session, row, body)
                if refusal is not None:
                    return refusal
                session.add(row)
                session.commit()
                return answer(row), 200

            return await idempotent_write(request, session, PLATFORM, operation, row_id, apply)

        router.add_api_route(
            path, write, methods=[method], name=change.__name__, description=change.__doc__
        )
        return change

    return register


def succeeded(row: Any) -> dict[str, Any]:
    return {"success": True}


def subscription_action(
    action: str, operation: str | None = None
) -> Callable[[Change[StaySubscription]], Any]:
    """``POST /subscriptions/{sub_id}/{action}``, answering ``{"success": true}``."""
    return row_write(
        "POST",
        f"/subscriptions/{{sub_id}}/{action}",
        StaySubscription,
        "Subscription not found",
        operation or f"subscription.{action}",
        succeeded,
    )


def order_action(action: str, operation: str) -> Callable[[Change[StayOrder]], Any]:
    """``POST /orders/{order_id}/{action}``."""
    return row_write(
        "POST",
        f"/orders/{{order_id}}/{action}",
        StayOrder,
        "Order not found",
        operation,
        order_json,
    )


def refused(message: str, *, with_status: bool = False) -> Answer:
    """A 400 in Stay AI's shape (some refusals repeat the status in the body)."""
    return ({"message": message, "statusCode": 400} if with_status else {"message": message}), 400


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
    return {"data": [sub_json(s) for s in page_of(subs, page, pageSize)], "total": len(subs)}


@router.get("/subscriptions/{sub_id}")
async def get_subscription(sub_id: str, session: SessionDep) -> Any:
    sub = session.get(StaySubscription, sub_id)
    return sub_json(sub) if sub else error(404, "Subscription not found")


@subscription_action("skip-next-order", "subscription.skip")
def skip(session: Session, sub: StaySubscription, body: dict[str, Any]) -> Answer | None:
    """The next billing date moves one interval on, whenever the skip happens."""
    if sub.status != "ACTIVE" or sub.nextBillingDate is None:
        return refused("Only active subscriptions can be skipped")
    sub.nextBillingDate = sub.nextBillingDate + interval(sub)
    return None


@subscription_action("cancel")
def cancel(session: Session, sub: StaySubscription, body: dict[str, Any]) -> Answer | None:
    reasons = body.get("cancellationReasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        return refused("cancellationReasons must be a list of strings", with_status=True)
    sub.status, sub.cancelledAt, sub.pausedUntil = "CANCELLED", now(session), None
    return None


@subscription_action("reactivate")
def reactivate(session: Session, sub: StaySubscription, body: dict[str, Any]) -> Answer | None:
    """⚠ Not in Stay AI's reference (its Merchant Portal reactivates cancelled ones)."""
    if sub.status == "ACTIVE":
        return refused("Subscription is already active")
    sub.status, sub.cancelledAt, sub.pausedUntil = "ACTIVE", None, None
    sub.nextBillingDate = now(session) + timedelta(days=1)
    return None


@subscription_action("pause")
def pause(session: Session, sub: StaySubscription, body: dict[str, Any]) -> Answer | None:
    """``{pausedUntil: YYYY-MM-DD, initiator?: MERCHANT|CUSTOMER}``."""
    try:
        until = datetime.strptime(str(body.get("pausedUntil")), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return refused("pausedUntil must be a date (YYYY-MM-DD)", with_status=True)
    if body.get("initiator", "MERCHANT") not in ("MERCHANT", "CUSTOMER"):
        return refused("initiator must be MERCHANT or CUSTOMER", with_status=True)
    if sub.status == "CANCELLED":
        return refused("Cancelled subscriptions cannot be paused")
    sub.status, sub.pausedUntil = "PAUSED", until
    return None


@subscription_action("unpause")
def unpause(session: Session, sub: StaySubscription, body: dict[str, Any]) -> Answer | None:
    if sub.status != "PAUSED":
        return refused("Only paused subscriptions can be unpaused")  # ⚠ wording
    sub.status, sub.pausedUntil = "ACTIVE", None
    return None


@router.put("/subscriptions/{sub_id}/lines/{line_id}")
async def update_line(sub_id: str, line_id: str, request: Request, session: SessionDep) -> Any:
    sub = session.get(StaySubscription, sub_id)
    if sub is None or not any(line["lineId"] == line_id for line in sub.lines):
        return error(404, "Subscription line not found")

    def apply(body: dict[str, Any]) -> Answer:
        assert sub is not None
        variant = body.get("variantId")
        if variant is not None and variant not in VARIANTS:
            return refused(f"Variant {variant} not found", with_status=True)
        lines = []
        for line in sub.lines:
            if line["lineId"] == line_id:
                if variant:
                    title, price = VARIANTS[variant]
                    line = {**line, "shopifyVariantId": variant, "title": title, "unitPrice": price}
                if "quantity" in body:
                    line = {**line, "quantity": int(body["quantity"])}
            lines.append(line)
        sub.lines = lines
        session.add(sub)
        session.commit()
        return sub_json(sub), 200

    operation = "subscription.line.update"
    return await idempotent_write(request, session, PLATFORM, operation, sub_id, apply)


@router.get("/orders/{order_id}")
async def get_order(order_id: str, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    return order_json(order) if order else error(404, "Order not found")


@router.post("/orders")
async def create_order(request: Request, session: SessionDep) -> Any:
    def apply(body: dict[str, Any]) -> Answer:
        if not body.get("email") or not body.get("lineItems") or not body.get("shippingAddress"):
            return refused("email, lineItems and shippingAddress are required")
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

    return await idempotent_write(request, session, PLATFORM, "order.create", "", apply)


@order_action("mark-paid", "order.mark_paid")
def mark_paid(session: Session, order: StayOrder, body: dict[str, Any]) -> Answer | None:
    order.financialStatus = "PAID"
    return None


@order_action("discount", "order.discount")
def discount(session: Session, order: StayOrder, body: dict[str, Any]) -> Answer | None:
    percent = int(body.get("percent", -1))
    if not 0 <= percent <= 100:
        return refused("percent must be between 0 and 100")
    order.discountPercent = percent
    return None


@router.post("/orders/{order_id}/cancel")
async def cancel_order(order_id: str, request: Request, session: SessionDep) -> Any:
    order = session.get(StayOrder, order_id)
    if order is None:
        return error(404, "Order not found")

    def apply(body: dict[str, Any]) -> Answer:
        assert order is not None
        if order.status == "CANCELLED":
            return refused("Order is already cancelled", with_status=True)
        if order.status != "UNFULFILLED" or order.deliveredAt is not None:
            return refused(
                "Order has been fulfilled and can no longer be cancelled", with_status=True
            )
        order.status = "CANCELLED"
        if order.financialStatus == "PAID":
            order.financialStatus = "REFUNDED"
        elif order.financialStatus == "PENDING":
            order.financialStatus = "VOIDED"
        session.add(order)
        session.commit()
        return {**order_json(order), "cancelReason": body.get("reason")}, 200

    return await idempotent_write(request, session, PLATFORM, "order.cancel", order_id, apply)


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
    def apply(body: dict[str, Any]) -> Answer:
        code = str(body.get("code") or "").strip().upper()
        try:
            percentage = int(body.get("percentage", -1))
        except (TypeError, ValueError):
            percentage = -1
        if not code:
            return refused("code is required", with_status=True)
        if not 1 <= percentage <= 100:
            return refused("percentage must be between 1 and 100", with_status=True)
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

    return await idempotent_write(request, session, PLATFORM, "discount_code.create", "", apply)


def address_json(address: StayAddress) -> dict[str, Any]:
    return {"id": address.id, **address.address}


@row_write(
    "PUT",
    "/addresses/{address_id}",
    StayAddress,
    "Address not found",
    "address.update",
    address_json,
)
def update_address(session: Session, address: StayAddress, body: dict[str, Any]) -> Answer | None:
    """The address, and every subscription shipping to it."""
    address.address = {**address.address, **body}
    for sub in session.exec(select(StaySubscription)).all():
        if sub.shippingAddress.get("id") == address.id:
            sub.shippingAddress = {**address.address, "id": address.id}
            session.add(sub)
    return None


def demo_customers(session: Session) -> list[dict[str, Any]]:
    """Subscribers and their subscriptions (the console's test chat offers them)."""
    names = {
        a.email: str(a.address.get("name") or "") for a in session.exec(select(StayAddress)).all()
    }
    found: dict[str, dict[str, Any]] = {}
    for sub in session.exec(select(StaySubscription).order_by(StaySubscription.id)).all():
        entry = found.setdefault(
            sub.email, {"email": sub.email, "name": names.get(sub.email, ""), "holds": []}
        )
        entry["holds"].append(f"subscription {sub.status.lower()}")
    return list(found.values())


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
        """An order's line (the orders' shape is ⚠ ours)."""
        title, price = VARIANTS[variant]
        return {
            "id": f"line_{variant}",
            "variantId": variant,
            "title": title,
            "quantity": qty,
            "price": price,
        }

    def sub_line(variant: str, qty: int = 1) -> dict[str, Any]:
        """A subscription's line; ``title`` is ours (⚠ not in the listed fields)."""
        title, price = VARIANTS[variant]
        return {
            "lineId": f"line_{variant}",
            "shopifyProductId": variant.rsplit("_", 1)[0],
            "shopifyVariantId": variant,
            "title": title,
            "quantity": qty,
            "unitPrice": price,
        }

    session.add_all(
        [
            StaySubscription(
                id="sub_sam",
                email="sam@example.com",
                status="ACTIVE",
                nextBillingDate=moment + 25 * day,
                lines=[sub_line("var_greens_30")],
                shippingAddress=addresses["sam@example.com"],
            ),
            StaySubscription(
                id="sub_max",
                email="max@example.com",
                status="CANCELLED",
                cancelledAt=moment - 30 * day,
                lines=[sub_line("var_protein_van")],
                shippingAddress=addresses["max@example.com"],
            ),
            StaySubscription(
                id="sub_kim",
                email="kim@example.com",
                status="ACTIVE",
                nextBillingDate=moment + 12 * day,
                lines=[sub_line("var_protein_van")],
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
