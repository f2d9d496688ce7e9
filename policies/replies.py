"""A customer's reply as the plan sees it: what they wrote and what was understood of it.

Made by reply understanding (`activities.understanding`), consumed by the interpreter
(`workflows.interpreter`); it lives here, below both, so neither imports the other.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from policies.plan import AskNode, AskSlot


class Reply(BaseModel):
    """The customer's message as understood by the reply-understanding activity."""

    kind: Literal["reply"] = "reply"
    text: str
    intent: str | None = Field(
        default=None, description="accept | decline | insist_cancel | concern | yes | no | human"
    )
    slots: dict[str, Any] = Field(
        default_factory=dict, description="slot kind → value found in the message"
    )
    choice: str | None = Field(default=None, description="offer option id the customer chose")
    corrects: list[str] = Field(
        default_factory=list,
        description='slot kinds this message corrects ("sorry, I meant 5002"): they replace '
        "what the customer said before",
    )
    unsure_between: list[str] = Field(
        default_factory=list,
        description="option ids the reply fits equally well: the clarifying question names them",
    )


def take_facts(node: AskNode, reply: Reply, context: dict[str, Any], first: Any) -> Any:
    """A compound ask ("your email address and the order number"): store every further
    fact the reply gives; returns the first fact's value, this reply's or an earlier one's."""
    for fact in node.also:
        if reply.slots.get(fact.slot) not in (None, ""):
            context[fact.var] = reply.slots[fact.slot]
    return first if first is not None else context.get(node.var)


def missing_facts(node: AskNode, context: dict[str, Any]) -> list[AskSlot]:
    """The further facts of a compound ask that are not known yet."""
    return [fact for fact in node.also if context.get(fact.var) in (None, "")]
