"""The tool catalog: every `@tool` a policy may call, with typed parameters and results.

The policy compiler checks `@tool(arg: type)` references against this catalog, the
runtime calls tools by name, and the activities room implements each entry as a
Temporal activity over the platform connectors. Pure data: no I/O, no Temporal.

Naming follows the seeds' rule: a platform-specific tool carries the platform's name in
lower case joined into one word (`@bigcommerce_order_details`, `@create_stayai_order`);
a generic tool (`@set_discount_to_order`, `@send_async_message`) binds to a *role*
("store", "subscriptions", "helpdesk", "carrier") that the policy's front matter
resolves to a named platform.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.plan import Outcome

# ---------------------------------------------------------------------------
# Platforms and roles
# ---------------------------------------------------------------------------

Role = Literal["store", "subscriptions", "helpdesk", "carrier"]
ROLES: tuple[Role, ...] = ("store", "subscriptions", "helpdesk", "carrier")

#: Each known platform and the roles it can fill. Stay AI and Skio hold both the
#: subscription and the orders it generates, so they can act as the store too.
PLATFORM_ROLES: dict[str, tuple[Role, ...]] = {
    "bigcommerce": ("store",),
    "shopify": ("store",),
    "stayai": ("subscriptions", "store"),
    "skio": ("subscriptions", "store"),
    "kustomer": ("helpdesk",),
    "zendesk": ("helpdesk",),
    "salesforce": ("helpdesk",),
    "web": ("helpdesk",),
    "easypost": ("carrier",),
}

#: Human names of the platforms, for messages and the CLI.
PLATFORM_TITLES: dict[str, str] = {
    "bigcommerce": "BigCommerce",
    "shopify": "Shopify",
    "stayai": "Stay AI",
    "skio": "Skio",
    "kustomer": "Kustomer",
    "zendesk": "Zendesk",
    "salesforce": "Salesforce Service Cloud",
    "web": "web chat",
    "easypost": "EasyPost",
}

#: The platform a role falls back to when the policy names none (the carrier is
#: always reached through EasyPost; the built-in web channel is the helpdesk).
DEFAULT_FOR_ROLE: dict[str, str] = {"carrier": "easypost", "helpdesk": "web"}


def platform_key(name: str) -> str:
    """Normalise a platform as written in front matter ("Stay AI", "Salesforce Service
    Cloud") to its catalog key ("stayai", "salesforce"): lower case, joined into one word."""
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    aliases = {"salesforceservicecloud": "salesforce", "servicecloud": "salesforce"}
    return aliases.get(key, key)


def resolve_platform(binds_to: str, platforms: list[str] | tuple[str, ...]) -> str | None:
    """The concrete platform a tool runs against, given the policy's platforms.

    A named platform binds to itself. A role binds to the first listed platform that can
    fill it, else the role's default, else None. The order is the author's: a shop whose
    orders live in a store behind its subscription app (Skio on Shopify) lists the store
    first (``[shopify, skio, kustomer]``), one whose subscription app holds the orders lists
    the app alone (``[stayai, zendesk]``). At run time the ticket passes the entry policy's
    platforms first, so a policy handed over to runs on the caller's store, whatever store
    its own front matter names.
    """
    if binds_to in PLATFORM_ROLES:
        return binds_to
    for key in (platform_key(p) for p in platforms):
        if binds_to in PLATFORM_ROLES.get(key, ()):
            return key
    return DEFAULT_FOR_ROLE.get(binds_to)


# ---------------------------------------------------------------------------
# Shared value models
# ---------------------------------------------------------------------------


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
    amount: float | None = Field(default=None, description="None refunds the order in full")
    reason: str | None = None


class SubscriptionIdParams(_Model):
    subscription_id: str


class SwapSubscriptionParams(_Model):
    subscription_id: str
    new_product_id: str


class HandoffParams(_Model):
    reason: str
    note: str | None = None


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


class ToolSpec(BaseModel):
    """One callable tool: what it does, what it takes, what it returns, where it runs."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    params: type[BaseModel]
    result: type[BaseModel]
    binds_to: str = Field(description="a named platform, or a role the policy resolves")
    side_effect: bool
    result_var: str = Field(description="the `$name` the result is bound to by default")
    outcome: Outcome | None = Field(
        default=None, description="what the ticket achieved once this tool succeeds"
    )

    def param_names(self) -> list[str]:
        return list(self.params.model_fields)

    def required_params(self) -> list[str]:
        return [n for n, f in self.params.model_fields.items() if f.is_required()]

    def param_type(self, name: str) -> str:
        """The policy-language type of a parameter: str, int, float, bool, list or json."""
        return type_name(self.params.model_fields[name].annotation)

    def signature(self) -> str:
        """`@tool(arg: type, …)` as an author would write it."""
        args = ", ".join(f"{n}: {self.param_type(n)}" for n in self.params.model_fields)
        return f"@{self.name}({args})"

    def fingerprint(self) -> dict[str, Any]:
        """What a policy's version hash covers for this tool (its contract, not its prose)."""
        return {
            "name": self.name,
            "binds_to": self.binds_to,
            "side_effect": self.side_effect,
            "outcome": self.outcome,
            "params": self.params.model_json_schema(),
            "result": self.result.model_json_schema(),
        }


def type_name(annotation: Any) -> str:
    """Map a Python annotation to the policy language's type words."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return type_name(args[0]) if len(args) == 1 else "json"
    if origin is list or annotation is list:
        return "list"
    if origin is dict or annotation is dict:
        return "json"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "json"
    simple = {str: "str", int: "int", float: "float", bool: "bool", datetime: "str"}
    return simple.get(annotation, "json")


#: Type words an author may write after `arg:`, and the catalog type each one means.
TYPE_ALIASES: dict[str, str] = {
    "str": "str",
    "string": "str",
    "text": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "number": "float",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "array": "list",
    "json": "json",
    "dict": "json",
    "object": "json",
}


def _tool(
    name: str,
    description: str,
    params: type[BaseModel],
    result: type[BaseModel],
    binds_to: str,
    *,
    side_effect: bool,
    result_var: str,
    outcome: Outcome | None = None,
) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        params=params,
        result=result,
        binds_to=binds_to,
        side_effect=side_effect,
        result_var=result_var,
        outcome=outcome,
    )


_TOOLS: list[ToolSpec] = [
    # --- generic commerce tools (bind to the policy's store) ------------------
    _tool(
        "get_order_details",
        "Fetch an order from the policy's store.",
        OrderIdParams,
        OrderDetails,
        "store",
        side_effect=False,
        result_var="order",
    ),
    _tool(
        "set_discount_to_order",
        "Apply a percentage discount to an order.",
        SetDiscountParams,
        DiscountApplied,
        "store",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="discount",
    ),
    _tool(
        "upgrade_shipping",
        "Upgrade an order's shipping method free of charge.",
        UpgradeShippingParams,
        ShippingUpgraded,
        "store",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="shipping_upgrade",
    ),
    _tool(
        "swap_product",
        "Swap an item in an order for another product at no extra cost.",
        ProductSwapParams,
        ProductSwapped,
        "store",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="swap",
    ),
    _tool(
        "create_future_discount",
        "Issue a coupon for the customer's next order.",
        FutureDiscountParams,
        CouponIssued,
        "store",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="coupon",
    ),
    _tool(
        "set_order_to_paid",
        "Mark an order as paid so the customer is not charged.",
        OrderIdParams,
        OrderPaid,
        "store",
        side_effect=True,
        result_var="payment",
    ),
    _tool(
        "check_reshipment_eligibility",
        "Check whether an order qualifies for a reshipment.",
        OrderIdParams,
        ReshipmentEligibility,
        "store",
        side_effect=False,
        result_var="eligibility",
    ),
    _tool(
        "cancel_order",
        "Cancel an order (and void or refund its payment).",
        CancelOrderParams,
        OrderCancelled,
        "store",
        side_effect=True,
        outcome=Outcome.CANCELLED,
        result_var="cancellation",
    ),
    _tool(
        "create_replacement_order",
        "Send the same items again as a new order the customer is not charged for.",
        CreateOrderParams,
        OrderCreated,
        "store",
        side_effect=True,
        outcome=Outcome.RESHIPPED,
        result_var="new_order",
    ),
    _tool(
        "refund_order",
        "Refund an order in full or in part to the original payment.",
        RefundParams,
        RefundIssued,
        "store",
        side_effect=True,
        outcome=Outcome.REFUNDED,
        result_var="refund",
    ),
    # --- generic subscription tools --------------------------------------------
    _tool(
        "get_subscriptions",
        "List the customer's subscriptions.",
        EmailParams,
        SubscriptionList,
        "subscriptions",
        side_effect=False,
        result_var="subscriptions",
    ),
    _tool(
        "skip_next_shipment",
        "Skip the next scheduled shipment of a subscription.",
        SubscriptionIdParams,
        SubscriptionChanged,
        "subscriptions",
        side_effect=True,
        outcome=Outcome.SKIPPED,
        result_var="subscription_change",
    ),
    _tool(
        "swap_subscription_product",
        "Replace the product a subscription delivers.",
        SwapSubscriptionParams,
        SubscriptionChanged,
        "subscriptions",
        side_effect=True,
        outcome=Outcome.SWAPPED,
        result_var="subscription_change",
    ),
    _tool(
        "reactivate_subscription",
        "Restart a paused or cancelled subscription.",
        SubscriptionIdParams,
        SubscriptionChanged,
        "subscriptions",
        side_effect=True,
        outcome=Outcome.RESTARTED,
        result_var="subscription_change",
    ),
    _tool(
        "cancel_subscription",
        "Cancel a subscription.",
        SubscriptionIdParams,
        SubscriptionChanged,
        "subscriptions",
        side_effect=True,
        outcome=Outcome.CANCELLED,
        result_var="subscription_change",
    ),
    # --- generic helpdesk tools -------------------------------------------------
    _tool(
        "get_account_details",
        "Look up the customer's account on the helpdesk.",
        EmailParams,
        AccountDetails,
        "helpdesk",
        side_effect=False,
        result_var="account",
    ),
    _tool(
        "send_async_message",
        "Send the customer a message outside the live conversation.",
        MessageParams,
        MessageSent,
        "helpdesk",
        side_effect=True,
        result_var="message_sent",
    ),
    _tool(
        "handoff_to_agent",
        "Hand the ticket to a human agent with a note.",
        HandoffParams,
        HandoffDone,
        "helpdesk",
        side_effect=True,
        result_var="handoff",
    ),
    # --- carrier -------------------------------------------------------------------
    _tool(
        "get_tracking_info",
        "Fetch the carrier's tracking for an order's shipment.",
        TrackingParams,
        TrackingInfo,
        "carrier",
        side_effect=False,
        result_var="tracking",
    ),
    _tool(
        "file_carrier_claim",
        "Open a lost-package claim with the carrier.",
        OrderIdParams,
        CarrierClaim,
        "carrier",
        side_effect=True,
        outcome=Outcome.CLAIM_FILED,
        result_var="claim",
    ),
    # --- BigCommerce -----------------------------------------------------------------
    _tool(
        "bigcommerce_order_details",
        "Fetch an order from BigCommerce.",
        OrderIdParams,
        OrderDetails,
        "bigcommerce",
        side_effect=False,
        result_var="order",
    ),
    _tool(
        "bigcommerce_set_discount",
        "Apply a percentage discount to a BigCommerce order.",
        SetDiscountParams,
        DiscountApplied,
        "bigcommerce",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="discount",
    ),
    _tool(
        "bigcommerce_shipping_upgrade",
        "Upgrade a BigCommerce order's shipping for free.",
        UpgradeShippingParams,
        ShippingUpgraded,
        "bigcommerce",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="shipping_upgrade",
    ),
    _tool(
        "bigcommerce_product_swap",
        "Swap an item in a BigCommerce order.",
        ProductSwapParams,
        ProductSwapped,
        "bigcommerce",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="swap",
    ),
    _tool(
        "bigcommerce_discount_future",
        "Issue a BigCommerce coupon for the next order.",
        FutureDiscountParams,
        CouponIssued,
        "bigcommerce",
        side_effect=True,
        outcome=Outcome.RETAINED,
        result_var="coupon",
    ),
    # --- Shopify -------------------------------------------------------------------------
    _tool(
        "shopify_order_details",
        "Fetch an order from Shopify.",
        OrderIdParams,
        OrderDetails,
        "shopify",
        side_effect=False,
        result_var="order",
    ),
    # --- Stay AI -------------------------------------------------------------------------
    _tool(
        "stayai_order_details",
        "Fetch an order from Stay AI.",
        OrderIdParams,
        OrderDetails,
        "stayai",
        side_effect=False,
        result_var="order",
    ),
    _tool(
        "create_stayai_order",
        "Create a Stay AI order (e.g. a replacement shipment).",
        CreateOrderParams,
        OrderCreated,
        "stayai",
        side_effect=True,
        outcome=Outcome.RESHIPPED,
        result_var="new_order",
    ),
    _tool(
        "update_stayai_address",
        "Change a shipping address stored in Stay AI.",
        UpdateAddressParams,
        AddressUpdated,
        "stayai",
        side_effect=True,
        result_var="address_update",
    ),
    # --- Skio ----------------------------------------------------------------------------
    _tool(
        "get_skio_account_details",
        "Look up a customer in Skio by email.",
        EmailParams,
        AccountDetails,
        "skio",
        side_effect=False,
        result_var="account",
    ),
    _tool(
        "skio_order_details",
        "Fetch an order from Skio.",
        OrderIdParams,
        OrderDetails,
        "skio",
        side_effect=False,
        result_var="order",
    ),
    # --- Kustomer ------------------------------------------------------------------------
    _tool(
        "get_kustomer_account_details",
        "Look up a customer in Kustomer by email.",
        EmailParams,
        AccountDetails,
        "kustomer",
        side_effect=False,
        result_var="account",
    ),
    _tool(
        "kustomer_send_async_message",
        "Send the customer a message through Kustomer.",
        MessageParams,
        MessageSent,
        "kustomer",
        side_effect=True,
        result_var="message_sent",
    ),
]

#: Every tool, by name (without the `@`).
CATALOG: dict[str, ToolSpec] = {t.name: t for t in _TOOLS}

#: Where an argument comes from when the author writes only its type
#: (`@stayai_order_details(order_id: str)`): the first of these context paths bound
#: at that point of the policy. The runtime resolves the same paths at run time.
CONTEXT_SOURCES: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order.id"),
    "email": ("email", "customer.email", "account.email"),
    "user_email": ("email", "customer.email", "account.email"),
    "address_id": ("account.address_id", "order.address_id"),
    "new_address": ("new_address",),
    "address": ("new_address", "account.address", "order.shipping_address"),
    "items": ("order.items",),
    "tracking_number": ("order.tracking_number",),
    "subscription_id": ("subscription_id", "subscription.id", "subscriptions.primary.id"),
    "new_product_id": ("new_product_id",),
    "to_product_id": ("new_product_id",),
    "from_product_id": ("product_id",),
    "percent": ("percent",),
    "amount": ("amount",),
}


def get_tool(name: str) -> ToolSpec:
    """The tool called `name` (a leading `@` is ignored); KeyError if there is none."""
    return CATALOG[name.removeprefix("@")]


def tool_names() -> list[str]:
    return sorted(CATALOG)


__all__ = [
    "CATALOG",
    "CONTEXT_SOURCES",
    "DEFAULT_FOR_ROLE",
    "PLATFORM_ROLES",
    "PLATFORM_TITLES",
    "ROLES",
    "TYPE_ALIASES",
    "AccountDetails",
    "Address",
    "CarrierClaim",
    "OrderDetails",
    "Role",
    "ToolSpec",
    "TrackingInfo",
    "get_tool",
    "platform_key",
    "resolve_platform",
    "tool_names",
    "type_name",
]
