"""The plan interpreter on its own: pure, deterministic, every node kind and event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policies.compiler import compile_policy
from policies.library import load_library
from policies.plan import Plan
from workflows.interpreter import (
    Ask,
    CallTool,
    ClaimResolved,
    Command,
    End,
    Escalate,
    HandOver,
    Interpreter,
    InterpreterState,
    Reply,
    Say,
    Started,
    ToolFailed,
    ToolSucceeded,
    render,
    start_state,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def plan_of(logic: str, *, platforms: str = "[bigcommerce, kustomer]", extra: str = "") -> Plan:
    source = f"---\nid: sample\ntitle: Sample\nplatforms: {platforms}\n{extra}---\n## Logic\n\n"
    result = compile_policy(source + logic, path="sample.md", library=load_library())
    assert result.plan is not None and not result.errors, [d.message for d in result.errors]
    return result.plan


class Run:
    """Drive one plan like the workflow does, recording every command."""

    def __init__(self, plan: Plan, context: dict[str, Any] | None = None) -> None:
        self.interpreter = Interpreter(plan)
        self.state: InterpreterState = start_state(plan, context)
        self.commands: list[Command] = []

    def send(self, event: Any) -> list[Command]:
        old = self.state
        before = old.model_dump_json()
        self.state, commands = self.interpreter.advance(old, event, NOW)
        # Pure: the state passed in is never mutated; a new one comes back.
        assert old.model_dump_json() == before
        self.commands += commands
        return commands

    def said(self) -> list[str]:
        return [c.text for c in self.commands if isinstance(c, Say)]


def test_say_renders_context_and_keeps_unknown_placeholders_visible() -> None:
    assert render("Hi $customer.name, order [order number]", {"customer": {"name": "Alex"}}) == (
        "Hi Alex, order [order number]"
    )
    assert render("Order $order_id", {"order_id": "5001"}) == "Order 5001"
    # Dates read as dates, whatever shape the platform returned them in.
    ctx = {"next": "2026-12-22T08:00:00Z", "total": 80.0}
    assert render("Next box on $next, total $$total", ctx) == (
        "Next box on December 22, 2026, total $80"
    )


def test_ask_waits_then_binds_the_slot_and_continues() -> None:
    run = Run(plan_of('1. Ask for the order number.\n2. Say "Thanks, looking at $order_id."\n'))
    (ask,) = run.send(Started())
    assert isinstance(ask, Ask) and ask.slot == "order_number"
    assert run.state.waiting is not None and run.state.waiting.kind == "reply"
    commands = run.send(Reply(text="it's 5001", slots={"order_number": "5001"}))
    assert [c.text for c in commands if isinstance(c, Say)] == ["Thanks, looking at 5001."]
    assert isinstance(commands[-1], End)
    assert run.state.context["order_id"] == "5001"


def test_known_slot_is_not_asked_again() -> None:
    run = Run(plan_of("1. Ask for the order number.\n2. Say “Got it.”\n"), {"order_id": "5001"})
    commands = run.send(Started())
    assert not any(isinstance(c, Ask) for c in commands)
    assert run.state.trace[0].status == "skipped"


def test_two_replies_that_do_not_answer_escalate_with_a_note() -> None:
    run = Run(plan_of("1. Ask for the customer's email address.\n"))
    run.send(Started())
    (retry,) = run.send(Reply(text="what?"))
    assert isinstance(retry, Ask) and retry.question.startswith("Sorry, I didn't quite get that.")
    commands = run.send(Reply(text="still no idea"))
    escalate = commands[-1]
    assert isinstance(escalate, Escalate)
    assert escalate.reason == "reply not understood"
    assert "after 2 attempts" in escalate.note
    assert run.state.finished and run.state.outcome == "escalated"


def test_call_waits_for_its_result_and_binds_it() -> None:
    plan = plan_of(
        "1. Use @bigcommerce_order_details(order_id: str) to load the order.\n",
        extra="inputs: [order_id]\n",
    )
    run = Run(plan, {"order_id": "5001"})
    (call,) = run.send(Started())
    assert isinstance(call, CallTool)
    assert (call.tool, call.platform, call.args) == (
        "bigcommerce_order_details",
        "bigcommerce",
        {"order_id": "5001"},
    )
    # A result for another node is not this wait's answer.
    assert run.send(ToolSucceeded(node="99", result={})) == []
    run.send(ToolSucceeded(node=call.node, result={"status": "Shipped"}))
    assert run.state.context["order"] == {"status": "Shipped"}
    assert run.state.finished


def test_platform_rejection_tells_the_customer_and_escalates_never_crashes() -> None:
    plan = plan_of(
        "1. Use @cancel_order(order_id: str) to cancel it.\n", extra="inputs: [order_id]\n"
    )
    run = Run(plan, {"order_id": "1"})
    (call,) = run.send(Started())
    commands = run.send(
        ToolFailed(node=call.node, error_type="PlatformRejected", message="already shipped")
    )
    assert isinstance(commands[0], Say) and "couldn't complete" in commands[0].text
    assert isinstance(commands[1], Escalate)
    assert "PlatformRejected" in commands[1].note and "already shipped" in commands[1].note
    assert run.state.trace[-2].status == "failed"


def test_explicit_condition_branches_on_context() -> None:
    logic = '1. If $order.status == "Shipped":\n   - Say “Too late to cancel.”\n2. Say “Done.”\n'
    plan = plan_of(logic, extra="inputs: [order]\n")
    shipped = Run(plan, {"order": {"status": "shipped"}})
    shipped.send(Started())
    assert shipped.said() == ["Too late to cancel.", "Done."]
    pending = Run(plan, {"order": {"status": "Awaiting Fulfillment"}})
    pending.send(Started())
    assert pending.said() == ["Done."]


def test_missing_context_makes_a_condition_false_not_an_error() -> None:
    logic = '1. If $order.status == "Shipped":\n   - Say “No.”\n2. Say “Yes.”\n'
    run = Run(plan_of(logic, extra="inputs: [order]\n"))  # declared, never provided
    run.send(Started())
    assert run.said() == ["Yes."]


@pytest.fixture(scope="module")
def retention() -> Plan:
    return load_library().get("cancel_order_retention_bigcommerce_kustomer")


def _to_offer(retention: Plan) -> Run:
    run = Run(retention, {"order_id": "5001", "customer": {"email": "alex@example.com"}})
    (call,) = run.send(Started())
    (offer,) = run.send(ToolSucceeded(node=call.node, result={"id": "5001"}))
    assert isinstance(offer, Ask) and offer.slot == "choice"
    assert offer.options == ["Discount", "Faster shipping", "Product swap", "Coupon for next time"]
    return run


def test_offer_accepted_runs_the_chosen_option_then_the_accept_branch(retention: Plan) -> None:
    run = _to_offer(retention)
    (discount,) = run.send(Reply(text="the discount", choice="discount"))
    assert isinstance(discount, CallTool) and discount.tool == "bigcommerce_set_discount"
    assert discount.args == {"order_id": "5001", "percent": 15}
    assert discount.side_effect
    (message,) = run.send(ToolSucceeded(node=discount.node, result={"percent": 15}))
    assert isinstance(message, CallTool) and message.tool == "kustomer_send_async_message"
    commands = run.send(ToolSucceeded(node=message.node, result={}))
    assert [c.text for c in commands if isinstance(c, Say)] == ["Thank you for keeping your order."]
    assert isinstance(commands[-1], End) and commands[-1].outcome == "retained"
    assert run.state.context["offer"] == {"accepted": True, "choice": "discount"}


def test_offer_declined_hands_over_to_single_order_cancellation(retention: Plan) -> None:
    run = _to_offer(retention)
    (handover,) = run.send(Reply(text="no thanks", intent="decline"))
    assert isinstance(handover, HandOver) and handover.policy_id == "single_order_cancellation"
    assert run.state.waiting is not None and run.state.waiting.kind == "hand_over"
    assert run.state.context["offer"] == {"accepted": False, "choice": None}


def test_unclear_answer_to_an_offer_asks_again_with_the_options(retention: Plan) -> None:
    run = _to_offer(retention)
    (again,) = run.send(Reply(text="hmm"))
    assert isinstance(again, Ask) and again.options[0] == "Discount"


def test_asking_for_a_person_escalates_at_any_wait(retention: Plan) -> None:
    run = _to_offer(retention)
    (escalate,) = run.send(Reply(text="let me talk to a human", intent="human"))
    assert isinstance(escalate, Escalate) and escalate.reason == "customer asked for a person"


CLAIM_LOGIC = """\
1. Use @file_carrier_claim(order_id: str) to open a claim with the carrier.
2. Let the customer know that we will follow up as soon as the carrier resolves the claim.
   - If the claim is approved: Proceed with #Reshipment.
   - If the claim is rejected: Route the case to an agent to decide on a goodwill gesture.
"""


@pytest.mark.parametrize(("approved", "expected"), [(True, HandOver), (False, Escalate)])
def test_claim_follow_up_waits_then_continues_on_the_verdict(
    approved: bool, expected: type
) -> None:
    run = Run(plan_of(CLAIM_LOGIC, platforms="[skio, kustomer]", extra="inputs: [order_id]\n"))
    run.state.context["order_id"] = "9001"
    (file_claim,) = run.send(Started())
    assert isinstance(file_claim, CallTool) and file_claim.tool == "file_carrier_claim"
    commands = run.send(ToolSucceeded(node=file_claim.node, result={"id": "clm_1"}))
    assert [c.kind for c in commands] == ["say", "follow_up_claim"]
    assert run.state.waiting is not None and run.state.waiting.kind == "claim"
    # A customer reply is not the claim's verdict.
    assert run.send(Reply(text="any news?")) == []
    verdict = ClaimResolved(node=commands[1].node, approved=approved, claim={"status": "x"})
    commands = run.send(verdict)
    assert isinstance(commands[-1], expected)
    assert run.state.outcome_hint == ("claim_approved" if approved else "claim_rejected")


def test_the_same_events_give_the_same_commands(retention: Plan) -> None:
    """Determinism: replaying a conversation reproduces it exactly."""
    first, second = _to_offer(retention), _to_offer(retention)
    a = first.send(Reply(text="2", choice="faster_shipping"))
    b = second.send(Reply(text="2", choice="faster_shipping"))
    assert a == b and first.state == second.state


def test_a_reply_fitting_two_offers_gets_one_clarifying_question_then_escalates(
    retention: Plan,
) -> None:
    run = _to_offer(retention)
    (clarify,) = run.send(
        Reply(text="money off", unsure_between=["discount", "coupon_for_next_time"])
    )
    assert isinstance(clarify, Ask)
    assert clarify.question == "Just to be sure: did you mean Discount or Coupon for next time?"
    assert clarify.options[0] == "Discount"
    # Still unclear: the existing two strikes hand it to a person.
    commands = run.send(Reply(text="either I guess"))
    assert isinstance(commands[-1], Escalate) and commands[-1].reason == "reply not understood"


def test_a_choice_answered_in_an_earlier_message_is_not_asked() -> None:
    plan = plan_of(
        "1. Ask the customer what went wrong: → $issue\n"
        "   - Lost in transit\n   - Damaged on arrival\n"
        '2. Say "Noted: $issue."\n'
    )
    run = Run(plan, {"issue": "Damaged on arrival"})
    run.state.answered.append("issue")
    commands = run.send(Started())
    assert not any(isinstance(c, Ask) for c in commands)
    assert run.said() == ["Noted: Damaged on arrival."]
    # Without the mark (an older ticket), a bound choice is asked as before.
    again = Run(plan, {"issue": "Damaged on arrival"})
    assert isinstance(again.send(Started())[0], Ask)
