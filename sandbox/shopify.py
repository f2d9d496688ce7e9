"""Shopify emulator: the Admin GraphQL endpoint ``POST /admin/api/{version}/graphql.json``.

Auth: ``X-Shopify-Access-Token``; otherwise HTTP 401 with Shopify's own body
``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
A small dispatcher picks the operation's root field (the first field of the top-level
selection set) and reads arguments from ``variables`` only, like ``sandbox/skio.py``; it
answers the selected fields only (aliases and inline fragments included), as built from
whole objects. Root fields: queries ``order(id)``,
``orders(first, query: "email:… | name:…")``, ``codeDiscountNodeByCode(code)``, ``job(id)``;
mutations ``orderCancel``, ``discountCodeBasicCreate``, ``refundCreate``, ``orderCreate``.

Like the real API:
- every answer carries ``extensions.cost`` (requested/actual cost and ``throttleStatus``)
  from a cost bucket (2000 points, restored at 100/s on the sandbox clock, ⚠ sizes per plan);
  a query costing more than the bucket holds gets ``errors[{code: THROTTLED}]`` with HTTP 200
  and ``actualQueryCost: null`` (⚠ some clients report 429); over 1000 is
  ``MAX_COST_EXCEEDED``. Cost: objects 1, scalars 0, ``first: N`` costs 2 + N × its selection
  (an approximation of Shopify's calculated cost, ⚠). Injected 429s (fault injection) carry the
  same THROTTLED body with HTTP 429 and ``Retry-After``;
- mutations report problems in ``userErrors`` (``orderCancelUserErrors`` for ``orderCancel``)
  with HTTP 200; ``order(id)`` of an unknown order is ``null``;
- ``orderCancel`` refuses a ``staffNote`` over 255 characters (the schema's limit) in
  ``orderCancelUserErrors`` (field ``staffNote``, ⚠ wording and code);
- ``orderCancel`` answers a job with ``done: false``; the job runs before the next request
  (the order then shows ``cancelledAt``, a REFUND transaction and ``displayFinancialStatus``
  ``REFUNDED`` when refunded to the original payment method);
- ``orderCancel`` and ``discountCodeBasicCreate`` take no idempotency key: repeating them is
  refused (already cancelled / code taken), so clients look before they write;
  ``refundCreate`` honours ``@idempotent(key:)`` and replays the first answer for a key;
- ``orderCreate(order: {email, lineItems[{variantId? title sku quantity priceSet}],
  shippingAddress, financialStatus, transactions, note, tags}, options)`` creates an
  unfulfilled order
  (``tags`` and ``options`` are accepted and ignored); without ``@idempotent`` every call
  creates another order (⚠ whether real Shopify takes the directive here), so clients look
  for their note first.

Every successful mutation is recorded as a side effect with ticketflow's ``Idempotency-Key``
header (or else the ``@idempotent`` key). ⚠ The exact ``userErrors`` wording and codes.
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

from sandbox.core import SandboxModel, SessionDep, SideEffect, aware, iso, now, record_side_effect
from sandbox.credentials import SANDBOX_SHOPIFY_TOKEN

PLATFORM = "shopify"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
MUTATION_COST = 10
API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
STAFF_NOTE_MAX = 255
CANCEL_REASONS = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"}
DOCS = "https://shopify.dev/api/usage/rate-limits"


class ShopifyOrder(SandboxModel, table=True):
    __tablename__ = "shopify_order"

    id: int = Field(primary_key=True)
    name: str = Field(index=True)
    email: str = Field(index=True)
    created_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    staff_note: str = ""
    note: str = ""
    financial_status: str = "PAID"
    fulfillment_status: str = "UNFULFILLED"
    subtotal: float
    shipping: float = 0.0
    line_items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    shipping_address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    shipping_line: str | None = None
    fulfillments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    transactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class ShopifyRefund(SandboxModel, table=True):
    __tablename__ = "shopify_refund"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(index=True)
    note: str = ""
    amount: float
    created_at: datetime


class ShopifyJob(SandboxModel, table=True):
    """An asynchronous job (``orderCancel``), run before the next request."""

    __tablename__ = "shopify_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    order_id: int
    done: bool = False
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class ShopifyDiscount(SandboxModel, table=True):
    __tablename__ = "shopify_discount"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)  # stored upper case: codes are case-insensitive
    title: str
    percentage: float
    starts_at: datetime
    ends_at: datetime | None = None
    usage_limit: int | None = None
    applies_once_per_customer: bool = False


class ShopifyThrottle(SandboxModel, table=True):
    """The app's query-cost bucket."""

    __tablename__ = "shopify_throttle"

    id: int = Field(default=1, primary_key=True)
    available: float = BUCKET_SIZE
    updated_at: datetime


class GqlError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


router = APIRouter()


# --- shapes -----------------------------------------------------------------------------------


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def from_gid(value: Any, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def money(amount: float) -> dict[str, Any]:
    value = {"amount": f"{amount:.2f}", "currencyCode": "USD"}
    return {"shopMoney": value, "presentmentMoney": value}


def cost_extension(requested: int, actual: int | None, available: float) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": BUCKET_SIZE,
                "currentlyAvailable": round(available),
                "restoreRate": RESTORE_RATE,
            },
        }
    }


def throttled_body(requested: int, available: float) -> dict[str, Any]:
    return {
        "errors": [
            {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": DOCS}}
        ],
        "extensions": cost_extension(requested, None, available),
    }


def error_response(status: int, message: str) -> JSONResponse:
    """Injected faults: a 429 is Shopify's THROTTLED body, anything else ``{"errors": …}``."""
    if status == 429:
        return JSONResponse(throttled_body(MAX_QUERY_COST, 0.0), status_code=429)
    return JSONResponse({"errors": message}, status_code=status)


def gql_errors(error: GqlError, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "errors": [{"message": error.message, "extensions": {"code": error.code}}]
    }
    if extensions:
        body["extensions"] = extensions
    return body


def refunded(session: Session, order: ShopifyOrder) -> list[ShopifyRefund]:
    query = select(ShopifyRefund).where(ShopifyRefund.order_id == order.id)
    return list(session.exec(query.order_by(ShopifyRefund.id)).all())  # type: ignore[arg-type]


def order_json(session: Session, order: ShopifyOrder) -> dict[str, Any]:
    refunds = refunded(session, order)
    total = order.subtotal + order.shipping
    return {
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "email": order.email,
        "note": order.note or None,
        "createdAt": iso(order.created_at),
        "cancelledAt": iso(order.cancelled_at) if order.cancelled_at else None,
        "cancelReason": order.cancel_reason,
        "displayFinancialStatus": order.financial_status,
        "displayFulfillmentStatus": order.fulfillment_status,
        "currencyCode": "USD",
        "subtotalPriceSet": money(order.subtotal),
        "totalShippingPriceSet": money(order.shipping),
        "totalPriceSet": money(total),
        "totalRefundedSet": money(sum(r.amount for r in refunds)),
        "lineItems": {
            "nodes": [
                {
                    "id": gid("LineItem", item["id"]),
                    "title": item["title"],
                    "sku": item["sku"],
                    "quantity": item["quantity"],
                    "originalUnitPriceSet": money(item["price"]),
                    "product": {"id": gid("Product", item["product_id"])}
                    if item.get("product_id")
                    else None,
                    "variant": {"id": gid("ProductVariant", item["variant_id"])}
                    if item.get("variant_id")
                    else None,
                }
                for item in order.line_items
            ],
            "pageInfo": {"hasNextPage": False},
        },
        "shippingAddress": order.shipping_address or None,
        "shippingLine": {"title": order.shipping_line} if order.shipping_line else None,
        "fulfillments": [
            {**f, "id": gid("Fulfillment", f["id"]), "trackingInfo": f.get("trackingInfo", [])}
            for f in order.fulfillments
        ],
        "transactions": [
            {**t, "id": gid("OrderTransaction", t["id"]), "amountSet": money(t["amount"])}
            for t in order.transactions
        ],
        "refunds": [refund_json(r) for r in refunds],
    }


def refund_json(refund: ShopifyRefund) -> dict[str, Any]:
    return {
        "id": gid("Refund", refund.id or 0),
        "note": refund.note,
        "createdAt": iso(refund.created_at),
        "totalRefundedSet": money(refund.amount),
    }


def discount_json(discount: ShopifyDiscount, moment: datetime) -> dict[str, Any]:
    ended = discount.ends_at is not None and aware(discount.ends_at) <= moment
    return {
        "id": gid("DiscountCodeNode", discount.id or 0),
        "codeDiscount": {
            "__typename": "DiscountCodeBasic",
            "title": discount.title,
            "status": "EXPIRED" if ended else "ACTIVE",
            "startsAt": iso(discount.starts_at),
            "endsAt": iso(discount.ends_at) if discount.ends_at else None,
            "usageLimit": discount.usage_limit,
            "appliesOncePerCustomer": discount.applies_once_per_customer,
            "codes": {"nodes": [{"code": discount.code}]},
            "customerGets": {
                "value": {"__typename": "DiscountPercentage", "percentage": discount.percentage},
                "items": {"__typename": "AllDiscountItems", "allItems": True},
            },
        },
    }


# --- cost ---------------------------------------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\.\.\.|[{}()]|\$?\w+|:|[^\s\w]')


def query_cost(query: str, variables: dict[str, Any]) -> int:
    """Objects cost 1, scalars 0, a field with ``first: N`` costs 2 + N × its selection;
    mutations cost 10."""
    tokens = TOKEN.findall(query)
    if "{" not in tokens:
        return 1
    start = tokens.index("{")
    selection, _ = _selection_cost(tokens, start + 1, variables)
    is_mutation = tokens[0] == "mutation"
    return selection + (MUTATION_COST - 1 if is_mutation else 0)


def _selection_cost(tokens: list[str], i: int, variables: dict[str, Any]) -> tuple[int, int]:
    total, first, fragment = 0, None, False
    while i < len(tokens):
        token = tokens[i]
        if token == "}":
            return total, i + 1
        if token == "(":  # arguments: look for first: N
            depth, i = 1, i + 1
            while depth and i < len(tokens):
                if tokens[i] == "(":
                    depth += 1
                elif tokens[i] == ")":
                    depth -= 1
                elif tokens[i] == "first" and tokens[i + 1 : i + 2] == [":"]:
                    value = tokens[i + 2]
                    raw = str(variables.get(value[1:]) if value.startswith("$") else value)
                    first = int(raw) if raw.isdigit() else 1
                i += 1
            continue
        if token == "{":
            child, i = _selection_cost(tokens, i + 1, variables)
            if fragment:
                total += child
            elif first is not None:
                total += 2 + first * child
            else:
                total += 1 + child
            first, fragment = None, False
            continue
        if token == "...":
            fragment = True
        elif re.fullmatch(r"\w+", token) and not fragment:
            first = None  # a new field starts
        i += 1
    return total, i


def take_cost(session: Session, requested: int) -> tuple[bool, float]:
    """Refill the bucket on the sandbox clock, then take ``requested`` if it is there."""
    moment = now(session)
    bucket = session.get(ShopifyThrottle, 1) or ShopifyThrottle(id=1, updated_at=moment)
    elapsed = max(0.0, (moment - aware(bucket.updated_at)).total_seconds())
    bucket.available = min(BUCKET_SIZE, bucket.available + elapsed * RESTORE_RATE)
    bucket.updated_at = moment
    allowed = bucket.available >= requested
    if allowed:
        bucket.available -= requested
    session.add(bucket)
    session.commit()
    return allowed, bucket.available


# --- endpoint -----------------------------------------------------------------------------------

QUERIES = ("order", "orders", "codeDiscountNodeByCode", "job")
MUTATIONS = ("orderCancel", "discountCodeBasicCreate", "refundCreate", "orderCreate")
IDEMPOTENT = re.compile(r'@idempotent\s*\(\s*key\s*:\s*(?:"([^"]*)"|\$(\w+))\s*\)')


Selection = list[tuple[str, str, Any]]  # (answer key, field or "... on Type", children)


def selection_of(query: str) -> Selection:
    """The operation's selection tree: aliases, nested fields and inline fragments
    (``... on DiscountCodeBasic { … }``); arguments and directives are skipped."""
    tokens = TOKEN.findall(re.sub(r"#[^\n]*", "", query))
    start = tokens.index("{") if "{" in tokens else len(tokens)
    tree, _ = _selection_tree(tokens, start + 1)
    return tree


def _selection_tree(tokens: list[str], i: int) -> tuple[Selection, int]:
    tree: Selection = []
    while i < len(tokens) and tokens[i] != "}":
        token = tokens[i]
        if token == "(":
            depth = 0
            while i < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[i], 0)
                i += 1
                if depth == 0:
                    break
            continue
        if token == "@":  # a directive: its name, then its arguments (skipped above)
            i += 2
            continue
        if token == "...":  # ... on Type { … }
            condition = tokens[i + 2] if tokens[i + 1 : i + 2] == ["on"] else ""
            children, i = _selection_tree(tokens, tokens.index("{", i) + 1)
            tree.append(("", f"... on {condition}", children))
            continue
        if token == "{":
            children, i = _selection_tree(tokens, i + 1)
            key, name, _ = tree[-1]
            tree[-1] = (key, name, children)
            continue
        if re.fullmatch(r"\w+", token):
            if tokens[i + 1 : i + 2] == [":"] and re.fullmatch(r"\w+", tokens[i + 2]):
                tree.append((token, tokens[i + 2], None))  # alias: field
                i += 3
                continue
            tree.append((token, token, None))
        i += 1
    return tree, i + 1


def selected(value: Any, tree: Selection | None) -> Any:
    """``value`` cut to the selected fields, as a GraphQL server answers."""
    if tree is None or value is None:
        return value
    if isinstance(value, list):
        return [selected(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, name, children in tree:
        if name.startswith("... on "):
            condition = name[len("... on ") :]
            if value.get("__typename") in (None, condition):
                out.update(selected(value, children))
            continue
        out[key] = selected(value.get(name), children)
    return out


def root_field(query: str) -> str | None:
    """The first field of the operation's top-level selection set."""
    start = query.find("{")
    match = re.match(r"\s*(\w+)", query[start + 1 :]) if start >= 0 else None
    return match.group(1) if match else None


@router.post("/admin/api/{version}/graphql.json")
async def graphql(version: str, request: Request, session: SessionDep) -> Any:
    if request.headers.get("X-Shopify-Access-Token") != SANDBOX_SHOPIFY_TOKEN:
        return JSONResponse(
            {"errors": INVALID_TOKEN},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic Realm="Shopify API Authentication"'},
        )
    if not API_VERSION.match(version):
        return JSONResponse({"errors": "Not Found"}, status_code=404)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return JSONResponse(
            {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
        )
    query, variables = body["query"], body.get("variables") or {}
    run_jobs(session)
    requested = query_cost(query, variables)
    if requested > MAX_QUERY_COST:
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({MAX_QUERY_COST})."
        )
        return gql_errors(
            GqlError(message, "MAX_COST_EXCEEDED"), cost_extension(requested, None, BUCKET_SIZE)
        )
    allowed, available = take_cost(session, requested)
    if not allowed:
        return throttled_body(requested, available)
    extensions = cost_extension(requested, requested, available)
    field = root_field(query)
    try:
        if field in MUTATIONS:
            directive = IDEMPOTENT.search(query)
            key = None
            if directive:
                key = directive.group(1) or str(variables.get(directive.group(2)) or "")
            data = mutate(session, field, variables, request.headers.get("Idempotency-Key"), key)
        elif field in QUERIES:
            data = read(session, field, variables)
        else:
            message = f"Field '{field}' doesn't exist on type 'QueryRoot'"
            raise GqlError(message, "undefinedField")
    except GqlError as error:
        return gql_errors(error, extensions)
    ((key, _, children), *_) = selection_of(query)
    return {"data": {key: selected(data, children)}, "extensions": extensions}


def read(session: Session, field: str, variables: dict[str, Any]) -> Any:
    if field == "order":
        order_id = from_gid(variables.get("id"), "Order")
        if order_id is None:
            raise GqlError(
                f"Invalid global id '{variables.get('id')}'", "argumentLiteralsIncompatible"
            )
        order = session.get(ShopifyOrder, order_id)
        return order_json(session, order) if order else None
    if field == "orders":
        first = int(variables.get("first") or 10)
        orders = search_orders(session, str(variables.get("query") or ""))[:first]
        return {
            "nodes": [order_json(session, o) for o in orders],
            "pageInfo": {"hasNextPage": False},
        }
    if field == "codeDiscountNodeByCode":
        code = str(variables.get("code") or "").upper()
        found = session.exec(select(ShopifyDiscount).where(ShopifyDiscount.code == code)).first()
        return discount_json(found, now(session)) if found else None
    job_id = from_gid(variables.get("id"), "Job")
    job = session.get(ShopifyJob, job_id) if job_id is not None else None
    return {"id": gid("Job", job.id or 0), "done": job.done} if job else None


def search_orders(session: Session, search: str) -> list[ShopifyOrder]:
    """Shopify search syntax, the two filters used: ``email:…`` and ``name:…``."""
    match = re.match(r'\s*(email|name)\s*:\s*(?:"([^"]*)"|(\S+))', search)
    orders = select(ShopifyOrder).order_by(ShopifyOrder.created_at.desc())  # type: ignore[attr-defined]
    if match:
        value = (match.group(2) if match.group(2) is not None else match.group(3)).lower()
        column = ShopifyOrder.email if match.group(1) == "email" else ShopifyOrder.name
        if match.group(1) == "name" and not value.startswith("#"):
            value = f"#{value}"
        orders = orders.where(column == value)
    return list(session.exec(orders).all())


# --- mutations ------------------------------------------------------------------------------------


def mutate(
    session: Session,
    field: str,
    variables: dict[str, Any],
    header_key: str | None,
    directive_key: str | None,
) -> dict[str, Any]:
    if field == "refundCreate" and directive_key:
        for earlier in session.exec(
            select(SideEffect).where(
                SideEffect.platform == PLATFORM, SideEffect.operation == "refundCreate"
            )
        ).all():
            if earlier.request.get("idempotent_key") == directive_key:
                return dict(earlier.response)
    handler = {
        "orderCancel": order_cancel,
        "discountCodeBasicCreate": discount_create,
        "refundCreate": refund_create,
        "orderCreate": order_create,
    }[field]
    result, resource = handler(session, variables)
    failed = result.get("userErrors") or result.get("orderCancelUserErrors")
    if not failed:
        record_side_effect(
            session,
            PLATFORM,
            field,
            idempotency_key=header_key or directive_key,
            request={**variables, "idempotent_key": directive_key},
            response=result,
            resource_id=resource,
        )
    return result


def user_error(field: list[str], message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def order_cancel(session: Session, v: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    if v.get("reason") not in CANCEL_REASONS:
        raise GqlError(
            "Variable $reason of type OrderCancelReason! was provided invalid value",
            "INVALID_VARIABLE",
        )
    if not isinstance(v.get("restock"), bool) or not isinstance(v.get("refundMethod"), dict):
        raise GqlError("Variables $restock and $refundMethod are required", "INVALID_VARIABLE")

    def refused(
        message: str, code: str = "INVALID", field: str = "orderId"
    ) -> tuple[dict[str, Any], Any]:
        errors = [user_error([field], message, code)]
        return {"job": None, "orderCancelUserErrors": errors, "userErrors": errors}, None

    if len(str(v.get("staffNote") or "")) > STAFF_NOTE_MAX:  # the schema's limit (⚠ wording)
        return refused("Staff note is too long (maximum is 255 characters)", field="staffNote")
    order_id = from_gid(v.get("orderId"), "Order")
    order = session.get(ShopifyOrder, order_id) if order_id is not None else None
    if order is None:
        return refused("Order does not exist", "NOT_FOUND")
    if order.cancelled_at is not None:
        return refused("Cannot cancel an order that has already been cancelled")
    pending = session.exec(
        select(ShopifyJob).where(ShopifyJob.order_id == order.id, ShopifyJob.done == False)  # noqa: E712
    ).first()
    if pending is not None:
        return refused("A cancellation is already in progress for this order")
    if order.fulfillment_status not in ("UNFULFILLED", "ON_HOLD", "SCHEDULED"):
        return refused("Cannot cancel an order that has been fulfilled or partially fulfilled")
    job = ShopifyJob(kind="orderCancel", order_id=order.id, payload=dict(v))
    session.add(job)
    session.commit()
    session.refresh(job)
    result = {
        "job": {"id": gid("Job", job.id or 0), "done": False},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }
    return result, order.id


def run_jobs(session: Session) -> None:
    """Run every queued job (Shopify runs them in the background, shortly after)."""
    jobs = session.exec(select(ShopifyJob).where(ShopifyJob.done == False)).all()  # noqa: E712
    for job in jobs:
        order = session.get(ShopifyOrder, job.order_id)
        if order is not None and order.cancelled_at is None:
            moment = now(session)
            order.cancelled_at = moment
            order.cancel_reason = job.payload.get("reason")
            order.staff_note = str(job.payload.get("staffNote") or "")
            refund_to_card = (job.payload.get("refundMethod") or {}).get(
                "originalPaymentMethodsRefund"
            )
            if refund_to_card and order.financial_status in ("PAID", "PARTIALLY_REFUNDED"):
                left = (
                    order.subtotal
                    + order.shipping
                    - sum(r.amount for r in refunded(session, order))
                )
                if left > 0:
                    add_refund(session, order, left, "Order cancelled", None)
                order.financial_status = "REFUNDED"
            session.add(order)
        job.done = True
        session.add(job)
    session.commit()


def add_refund(
    session: Session, order: ShopifyOrder, amount: float, note: str, parent: dict[str, Any] | None
) -> ShopifyRefund:
    refund = ShopifyRefund(
        order_id=order.id, note=note, amount=round(amount, 2), created_at=now(session)
    )
    session.add(refund)
    payment = parent or next(
        (t for t in order.transactions if t["kind"] in ("SALE", "CAPTURE")), {}
    )
    next_id = max((int(t["id"]) for t in order.transactions), default=order.id * 10) + 1
    order.transactions = [
        *order.transactions,
        {
            "id": next_id,
            "kind": "REFUND",
            "status": "SUCCESS",
            "gateway": payment.get("gateway", "manual"),
            "amount": round(amount, 2),
        },
    ]
    session.add(order)
    session.commit()
    session.refresh(refund)
    return refund


def discount_create(session: Session, v: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    data = v.get("basicCodeDiscount") or {}

    def refused(field: str, message: str, code: str) -> tuple[dict[str, Any], Any]:
        errors = [user_error(["basicCodeDiscount", field], message, code)]
        return {"codeDiscountNode": None, "userErrors": errors}, None

    code = str(data.get("code") or "").strip().upper()
    if not code:
        return refused("code", "Code can't be blank", "BLANK")
    if not data.get("title"):
        return refused("title", "Title can't be blank", "BLANK")
    if not data.get("startsAt"):
        return refused("startsAt", "Starts at can't be blank", "BLANK")
    taken = session.exec(select(ShopifyDiscount).where(ShopifyDiscount.code == code)).first()
    if taken is not None:
        return refused("code", "Code must be unique. Please try a different code.", "TAKEN")
    value = ((data.get("customerGets") or {}).get("value")) or {}
    percentage = value.get("percentage")
    if not isinstance(percentage, int | float) or not 0 < percentage <= 1:
        return refused("customerGets", "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE")
    discount = ShopifyDiscount(
        code=code,
        title=str(data["title"]),
        percentage=float(percentage),
        starts_at=datetime.fromisoformat(str(data["startsAt"]).replace("Z", "+00:00")),
        ends_at=datetime.fromisoformat(str(data["endsAt"]).replace("Z", "+00:00"))
        if data.get("endsAt")
        else None,
        usage_limit=data.get("usageLimit"),
        applies_once_per_customer=bool(data.get("appliesOncePerCustomer")),
    )
    session.add(discount)
    session.commit()
    session.refresh(discount)
    return {"codeDiscountNode": discount_json(discount, now(session)), "userErrors": []}, code


def refund_create(session: Session, v: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    data = v.get("input") or {}

    def refused(field: list[str], message: str) -> tuple[dict[str, Any], Any]:
        return {
            "refund": None,
            "order": None,
            "userErrors": [user_error(field, message, "INVALID")],
        }, None

    order_id = from_gid(data.get("orderId"), "Order")
    order = session.get(ShopifyOrder, order_id) if order_id is not None else None
    if order is None:
        return refused(["orderId"], "Order does not exist")
    transactions = data.get("transactions") or []
    if not transactions:
        return refused(["transactions"], "Transactions can't be blank")
    total = 0.0
    parent: dict[str, Any] | None = None
    for t in transactions:
        parent_id = from_gid(t.get("parentId"), "OrderTransaction")
        parent = next((p for p in order.transactions if p["id"] == parent_id), None)
        if parent is None or parent["kind"] not in ("SALE", "CAPTURE") or t.get("kind") != "REFUND":
            return refused(["transactions", "parentId"], "Parent transaction is invalid")
        total += float(t.get("amount") or 0)
    left = order.subtotal + order.shipping - sum(r.amount for r in refunded(session, order))
    if total <= 0 or total > round(left, 2) + 1e-9:
        return refused(
            ["transactions", "amount"],
            f"Refund amount ${total:.2f} is greater than net payment received ${left:.2f}",
        )
    refund = add_refund(session, order, total, str(data.get("note") or ""), parent)
    order.financial_status = "REFUNDED" if total >= round(left, 2) else "PARTIALLY_REFUNDED"
    session.add(order)
    session.commit()
    result = {
        "refund": refund_json(refund),
        "order": {"id": gid("Order", order.id)},
        "userErrors": [],
    }
    return result, order.id


def order_create(session: Session, v: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    data = v.get("order") or {}

    def refused(
        field: list[str], message: str, code: str = "INVALID"
    ) -> tuple[dict[str, Any], Any]:
        return {"order": None, "userErrors": [user_error(field, message, code)]}, None

    lines = data.get("lineItems") or []
    if not lines:
        return refused(["order", "lineItems"], "Line items can't be blank", "BLANK")
    address = data.get("shippingAddress") or {}
    for needed in ("address1", "city", "zip", "countryCode"):
        if not address.get(needed):
            return refused(
                ["order", "shippingAddress", needed], f"{needed} can't be blank", "BLANK"
            )
    status = str(data.get("financialStatus") or "PENDING")
    if status not in ("PAID", "PENDING", "AUTHORIZED", "PARTIALLY_PAID"):
        raise GqlError(
            "Variable $order of type OrderCreateOrderInput! was provided invalid value",
            "INVALID_VARIABLE",
        )
    orders = session.exec(select(ShopifyOrder)).all()
    number = max([o.id for o in orders] + [6000]) + 1
    items = []
    for i, line in enumerate(lines):
        quantity = int(line.get("quantity") or 0)
        if quantity < 1:
            return refused(
                ["order", "lineItems", str(i), "quantity"], "Quantity must be at least 1"
            )
        if not line.get("variantId") and not line.get("title"):
            return refused(["order", "lineItems", str(i)], "Title can't be blank", "BLANK")
        price = float(((line.get("priceSet") or {}).get("shopMoney") or {}).get("amount") or 0)
        items.append(
            {
                "id": number * 10 + i + 1,
                "title": line.get("title") or "Item",
                "sku": line.get("sku"),
                "quantity": quantity,
                "price": price,
                "product_id": None,
                "variant_id": from_gid(line.get("variantId"), "ProductVariant"),
            }
        )
    names = " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p)
    # ``transactions: [{kind: SALE|CAPTURE|AUTHORIZATION, status, gateway, amountSet}]``: the
    # payment recorded with an imported order (what a later refund goes back to).
    transactions = []
    for i, t in enumerate(data.get("transactions") or []):
        money = ((t.get("amountSet") or {}).get("shopMoney") or {}).get("amount")
        if t.get("kind") not in ("SALE", "CAPTURE", "AUTHORIZATION") or money is None:
            return refused(["order", "transactions", str(i)], "Transaction is invalid")
        transactions.append(
            {
                "id": number * 10 + i,
                "kind": t["kind"],
                "status": str(t.get("status") or "SUCCESS"),
                "gateway": str(t.get("gateway") or "manual"),
                "amount": float(money),
            }
        )
    order = ShopifyOrder(
        id=number,
        name=f"#{1001 + len(orders)}",
        email=str(data.get("email") or "").lower(),
        created_at=now(session),
        note=str(data.get("note") or ""),
        financial_status=status,
        fulfillment_status="UNFULFILLED",
        subtotal=round(sum(i["price"] * i["quantity"] for i in items), 2),
        line_items=items,
        transactions=transactions,
        shipping_address={
            "name": names or None,
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "provinceCode": address.get("provinceCode"),
            "zip": address.get("zip"),
            "countryCodeV2": address.get("countryCode"),
        },
    )
    session.add(order)
    session.commit()
    return {"order": order_json(session, order), "userErrors": []}, order.id


# --- demo data ------------------------------------------------------------------------------


def demo_customers(session: Session) -> list[dict[str, Any]]:
    """Who has orders in the shop (the console's test chat offers them)."""
    found: dict[str, dict[str, Any]] = {}
    for order in session.exec(select(ShopifyOrder).order_by(ShopifyOrder.id)).all():  # type: ignore[arg-type]
        name = str((order.shipping_address or {}).get("name") or "")
        entry = found.setdefault(order.email, {"email": order.email, "name": name, "holds": []})
        entry["holds"].append(f"order {order.id} ({order.name})")
    return list(found.values())


def seed(session: Session) -> None:
    moment = now(session)
    day = timedelta(days=1)
    session.add(ShopifyThrottle(id=1, available=BUCKET_SIZE, updated_at=moment))
    session.add_all(
        [
            # dana@example.com, a new customer: first order, paid, not yet fulfilled.
            ShopifyOrder(
                id=6001,
                name="#1001",
                email="dana@example.com",
                created_at=moment - day,
                financial_status="PAID",
                fulfillment_status="UNFULFILLED",
                subtotal=56.0,
                shipping=8.0,
                line_items=[
                    {
                        "id": 60011,
                        "title": "Cold Brew Coffee 1lb",
                        "sku": "COF-1LB",
                        "quantity": 2,
                        "price": 28.0,
                        "product_id": 8101,
                        "variant_id": 9101,
                    }
                ],
                shipping_address={
                    "name": "Dana Whitfield",
                    "address1": "12 Elm St",
                    "address2": None,
                    "city": "Portland",
                    "provinceCode": "OR",
                    "zip": "97201",
                    "countryCodeV2": "US",
                },
                shipping_line="Standard Shipping",
                transactions=[
                    {
                        "id": 60010,
                        "kind": "SALE",
                        "status": "SUCCESS",
                        "gateway": "shopify_payments",
                        "amount": 64.0,
                    }
                ],
            ),
            # drew@example.com: fulfilled, in transit with USPS: too late to cancel.
            ShopifyOrder(
                id=6002,
                name="#1002",
                email="drew@example.com",
                created_at=moment - 6 * day,
                financial_status="PAID",
                fulfillment_status="FULFILLED",
                subtotal=30.0,
                shipping=8.0,
                line_items=[
                    {
                        "id": 60021,
                        "title": "Decaf Coffee 1lb",
                        "sku": "DEC-1LB",
                        "quantity": 1,
                        "price": 30.0,
                        "product_id": 8102,
                        "variant_id": 9102,
                    }
                ],
                shipping_address={
                    "name": "Drew Okafor",
                    "address1": "300 Main St",
                    "address2": "Apt 4",
                    "city": "Austin",
                    "provinceCode": "TX",
                    "zip": "78701",
                    "countryCodeV2": "US",
                },
                shipping_line="Standard Shipping",
                fulfillments=[
                    {
                        "id": 60025,
                        "status": "SUCCESS",
                        "displayStatus": "IN_TRANSIT",
                        "createdAt": iso(moment - 5 * day),
                        "deliveredAt": None,
                        "trackingInfo": [
                            {"number": "9400100000000000006002", "company": "USPS", "url": None}
                        ],
                    }
                ],
                transactions=[
                    {
                        "id": 60020,
                        "kind": "SALE",
                        "status": "SUCCESS",
                        "gateway": "shopify_payments",
                        "amount": 38.0,
                    }
                ],
            ),
            # The Skio shop's orders live here (Skio's Orders.platformId is the Shopify id).
            # jo@example.com: Skio subscription order, delivered (unsigned) 3 days ago.
            skio_order(
                9001,
                "#1003",
                "jo@example.com",
                moment - 7 * day,
                ("Cold Brew Coffee 1 lb", "SKIO-COF-1LB", 2, 32.0, 8201, 9201),
                ("Jo Lindqvist", "41 Pine Rd", "Denver", "CO", "80202"),
                {
                    "id": 90015,
                    "status": "SUCCESS",
                    "displayStatus": "DELIVERED",
                    "createdAt": iso(moment - 6 * day),
                    "deliveredAt": iso(moment - 3 * day),
                    "trackingInfo": [
                        {"number": "9400100000000000009001", "company": "USPS", "url": None}
                    ],
                },
            ),
            # lee@example.com: Skio order stuck in transit for 10 days (lost).
            skio_order(
                9002,
                "#1004",
                "lee@example.com",
                moment - 13 * day,
                ("Decaf Coffee 1 lb", "SKIO-DEC-1LB", 1, 32.0, 8202, 9202),
                ("Lee Tanaka", "9 Lake Ave", "Seattle", "WA", "98101"),
                {
                    "id": 90025,
                    "status": "SUCCESS",
                    "displayStatus": "IN_TRANSIT",
                    "createdAt": iso(moment - 12 * day),
                    "deliveredAt": None,
                    "trackingInfo": [
                        {"number": "9400100000000000009002", "company": "USPS", "url": None}
                    ],
                },
            ),
            ShopifyDiscount(
                code="WELCOME10",
                title="Welcome 10%",
                percentage=0.1,
                starts_at=moment - 30 * day,
                ends_at=None,
                applies_once_per_customer=True,
            ),
        ]
    )
    session.commit()


def skio_order(
    number: int,
    name: str,
    email: str,
    created: datetime,
    item: tuple[str, str, int, float, int, int],
    address: tuple[str, str, str, str, str],
    fulfillment: dict[str, Any],
) -> ShopifyOrder:
    """A paid, fulfilled subscription order placed through Skio (no shipping charged)."""
    title, sku, quantity, price, product_id, variant_id = item
    person, street, city, region, postal = address
    total = quantity * price
    return ShopifyOrder(
        id=number,
        name=name,
        email=email,
        created_at=created,
        financial_status="PAID",
        fulfillment_status="FULFILLED",
        subtotal=total,
        line_items=[
            {
                "id": number * 10 + 1,
                "title": title,
                "sku": sku,
                "quantity": quantity,
                "price": price,
                "product_id": product_id,
                "variant_id": variant_id,
            }
        ],
        shipping_address={
            "name": person,
            "address1": street,
            "address2": None,
            "city": city,
            "provinceCode": region,
            "zip": postal,
            "countryCodeV2": "US",
        },
        shipping_line="Subscription shipping",
        fulfillments=[fulfillment],
        transactions=[
            {
                "id": number * 10,
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "shopify_payments",
                "amount": total,
            }
        ],
    )
