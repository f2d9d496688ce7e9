"""What a team would write by hand without ticketflow: the cancel-order retention SOP as one
Temporal workflow in straight code, and a bare echo update (the floor of an update turn).

`BaselineCancelWorkflow` speaks the same turn contract as TicketWorkflow (update `message`
taking a CustomerMessage, returning a TurnResult) and calls the identical activities with
the identical envelopes, timeouts and retry policies: `understand_reply` (local activity)
for every customer message, `bigcommerce_order_details` once the order number is known and
the accepted offer's tool (`bigcommerce_shipping_upgrade`, `bigcommerce_set_discount`,
`bigcommerce_discount_future`) or `cancel_order`. What it does not do is ticketflow's
policy layer: routing (`route_ticket`), loading the compiled plan (`load_policy`), the
interpreter, the trace, search attributes and current details. That difference is what the
overhead benchmark measures.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.understanding import ChoiceOption, UnderstandRequest
    from workflows.interpreter import Reply
    from workflows.ticket_models import (
        CustomerMessage,
        TicketStart,
        TicketStatus,
        TurnResult,
    )

TOOL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["PlatformAuthError", "NotFound", "PlatformRejected"],
)
LOCAL_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=["ValidationError"])

MENU = (
    "I can help with these:\n1. Cancel order\nWhich one is it? Reply with a number.",
    "Could you please share the order number of the order you want to cancel?",
)
OFFERS = [
    ChoiceOption(id="discount", label="Discount"),
    ChoiceOption(id="faster_shipping", label="Faster shipping"),
    ChoiceOption(id="product_swap", label="Product swap"),
    ChoiceOption(id="coupon_for_next_time", label="Coupon for next time"),
]
OFFER_TEXT = "Before we go ahead, here are some options we can offer you:\n" + "\n".join(
    f"{i}. {o.label}" for i, o in enumerate(OFFERS, 1)
)
SORRY = "Sorry, I didn't quite get that. "
PLATFORMS = ["bigcommerce", "kustomer"]


@workflow.defn
class BaselineCancelWorkflow:
    """The retention SOP by hand: menu, order number, offers, the chosen tool, done."""

    @workflow.init
    def __init__(self, start: TicketStart) -> None:
        self._start = start
        self._inbox: deque[CustomerMessage] = deque()
        self._seen: set[str] = set()
        self._replies: dict[str, list[str]] = {}
        self._status = TicketStatus.OPEN

    @workflow.run
    async def run(self, start: TicketStart) -> str:
        message, reply = await self._next(None)
        while not re.fullmatch(r"\s*1\s*", message.text):
            self._answer(message, [MENU[0]])
            message, reply = await self._next(None)
        self._answer(message, [MENU[1]])

        message, reply = await self._next("order_number")
        while "order_number" not in reply.slots:
            self._answer(message, [SORRY + MENU[1]])
            message, reply = await self._next("order_number")
        order_id = str(reply.slots["order_number"])
        await self._tool("bigcommerce_order_details", "order", {"order_id": order_id})
        self._answer(message, [OFFER_TEXT])

        message, reply = await self._next("choice", OFFERS)
        while reply.choice is None and reply.intent not in ("decline", "insist_cancel"):
            self._answer(message, [SORRY + OFFER_TEXT])
            message, reply = await self._next("choice", OFFERS)
        if reply.choice is None:
            await self._tool("cancel_order", "cancel", {"order_id": order_id})
            outcome = "cancelled"
            replies = ["Your order has been cancelled."]
        else:
            offers: dict[str, tuple[str, dict[str, Any]]] = {
                "discount": ("bigcommerce_set_discount", {"order_id": order_id, "percent": 15}),
                "faster_shipping": ("bigcommerce_shipping_upgrade", {"order_id": order_id}),
                "coupon_for_next_time": (
                    "bigcommerce_discount_future",
                    {"email": start.customer.email, "percent": 20},
                ),
                "product_swap": (
                    "bigcommerce_product_swap",
                    {"order_id": order_id, "to_product_id": "112"},
                ),
            }
            tool, params = offers[reply.choice]
            await self._tool(tool, reply.choice, params)
            outcome = "retained"
            replies = [
                "Your order has been updated with the option you picked.",
                "Thank you for keeping your order.",
            ]
        self._status = TicketStatus.RESOLVED
        self._answer(message, replies)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def _next(
        self, expecting: str | None, options: list[ChoiceOption] | None = None
    ) -> tuple[CustomerMessage, Reply]:
        self._status = TicketStatus.WAITING_CUSTOMER
        await workflow.wait_condition(lambda: bool(self._inbox))
        message = self._inbox.popleft()
        reply: Reply = await workflow.execute_local_activity(
            "understand_reply",
            UnderstandRequest(text=message.text, expecting=expecting, options=options or []),
            result_type=Reply,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=LOCAL_RETRY,
        )
        return message, reply

    def _answer(self, message: CustomerMessage, replies: list[str]) -> None:
        self._replies[message.message_id] = replies

    async def _tool(self, tool: str, step: str, params: dict[str, Any]) -> dict[str, Any]:
        envelope = {
            "tool": tool,
            "params": params,
            "idempotency_key": f"{workflow.info().workflow_id}/baseline/{step}",
            "platform": "bigcommerce",
            "platforms": PLATFORMS,
            "helpdesk": self._start.helpdesk,
            "ticket_id": self._start.external_id,
            "conversation_id": self._start.external_id,
        }
        result: dict[str, Any] = await workflow.execute_activity(
            tool,
            envelope,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(minutes=10),
            retry_policy=TOOL_RETRY,
        )
        return result

    @workflow.update
    async def message(self, message: CustomerMessage) -> TurnResult:
        duplicate = message.message_id in self._seen
        if not duplicate:
            self._seen.add(message.message_id)
            self._inbox.append(message)
        await workflow.wait_condition(lambda: message.message_id in self._replies)
        return TurnResult(
            ticket_id=workflow.info().workflow_id,
            message_id=message.message_id,
            replies=self._replies[message.message_id],
            status=self._status,
            duplicate=duplicate,
        )


@workflow.defn
class EchoWorkflow:
    """Bare Temporal: an update that returns its argument, nothing else."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    def echo(self, text: str) -> str:
        return text

    @workflow.signal
    def finish(self) -> None:
        self._done = True


BASELINE_WORKFLOWS: list[type] = [BaselineCancelWorkflow, EchoWorkflow]
