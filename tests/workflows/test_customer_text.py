"""What a customer reads never shows policy syntax, and offers are phrased for the policy's
situation: the runtime guard over the interpreter's commands (issue 14, item 3)."""

from __future__ import annotations

from policies.customer_text import for_customer, offer_message
from workflows.interpreter import Ask, Say, Started

from .test_interpreter import Run, plan_of

OFFER = """1. Offer the customer a choice:
   - Replacement: Reship the order using #Reshipment.
   - Refund: Issue a refund using #Refund.
"""


def offer_as_sent(run: Run, situation: str) -> str:
    """As `workflows.ticket_steps` words an offer's question for the customer."""
    ask = next(c for c in run.commands if isinstance(c, Ask))
    plan = run.interpreter.plan
    node = plan.steps[0]
    options = [(o.label, o.description) for o in node.options]  # type: ignore[union-attr]
    return offer_message(ask.question, options, situation=situation)


def test_an_offer_whose_label_names_a_policy_never_shows_it() -> None:
    plan = plan_of(OFFER)
    offer = plan.steps[0]
    assert offer.kind == "offer"
    # a label as a plan stored before the compiler cleaned labels, or as edited by hand
    offer.options[0].label = "Reship using #Reshipment policy"
    offer.options[1].description = "Issue a refund using #Refund and @refund_order(order_id: str)."
    run = Run(plan)
    run.send(Started())
    text = offer_as_sent(run, f"{plan.id} {plan.title}")
    assert "#" not in text and "@" not in text, text
    assert text.splitlines()[1:3] == ["1. Reship: Reship your order.", "2. Refund: Issue a refund."]


def test_offer_prompts_mention_cancelling_only_in_cancellation_policies() -> None:
    run = Run(plan_of(OFFER))
    run.send(Started())
    lost = offer_as_sent(run, "shipment_not_received Shipment not received")
    assert "still like to cancel" not in lost
    assert lost.endswith("Reply with a number, or tell me if none of these works for you.")
    cancel = offer_as_sent(run, "cancel_order_retention Cancel order (retention)")
    assert cancel.endswith("Reply with a number, or tell me if you'd still like to cancel.")


def test_a_message_with_leftover_syntax_is_rewritten_before_it_is_sent() -> None:
    plan = plan_of(
        '1. Use macro: "Thanks! Your order $order_id is on its way."\n',
        extra="inputs: [order_id]\n",
    )
    plan.steps[0].text += " We used #Reshipment via @create_replacement_order."  # type: ignore[union-attr]
    run = Run(plan)
    run.send(Started())
    said = next(c.text for c in run.commands if isinstance(c, Say))
    assert "$order_id" in said  # the interpreter keeps unknown placeholders visible …
    assert for_customer(said) == "Thanks! Your order is on its way. We used reshipment."
    # … and plain text, order numbers, prices and emails pass unchanged
    plain = "Order #5001 ($25.00) goes to alex@example.com.\n1. Refund"
    assert for_customer(plain) == plain
