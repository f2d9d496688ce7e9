"""The four roles a platform can fill, as the tool registry calls them.

A tool in `policies.catalog` names its role and an `operation`: the connector method that
implements it, called with the tool's parameters as keyword arguments (plus
`idempotency_key` when the tool changes data, and `ticket_id` for a helpdesk write). Each role's
`Protocol` lists the operations every platform of that role has; an operation a platform
lacks (Shopify has no order discount) is looked up by name and refused by name.

The mixins below are the operations one role's platforms share, written once over the
connector's own methods: reshipment eligibility from an order, the subscription the ticket
is about, a public reply versus an internal note.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from activities.platforms.base import PlatformRejected
from policies.tool_models import (
    AccountDetails,
    CarrierClaim,
    HandoffDone,
    MessageSent,
    OrderDetails,
    ReshipmentEligibility,
    Subscription,
    SubscriptionChanged,
    SubscriptionList,
    TrackingInfo,
)

# A damaged or lost delivery can be reshipped within this many days of delivery.
RESHIPMENT_WINDOW = timedelta(days=30)

#: The tag a hand-off leaves on the helpdesk ticket, so agents can find the bot's tickets.
HANDOFF_TAG = "ticketflow_handoff"


@runtime_checkable
class Store(Protocol):
    platform: str

    async def get_order(self, order_id: str) -> OrderDetails: ...

    async def check_reshipment(self, order_id: str) -> ReshipmentEligibility: ...


class Subscriptions(Protocol):
    platform: str

    async def list_subscriptions(self, email: str) -> list[Subscription]: ...

    async def skip_next(self, subscription_id: str, idempotency_key: str) -> Subscription: ...

    async def swap(
        self, subscription_id: str, new_variant_id: str, idempotency_key: str
    ) -> Subscription: ...

    async def reactivate(self, subscription_id: str, idempotency_key: str) -> Subscription: ...

    async def cancel(self, subscription_id: str, idempotency_key: str) -> Subscription: ...


class Helpdesk(Protocol):
    platform: str

    async def comment(
        self, ticket_id: str, body: str, *, public: bool, idempotency_key: str
    ) -> MessageSent: ...

    async def hand_off(
        self, ticket_id: str, reason: str, note: str | None, idempotency_key: str
    ) -> HandoffDone: ...

    async def account_details(self, email: str) -> AccountDetails: ...


class Carrier(Protocol):
    async def track_order(self, order_id: str, tracking_number: str | None) -> TrackingInfo: ...

    async def file_claim_for_order(self, order_id: str, idempotency_key: str) -> CarrierClaim: ...


class StoreOperations:
    """What every store answers from its orders alone."""

    async def check_reshipment(self: Store, order_id: str) -> ReshipmentEligibility:
        order = await self.get_order(order_id)
        if order.status in ("cancelled", "refunded"):
            return ReshipmentEligibility(
                order_id=order.id, eligible=False, reason=f"the order was {order.status}"
            )
        if order.status not in ("shipped", "delivered"):
            return ReshipmentEligibility(
                order_id=order.id, eligible=False, reason="the order has not shipped yet"
            )
        sent = order.delivered_at or order.created_at
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        if datetime.now(UTC) - sent > RESHIPMENT_WINDOW:
            return ReshipmentEligibility(
                order_id=order.id,
                eligible=False,
                reason=f"it was delivered more than {RESHIPMENT_WINDOW.days} days ago",
            )
        return ReshipmentEligibility(order_id=order.id, eligible=True)


class SubscriptionOperations:
    """The subscription tools, over each subscription platform's own verbs."""

    async def subscriptions_of(self: Subscriptions, email: str) -> SubscriptionList:
        subscriptions = await self.list_subscriptions(email)
        # The one the ticket is about: an active one, else the first.
        active = [s for s in subscriptions if s.status == "active"]
        primary = next(iter(active or subscriptions), None)
        return SubscriptionList(subscriptions=subscriptions, primary=primary)

    async def skip_next_shipment(
        self: Subscriptions, subscription_id: str, idempotency_key: str
    ) -> SubscriptionChanged:
        return SubscriptionChanged(
            subscription=await self.skip_next(subscription_id, idempotency_key)
        )

    async def swap_subscription_product(
        self: Subscriptions, subscription_id: str, new_product_id: str, idempotency_key: str
    ) -> SubscriptionChanged:
        changed = await self.swap(subscription_id, new_product_id, idempotency_key)
        return SubscriptionChanged(subscription=changed)

    async def reactivate_subscription(
        self: Subscriptions, subscription_id: str, idempotency_key: str
    ) -> SubscriptionChanged:
        changed = await self.reactivate(subscription_id, idempotency_key)
        return SubscriptionChanged(subscription=changed)

    async def cancel_subscription(
        self: Subscriptions, subscription_id: str, idempotency_key: str
    ) -> SubscriptionChanged:
        return SubscriptionChanged(subscription=await self.cancel(subscription_id, idempotency_key))


class HelpdeskOperations:
    """A public reply and an internal note: the same comment, seen by the customer or not.
    A comment happens at most once per idempotency key (each helpdesk looks before it
    writes)."""

    async def send_message(
        self: Helpdesk, ticket_id: str, message: str, idempotency_key: str
    ) -> MessageSent:
        if not message.strip():
            raise PlatformRejected("empty message", platform=self.platform)
        return await self.comment(ticket_id, message, public=True, idempotency_key=idempotency_key)

    async def internal_note(
        self: Helpdesk, ticket_id: str, body: str, idempotency_key: str
    ) -> MessageSent:
        if not body.strip():
            raise PlatformRejected("empty note", platform=self.platform)
        return await self.comment(ticket_id, body, public=False, idempotency_key=idempotency_key)


def handoff_note(reason: str, note: str | None) -> str:
    """What the agent reads first on a ticket handed over to them."""
    text = f"Handed over by ticketflow: {reason}"
    return f"{text}\n\n{note}" if note else text
