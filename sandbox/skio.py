"""Skio emulator: one GraphQL endpoint (Hasura style) at ``POST /v1/graphql``.

Auth: ``authorization: API <token>``; otherwise 401 with a Hasura ``errors[]`` body. The
emulator recognises the root fields the connector uses (queries ``Subscriptions``,
``SubscriptionByPk``, ``StorefrontUsers``, ``Orders``; mutations ``skipSubscription``,
``cancelSubscription``, ``reactivateSubscription``, ``swapSubscriptionProductVariants``) and
reads their arguments from ``variables`` only; it returns whole objects whatever the
selection set. Like the real API, mutations answer ``ok: true`` for an unknown subscription
id. Mutations replay the first answer for a repeated ``Idempotency-Key`` (⚠).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, select

from sandbox.core import SandboxModel, SessionDep, find_side_effect, iso, now, record_side_effect
from sandbox.credentials import SANDBOX_SKIO_TOKEN

PLATFORM = "skio"

VARIANTS: dict[str, tuple[str, str]] = {
    "pv_coffee_1lb": ("Cold Brew Coffee", "1 lb"),
    "pv_decaf_1lb": ("Decaf Coffee", "1 lb"),
    "pv_espresso_1lb": ("Espresso Roast", "1 lb"),
}


class SkioUser(SandboxModel, table=True):
    __tablename__ = "skio_user"

    id: str = Field(primary_key=True)
    email: str = Field(index=True)
    firstName: str
    lastName: str
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class SkioSubscription(SandboxModel, table=True):
    __tablename__ = "skio_subscription"

    id: str = Field(primary_key=True)
    platformId: str
    userId: str = Field(index=True)
    status: str
    nextBillingDate: datetime | None = None
    cancelledAt: datetime | None = None
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class SkioOrder(SandboxModel, table=True):
    __tablename__ = "skio_order"

    id: str = Field(primary_key=True)
    platformId: str = Field(index=True)
    userId: str
    subscriptionId: str | None = None
    status: str
    totalPrice: float
    createdAt: datetime
    deliveredAt: datetime | None = None
    trackingNumber: str | None = None
    carrier: str | None = None
    lineItems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


def gql_error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code, "path": "$"}}]},
        status_code=status,
    )


def error_response(status: int, message: str) -> JSONResponse:
    return gql_error(status, message, "rate-limited" if status == 429 else "unexpected")


router = APIRouter()


def user_json(user: SkioUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "firstName": user.firstName,
        "lastName": user.lastName,
        "defaultAddress": user.address,
    }


def line_json(line: dict[str, Any]) -> dict[str, Any]:
    product, variant = VARIANTS[line["productVariantId"]]
    return {
        "id": line["id"],
        "quantity": line["quantity"],
        "priceWithoutDiscount": line.get("price", 40.0),
        "ProductVariant": {
            "id": line["productVariantId"],
            "title": variant,
            "Product": {"title": product},
        },
    }


def subscription_json(session: Session, sub: SkioSubscription) -> dict[str, Any]:
    user = session.get(SkioUser, sub.userId)
    return {
        "id": sub.id,
        "platformId": sub.platformId,
        "status": sub.status,
        "nextBillingDate": iso(sub.nextBillingDate) if sub.nextBillingDate else None,
        "cancelledAt": iso(sub.cancelledAt) if sub.cancelledAt else None,
        "StorefrontUser": user_json(user) if user else None,
        "SubscriptionLines": [line_json(line) for line in sub.lines],
    }


def order_json(session: Session, order: SkioOrder) -> dict[str, Any]:
    user = session.get(SkioUser, order.userId)
    return {
        "id": order.id,
        "platformId": order.platformId,
        "subscriptionId": order.subscriptionId,
        "status": order.status,
        "totalPrice": order.totalPrice,
        "createdAt": iso(order.createdAt),
        "deliveredAt": iso(order.deliveredAt) if order.deliveredAt else None,
        "trackingNumber": order.trackingNumber,
        "carrier": order.carrier,
        "shippingAddress": user.address if user else None,
        "StorefrontUser": user_json(user) if user else None,
        "OrderLineItems": [line_json(line) for line in order.lineItems],
    }


def _user_by_email(session: Session, email: str) -> SkioUser | None:
    return session.exec(select(SkioUser).where(SkioUser.email == email.lower())).first()


ROOT_FIELDS = (
    "swapSubscriptionProductVariants",
    "reactivateSubscription",
    "cancelSubscription",
    "skipSubscription",
    "SubscriptionByPk",
    "Subscriptions",
    "StorefrontUsers",
    "Orders",
)
MUTATIONS = ROOT_FIELDS[:4]


@router.post("/v1/graphql")
async def graphql(request: Request, session: SessionDep) -> Any:
    if request.headers.get("authorization") != f"API {SANDBOX_SKIO_TOKEN}":
        return gql_error(401, "Invalid or missing API token", "invalid-headers")
    body = await request.json()
    query = str(body.get("query", ""))
    variables = body.get("variables") or {}
    field = next((f for f in ROOT_FIELDS if re.search(rf"\b{f}\s*[({{]", query)), None)
    if field is None:
        return gql_error(200, "field not found in type: 'query_root'", "validation-failed")
    if field in MUTATIONS:
        key = request.headers.get("Idempotency-Key")
        earlier = find_side_effect(session, PLATFORM, key, field)
        if earlier is not None:
            return earlier.response
        result = {"data": {field: mutate(session, field, variables.get("input") or {})}}
        record_side_effect(
            session,
            PLATFORM,
            field,
            idempotency_key=key,
            request=variables,
            response=result,
            resource_id=(variables.get("input") or {}).get("subscriptionId"),
        )
        return result
    return {"data": {field: read(session, field, variables)}}


def read(session: Session, field: str, variables: dict[str, Any]) -> Any:
    if field == "SubscriptionByPk":
        sub = session.get(SkioSubscription, str(variables.get("id")))
        return subscription_json(session, sub) if sub else None
    if field == "Subscriptions":
        user = _user_by_email(session, str(variables.get("email", "")))
        if user is None:
            return []
        subs = session.exec(select(SkioSubscription).where(SkioSubscription.userId == user.id))
        return [subscription_json(session, s) for s in subs.all()]
    if field == "StorefrontUsers":
        user = _user_by_email(session, str(variables.get("email", "")))
        if user is None:
            return []
        orders = session.exec(select(SkioOrder).where(SkioOrder.userId == user.id)).all()
        return [{**user_json(user), "Orders": [{"platformId": o.platformId} for o in orders]}]
    # Orders(where: {platformId: {_eq: $orderId}})
    orders = session.exec(
        select(SkioOrder).where(SkioOrder.platformId == str(variables.get("orderId")))
    ).all()
    return [order_json(session, o) for o in orders]


def mutate(session: Session, field: str, data: dict[str, Any]) -> dict[str, Any]:
    sub = session.get(SkioSubscription, str(data.get("subscriptionId")))
    if sub is None:  # the real API says ok for unknown ids; clients must read back
        return {"ok": True, "message": "Success"}
    moment = now(session)
    if field == "skipSubscription":
        if sub.status != "ACTIVE" or sub.nextBillingDate is None:
            return {"ok": False, "message": "Only active subscriptions can be skipped"}
        sub.nextBillingDate = sub.nextBillingDate + timedelta(days=30)
    elif field == "cancelSubscription":
        sub.status, sub.cancelledAt = "CANCELLED", moment
    elif field == "reactivateSubscription":
        sub.status, sub.cancelledAt = "ACTIVE", None
        when = data.get("newBillingDate")
        sub.nextBillingDate = datetime.fromisoformat(when) if when else moment + timedelta(days=1)
    elif field == "swapSubscriptionProductVariants":
        old, new = data.get("oldProductVariantId"), data.get("newProductVariantId")
        if new not in VARIANTS:
            return {"ok": False, "message": f"Product variant {new} not found"}
        if not any(line["productVariantId"] == old for line in sub.lines):
            return {"ok": False, "message": f"Subscription has no line with variant {old}"}
        sub.lines = [
            {**line, "productVariantId": new} if line["productVariantId"] == old else line
            for line in sub.lines
        ]
    session.add(sub)
    session.commit()
    result: dict[str, Any] = {"ok": True, "message": "Success"}
    if field == "skipSubscription":
        result["nextBillingDate"] = iso(sub.nextBillingDate) if sub.nextBillingDate else None
    return result


def seed(session: Session) -> None:
    moment = now(session)
    day = timedelta(days=1)
    people = [
        ("usr_jo", "jo@example.com", "Jo", "Lindqvist", "41 Pine Rd", "Denver", "CO", "80202"),
        ("usr_lee", "lee@example.com", "Lee", "Tanaka", "9 Lake Ave", "Seattle", "WA", "98101"),
        ("usr_rio", "rio@example.com", "Rio", "Santos", "77 Bay St", "Miami", "FL", "33101"),
    ]
    for uid, email, first, last, street, city, region, postal in people:
        session.add(
            SkioUser(
                id=uid,
                email=email,
                firstName=first,
                lastName=last,
                address={
                    "name": f"{first} {last}",
                    "address1": street,
                    "city": city,
                    "province": region,
                    "zip": postal,
                    "country": "US",
                },
            )
        )

    def line(variant: str, qty: int = 1) -> dict[str, Any]:
        return {"id": f"ln_{variant}", "productVariantId": variant, "quantity": qty, "price": 32.0}

    session.add_all(
        [
            SkioSubscription(
                id="sub_jo",
                platformId="gid://shopify/SubscriptionContract/1001",
                userId="usr_jo",
                status="ACTIVE",
                nextBillingDate=moment + 20 * day,
                lines=[line("pv_coffee_1lb", 2)],
            ),
            SkioSubscription(
                id="sub_rio",
                platformId="gid://shopify/SubscriptionContract/1003",
                userId="usr_rio",
                status="ACTIVE",
                nextBillingDate=moment + 5 * day,
                lines=[line("pv_espresso_1lb")],
            ),
            SkioOrder(
                id="ord_9001",
                platformId="9001",
                userId="usr_jo",
                subscriptionId="sub_jo",
                status="FULFILLED",
                totalPrice=64.0,
                createdAt=moment - 7 * day,
                deliveredAt=moment - 3 * day,
                trackingNumber="9400100000000000009001",
                carrier="USPS",
                lineItems=[line("pv_coffee_1lb", 2)],
            ),
            SkioOrder(
                id="ord_9002",
                platformId="9002",
                userId="usr_lee",
                status="FULFILLED",
                totalPrice=32.0,
                createdAt=moment - 13 * day,
                trackingNumber="9400100000000000009002",
                carrier="USPS",
                lineItems=[line("pv_decaf_1lb")],
            ),
        ]
    )
    session.commit()
