"""The typed inputs and outputs of the catalog's tools, shared by the compiler (types of
arguments and results), the activities (what connectors return) and the workflows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(_Model):
    """A postal address, as every platform connector reads and writes it."""

    name: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str = "US"


class LineItem(_Model):
    sku: str
    name: str
    quantity: int = 1
    price: float = 0.0
    product_id: str | None = None


class OrderDetails(_Model):
    """An order as the store or subscription platform reports it."""

    id: str
    platform: str
    status: str = Field(description="e.g. pending, processing, shipped, delivered, cancelled")
    email: str
    total: float
    currency: str = "USD"
    created_at: datetime
    items: list[LineItem] = Field(default_factory=list)
    shipping_address: Address | None = None
    address_id: str | None = Field(
        default=None, description="the platform's id of the shipping address, where it has one"
    )
    shipping_method: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    delivered_at: datetime | None = None
    cancellable: bool = True
    refundable: bool = True
    paid: bool = True


class AccountDetails(_Model):
    """A customer record on a helpdesk or subscription platform."""

    exists: bool
    customer_id: str | None = None
    email: str
    name: str | None = None
    address_id: str | None = None
    address: Address | None = None
    order_ids: list[str] = Field(default_factory=list)


class Subscription(_Model):
    id: str
    platform: str
    status: str = Field(description="active, paused or cancelled")
    email: str
    product_id: str
    product_name: str
    quantity: int = 1
    interval: str = "monthly"
    next_shipment_date: datetime | None = None


class SubscriptionList(_Model):
    subscriptions: list[Subscription] = Field(default_factory=list)
    primary: Subscription | None = Field(
        default=None, description="the one the ticket is about: the only one, else the latest"
    )


class DiscountApplied(_Model):
    order_id: str
    percent: int
    new_total: float


class ShippingUpgraded(_Model):
    order_id: str
    shipping_method: str
    cost_to_customer: float = 0.0


class ProductSwapped(_Model):
    order_id: str
    removed_product_id: str
    added_product_id: str


class CouponIssued(_Model):
    code: str
    percent: int
    email: str
    expires_at: datetime | None = None


class OrderPaid(_Model):
    order_id: str
    paid: bool


class OrderCreated(_Model):
    order_id: str
    status: str
    total: float


class AddressUpdated(_Model):
    address_id: str
    address: Address


class ReshipmentEligibility(_Model):
    order_id: str
    eligible: bool
    reason: str | None = Field(default=None, description="why not, when not eligible")


class TrackingEvent(_Model):
    at: datetime
    status: str
    location: str | None = None


class TrackingInfo(_Model):
    tracking_number: str
    carrier: str
    status: str = Field(description="e.g. in_transit, out_for_delivery, delivered, exception")
    delivered: bool
    delivered_at: datetime | None = None
    events: list[TrackingEvent] = Field(default_factory=list)


class CarrierClaim(_Model):
    claim_id: str
    order_id: str
    carrier: str
    status: str = Field(description="submitted, in_review, approved, rejected")


class MessageSent(_Model):
    message_id: str
    channel: str


class OrderCancelled(_Model):
    order_id: str
    status: str
    refunded_amount: float = 0.0


class RefundIssued(_Model):
    refund_id: str
    order_id: str
    amount: float
    currency: str = "USD"


class SubscriptionChanged(_Model):
    """The subscription after a skip, swap, reactivation or cancellation."""

    subscription: Subscription


class HandoffDone(_Model):
    assigned_group: str | None = None
    handed_off: bool = True


# ---------------------------------------------------------------------------
# Parameter models
# ---------------------------------------------------------------------------


class OrderIdParams(_Model):
    order_id: str


class EmailParams(_Model):
    email: str


class SetDiscountParams(_Model):
    order_id: str
    percent: int = Field(ge=0, le=100)


class UpgradeShippingParams(_Model):
    order_id: str
    shipping_method: str = "expedited"


class ProductSwapParams(_Model):
    order_id: str
    from_product_id: str | None = None
    to_product_id: str


class FutureDiscountParams(_Model):
    email: str
    percent: int = Field(ge=0, le=100)


class MessageParams(_Model):
    message: str


class CreateOrderParams(_Model):
    items: list[LineItem]
    address: Address
    user_email: str


class UpdateAddressParams(_Model):
    address_id: str
    new_address: Address


class TrackingParams(_Model):
    order_id: str
    tracking_number: str | None = None


class CancelOrderParams(_Model):
    order_id: str
    reason: str | None = None


class RefundParams(_Model):
    order_id: str
    amount: float | None = Field(
        default=None, description="when left out, the order is refunded in full"
    )
    reason: str | None = None


class SubscriptionIdParams(_Model):
    subscription_id: str


class SwapSubscriptionParams(_Model):
    subscription_id: str
    new_product_id: str


class HandoffParams(_Model):
    reason: str
    note: str | None = None
