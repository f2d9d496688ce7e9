"""Explicit conditions parse without eval; plain words map onto the vocabulary."""

from __future__ import annotations

import pytest

from policies.conditions import (
    AllOf,
    Compare,
    ConditionSyntaxError,
    LiteralValue,
    Not,
    Truthy,
    VarRef,
    describe,
    match_vocabulary,
    parse_expression,
)


def test_comparison_with_curly_quotes() -> None:
    cond = parse_expression("$tracking.status == “delivered”")
    assert cond == Compare(
        op="==", left=VarRef(path=["tracking", "status"]), right=LiteralValue(value="delivered")
    )


def test_boolean_combinators_and_truthiness() -> None:
    cond = parse_expression("not $order.paid and ($order.total > 50 or $vip)")
    assert isinstance(cond, AllOf)
    assert isinstance(cond.items[0], Not)
    assert describe(cond) == "(not ($order.paid)) and (($order.total > 50) or ($vip))"
    assert isinstance(parse_expression("$new_address"), Truthy)


@pytest.mark.parametrize("bad", ['$order.status = "x"', "$a ==", '"x" "y"', "($a == 1"])
def test_syntax_errors_raise_with_an_offset(bad: str) -> None:
    with pytest.raises(ConditionSyntaxError):
        parse_expression(bad)


@pytest.mark.parametrize(
    ("phrase", "name", "intent"),
    [
        ("the user accepts", "user_accepts", "accept"),
        ("the customer is interested", "user_accepts", "accept"),
        ("the user declines", "user_declines", "decline"),
        (
            "the user insists on canceling despite the retention offers",
            "insists_on_cancel",
            "insist_cancel",
        ),
        ("the user has any additional concerns", "has_concerns", "concern"),
    ],
)
def test_reply_judged_vocabulary(phrase: str, name: str, intent: str) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.name == name and vocab.intent == intent


@pytest.mark.parametrize(
    ("phrase", "name", "expansion"),
    [
        ("the status is “Delivered,”", "order_status_is", "$order.status == 'delivered'"),
        ("Tracking Confirms Delivery", "tracking_confirms_delivery", "$tracking.delivered == true"),
        (
            "tracking shows no delivery",
            "tracking_shows_no_delivery",
            "$tracking.delivered == false",
        ),
        ("the order is not eligible", "order_not_eligible", "$eligibility.eligible == false"),
        ("a new address is provided", "new_address_provided", "$new_address"),
    ],
)
def test_context_judged_vocabulary_expands_to_an_expression(
    phrase: str, name: str, expansion: str
) -> None:
    vocab = match_vocabulary(phrase)
    assert vocab is not None and vocab.name == name and vocab.expansion is not None
    assert describe(vocab.expansion) == expansion


def test_unknown_phrase_is_not_guessed() -> None:
    assert match_vocabulary("the moon is full") is None
