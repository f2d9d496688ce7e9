"""Skio emulator: one GraphQL endpoint (Hasura style) at ``POST /v1/graphql``.

Auth: ``authorization: API <token>``; otherwise 401 with a Hasura ``errors[]`` body. The
emulator knows the part of Skio's documented schema (code.skio.com) that the connector uses:
queries ``SubscriptionByPk``, ``Subscriptions``, ``StorefrontUsers``, ``Orders`` over the types
``Subscription``, ``SubscriptionLine``, ``ProductVariant``, ``Product``, ``StorefrontUser``,
``Address``, ``Order``, ``OrderLineItem`` (documented fields only), and the mutations
``cancelSubscription``, ``swapSubscriptionProductVariants`` and (⚠ not on the reference page)
``skipSubscription``, ``reactivateSubscription``, each taking ``input: <Name>Input!``.

Like Hasura: a field the type does not have, or ``$input`` declared with another type name,
answers HTTP 200 with ``errors[{message, extensions: {code: "validation-failed", path}}]``;
an id that is not a uuid where the schema says ``uuid`` is a ``data-exception``; answers
carry exactly the selected fields. Ids are uuids, money is a JSON number (``numeric``).
Arguments are read from ``variables`` only (the ``where`` filters are the ones the connector
writes: by email, by order ``platformId``). Like the real API, mutations answer ``ok: true``
for an unknown subscription id. Mutations replay the first answer for a repeated
``Idempotency-Key`` (⚠).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def sid(kind: int, number: int) -> str:
    """A demo uuid: ``0000000<kind>-0000-4000-8000-<number>``."""
    return f"{kind:08x}-0000-4000-8000-{number:012x}"


USER, SUBSCRIPTION, ORDER, VARIANT, LINE, PRODUCT, ADDRESS = range(1, 8)

# Skio's catalogue of the demo shop: variant uuid -> (product, variant title, Shopify ids).
VARIANTS: dict[str, tuple[str, str, int, int]] = {
    sid(VARIANT, 1): ("Cold Brew Coffee", "1 lb", 8201, 9201),
    sid(VARIANT, 2): ("Decaf Coffee", "1 lb", 8202, 9202),
    sid(VARIANT, 3): ("Espresso Roast", "1 lb", 8203, 9203),
}
COFFEE, DECAF, ESPRESSO = VARIANTS
SUB_JO, SUB_RIO = sid(SUBSCRIPTION, 1), sid(SUBSCRIPTION, 3)  # the demo subscriptions


class SkioUser(SandboxModel, table=True):
    __tablename__ = "skio_user"

    id: str = Field(primary_key=True)
    email: str = Field(index=True)
    firstName: str
    lastName: str
    platformId: str
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class SkioSubscription(SandboxModel, table=True):
    __tablename__ = "skio_subscription"

    id: str = Field(primary_key=True)
    platformId: str
    userId: str = Field(index=True)
    status: str
    createdAt: datetime
    nextBillingDate: datetime | None = None
    cancelledAt: datetime | None = None
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class SkioOrder(SandboxModel, table=True):
    __tablename__ = "skio_order"

    id: str = Field(primary_key=True)
    platformId: str = Field(index=True)
    platformNumber: str
    userId: str
    totalPrice: float
    createdAt: datetime
    cancelledAt: datetime | None = None
    deliveredAt: datetime | None = None
    lineItems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


def gql_error(status: int, message: str, code: str, path: str = "$") -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code, "path": path}}]},
        status_code=status,
    )


def error_response(status: int, message: str) -> JSONResponse:
    return gql_error(status, message, "rate-limited" if status == 429 else "unexpected")


router = APIRouter()


# --- a small GraphQL reader: variable definitions and the selection tree --------------------


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)
    args: str = ""  # the literal arguments, e.g. where: {removedAt: {_is_null: true}}


class Invalid(Exception):
    def __init__(self, message: str, code: str = "validation-failed", path: str = "$") -> None:
        super().__init__(message)
        self.message, self.code, self.path = message, code, path


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\.\.\.|[{}()\[\]:!$=,]|[A-Za-z_][A-Za-z0-9_]*|-?[\d.]+')


def parse(query: str) -> tuple[str, dict[str, str], Node]:
    """(operation kind, {variable: declared type}, the root field with its selections)."""
    tokens = TOKEN.findall(re.sub(r"#[^\n]*", "", query))
    kind = tokens[0] if tokens and tokens[0] in ("query", "mutation") else "query"
    declared: dict[str, str] = {}
    i = tokens.index("{") if "{" in tokens else len(tokens)
    head = tokens[:i]
    if "(" in head:  # ($input: CancelSubscriptionInput!, $id: uuid!)
        j = head.index("(") + 1
        while j < len(head) and head[j] != ")":
            if head[j] == "$" and j + 2 < len(head) and head[j + 2] == ":":
                name, j = head[j + 1], j + 3
                kind_tokens: list[str] = []
                while j < len(head) and head[j] not in ("$", ")", "="):
                    if head[j] != ",":
                        kind_tokens.append(head[j])
                    j += 1
                declared[name] = "".join(kind_tokens)
            else:
                j += 1
    nodes, _ = _selections(tokens, i + 1)
    if not nodes:
        raise Invalid("not a valid graphql query", "parse-failed")
    return kind, declared, nodes[0]


def _selections(tokens: list[str], i: int) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    while i < len(tokens) and tokens[i] != "}":
        token = tokens[i]
        if token == "(":  # arguments: kept as text (values otherwise come from variables)
            depth, start = 0, i
            while i < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[i], 0)
                i += 1
                if depth == 0:
                    break
            if nodes:
                nodes[-1].args = "".join(tokens[start + 1 : i - 1])
            continue
        if token == "{":
            children, i = _selections(tokens, i + 1)
            if nodes:
                nodes[-1].children = children
            continue
        if re.fullmatch(r"[A-Za-z_]\w*", token):
            nodes.append(Node(token))
        i += 1
    return nodes, i + 1


# --- the documented types: field -> scalar, or (type, resolver) for relationships -------------

Resolver = Callable[[Session, Any], Any]
Relation = tuple[str, Resolver]


def _user(session: Session, user_id: str) -> SkioUser | None:
    return session.get(SkioUser, user_id)


def address_of(user: SkioUser | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": sid(ADDRESS, int(user.id[-12:], 16)), **user.address}


def variant_json(variant_id: str) -> dict[str, Any]:
    product, title, product_number, variant_number = VARIANTS[variant_id]
    return {
        "id": variant_id,
        "platformId": f"gid://shopify/ProductVariant/{variant_number}",
        "title": title,
        "sku": None,
        "price": 32.0,
        "Product": {
            "id": sid(PRODUCT, product_number),
            "platformId": f"gid://shopify/Product/{product_number}",
            "title": product,
        },
    }


def line_json(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": line["id"],
        "quantity": line["quantity"],
        "priceWithoutDiscount": line.get("price", 32.0),
        "removedAt": line.get("removedAt"),
        "ProductVariant": variant_json(line["productVariantId"]),
    }


def orders_of(session: Session, user: SkioUser) -> list[SkioOrder]:
    return list(session.exec(select(SkioOrder).where(SkioOrder.userId == user.id)).all())


def subscriptions_of(session: Session, user: SkioUser) -> list[SkioSubscription]:
    found = session.exec(select(SkioSubscription).where(SkioSubscription.userId == user.id))
    return list(found.all())


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


# Each type: scalar fields read from the row, relationships as (type name, resolver).
TYPES: dict[str, dict[str, Any]] = {
    "Subscription": {
        "id": lambda s, o: o.id,
        "platformId": lambda s, o: o.platformId,
        "status": lambda s, o: o.status,
        "createdAt": lambda s, o: _when(o.createdAt),
        "nextBillingDate": lambda s, o: _when(o.nextBillingDate),
        "cancelledAt": lambda s, o: _when(o.cancelledAt),
        "StorefrontUser": ("StorefrontUser", lambda s, o: _user(s, o.userId)),
        "ShippingAddress": ("Address", lambda s, o: address_of(_user(s, o.userId))),
        "SubscriptionLines": ("SubscriptionLine", lambda s, o: [line_json(x) for x in o.lines]),
    },
    "SubscriptionLine": {
        "id": None,
        "quantity": None,
        "priceWithoutDiscount": None,
        "removedAt": None,
        "ProductVariant": ("ProductVariant", lambda s, o: o["ProductVariant"]),
    },
    "ProductVariant": {
        "id": None,
        "platformId": None,
        "title": None,
        "sku": None,
        "price": None,
        "Product": ("Product", lambda s, o: o["Product"]),
    },
    "Product": {"id": None, "platformId": None, "title": None},
    "StorefrontUser": {
        "id": lambda s, o: o.id,
        "email": lambda s, o: o.email,
        "firstName": lambda s, o: o.firstName,
        "lastName": lambda s, o: o.lastName,
        "platformId": lambda s, o: o.platformId,
        "ShippingAddresses": ("Address", lambda s, o: [address_of(o)]),
        "Orders": ("Order", orders_of),
        "Subscriptions": ("Subscription", subscriptions_of),
    },
    "Address": {
        name: None
        for name in (
            "id",
            "firstName",
            "lastName",
            "address1",
            "address2",
            "city",
            "province",
            "zip",
            "country",
        )
    },
    "Order": {
        "id": lambda s, o: o.id,
        "platformId": lambda s, o: o.platformId,
        "platformNumber": lambda s, o: o.platformNumber,
        "createdAt": lambda s, o: _when(o.createdAt),
        "processedAt": lambda s, o: _when(o.createdAt),
        "cancelledAt": lambda s, o: _when(o.cancelledAt),
        "deliveredAt": lambda s, o: _when(o.deliveredAt),
        "totalPrice": lambda s, o: o.totalPrice,
        "StorefrontUser": ("StorefrontUser", lambda s, o: _user(s, o.userId)),
        "OrderLineItems": ("OrderLineItem", lambda s, o: [line_json(x) for x in o.lineItems]),
    },
    "OrderLineItem": {
        "id": None,
        "quantity": None,
        "priceWithoutDiscount": None,
        "ProductVariant": ("ProductVariant", lambda s, o: o["ProductVariant"]),
    },
}
QUERIES = {
    "SubscriptionByPk": "Subscription",
    "Subscriptions": "Subscription",
    "StorefrontUsers": "StorefrontUser",
    "Orders": "Order",
}
# Mutation -> (input type, output type, output fields). The first two are on the reference
# page; skip and reactivate (⚠) follow public integrations that call them.
MUTATIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "cancelSubscription": ("CancelSubscriptionInput", "CancelSubscriptionOutput", ("ok",)),
    "swapSubscriptionProductVariants": (
        "SwapSubscriptionProductVariantsInput",
        "SwapSubscriptionProductVariantsOutput",
        ("ok",),
    ),
    "skipSubscription": (
        "SkipSubscriptionInput",
        "SkipSubscriptionOutput",
        ("ok", "message", "nextBillingDate"),
    ),
    "reactivateSubscription": (
        "ReactivateSubscriptionInput",
        "ReactivateSubscriptionOutput",
        ("ok",),
    ),
}


def check(type_name: str, nodes: list[Node], path: str) -> None:
    """Every selected field exists on its type (Hasura's validation error otherwise)."""
    fields = TYPES[type_name]
    for node in nodes:
        here = f"{path}.selectionSet.{node.name}"
        if node.name == "__typename":
            continue
        if node.name not in fields:
            raise Invalid(f"field '{node.name}' not found in type: '{type_name}'", path=here)
        spec = fields[node.name]
        if isinstance(spec, tuple):
            if not node.children:
                raise Invalid(f"missing selection set for '{node.name}'", path=here)
            check(spec[0], node.children, here)
        elif node.children:
            raise Invalid(f"unexpected subselection set for '{node.name}'", path=here)


def resolve(session: Session, type_name: str, obj: Any, nodes: list[Node]) -> Any:
    """The answer for ``obj``: exactly the selected fields."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [resolve(session, type_name, item, nodes) for item in obj]
    fields = TYPES[type_name]
    out: dict[str, Any] = {}
    for node in nodes:
        if node.name == "__typename":
            out[node.name] = type_name
            continue
        spec = fields[node.name]
        if isinstance(spec, tuple):
            target, get = spec
            value = get(session, obj)
            if node.args.replace(" ", "") == "where:{removedAt:{_is_null:true}}":
                value = [line for line in value if line.get("removedAt") is None]
            elif node.args:  # no other filter on a relationship is emulated
                raise Invalid(f"arguments of '{node.name}' not supported by the sandbox")
            out[node.name] = resolve(session, target, value, node.children)
        elif spec is None:  # a plain JSON object
            out[node.name] = obj.get(node.name)
        else:
            out[node.name] = spec(session, obj)
    return out


def _user_by_email(session: Session, email: str) -> SkioUser | None:
    return session.exec(select(SkioUser).where(SkioUser.email == email.lower())).first()


@router.post("/v1/graphql")
async def graphql(request: Request, session: SessionDep) -> Any:
    if request.headers.get("authorization") != f"API {SANDBOX_SKIO_TOKEN}":
        return gql_error(401, "Invalid or missing API token", "invalid-headers")
    body = await request.json()
    variables = body.get("variables") or {}
    try:
        kind, declared, root = parse(str(body.get("query", "")))
        if kind == "mutation":
            return mutation(request, session, root, declared, variables)
        if root.name not in QUERIES:
            raise Invalid(f"field '{root.name}' not found in type: 'query_root'")
        check(QUERIES[root.name], root.children, f"$.selectionSet.{root.name}")
        return {"data": {root.name: read(session, root, variables)}}
    except Invalid as error:
        return gql_error(200, error.message, error.code, error.path)


def read(session: Session, root: Node, variables: dict[str, Any]) -> Any:
    type_name = QUERIES[root.name]
    if root.name == "SubscriptionByPk":
        sub_id = str(variables.get("id"))
        if not UUID.fullmatch(sub_id):
            raise Invalid(f'invalid input syntax for type uuid: "{sub_id}"', "data-exception")
        found: Any = session.get(SkioSubscription, sub_id)
    elif root.name == "Orders":  # where: {platformId: {_eq: $orderId}}
        query = select(SkioOrder).where(SkioOrder.platformId == str(variables.get("orderId")))
        found = list(session.exec(query).all())
    else:  # by email: StorefrontUsers(where: {email}), Subscriptions(where: {StorefrontUser})
        user = _user_by_email(session, str(variables.get("email", "")))
        if user is None:
            found = []
        elif root.name == "StorefrontUsers":
            found = [user]
        else:
            found = subscriptions_of(session, user)
    return resolve(session, type_name, found, root.children)


def mutation(
    request: Request,
    session: Session,
    root: Node,
    declared: dict[str, str],
    variables: dict[str, Any],
) -> Any:
    if root.name not in MUTATIONS:
        raise Invalid(f"field '{root.name}' not found in type: 'mutation_root'")
    input_type, output_type, outputs = MUTATIONS[root.name]
    if declared.get("input") != f"{input_type}!":
        raise Invalid(
            f"variable 'input' is declared as '{declared.get('input')}', "
            f"but used where '{input_type}!' is expected",
            path="$.selectionSet." + root.name + ".args.input",
        )
    for node in root.children:
        if node.name not in outputs:
            raise Invalid(
                f"field '{node.name}' not found in type: '{output_type}'",
                path=f"$.selectionSet.{root.name}.selectionSet.{node.name}",
            )
    data = variables.get("input") or {}
    if root.name == "cancelSubscription" and not UUID.fullmatch(str(data.get("subscriptionId"))):
        raise Invalid(
            f'invalid input syntax for type uuid: "{data.get("subscriptionId")}"',
            "data-exception",
        )
    key = request.headers.get("Idempotency-Key")
    earlier = find_side_effect(session, PLATFORM, key, root.name)
    if earlier is not None:
        return earlier.response
    full = mutate(session, root.name, data)
    result = {"data": {root.name: {n.name: full.get(n.name) for n in root.children}}}
    record_side_effect(
        session,
        PLATFORM,
        root.name,
        idempotency_key=key,
        request=variables,
        response=result,
        resource_id=data.get("subscriptionId"),
    )
    return result


def mutate(session: Session, field_name: str, data: dict[str, Any]) -> dict[str, Any]:
    sub = session.get(SkioSubscription, str(data.get("subscriptionId")))
    if sub is None:  # the real API says ok for unknown ids; clients must read back
        return {"ok": True, "message": "Success"}
    moment = now(session)
    if field_name == "skipSubscription":
        if sub.status != "ACTIVE" or sub.nextBillingDate is None:
            return {"ok": False, "message": "Only active subscriptions can be skipped"}
        sub.nextBillingDate = sub.nextBillingDate + timedelta(days=30)
    elif field_name == "cancelSubscription":
        sub.status, sub.cancelledAt = "CANCELLED", moment
    elif field_name == "reactivateSubscription":
        sub.status, sub.cancelledAt = "ACTIVE", None
        when = data.get("newBillingDate")
        sub.nextBillingDate = (
            datetime.fromisoformat(str(when).replace("Z", "+00:00"))
            if when
            else moment + timedelta(days=1)
        )
    elif field_name == "swapSubscriptionProductVariants":
        old, new = data.get("oldProductVariantId"), data.get("newProductVariantId")
        held = [line for line in sub.lines if not line.get("removedAt")]
        if new not in VARIANTS or not any(line["productVariantId"] == old for line in held):
            return {"ok": False}  # the output has no message (⚠ what Skio does here)
        sub.lines = [
            {**line, "productVariantId": new}
            if line["productVariantId"] == old and not line.get("removedAt")
            else line
            for line in sub.lines
        ]
    session.add(sub)
    session.commit()
    result: dict[str, Any] = {"ok": True, "message": "Success"}
    if field_name == "skipSubscription":
        result["nextBillingDate"] = iso(sub.nextBillingDate) if sub.nextBillingDate else None
    return result


def demo_customers(session: Session) -> list[dict[str, Any]]:
    """Subscribers and their subscriptions (the console's test chat offers them)."""
    subscriptions = session.exec(select(SkioSubscription)).all()
    return [
        {
            "email": user.email,
            "name": f"{user.firstName} {user.lastName}",
            "holds": [
                f"subscription {s.status.lower()}" for s in subscriptions if s.userId == user.id
            ],
        }
        for user in session.exec(select(SkioUser).order_by(SkioUser.email)).all()
    ]


def seed(session: Session) -> None:
    moment = now(session)
    day = timedelta(days=1)
    people = [
        (1, "jo@example.com", "Jo", "Lindqvist", "41 Pine Rd", "Denver", "CO", "80202"),
        (2, "lee@example.com", "Lee", "Tanaka", "9 Lake Ave", "Seattle", "WA", "98101"),
        (3, "rio@example.com", "Rio", "Santos", "77 Bay St", "Miami", "FL", "33101"),
    ]
    for number, email, first, last, street, city, region, postal in people:
        session.add(
            SkioUser(
                id=sid(USER, number),
                email=email,
                firstName=first,
                lastName=last,
                platformId=f"gid://shopify/Customer/{7000 + number}",
                address={
                    "firstName": first,
                    "lastName": last,
                    "address1": street,
                    "address2": None,
                    "city": city,
                    "province": region,
                    "zip": postal,
                    "country": "US",
                },
            )
        )

    def line(number: int, variant: str, qty: int = 1) -> dict[str, Any]:
        return {
            "id": sid(LINE, number),
            "productVariantId": variant,
            "quantity": qty,
            "price": 32.0,
        }

    session.add_all(
        [
            SkioSubscription(  # jo
                id=SUB_JO,
                platformId="gid://shopify/SubscriptionContract/1001",
                userId=sid(USER, 1),
                status="ACTIVE",
                createdAt=moment - 90 * day,
                nextBillingDate=moment + 20 * day,
                lines=[
                    {**line(2, ESPRESSO), "removedAt": iso(moment - 60 * day)},  # swapped out
                    line(1, COFFEE, 2),
                ],
            ),
            SkioSubscription(  # rio
                id=SUB_RIO,
                platformId="gid://shopify/SubscriptionContract/1003",
                userId=sid(USER, 3),
                status="ACTIVE",
                createdAt=moment - 60 * day,
                nextBillingDate=moment + 5 * day,
                lines=[line(3, ESPRESSO)],
            ),
            SkioOrder(  # jo's, delivered 3 days ago (Shopify #1003 holds tracking)
                id=sid(ORDER, 9001),
                platformId="gid://shopify/Order/9001",
                platformNumber="#1003",
                userId=sid(USER, 1),
                totalPrice=64.0,
                createdAt=moment - 7 * day,
                deliveredAt=moment - 3 * day,
                lineItems=[line(11, COFFEE, 2)],
            ),
            SkioOrder(  # lee's, in transit for 10 days (Shopify #1004)
                id=sid(ORDER, 9002),
                platformId="gid://shopify/Order/9002",
                platformNumber="#1004",
                userId=sid(USER, 2),
                totalPrice=32.0,
                createdAt=moment - 13 * day,
                lineItems=[line(12, DECAF)],
            ),
        ]
    )
    session.commit()
