"""Conditions as CX teams write them when they paste an SOP: status lists, the customer's
answer in their words, choices among the options just put to the customer, order state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policies.conditions import AnyOf, Compare, Not, describe, match_vocabulary
from policies.plan import BranchNode

from .conftest import compile_body


def _branches(body: str, **kw: str) -> list[BranchNode]:
    result = compile_body(body, **kw)
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    return [n for n in result.plan.steps if isinstance(n, BranchNode)]


@pytest.mark.parametrize(
    ("phrase", "statuses"),
    [
        ("the order status is Shipped or Delivered", ["shipped", "delivered"]),
        (
            "the status is “Pending”, “Processing” or “Shipped”",
            ["pending", "processing", "shipped"],
        ),
        (
            "the order status is cancelled, refunded, or disputed",
            ["cancelled", "refunded", "disputed"],
        ),
        ("the status is 'processing' or 'pending'", ["processing", "pending"]),
        ("the order is shipped or delivered", ["shipped", "delivered"]),
    ],
)
def test_a_status_list_is_any_of_its_statuses(phrase: str, statuses: list[str]) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.name == "order_status_is"
    assert isinstance(vocab.expansion, AnyOf)
    assert describe(vocab.expansion) == " or ".join(f"($order.status == '{s}')" for s in statuses)


def test_one_status_stays_one_comparison() -> None:
    vocab = match_vocabulary("the order status is In Transit")
    assert vocab is not None and isinstance(vocab.expansion, Compare)
    assert describe(vocab.expansion) == "$order.status == 'in_transit'"


def test_a_negated_status_is_not_that_status() -> None:
    vocab = match_vocabulary("the order status is not Delivered or Shipped")
    assert vocab is not None and isinstance(vocab.expansion, Not)
    assert describe(vocab.expansion) == (
        "not (($order.status == 'delivered') or ($order.status == 'shipped'))"
    )


@pytest.mark.parametrize(
    ("phrase", "shipped"),
    [
        ("the order has already shipped", True),
        ("the parcel has shipped", True),
        ("the order was already shipped", True),
        ("it has already been shipped", True),
        ("the order has not shipped yet", False),
        ("the order hasn't shipped", False),
        ("the package has not been shipped yet", False),
        ("the order is not yet shipped", False),
    ],
)
def test_shipped_or_not_is_a_status_check(phrase: str, shipped: bool) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.expansion is not None, phrase
    has_shipped = "($order.status == 'shipped') or ($order.status == 'delivered')"
    assert describe(vocab.expansion) == (has_shipped if shipped else f"not ({has_shipped})")


@pytest.mark.parametrize(("status", "expected"), [("delivered", True), ("processing", False)])
def test_the_interpreter_reads_a_status_list_against_the_order(status: str, expected: bool) -> None:
    from workflows.interpreter import InterpreterState, evaluate

    vocab = match_vocabulary("the order status is Shipped or Delivered")
    assert vocab is not None
    state = InterpreterState(policy_id="p", plan_version="v", context={"order": {"status": status}})
    assert evaluate(vocab, state) is expected


# --- the customer's answer, in the words CX teams use ------------------------------


@pytest.mark.parametrize("subject", ["they", "the customer", "customer", "the user", "he", "she"])
@pytest.mark.parametrize(
    ("verb", "answer", "intent"),
    [
        ("say", "yes", "yes"),
        ("says", "no", "no"),
        ("said", "yes", "yes"),
        ("answers", "no", "no"),
        ("replies", "yes", "yes"),
        ("reply", "“yes”", "yes"),
        ("respond with", "no", "no"),
    ],
)
def test_a_plain_yes_or_no_in_any_subject_and_verb(
    subject: str, verb: str, answer: str, intent: str
) -> None:
    vocab = match_vocabulary(f"{subject} {verb} {answer}")
    assert vocab is not None and vocab.intent == intent


@pytest.mark.parametrize(
    ("phrase", "intent"),
    [
        ("they agree", "accept"),
        ("the customer agrees to it", "accept"),
        ("the user confirms", "yes"),
        ("they confirmed", "yes"),
        ("the customer says they have", "yes"),
        ("she says she did", "yes"),
        ("they say they haven't", "no"),
        ("the customer says he does not", "no"),
        ("they still want to pause", "decline"),
        ("the user still wants to return it", "decline"),
        ("they still want to cancel", "insist_cancel"),
    ],
)
def test_agreeing_confirming_and_answering_about_themselves(phrase: str, intent: str) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.intent == intent, (phrase, vocab)


# --- which option the customer took, named the way CX teams name it ----------------

_ASK_TWO = "1. Ask whether they would like a store credit or a refund.\n"


def test_asking_which_of_two_things_they_would_like_is_a_choice() -> None:
    result = compile_body(
        "1. Ask whether they'd like a replacement or a refund.\n"
        "2. Ask the customer if they would prefer a gift card, a refund or an exchange.\n"
        "3. Ask why they'd like to cancel (too pricey / not needed / other).\n"
        "4. Ask whether they would like a refund or not.\n"
    )
    assert result.plan is not None
    asks = [n for n in result.plan.steps if n.kind == "ask"]
    assert [(a.slot, a.options) for a in asks] == [
        ("choice", ["A replacement", "A refund"]),
        ("choice", ["A gift card", "A refund", "An exchange"]),
        ("choice", ["Too pricey", "Not needed", "Other"]),
        ("yes_no", []),
    ]
    assert asks[2].var == "reason"


@pytest.mark.parametrize(
    ("condition", "option"),
    [
        ("the customer prefers a refund", "A refund"),
        ("they want store credit", "A store credit"),
        ("the user picks the refund", "A refund"),
        ("customer selects store credit", "A store credit"),
        ("she opts for a refund", "A refund"),
        ("they go with the credit", "A store credit"),
        ("they'd rather have store credit", "A store credit"),
        ("the customer would rather get a refund", "A refund"),
        ("he asks for his money back as a refund", "A refund"),
        ("they choose a refund", "A refund"),
        ("refund", "A refund"),
        ("store credit", "A store credit"),
    ],
)
def test_a_choice_condition_names_an_option_of_the_ask_before_it(
    condition: str, option: str
) -> None:
    (branch,) = _branches(_ASK_TWO + f"2. If {condition}, say “Noted.”\n")
    assert describe(branch.condition).endswith(f"[$reply_1 == '{option}']"), describe(
        branch.condition
    )


def test_a_choice_condition_after_an_offer_reads_the_offer_choice() -> None:
    result = compile_body(
        "1. Offer a free reshipment or a refund.\n"
        "2. If the customer picks reshipment → say “We'll reship it.”\n"
        "3. If refund → say “We'll refund it.”\n"
    )
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    offer, first, second, _end = result.plan.steps
    assert offer.kind == "offer"
    assert [o.label for o in offer.options] == ["Free reshipment", "Refund"]
    assert describe(first.condition).endswith("[$offer.choice == 'free_reshipment']")
    assert describe(second.condition).endswith("[$offer.choice == 'refund']")


def test_a_choice_no_option_names_is_reported_with_the_options() -> None:
    result = compile_body(_ASK_TWO + "2. If they want an exchange, say “Noted.”\n")
    (diag,) = [d for d in result.diagnostics if d.code == "TF012"]
    assert "an exchange" in diag.message and "step 1" in diag.message
    assert "A store credit" in diag.message and "A refund" in diag.message


def test_a_choice_without_any_question_before_it_is_reported() -> None:
    result = compile_body("1. If the customer prefers a refund, say “Noted.”\n")
    (diag,) = [d for d in result.diagnostics if d.code == "TF012"]
    assert "no question or offer with options" in diag.message
    assert "Ask whether" in (diag.fix or "")


def test_wanting_to_do_something_is_not_read_as_a_choice() -> None:
    (branch,) = _branches(_ASK_TWO + "2. If they still want to pause, say “Noted.”\n")
    assert describe(branch.condition).startswith("user_declines")


@pytest.mark.parametrize(
    "condition",
    ["the user accepts the retention offer", "they accept this deal", "they choose one"],
)
def test_taking_the_offer_itself_is_accepting_not_an_option(condition: str) -> None:
    body = "1. Offer a discount or free shipping.\n" + f"2. If {condition}, say “Great.”\n"
    (branch,) = _branches(body)
    assert describe(branch.condition).startswith("user_accepts")


def test_the_interpreter_takes_the_branch_of_the_option_the_customer_chose() -> None:
    from workflows.interpreter import Interpreter, Reply, Say, Started, start_state

    result = compile_body(
        _ASK_TWO
        + "2. If they'd rather have store credit, say “Store credit it is.”\n"
        + "3. If the customer wants a refund, say “Refund it is.”\n"
    )
    assert result.plan is not None
    interpreter = Interpreter(result.plan)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    state, commands = interpreter.advance(start_state(result.plan), Started(), now)
    state, commands = interpreter.advance(
        state, Reply(text="the refund please", choice="A refund"), now
    )
    assert [c.text for c in commands if isinstance(c, Say)] == ["Refund it is."]


# --- how long ago: read against the workflow's time, so a replay gives the same answer


@pytest.mark.parametrize(
    ("phrase", "field", "op", "days"),
    [
        ("the order was placed more than 30 days ago", "created_at", ">", 30),
        ("the order was placed within 30 days", "created_at", "<=", 30),
        ("the order is older than 45 days", "created_at", ">", 45),
        ("the order is less than 2 weeks old", "created_at", "<", 14),
        ("the purchase was made over 60 days ago", "created_at", ">", 60),
        ("it was ordered in the last 48 hours", "created_at", "<=", 2),
        ("the order was delivered more than 14 days ago", "delivered_at", ">", 14),
        ("the package was received within 7 days", "delivered_at", "<=", 7),
        ("the order was placed at least 10 days ago", "created_at", ">=", 10),
    ],
)
def test_how_long_ago_an_order_was_placed_or_delivered(
    phrase: str, field: str, op: str, days: float
) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.expansion is not None, phrase
    assert describe(vocab.expansion) == f"days since $order.{field} {op} {days:g}"


@pytest.mark.parametrize(
    ("placed", "older_than_30"),
    [("2026-10-01T09:00:00Z", True), ("2026-11-20T09:00:00+00:00", False), (None, False)],
)
def test_the_interpreter_reads_an_age_against_the_time_it_is_given(
    placed: str | None, older_than_30: bool
) -> None:
    from workflows.interpreter import InterpreterState, evaluate

    vocab = match_vocabulary("the order was placed more than 30 days ago")
    assert vocab is not None
    order = {"created_at": placed} if placed else {}
    state = InterpreterState(policy_id="p", plan_version="v", context={"order": order})
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert evaluate(vocab, state, now) is older_than_30
    within = match_vocabulary("the order was placed within 30 days")
    assert within is not None
    assert evaluate(within, state, now) is (placed is not None and not older_than_30)


@pytest.mark.parametrize(
    "phrase",
    [
        "it's more than 7 days late",
        "the next charge is within 24 hours",
        "it's the 2nd claim in 60 days",
    ],
)
def test_a_time_the_tools_do_not_report_says_what_to_write_instead(phrase: str) -> None:
    result = compile_body(f"1. If {phrase}, say “Noted.”\n")
    (diag,) = [d for d in result.diagnostics if d.code == "TF012"]
    assert "placed more than 30 days ago" in (diag.fix or "")


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("the subscription is already paused", "$subscription.status ?? "
         "$subscriptions.primary.status == 'paused'"),
        ("the subscription status is Active or Paused", "($subscription.status ?? "
         "$subscriptions.primary.status == 'active') or ($subscription.status ?? "
         "$subscriptions.primary.status == 'paused')"),
        ("their subscription is not cancelled", "not ($subscription.status ?? "
         "$subscriptions.primary.status == 'cancelled')"),
    ],
)  # fmt: skip
def test_a_subscription_status_reads_the_subscription_not_the_order(
    phrase: str, expected: str
) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.expansion is not None, phrase
    assert describe(vocab.expansion) == expected


def test_a_choice_after_a_question_kept_as_a_note_points_at_that_step() -> None:
    result = compile_body(
        "1. Offer a 10% discount or free shipping.\n"
        "2. If the moon is full, ask whether they'd like a refund or store credit.\n"
        "3. If the customer prefers store credit, say “Noted.”\n"
    )
    diags = [d for d in result.diagnostics if d.code == "TF012" and d.line == 8]
    assert len(diags) == 1 and "step 2" in diags[0].message
    assert "kept as a note" in diags[0].message


@pytest.mark.parametrize(
    ("phrase", "statuses"),
    [
        ("the status of the order is Cancelled or Refunded", ["cancelled", "refunded"]),
        ("the order status is either Shipped or Delivered", ["shipped", "delivered"]),
        ("the order's status is “Pending” / “Processing”", ["pending", "processing"]),
    ],
)
def test_more_ways_to_name_an_order_status(phrase: str, statuses: list[str]) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.expansion is not None, phrase
    assert describe(vocab.expansion) == " or ".join(f"($order.status == '{s}')" for s in statuses)


def test_a_status_the_tools_never_report_is_a_warning_naming_the_ones_they_do() -> None:
    result = compile_body(
        "1. Ask for the order number.\n2. Use @get_order_details(order_id: str).\n"
        "3. If the order status is Shipped or In Transit, say “On its way.”\n"
    )
    (diag,) = [d for d in result.diagnostics if d.code == "TF012"]
    assert "in_transit" in diag.message and "delivered" in diag.message
    assert result.plan is not None  # a warning: the branch for “shipped” still runs


@pytest.mark.parametrize(
    ("written", "reported"),
    [
        ("Fulfilled", "shipped"),
        ("Unfulfilled", "processing"),
        ("Completed", "delivered"),
        ("Awaiting Fulfillment", "processing"),
        ("Canceled", "cancelled"),
    ],
)
def test_a_platform_status_name_is_read_as_the_status_the_tools_report(
    written: str, reported: str
) -> None:
    vocab = match_vocabulary(f"the status is “{written}”")
    assert vocab is not None and vocab.expansion is not None
    assert describe(vocab.expansion) == f"$order.status == '{reported}'"


@pytest.mark.parametrize(
    "phrase",
    [
        "there's no tracking info at all",
        "there is no tracking number",
        "the order has no tracking information",
        "the order doesn't have a tracking number",
        "tracking is missing",
    ],
)
def test_no_tracking_is_an_order_without_a_tracking_number(phrase: str) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.expansion is not None, phrase
    assert describe(vocab.expansion) == "not ($order.tracking_number)"


@pytest.mark.parametrize(
    ("placed", "said"),
    [("2026-10-01T09:00:00Z", "Too late."), ("2026-11-25T09:00:00Z", "In time.")],
)
def test_a_plan_reads_the_order_age_at_the_time_of_the_turn(placed: str, said: str) -> None:
    from workflows.interpreter import Interpreter, Say, Started, start_state

    result = compile_body(
        "1. If the order was placed more than 30 days ago, say “Too late.”\n"
        "2. Otherwise, say “In time.”\n",
        extra="inputs: [order]\n",
    )
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    state = start_state(result.plan, {"order": {"created_at": placed}})
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    _state, commands = Interpreter(result.plan).advance(state, Started(), now)
    assert [c.text for c in commands if isinstance(c, Say)] == [said]


@pytest.mark.parametrize(
    "phrase",
    [
        "it is more than 7 days late",
        "the order was delivered more than 3 days late",
        "the order is over 5 days past the estimated date",
    ],
)
def test_lateness_is_not_read_as_the_order_age(phrase: str) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is None or vocab.name != "order_age", vocab


@pytest.mark.parametrize(
    "phrase",
    [
        "the customer has shipped the item back",
        "they haven't shipped the return yet",
        "the customer has already shipped it back to us",
    ],
)
def test_the_customer_shipping_a_return_is_not_the_order_status(phrase: str) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is None or vocab.name not in ("order_shipped", "order_not_shipped"), vocab


@pytest.mark.parametrize(
    ("phrase", "shipped"),
    [("it's already shipped", True), ("the shipment has not been shipped yet", False)],
)
def test_shipped_with_a_pronoun_or_shipment_as_subject(phrase: str, shipped: bool) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None
    assert vocab.name == ("order_shipped" if shipped else "order_not_shipped")


def test_an_order_being_confirmed_is_not_the_customer_saying_yes() -> None:
    vocab = match_vocabulary("the order is confirmed")
    assert vocab is None or vocab.intent != "yes", vocab
