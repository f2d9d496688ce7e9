"""Skio connector (GraphQL, Hasura style) for subscriptions and the orders they generate.

Auth: ``authorization: API <token>`` on ``POST {base_url}/v1/graphql``. Errors come as
``errors[]`` with ``extensions.code`` (mapped by ``graphql_error``). Some mutations answer
``ok: true`` for an unknown subscription id, so every mutation is followed by a read-back;
``ok: false`` becomes ``PlatformRejected`` with Skio's message.

Exactly once: Skio documents no idempotency key. Cancel, reactivate and swap are idempotent
by shape (the read-back shows the target state). Skip is not, so the key is sent as
``Idempotency-Key`` (⚠: honoured by the sandbox; unconfirmed on real Skio).

Orders: Skio bills through Shopify, so a Skio order *is* a Shopify order (``platformId`` is
the Shopify order id) and its payment, refunds, cancellation and replacements belong to the
store. This connector therefore has no refund or order writes: a Skio shop's policies list
Shopify as their store (``platforms: [shopify, skio, kustomer]``) and the generic store tools
(``@refund_order``, ``@create_replacement_order``) run there; the sandbox's Shopify holds the
Skio demo orders under the same ids.

⚠ Unconfirmed, kept in step with ``sandbox/skio.py``: ``Orders(where: {platformId: {_eq}})``
with ``OrderLineItems``, ``trackingNumber``, ``carrier``, ``deliveredAt``; ``StorefrontUsers``
with ``defaultAddress`` and ``Orders``.
"""

from __future__ import annotations

from typing import Any

from activities.platforms.base import (
    NotFound,
    PlatformConnector,
    PlatformRejected,
    graphql_error,
    shopify_style_address,
)
from activities.platforms.roles import StoreOperations, SubscriptionOperations
from policies.tool_models import AccountDetails, LineItem, OrderDetails, Subscription
from ticketflow.settings import SkioSettings

LINES = "SubscriptionLines { id quantity ProductVariant { id title Product { title } } }"
SUBSCRIPTION_FIELDS = (
    f"id platformId status nextBillingDate cancelledAt StorefrontUser {{ email }} {LINES}"
)
ORDER_FIELDS = (
    "id platformId status totalPrice createdAt deliveredAt trackingNumber carrier"
    " shippingAddress StorefrontUser { email }"
    " OrderLineItems { quantity priceWithoutDiscount"
    " ProductVariant { id title Product { title } } }"
)
ORDER_STATUS = {"FULFILLED": "shipped", "UNFULFILLED": "processing", "CANCELLED": "cancelled"}


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
            "{ id email firstName lastName defaultAddress Orders { platformId } } }"
        )
        users = (await self.graphql(query, {"email": email.lower()}))["StorefrontUsers"]
        if not users:
            return AccountDetails(exists=False, email=email)
        user = users[0]
        return AccountDetails(
            exists=True,
            customer_id=user["id"],
            email=user["email"],
            name=f"{user['firstName']} {user['lastName']}".strip(),
            address=shopify_style_address(user.get("defaultAddress"), country_field="country"),
            order_ids=[o["platformId"] for o in user.get("Orders", [])],
        )

    async def get_order(self, order_id: str) -> OrderDetails:
        query = (
            "query Order($orderId: String!) { Orders(where: {platformId: {_eq: $orderId}}) "
            f"{{ {ORDER_FIELDS} }} }}"
        )
        orders = (await self.graphql(query, {"orderId": str(order_id)}))["Orders"]
        if not orders:
            raise NotFound(f"order {order_id} not found", platform=self.platform)
        raw = orders[0]
        status = (
            "delivered" if raw.get("deliveredAt") else ORDER_STATUS.get(raw["status"], "pending")
        )
        return OrderDetails(
            id=raw["platformId"],
            platform=self.platform,
            status=status,
            email=(raw.get("StorefrontUser") or {}).get("email", ""),
            total=float(raw["totalPrice"]),
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
            ],
            shipping_address=shopify_style_address(
                raw.get("shippingAddress"), country_field="country"
            ),
            tracking_number=raw.get("trackingNumber"),
            carrier=raw.get("carrier"),
            delivered_at=raw.get("deliveredAt"),
            cancellable=raw["status"] == "UNFULFILLED",
        )

    # --- writes (each read back, since ok:true can mean nothing happened) ---------------------

    async def _mutate(self, field: str, data: dict[str, Any], key: str) -> dict[str, Any]:
        query = f"mutation M($input: {field}Input!) {{ {field}(input: $input) {{ ok message }} }}"
        result = (await self.graphql(query, {"input": data}, idempotency_key=key))[field]
        if not result.get("ok"):
            raise PlatformRejected(str(result.get("message")), platform=self.platform)
        return dict(result)

    async def skip_next(self, subscription_id: str, key: str) -> Subscription:
        await self.get_subscription(subscription_id)
        await self._mutate("skipSubscription", {"subscriptionId": subscription_id}, key)
        return await self.get_subscription(subscription_id)

    async def cancel(self, subscription_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.status != "cancelled":
            data = {"subscriptionId": subscription_id, "shouldSendNotif": True}
            await self._mutate("cancelSubscription", data, key)
        return await self.get_subscription(subscription_id)

    async def reactivate(self, subscription_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.status != "active":
            await self._mutate("reactivateSubscription", {"subscriptionId": subscription_id}, key)
        return await self.get_subscription(subscription_id)

    async def swap(self, subscription_id: str, new_variant_id: str, key: str) -> Subscription:
        current = await self.get_subscription(subscription_id)
        if current.product_id != new_variant_id:
            data = {
                "subscriptionId": subscription_id,
                "oldProductVariantId": current.product_id,
                "newProductVariantId": new_variant_id,
            }
            await self._mutate("swapSubscriptionProductVariants", data, key)
        return await self.get_subscription(subscription_id)
