"""The tool catalog: every `@tool` a policy may call, with typed parameters and results.

The one tool registry. The policy compiler checks `@tool(arg: type)` references against
it; the workflow sends each call as one typed `ToolCall`; `activities.tools` derives one
Temporal activity per entry, which calls the entry's `operation` on the connector of the
platform that fills its `role` (the role's `Protocol` in `activities.platforms.roles`).
Pure data: no I/O, no Temporal.

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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policies.plan import Outcome
from policies.platforms import Role
from policies.tool_models import (
    AccountDetails,
    AddressUpdated,
    CancelOrderParams,
    CarrierClaim,
    CouponIssued,
    CreateOrderParams,
    DiscountApplied,
    EmailParams,
    FutureDiscountParams,
    HandoffDone,
    HandoffParams,
    MessageParams,
    MessageSent,
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
)


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
    role: Role = Field(description="the role whose connectors implement it")
    operation: str = Field(
        description="the connector method that implements it, called with the params' "
        "fields as keyword arguments (plus `idempotency_key` for a side effect and "
        "`ticket_id` for a helpdesk write)"
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
    role: Role,
    operation: str,
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
        role=role,
        operation=operation,
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
        role="store",
        operation="get_order",
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
        role="store",
        operation="set_discount",
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
        role="store",
        operation="upgrade_shipping",
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
        role="store",
        operation="swap_product",
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
        role="store",
        operation="create_coupon",
        result_var="coupon",
    ),
    _tool(
        "set_order_to_paid",
        "Mark an order as paid so the customer is not charged.",
        OrderIdParams,
        OrderPaid,
        "store",
        side_effect=True,
        role="store",
        operation="mark_paid",
        result_var="payment",
    ),
    _tool(
        "check_reshipment_eligibility",
        "Check whether an order qualifies for a reshipment.",
        OrderIdParams,
        ReshipmentEligibility,
        "store",
        side_effect=False,
        role="store",
        operation="check_reshipment",
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
        role="store",
        operation="cancel_order",
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
        role="store",
        operation="create_replacement",
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
        role="store",
        operation="refund",
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
        role="subscriptions",
        operation="subscriptions_of",
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
        role="subscriptions",
        operation="skip_next_shipment",
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
        role="subscriptions",
        operation="swap_subscription_product",
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
        role="subscriptions",
        operation="reactivate_subscription",
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
        role="subscriptions",
        operation="cancel_subscription",
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
        role="helpdesk",
        operation="account_details",
        result_var="account",
    ),
    _tool(
        "send_async_message",
        "Send the customer a message outside the live conversation.",
        MessageParams,
        MessageSent,
        "helpdesk",
        side_effect=True,
        role="helpdesk",
        operation="send_message",
        result_var="message_sent",
    ),
    _tool(
        "handoff_to_agent",
        "Hand the ticket to a human agent with a note.",
        HandoffParams,
        HandoffDone,
        "helpdesk",
        side_effect=True,
        role="helpdesk",
        operation="hand_off",
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
        role="carrier",
        operation="track_order",
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
        role="carrier",
        operation="file_claim_for_order",
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
        role="store",
        operation="get_order",
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
        role="store",
        operation="set_discount",
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
        role="store",
        operation="upgrade_shipping",
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
        role="store",
        operation="swap_product",
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
        role="store",
        operation="create_coupon",
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
        role="store",
        operation="get_order",
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
        role="store",
        operation="get_order",
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
        role="store",
        operation="create_order",
        result_var="new_order",
    ),
    _tool(
        "update_stayai_address",
        "Change a shipping address stored in Stay AI.",
        UpdateAddressParams,
        AddressUpdated,
        "stayai",
        side_effect=True,
        role="store",
        operation="update_address",
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
        role="subscriptions",
        operation="get_account",
        result_var="account",
    ),
    _tool(
        "skio_order_details",
        "Fetch an order from Skio.",
        OrderIdParams,
        OrderDetails,
        "skio",
        side_effect=False,
        role="store",
        operation="get_order",
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
        role="helpdesk",
        operation="account_details",
        result_var="account",
    ),
    _tool(
        "kustomer_send_async_message",
        "Send the customer a message through Kustomer.",
        MessageParams,
        MessageSent,
        "kustomer",
        side_effect=True,
        role="helpdesk",
        operation="send_message",
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
