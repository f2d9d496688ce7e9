"""Skio connector (GraphQL, Hasura style) for subscriptions and the orders they generate.

Auth: ``authorization: API <token>`` on ``POST {base_url}/v1/graphql``. Errors come as
``errors[]`` with ``extensions.code`` (mapped by ``graphql_error``). Some mutations answer
``ok: true`` for an unknown subscription id, so every mutation is followed by a read-back;
``ok: false`` becomes ``PlatformRejected`` (with Skio's message where the output has one).

Checked against Skio's API reference (code.skio.com, unversioned; see
``tests/platforms/contracts/test_skio_contract.py``, which validates every document against
the documented types): ids are ``uuid`` (an id that is not one is ``NotFound`` before any
call: Hasura would answer a ``data-exception``); input types are named in UpperCamelCase
(``CancelSubscriptionInput``, ``SwapSubscriptionProductVariantsInput``); the outputs of
``cancelSubscription`` and ``swapSubscriptionProductVariants`` have ``ok`` only; an
``Order``'s ``platformId`` is the Shopify order GID (``gid://shopify/Order/9001``; this
connector speaks numeric ids and converts); ``Order`` documents no fulfillment status,
tracking number, carrier or shipping address, and ``StorefrontUser`` no default address
(its ``ShippingAddresses`` are documented); removed subscription lines stay listed with
``removedAt`` set, so lines are read with ``where: {removedAt: {_is_null: true}}`` as the
reference's own example does.

Exactly once: Skio documents no idempotency key. Cancel, reactivate and swap are idempotent
by shape (the read-back shows the target state). Skip is not, so the key is sent as
``Idempotency-Key`` (⚠: honoured by the sandbox; unconfirmed on real Skio).

Orders: Skio bills through Shopify, so a Skio order *is* a Shopify order and its payment,
refunds, cancellation, fulfillment and tracking belong to the store. This connector reads
what Skio documents (lines, total, ``deliveredAt``, ``cancelledAt``); an order neither
delivered nor cancelled is ``placed`` and never ``cancellable`` here. A Skio shop's policies
list Shopify as their store (``platforms: [shopify, skio, kustomer]``), so the generic store
tools (``@get_tracking_info``, ``@refund_order``, ``@create_replacement_order``) run there;
the sandbox's Shopify holds the Skio demo orders under the same ids.

⚠ Unconfirmed, kept in step with ``sandbox/skio.py``:
- ``skipSubscription(input: SkipSubscriptionInput!) { ok message nextBillingDate }`` and
  ``reactivateSubscription(input: ReactivateSubscriptionInput!) { ok }`` with
  ``{subscriptionId, newBillingDate}``: not on the reference page, taken from public
  integrations that call them; ``newBillingDate`` is sent (tomorrow) in case it is required;
- whether the swap's variant ids are Skio's uuids (sent) or Shopify's GIDs (the input types
  them ``String!``);
- which of a customer's ``ShippingAddresses`` is their default (the first is used);
- what ``swapSubscriptionProductVariants`` answers for a variant the line does not hold.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.platforms.base import (
    NotFound,
    PlatformConnector,
    PlatformRejected,
    graphql_error,
    shopify_style_address,
)
from activities.platforms.roles import StoreOperations, SubscriptionOperations
from policies.tool_models import AccountDetails, Address, LineItem, OrderDetails, Subscription
from ticketflow.settings import SkioSettings

# Lines a subscription no longer ships keep their row with ``removedAt`` set: leave them out.
LINES = (
    "SubscriptionLines(where: {removedAt: {_is_null: true}})"
    " { id quantity ProductVariant { id title Product { title } } }"
)
SUBSCRIPTION_FIELDS = (
    f"id platformId status nextBillingDate cancelledAt StorefrontUser {{ email }} {LINES}"
)
ORDER_FIELDS = (
    "id platformId createdAt cancelledAt deliveredAt totalPrice StorefrontUser { email }"
    " OrderLineItems { quantity priceWithoutDiscount"
    " ProductVariant { id title Product { title } } }"
)
ADDRESS_FIELDS = "firstName lastName address1 address2 city province zip country"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Mutation -> (its input type, the output fields selected). Outputs documented with ``ok``
# only must not be asked for ``message``.
MUTATIONS: dict[str, tuple[str, str]] = {
    "cancelSubscription": ("CancelSubscriptionInput", "ok"),
    "swapSubscriptionProductVariants": ("SwapSubscriptionProductVariantsInput", "ok"),
    "skipSubscription": ("SkipSubscriptionInput", "ok message nextBillingDate"),
    "reactivateSubscription": ("ReactivateSubscriptionInput", "ok"),
}


def order_gid(order_id: str) -> str:
    """Skio's ``Order.platformId`` is the Shopify GID; ticketflow speaks the number."""
    order_id = str(order_id).strip().lstrip("#")
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def order_number(platform_id: str) -> str:
    return str(platform_id).rsplit("/", 1)[-1]


def skio_address(raw: dict[str, Any] | None) -> Address | None:
    """A Skio ``Address`` (first/last name, Shopify-style lines, ``country``)."""
    if not raw:
        return None
    name = " ".join(p for p in (raw.get("firstName"), raw.get("lastName")) if p) or None
    return shopify_style_address({**raw, "name": name}, country_field="country")


class SkioConnector(PlatformConnector, StoreOperations, SubscriptionOperations):
    platform = "skio"

    def __init__(self, settings: SkioSettings) -> None:
        super().__init__(settings.base_url or "https://graphql.skio.com")
        self._token = settings.api_token

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"API {self._token.get_secret_value()}"}

    async def graphql(
        self, query: str, variables: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        response = await self.request(
            "POST",
            "/v1/graphql",
            json={"query": query, "variables": variables},
            idempotency_key=idempotency_key,
        )
        body = response.json()
        if body.get("errors"):
            raise graphql_error(self.platform, body["errors"])
        return dict(body["data"])

    # --- reads ----------------------------------------------------------------------------

    async def get_subscription(self, subscription_id: str) -> Subscription:
        if not UUID.fullmatch(str(subscription_id).strip()):
            raise NotFound(f"subscription {subscription_id} not found", platform=self.platform)
        subscription_id = str(subscription_id).strip().lower()
        query = f"query Sub($id: uuid!) {{ SubscriptionByPk(id: $id) {{ {SUBSCRIPTION_FIELDS} }} }}"
        data = await self.graphql(query, {"id": subscription_id})
        if data["SubscriptionByPk"] is None:
            raise NotFound(f"subscription {subscription_id} not found", platform=self.platform)
        return self._subscription(data["SubscriptionByPk"])

    async def list_subscriptions(self, email: str) -> list[Subscription]:
        query = (
            "query Subs($email: String!) { Subscriptions(where: {StorefrontUser: "
            f"{{email: {{_eq: $email}}}}}}) {{ {SUBSCRIPTION_FIELDS} }} }}"
        )
        data = await self.graphql(query, {"email": email.lower()})
        return [self._subscription(s) for s in data["Subscriptions"]]

    def _subscription(self, raw: dict[str, Any]) -> Subscription:
        line = raw["SubscriptionLines"][0] if raw["SubscriptionLines"] else None
        variant: dict[str, Any] = (
            line["ProductVariant"] if line else {"id": "", "title": "", "Product": {}}
        )
        return Subscription(
            id=raw["id"],
            platform=self.platform,
            status=raw["status"].lower(),
            email=(raw.get("StorefrontUser") or {}).get("email", ""),
            product_id=variant["id"],
            product_name=f"{variant['Product'].get('title', '')} {variant['title']}".strip(),
            quantity=line["quantity"] if line else 1,
            next_shipment_date=raw.get("nextBillingDate"),
        )

    async def get_account(self, email: str) -> AccountDetails:
        query = (
            "query User($email: String!) { StorefrontUsers(where: {email: {_eq: $email}}) "
            f"{{ id email firstName lastName ShippingAddresses {{ {ADDRESS_FIELDS} }}"
            " Orders { platformId } } }"
        )
        users = (await self.graphql(query, {"email": email.lower()}))["StorefrontUsers"]
        if not users:
            return AccountDetails(exists=False, email=email)
        user = users[0]
        addresses = user.get("ShippingAddresses") or []
        return AccountDetails(
            exists=True,
            customer_id=user["id"],
            email=user["email"],
            name=f"{user.get('firstName') or ''} {user.get('lastName') or ''}".strip(),
            address=skio_address(addresses[0] if addresses else None),
            order_ids=[order_number(o["platformId"]) for o in user.get("Orders") or []],
        )

    async def get_order(self, order_id: str) -> OrderDetails:
        query = (
            "query Order($orderId: String!) { Orders(where: {platformId: {_eq: $orderId}}) "
            f"{{ {ORDER_FIELDS} }} }}"
        )
        orders = (await self.graphql(query, {"orderId": order_gid(order_id)}))["Orders"]
        if not orders:
            raise NotFound(f"order {order_id} not found", platform=self.platform)
        raw = orders[0]
        if raw.get("cancelledAt"):
            status = "cancelled"
        elif raw.get("deliveredAt"):
            status = "delivered"
        else:
            status = "placed"  # Skio documents no fulfillment state: the store has it
        return OrderDetails(
            id=order_number(raw["platformId"]),
            platform=self.platform,
            status=status,
            email=(raw.get("StorefrontUser") or {}).get("email") or "",
            total=float(raw.get("totalPrice") or 0),
            created_at=raw["createdAt"],
            items=[
                LineItem(
                    sku=item["ProductVariant"]["id"],
                    name=item["ProductVariant"]["Product"]["title"],
                    quantity=item["quantity"],
                    price=float(item.get("priceWithoutDiscount") or 0),
                    product_id=item["ProductVariant"]["id"],
                )
                for item in raw["OrderLineItems"]
                if item.get("ProductVariant")
            ],
            delivered_at=raw.get("deliveredAt"),
            cancellable=False,  # cancelling is the store's (Shopify's) operation
        )

    # --- writes (each read back, since ok:true can mean nothing happened) ---------------------

    async def _mutate(self, field: str, data: dict[str, Any], key: str) -> dict[str, Any]:
        input_type, outputs = MUTATIONS[field]
        query = f"mutation M($input: {input_type}!) {{ {field}(input: $input) {{ {outputs} }} }}"
        result = (await self.graphql(query, {"input": data}, idempotency_key=key))[field]
        if not result or not result.get("ok"):
            message = (result or {}).get("message") or f"Skio refused {field}"
            raise PlatformRejected(str(message), platform=self.platform)
        return dict(result)

    async def skip_next(self, subscription_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)  # Skio's own spelling of the id
        await self._mutate("skipSubscription", {"subscriptionId": current.id}, key)
        return await self.get_subscription(current.id)

    async def cancel(self, subscription_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.status != "cancelled":
            data = {"subscriptionId": current.id, "shouldSendNotif": True}
            await self._mutate("cancelSubscription", data, key)
        return await self.get_subscription(subscription_id)

    async def reactivate(self, subscription_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.status != "active":
            tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            data = {"subscriptionId": current.id, "newBillingDate": tomorrow}
            await self._mutate("reactivateSubscription", data, key)
        return await self.get_subscription(subscription_id)

    async def swap(self, subscription_id: str, new_variant_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.product_id != new_variant_id:
            data = {
                "subscriptionId": current.id,
                "oldProductVariantId": current.product_id,
                "newProductVariantId": new_variant_id,
            }
            await self._mutate("swapSubscriptionProductVariants", data, key)
        return await self.get_subscription(subscription_id)
