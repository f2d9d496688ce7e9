"""The carrier role: tracking and claims for an order, with the order read from its store.

A policy speaks of orders (`@get_tracking_info(order_id)`), the carrier of tracking codes;
this joins the two: the store that holds the order gives its tracking code and carrier,
EasyPost tracks it and takes the claim.
"""

from __future__ import annotations

from activities.platforms.base import PlatformRejected
from activities.platforms.easypost import EasyPostConnector
from activities.platforms.roles import Store
from policies.tool_models import CarrierClaim, OrderDetails, TrackingInfo


class StoreCarrier:
    """The carrier operations for orders of one store."""

    def __init__(self, store: Store | None, easypost: EasyPostConnector) -> None:
        self.store = store
        self.easypost = easypost
        self.platform = easypost.platform

    async def _shipment(self, order_id: str) -> OrderDetails:
        if self.store is None:
            raise PlatformRejected(
                f"no store platform to find order {order_id} on", platform="ticketflow"
            )
        order = await self.store.get_order(order_id)
        if not order.tracking_number:
            raise PlatformRejected(
                f"order {order_id} has no tracking number", platform=self.store.platform
            )
        return order

    async def track_order(self, order_id: str, tracking_number: str | None) -> TrackingInfo:
        code, carrier = tracking_number, None
        if not code:
            order = await self._shipment(order_id)
            code, carrier = order.tracking_number, order.carrier
        return await self.easypost.track(code or "", carrier)

    async def file_claim_for_order(self, order_id: str, idempotency_key: str) -> CarrierClaim:
        order = await self._shipment(order_id)
        tracking = await self.easypost.track(order.tracking_number or "", order.carrier)
        what = "marked delivered but not received" if tracking.delivered else "lost in transit"
        claim = await self.easypost.file_claim(
            tracking_code=tracking.tracking_number,
            amount=order.total,
            claim_type="theft" if tracking.delivered else "loss",
            description=f"Order {order.id}: {what}",
            contact_email=order.email,
            idempotency_key=idempotency_key,
            recipient_name=order.shipping_address.name if order.shipping_address else None,
        )
        return CarrierClaim(
            claim_id=claim.id, order_id=order.id, carrier=tracking.carrier, status=claim.status
        )
