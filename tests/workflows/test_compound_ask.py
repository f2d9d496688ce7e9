"""One question that asks for two facts ("your email address and the order number"):
the answer may give both, or one and then the other (issue 14, item 4)."""

from __future__ import annotations

from workflows.interpreter import Ask, CallTool, Reply, Started

from .test_interpreter import Run, plan_of

LOGIC = """1. Ask for the user's email address and the order number.
2. Use @bigcommerce_order_details(order_id: str) to load the order.
"""


def test_both_facts_in_one_answer_go_straight_on() -> None:
    run = Run(plan_of(LOGIC))
    [ask] = run.send(Started())
    assert isinstance(ask, Ask) and ask.question == (
        "Could you please share your email address and the order number?"
    )
    [call] = run.send(
        Reply(text="a@b.co, order 5001", slots={"email": "a@b.co", "order_number": "5001"})
    )
    assert isinstance(call, CallTool) and call.args == {"order_id": "5001"}
    assert run.state.context["email"] == "a@b.co"


def test_a_missing_fact_is_asked_for_on_its_own() -> None:
    run = Run(plan_of(LOGIC))
    run.send(Started())
    [again] = run.send(Reply(text="it's a@b.co", slots={"email": "a@b.co"}))
    assert isinstance(again, Ask) and again.slot == "order_number"
    assert again.question == "Could you also share the order number?"
    [call] = run.send(Reply(text="5001", slots={"order_number": "5001"}))
    assert isinstance(call, CallTool) and call.args == {"order_id": "5001"}


def test_known_facts_are_not_asked_again() -> None:
    run = Run(plan_of(LOGIC), {"email": "a@b.co", "order_id": "5001"})
    [call] = run.send(Started())
    assert isinstance(call, CallTool)


def test_a_fact_given_earlier_leaves_only_the_other_to_ask() -> None:
    run = Run(plan_of(LOGIC), {"email": "a@b.co"})
    [ask] = run.send(Started())
    assert isinstance(ask, Ask) and ask.slot == "order_number"
    assert ask.question == "Could you also share the order number?"
    [call] = run.send(Reply(text="#5001", slots={"order_number": "5001"}))
    assert isinstance(call, CallTool) and call.args == {"order_id": "5001"}
