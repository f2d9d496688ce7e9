"""Conditions as CX teams write them when they paste an SOP: status lists, the customer's
answer in their words, choices among the options just put to the customer, order state."""

from __future__ import annotations

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
