"""Whole conversations on the dev server: the policy, the real worker, the sandbox platforms."""

from __future__ import annotations

import uuid

import httpx
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    AgentAction,
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TurnResult,
    ticket_workflow_id,
)


class Conversation:
    """One web-channel ticket, spoken to turn by turn with update-with-start."""

    def __init__(self, client: Client, settings: Settings, customer: Customer) -> None:
        self.client = client
        self.settings = settings
        external_id = uuid.uuid4().hex[:10]
        self.start = TicketStart(helpdesk="web", external_id=external_id, customer=customer)
        self.ticket_id = ticket_workflow_id("web", external_id)
        self.turns = 0

    async def say(self, text: str) -> TurnResult:
        self.turns += 1
        operation = WithStartWorkflowOperation(
            TicketWorkflow.run,
            self.start,
            id=self.ticket_id,
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        result: TurnResult = await self.client.execute_update_with_start_workflow(
            TicketWorkflow.message,
            CustomerMessage(message_id=f"m{self.turns}", text=text),
            start_workflow_operation=operation,
        )
        return result

    @property
    def handle(self):  # type: ignore[no-untyped-def]
        return self.client.get_workflow_handle(self.ticket_id)


def _order(sandbox_url: str, order_id: int) -> dict:
    response = httpx.get(
        f"{sandbox_url}/bigcommerce/stores/sandboxstore/v2/orders/{order_id}",
        headers={"X-Auth-Token": "sandbox-bigcommerce-token", "Accept": "application/json"},
    )
    response.raise_for_status()
    return dict(response.json())


def _order_updates(sandbox: SandboxControl, field: str) -> list[dict]:
    return [e for e in sandbox.side_effects("bigcommerce", "order.update") if field in e["request"]]


ALEX = Customer(email="alex@example.com", name="Alex")


async def test_alex_keeps_order_5001_with_the_15_percent_discount(
    dev_client: Client,
    dev_settings: Settings,
    dev_worker: Worker,
    sandbox: SandboxControl,
    sandbox_url: str,
) -> None:
    chat = Conversation(dev_client, dev_settings, ALEX)
    offers = await chat.say("I want to cancel order 5001")
    assert "1. Discount: Take 15% off this order." in offers.replies[0]
    done = await chat.say("I'll take the discount")
    assert done.replies == [
        "Your order has been updated with the option you picked.",
        "Thank you for keeping your order.",
    ]
    assert done.status == TicketStatus.RESOLVED
    state = await chat.handle.query(TicketWorkflow.state)
    assert state.outcome == "retained"

    discounts = _order_updates(sandbox, "discount_amount")
    assert len(discounts) == 1
    assert discounts[0]["request"]["discount_amount"] == "12.0000"  # 15% of $80, as a string
    assert _order_updates(sandbox, "status_id") == []
    assert _order(sandbox_url, 5001)["status_id"] != 5


async def test_alex_declines_every_offer_and_order_5001_is_cancelled(
    dev_client: Client,
    dev_settings: Settings,
    dev_worker: Worker,
    sandbox: SandboxControl,
    sandbox_url: str,
) -> None:
    chat = Conversation(dev_client, dev_settings, ALEX)
    await chat.say("I want to cancel order 5001")
    done = await chat.say("No thanks, just cancel it")
    assert done.replies == [
        "Your order has been cancelled and the payment will be returned to the original card "
        "within 5–10 business days."
    ]
    state = await chat.handle.query(TicketWorkflow.state)
    assert (state.policy_id, state.outcome) == ("single_order_cancellation", "cancelled")
    assert _order(sandbox_url, 5001)["status_id"] == 5
    assert len(_order_updates(sandbox, "status_id")) == 1
    assert _order_updates(sandbox, "discount_amount") == []


async def test_shipped_order_cannot_be_cancelled_and_goes_to_an_agent(
    dev_client: Client,
    dev_settings: Settings,
    dev_worker: Worker,
    sandbox: SandboxControl,
    sandbox_url: str,
) -> None:
    chat = Conversation(dev_client, dev_settings, Customer(email="blair@example.com"))
    await chat.say("Please cancel order 5002")
    turn = await chat.say("no, cancel it")
    assert any("can no longer be cancelled" in r for r in turn.replies)
    assert turn.status == TicketStatus.ESCALATED
    assert _order(sandbox_url, 5002)["status_id"] == 2  # still shipped
    transcript = await chat.handle.query(TicketWorkflow.transcript)
    handover = [e.text for e in transcript if e.role == "system"]
    assert handover and "Handed over by ticketflow" in handover[0]


async def test_asking_for_a_person_escalates_and_release_hands_back_to_the_bot(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = Conversation(dev_client, dev_settings, ALEX)
    await chat.say("I want to cancel my order")  # asks for the order number
    turn = await chat.say("can I talk to a human please")
    assert turn.status == TicketStatus.ESCALATED
    await chat.handle.signal(
        TicketWorkflow.agent_action, AgentAction(action="takeover", agent="kim")
    )
    silent = await chat.say("hello?")
    assert silent.replies == []  # the agent holds the ticket: the bot says nothing

    await chat.handle.signal(TicketWorkflow.agent_action, AgentAction(action="release"))
    # Back with the bot, the policy resumes where it waited: for the order number.
    back = await chat.say("it's 5001")
    assert back.replies[0].startswith("Before we go ahead, here are some options")
    state = await chat.handle.query(TicketWorkflow.state)
    assert state.status == TicketStatus.WAITING_CUSTOMER
    assert state.slots == {"order_id": "5001"}


async def test_unclear_request_gets_a_menu_then_escalates(
    dev_client: Client, dev_settings: Settings, dev_worker: Worker, sandbox: SandboxControl
) -> None:
    chat = Conversation(dev_client, dev_settings, Customer())
    menu = await chat.say("hello there")
    assert "I can help with these" in menu.replies[0]
    assert "Reply with a number" in menu.replies[0]
    again = await chat.say("the weather is nice")
    assert again.status == TicketStatus.ESCALATED
    state = await chat.handle.query(TicketWorkflow.state)
    assert state.waiting_for == "agent"
