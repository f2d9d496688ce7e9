"""Store, subscription and carrier tools of the catalog, as Temporal activities.

Each tool is implemented once. Generic tools (``set_discount_to_order``, ``skip_next_shipment``,
``get_tracking_info``) resolve to the platform the policy names: the caller passes the
policy's platforms in ``ToolInput.platforms`` (the entry policy's first, for a policy handed
over to) and ``activities.catalog.resolve_platform`` picks the first one that fills the
tool's role. The activity name is the tool name.

Side-effecting tools need ``ToolInput.idempotency_key`` (the caller derives it from the
workflow id and plan node, stable across retries and replays); the connectors send it where
the platform takes one and otherwise look before they write.

Retry policy for these activities: ``RetryPolicy(non_retryable_error_types=
NON_RETRYABLE_ERROR_TYPES)`` from ``activities.platforms.base``; 429 answers carry the
platform's Retry-After as the next retry delay. Every activity is wrapped in
``named_errors``: input no platform can answer and answers a connector cannot use fail as
named non-retryable errors (never a generic Python exception), a platform outage stays
retryable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from temporalio import activity

from activities.catalog import (
    AccountDetails,
    AddressUpdated,
    CancelOrderParams,
    CarrierClaim,
    CouponIssued,
    CreateOrderParams,
    DiscountApplied,
    EmailParams,
    FutureDiscountParams,
    OrderCancelled,
    OrderCreated,
    OrderDetails,
    OrderIdParams,
    OrderPaid,
    ProductSwapParams,
    ProductSwapped,
    RefundIssued,
    RefundParams,
    ReshipmentEligibility,
    SetDiscountParams,
    ShippingUpgraded,
    SubscriptionChanged,
    SubscriptionIdParams,
    SubscriptionList,
    SwapSubscriptionParams,
    TrackingInfo,
    TrackingParams,
    UpdateAddressParams,
    UpgradeShippingParams,
    get_tool,
    resolve_platform,
)
from activities.platforms.base import PlatformRejected, named_errors
from activities.platforms.bigcommerce import BigCommerceConnector
from activities.platforms.config import PlatformSettings
from activities.platforms.easypost import EasyPostConnector
from activities.platforms.shopify import ShopifyConnector
from activities.platforms.skio import SkioConnector
from activities.platforms.stayai import StayAiConnector

P = TypeVar("P", bound=BaseModel)

# A damaged or lost delivery can be reshipped within this many days of delivery.
RESHIPMENT_WINDOW = timedelta(days=30)


class ToolInput(BaseModel, Generic[P]):
    """One tool call: its parameters, the policy's platforms, and the idempotency key."""

    params: P
    platforms: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None


class Connectors:
    """One pooled connector per platform, shared by every activity of the worker."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.bigcommerce = BigCommerceConnector(settings.bigcommerce)
        self.shopify = ShopifyConnector(settings.shopify)
        self.stayai = StayAiConnector(settings.stayai)
        self.skio = SkioConnector(settings.skio)
        self.easypost = EasyPostConnector(settings.easypost)

    async def aclose(self) -> None:
        for connector in (self.bigcommerce, self.shopify, self.stayai, self.skio, self.easypost):
            await connector.aclose()


def _key(call: ToolInput[Any], tool: str) -> str:
    if not call.idempotency_key:
        raise PlatformRejected(
            f"@{tool} changes data and needs an idempotency key", platform="ticketflow"
        )
    return call.idempotency_key


class CommerceActivities:
    """The store / subscription / carrier tools; connectors are injected for tests."""

    def __init__(self, connectors: Connectors) -> None:
        self.c = connectors

    def _connector(self, tool: str, platforms: list[str], operation: str) -> Any:
        platform = resolve_platform(get_tool(tool).binds_to, platforms)
        connector = getattr(self.c, platform or "", None)
        if connector is None or not hasattr(connector, operation):
            raise PlatformRejected(
                f"@{tool} is not available on {platform or 'any platform of this policy'}",
                platform=platform or "ticketflow",
            )
        return connector

    # --- orders -----------------------------------------------------------------------------

    async def _order(self, tool: str, call: ToolInput[OrderIdParams]) -> OrderDetails:
        order: OrderDetails = await self._connector(tool, call.platforms, "get_order").get_order(
            call.params.order_id
        )
        return order

    @activity.defn(name="get_order_details")
    @named_errors
    async def get_order_details(self, call: ToolInput[OrderIdParams]) -> OrderDetails:
        return await self._order("get_order_details", call)

    @activity.defn(name="bigcommerce_order_details")
    @named_errors
    async def bigcommerce_order_details(self, call: ToolInput[OrderIdParams]) -> OrderDetails:
        return await self._order("bigcommerce_order_details", call)

    @activity.defn(name="stayai_order_details")
    @named_errors
    async def stayai_order_details(self, call: ToolInput[OrderIdParams]) -> OrderDetails:
        return await self._order("stayai_order_details", call)

    @activity.defn(name="skio_order_details")
    @named_errors
    async def skio_order_details(self, call: ToolInput[OrderIdParams]) -> OrderDetails:
        return await self._order("skio_order_details", call)

    @activity.defn(name="shopify_order_details")
    @named_errors
    async def shopify_order_details(self, call: ToolInput[OrderIdParams]) -> OrderDetails:
        return await self._order("shopify_order_details", call)

    @activity.defn(name="check_reshipment_eligibility")
    @named_errors
    async def check_reshipment_eligibility(
        self, call: ToolInput[OrderIdParams]
    ) -> ReshipmentEligibility:
        order = await self._order("check_reshipment_eligibility", call)
        order_id = order.id
        if order.status in ("cancelled", "refunded"):
            return ReshipmentEligibility(
                order_id=order_id, eligible=False, reason=f"the order was {order.status}"
            )
        if order.status not in ("shipped", "delivered"):
            return ReshipmentEligibility(
                order_id=order_id, eligible=False, reason="the order has not shipped yet"
            )
        sent = order.delivered_at or order.created_at
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        if datetime.now(UTC) - sent > RESHIPMENT_WINDOW:
            days = RESHIPMENT_WINDOW.days
            return ReshipmentEligibility(
                order_id=order_id,
                eligible=False,
                reason=f"it was delivered more than {days} days ago",
            )
        return ReshipmentEligibility(order_id=order_id, eligible=True)

    async def _discount(self, tool: str, call: ToolInput[SetDiscountParams]) -> DiscountApplied:
        connector = self._connector(tool, call.platforms, "set_discount")
        result: DiscountApplied = await connector.set_discount(
            call.params.order_id, call.params.percent, _key(call, tool)
        )
        return result

    @activity.defn(name="set_discount_to_order")
    @named_errors
    async def set_discount_to_order(self, call: ToolInput[SetDiscountParams]) -> DiscountApplied:
        return await self._discount("set_discount_to_order", call)

    @activity.defn(name="bigcommerce_set_discount")
    @named_errors
    async def bigcommerce_set_discount(self, call: ToolInput[SetDiscountParams]) -> DiscountApplied:
        return await self._discount("bigcommerce_set_discount", call)

    async def _shipping(
        self, tool: str, call: ToolInput[UpgradeShippingParams]
    ) -> ShippingUpgraded:
        connector = self._connector(tool, call.platforms, "upgrade_shipping")
        result: ShippingUpgraded = await connector.upgrade_shipping(
            call.params.order_id, call.params.shipping_method, _key(call, tool)
        )
        return result

    @activity.defn(name="upgrade_shipping")
    @named_errors
    async def upgrade_shipping(self, call: ToolInput[UpgradeShippingParams]) -> ShippingUpgraded:
        return await self._shipping("upgrade_shipping", call)

    @activity.defn(name="bigcommerce_shipping_upgrade")
    @named_errors
    async def bigcommerce_shipping_upgrade(
        self, call: ToolInput[UpgradeShippingParams]
    ) -> ShippingUpgraded:
        return await self._shipping("bigcommerce_shipping_upgrade", call)

    async def _swap(self, tool: str, call: ToolInput[ProductSwapParams]) -> ProductSwapped:
        connector = self._connector(tool, call.platforms, "swap_product")
        p = call.params
        result: ProductSwapped = await connector.swap_product(
            p.order_id, p.from_product_id, p.to_product_id, _key(call, tool)
        )
        return result

    @activity.defn(name="swap_product")
    @named_errors
    async def swap_product(self, call: ToolInput[ProductSwapParams]) -> ProductSwapped:
        return await self._swap("swap_product", call)

    @activity.defn(name="bigcommerce_product_swap")
    @named_errors
    async def bigcommerce_product_swap(self, call: ToolInput[ProductSwapParams]) -> ProductSwapped:
        return await self._swap("bigcommerce_product_swap", call)

    async def _coupon(self, tool: str, call: ToolInput[FutureDiscountParams]) -> CouponIssued:
        connector = self._connector(tool, call.platforms, "create_coupon")
        result: CouponIssued = await connector.create_coupon(
            call.params.email, call.params.percent, _key(call, tool)
        )
        return result

    @activity.defn(name="create_future_discount")
    @named_errors
    async def create_future_discount(self, call: ToolInput[FutureDiscountParams]) -> CouponIssued:
        return await self._coupon("create_future_discount", call)

    @activity.defn(name="bigcommerce_discount_future")
    @named_errors
    async def bigcommerce_discount_future(
        self, call: ToolInput[FutureDiscountParams]
    ) -> CouponIssued:
        return await self._coupon("bigcommerce_discount_future", call)

    @activity.defn(name="set_order_to_paid")
    @named_errors
    async def set_order_to_paid(self, call: ToolInput[OrderIdParams]) -> OrderPaid:
        tool = "set_order_to_paid"
        connector = self._connector(tool, call.platforms, "mark_paid")
        result: OrderPaid = await connector.mark_paid(call.params.order_id, _key(call, tool))
        return result

    @activity.defn(name="cancel_order")
    @named_errors
    async def cancel_order(self, call: ToolInput[CancelOrderParams]) -> OrderCancelled:
        tool = "cancel_order"
        connector = self._connector(tool, call.platforms, "cancel_order")
        result: OrderCancelled = await connector.cancel_order(
            call.params.order_id, call.params.reason, _key(call, tool)
        )
        return result

    @activity.defn(name="refund_order")
    @named_errors
    async def refund_order(self, call: ToolInput[RefundParams]) -> RefundIssued:
        tool = "refund_order"
        connector = self._connector(tool, call.platforms, "refund")
        p = call.params
        result: RefundIssued = await connector.refund(
            p.order_id, p.amount, p.reason, _key(call, tool)
        )
        return result

    @activity.defn(name="create_stayai_order")
    @named_errors
    async def create_stayai_order(self, call: ToolInput[CreateOrderParams]) -> OrderCreated:
        p = call.params
        return await self.c.stayai.create_order(
            p.user_email, p.items, p.address, _key(call, "create_stayai_order")
        )

    @activity.defn(name="create_replacement_order")
    @named_errors
    async def create_replacement_order(self, call: ToolInput[CreateOrderParams]) -> OrderCreated:
        tool = "create_replacement_order"
        connector = self._connector(tool, call.platforms, "create_replacement")
        p = call.params
        result: OrderCreated = await connector.create_replacement(
            p.user_email, p.items, p.address, _key(call, tool)
        )
        return result

    @activity.defn(name="update_stayai_address")
    @named_errors
    async def update_stayai_address(self, call: ToolInput[UpdateAddressParams]) -> AddressUpdated:
        p = call.params
        return await self.c.stayai.update_address(
            p.address_id, p.new_address, _key(call, "update_stayai_address")
        )

    @activity.defn(name="get_skio_account_details")
    @named_errors
    async def get_skio_account_details(self, call: ToolInput[EmailParams]) -> AccountDetails:
        return await self.c.skio.get_account(call.params.email)

    # --- subscriptions ------------------------------------------------------------------------

    @activity.defn(name="get_subscriptions")
    @named_errors
    async def get_subscriptions(self, call: ToolInput[EmailParams]) -> SubscriptionList:
        connector = self._connector("get_subscriptions", call.platforms, "list_subscriptions")
        subscriptions = await connector.list_subscriptions(call.params.email)
        # The one the ticket is about: the only one, else an active one, else the first.
        active = [s for s in subscriptions if s.status == "active"]
        primary = (active or subscriptions or [None])[0]
        return SubscriptionList(subscriptions=subscriptions, primary=primary)

    async def _change(
        self, tool: str, operation: str, call: ToolInput[Any], *args: str
    ) -> SubscriptionChanged:
        connector = self._connector(tool, call.platforms, operation)
        subscription = await getattr(connector, operation)(
            call.params.subscription_id, *args, _key(call, tool)
        )
        return SubscriptionChanged(subscription=subscription)

    @activity.defn(name="skip_next_shipment")
    @named_errors
    async def skip_next_shipment(
        self, call: ToolInput[SubscriptionIdParams]
    ) -> SubscriptionChanged:
        return await self._change("skip_next_shipment", "skip_next", call)

    @activity.defn(name="swap_subscription_product")
    @named_errors
    async def swap_subscription_product(
        self, call: ToolInput[SwapSubscriptionParams]
    ) -> SubscriptionChanged:
        return await self._change(
            "swap_subscription_product", "swap", call, call.params.new_product_id
        )

    @activity.defn(name="reactivate_subscription")
    @named_errors
    async def reactivate_subscription(
        self, call: ToolInput[SubscriptionIdParams]
    ) -> SubscriptionChanged:
        return await self._change("reactivate_subscription", "reactivate", call)

    @activity.defn(name="cancel_subscription")
    @named_errors
    async def cancel_subscription(
        self, call: ToolInput[SubscriptionIdParams]
    ) -> SubscriptionChanged:
        return await self._change("cancel_subscription", "cancel", call)

    # --- carrier ------------------------------------------------------------------------------

    async def _shipment(self, order_id: str, platforms: list[str]) -> OrderDetails:
        store = resolve_platform("store", platforms)
        connector = getattr(self.c, store or "", None)
        if connector is None:
            raise PlatformRejected(
                f"no store platform to find order {order_id} on", platform="ticketflow"
            )
        order: OrderDetails = await connector.get_order(order_id)
        if not order.tracking_number:
            raise PlatformRejected(
                f"order {order_id} has no tracking number", platform=store or "ticketflow"
            )
        return order

    @activity.defn(name="get_tracking_info")
    @named_errors
    async def get_tracking_info(self, call: ToolInput[TrackingParams]) -> TrackingInfo:
        code, carrier = call.params.tracking_number, None
        if not code:
            order = await self._shipment(call.params.order_id, call.platforms)
            code, carrier = order.tracking_number, order.carrier
        return await self.c.easypost.track(code or "", carrier)

    @activity.defn(name="file_carrier_claim")
    @named_errors
    async def file_carrier_claim(self, call: ToolInput[OrderIdParams]) -> CarrierClaim:
        order = await self._shipment(call.params.order_id, call.platforms)
        tracking = await self.c.easypost.track(order.tracking_number or "", order.carrier)
        claim = await self.c.easypost.file_claim(
            tracking_code=tracking.tracking_number,
            amount=order.total,
            claim_type="theft" if tracking.delivered else "loss",
            description=f"Order {order.id}: "
            + ("marked delivered but not received" if tracking.delivered else "lost in transit"),
            contact_email=order.email,
            idempotency_key=_key(call, "file_carrier_claim"),
        )
        return CarrierClaim(
            claim_id=claim.id, order_id=order.id, carrier=tracking.carrier, status=claim.status
        )

    def activities(self) -> list[Callable[..., Any]]:
        return [
            getattr(self, name)
            for name in dir(self)
            if hasattr(getattr(self, name), "__temporal_activity_definition")
        ]


def platform_activities(settings: PlatformSettings | None = None) -> list[Callable[..., Any]]:
    """Every store / subscription / carrier activity for a worker, over pooled connectors."""
    return CommerceActivities(Connectors(settings or PlatformSettings())).activities()
