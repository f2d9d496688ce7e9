"""Reply understanding: what a customer's message says, as slots, an intent and a choice.

Rule-based and offline (no model, no network), so it is fast, free and repeatable; it
runs as an activity so a smarter understander can replace it without touching the
workflow's history. It reads replies by meaning: choices by what the customer describes
("the cheaper one", "keep it but faster"), hedged yes/no ("I guess so", "nah I'm good"),
corrections ("sorry, I meant 5002"), several facts in one message, order numbers in every
usual form. It also picks up what the customer volunteers early ("cancel order #5001, I'm
alex@example.com") so the bot never asks twice. Parts: `slots` (facts), `intents`
(yes/no and the rest), `choices` (which option).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity

from activities.language_model import LanguageModel
from activities.understanding.choices import close_options, find_choice
from activities.understanding.intents import find_intent
from activities.understanding.second_opinion import second_opinion
from activities.understanding.slots import (
    email_with_correction,
    find_address,
    find_email,
    find_order_number,
    order_with_correction,
    parse_address,
)
from policies.replies import Reply

__all__ = [
    "EARLIER_CHOICE",
    "UNDERSTAND_REPLY",
    "ChoiceOption",
    "UnderstandRequest",
    "UnderstandingActivities",
    "find_address",
    "find_choice",
    "find_email",
    "find_intent",
    "find_order_number",
    "parse_address",
    "reply_confidence",
    "understand",
]


class ChoiceOption(BaseModel):
    id: str
    label: str
    description: str = Field(default="", description="what the option does, in the policy's words")


class UnderstandRequest(BaseModel):
    text: str
    expecting: str | None = Field(default=None, description="slot kind the bot asked for")
    options: list[ChoiceOption] = Field(default_factory=list)


#: `expecting` for a choice ask read against what the customer wrote before it was asked.
EARLIER_CHOICE = "earlier_choice"
#: The activity's name, as the workflow calls it.
UNDERSTAND_REPLY = "understand_reply"


def understand(request: UnderstandRequest) -> Reply:
    text = request.text
    expecting = request.expecting
    if expecting == EARLIER_CHOICE:
        choice = find_choice(text, request.options, by_position=False)
        return Reply(text=text, choice=choice)
    slots: dict[str, Any] = {}
    corrected: list[str] = []
    email, email_fixed = email_with_correction(text)
    if email:
        slots["email"] = email
        if email_fixed:
            corrected.append("email")
    order, order_fixed = order_with_correction(text, expecting=expecting == "order_number")
    if order:
        slots["order_number"] = order
        if order_fixed:
            corrected.append("order_number")
    address = find_address(text, expecting=expecting == "address")
    if address:
        slots["address"] = address
    intent = find_intent(text)
    choice = find_choice(text, request.options) if request.options else None
    if choice and intent in {"decline", "no", "yes", None}:
        # "no, the discount please" or "sure, the coupon" names an option: the choice wins.
        intent = "accept"
    if choice and intent == "insist_cancel" and expecting == "choice":
        # "keep it, don't cancel, faster please": naming an option is taking it.
        intent = "accept"
    unsure: list[str] = []
    if request.options and choice is None and intent not in {"decline", "no", "insist_cancel"}:
        unsure = close_options(text, request.options)
    return Reply(
        text=text,
        intent=intent,
        slots=slots,
        choice=choice,
        corrects=corrected,
        unsure_between=unsure,
    )


def reply_confidence(request: UnderstandRequest, reply: Reply) -> float | None:
    """How much of what the bot asked the reading answered: 1 for the asked fact, a named
    option or a clear yes/no, 1/n when it fits n options equally, 0 for nothing it can use.
    None when nothing was asked (free text, or a look back for an earlier choice)."""
    expecting = request.expecting
    if expecting is None or expecting in {EARLIER_CHOICE, "free_text"}:
        return None
    if request.options:
        if reply.choice:
            return 1.0
        if reply.unsure_between:
            return 1.0 / len(reply.unsure_between)
        return 1.0 if reply.intent is not None else 0.0
    if expecting == "yes_no":
        return 1.0 if reply.intent is not None else 0.0
    return 1.0 if reply.slots.get(expecting) not in (None, "") else 0.0


class UnderstandingActivities:
    """Activity wrapper: the rule-based reading, and the optional language model's second
    opinion on what it left open (a choice, a yes/no, the fact an ask wants)."""

    def __init__(self, model: LanguageModel | None = None) -> None:
        self.model = model

    @activity.defn(name=UNDERSTAND_REPLY)
    async def understand_reply(self, request: UnderstandRequest) -> Reply:
        reply = understand(request)
        if self.model is None or request.expecting == EARLIER_CHOICE:
            return reply
        options = [(o.id, o.label, o.description) for o in request.options]
        return await second_opinion(self.model, request.text, request.expecting, options, reply)
