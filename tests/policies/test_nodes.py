"""Each step shape compiles to the node kind a CX manager expects, with its source line."""

from __future__ import annotations

import json

from policies.conditions import Compare, Vocab
from policies.plan import (
    AskNode,
    BranchNode,
    CallNode,
    EndNode,
    EscalateNode,
    FollowUpClaimNode,
    NoteNode,
    OfferNode,
    Plan,
    SayNode,
    UsePolicyNode,
)

from .conftest import compile_body


def steps(body: str, **kw: str) -> list:
    result = compile_body(body, **kw)
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    assert not result.diagnostics, [d.render() for d in result.diagnostics]
    return result.plan.steps


def test_say_from_a_macro_keeps_the_exact_words_and_placeholders() -> None:
    (say, _end) = steps(
        "1. Notify the customer using macro “Sorry about [reason], $customer.name.”"
    )
    assert isinstance(say, SayNode) and say.macro and say.line == 6
    assert say.text == "Sorry about [reason], $customer.name."


def test_say_without_words_gets_a_polite_default_in_the_customers_voice() -> None:
    (say, _end) = steps("1. Inform the customer that their refund has been issued.")
    assert isinstance(say, SayNode) and say.generated
    assert say.text == "Your refund has been issued."
    (thanks, _end) = steps("1. Thank the customer for their patience and reiterate the offer.")
    assert isinstance(thanks, SayNode) and thanks.text == "Thank you for your patience."


def test_ask_slots() -> None:
    body = (
        "1. Ask for the customer's email address.\n"
        "2. Request the order number of the parcel.\n"
        "3. Ask the customer if they still want the order.\n"
        "4. Ask the customer why they want to cancel.\n"
        "5. Ask which size fits:\n   - Small\n   - Medium\n   - Large\n"
        "6. Ask the customer to provide a new address.\n"
    )
    asks = [n for n in steps(body) if isinstance(n, AskNode)]
    assert [(a.slot, a.var) for a in asks] == [
        ("email", "email"),
        ("order_number", "order_id"),
        ("yes_no", "reply_3"),
        ("free_text", "reply_4"),
        ("choice", "choice"),
        ("address", "new_address"),
    ]
    assert (
        asks[0].skip_if_known and asks[0].question == "Could you please share your email address?"
    )
    assert asks[2].question == "Could you let us know if you still want the order?"
    assert asks[4].options == ["Small", "Medium", "Large"]


def test_call_binds_arguments_from_context_and_text() -> None:
    body = (
        "1. Ask for the order number.\n"
        "2. Use @bigcommerce_order_details(order_id: str) to load it.\n"
        "3. Use @bigcommerce_set_discount(order_id: $order.id, percent: int) for 15% off.\n"
    )
    _ask, load, discount, _end = steps(body)
    assert isinstance(load, CallNode) and load.platform == "bigcommerce" and load.result == "order"
    assert str(load.args["order_id"]) == "$order_id" and not load.side_effect
    assert isinstance(discount, CallNode) and discount.side_effect
    assert str(discount.args["order_id"]) == "$order.id" and str(discount.args["percent"]) == "15"


def test_branch_with_vocabulary_and_explicit_condition() -> None:
    body = (
        "1. Ask for the order number.\n"
        "2. Use @get_order_details(order_id: str) to load it.\n"
        "3. If the user declines:\n   - Route the case to an agent.\n"
        '4. If $order.status == "shipped": inform the customer that it is already on its way.\n'
    )
    _a, _c, declines, shipped, _end = steps(body)
    assert isinstance(declines, BranchNode) and isinstance(declines.condition, Vocab)
    assert declines.condition.intent == "decline"
    assert isinstance(declines.then[0], EscalateNode) and declines.then[0].line == 9
    assert isinstance(shipped, BranchNode) and isinstance(shipped.condition, Compare)
    assert isinstance(shipped.then[0], SayNode)


def test_offer_options_each_with_their_steps() -> None:
    body = (
        "1. Ask for the order number.\n"
        "2. Offer retention options:\n"
        "   - Discount: Use @set_discount_to_order(order_id: str, percent: 10) for 10% off.\n"
        "   - Free shipping: Use @upgrade_shipping(order_id: str) to upgrade shipping.\n"
    )
    _ask, offer, _end = steps(body)
    assert isinstance(offer, OfferNode)
    assert [o.label for o in offer.options] == ["Discount", "Free shipping"]
    assert [o.steps[0].tool for o in offer.options] == ["set_discount_to_order", "upgrade_shipping"]


def test_use_policy_follow_up_claim_escalate_note_and_end() -> None:
    body = (
        "1. Ask for the order number.\n"
        "2. Use @file_carrier_claim(order_id: str) to open a claim.\n"
        "3. Notify the customer that we will follow up once the claim is resolved.\n"
        "4. Kustomer will also tag the conversation.\n"
        "5. If the customer declines, proceed with #Refund Policy.\n"
        "6. Escalate to an agent if the customer has further concerns.\n"
        "7. Close the ticket as claim_filed.\n"
    )
    _ask, call, follow, note, refund, escalate, end = steps(body)
    assert isinstance(call, CallNode) and call.platform == "easypost"
    assert isinstance(follow, FollowUpClaimNode) and follow.claim == "claim"
    assert isinstance(follow.on_rejected[0], EscalateNode)
    assert isinstance(note, NoteNode) and note.recognised
    assert isinstance(refund, BranchNode) and isinstance(refund.then[0], UsePolicyNode)
    assert refund.then[0].policy_id == "refund"
    assert isinstance(escalate, BranchNode) and isinstance(escalate.then[0], EscalateNode)
    assert isinstance(end, EndNode) and end.outcome == "claim_filed" and not end.implicit


def test_plan_json_round_trips_and_is_stable() -> None:
    result = compile_body("1. Ask for the order number.\n2. If the user accepts: thank them.\n")
    assert result.plan is not None
    text = result.plan.to_json()
    again = Plan.model_validate_json(text)
    assert again == result.plan and again.to_json() == text
    kinds = [n["kind"] for n in json.loads(text)["steps"]]
    assert kinds == ["ask", "branch", "end"]


def test_version_changes_with_the_source() -> None:
    a = compile_body("1. Ask for the order number.\n").plan
    b = compile_body("1. Ask for the order number please.\n").plan
    assert a and b and a.version != b.version and len(a.version) == 12
