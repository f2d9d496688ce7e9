"""The language model's second opinion on a reply the local understanding is unsure of.

Only three questions, each answered from a closed set the plan already holds: which of
the offered options (their ids), yes or no, and the order number or email the ask wants
(a value that must occur in the customer's own words). Whatever the model says outside
that set, or when it fails, the deterministic reply stands unchanged.
"""

from __future__ import annotations

import re

from activities.language_model import LanguageModel
from policies.replies import Reply

#: Intents that already settle an offer or a yes/no: the customer declined, insisted, or
#: asked for a person. The model is not asked to overrule them.
SETTLED = frozenset({"decline", "no", "insist_cancel", "human", "yes", "accept"})
#: Facts the model may extract, each checked against the customer's words.
EXTRACTABLE = ("order_number", "email")

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")


def unsure_about(
    text: str, expecting: str | None, option_ids: list[str], reply: Reply
) -> str | None:
    """What the local reading left open: "choice", "yes_no", a fact's kind, or None."""
    if option_ids and reply.choice is None and reply.intent not in SETTLED:
        return "choice"
    if expecting == "yes_no" and reply.intent is None:
        return "yes_no"
    if expecting in EXTRACTABLE and expecting not in reply.slots and reply.intent != "human":
        return expecting
    return None


def choice_instructions(options: list[tuple[str, str, str]]) -> str:
    lines = "\n".join(
        f"- {option_id}: {label}" + (f" ({description})" if description else "")
        for option_id, label, description in options
    )
    return (
        "A customer was offered these options and replied. Which option does the reply "
        "choose? Answer the option's id, or null if the reply chooses none of them or is "
        f"unclear.\nOptions:\n{lines}"
    )


YES_NO_INSTRUCTIONS = (
    "A customer was asked a yes-or-no question and replied. Does the reply mean yes or no? "
    "Answer null if it is neither or unclear."
)


def extract_instructions(kind: str) -> str:
    what = {"order_number": "order number", "email": "email address"}[kind]
    return (
        f"Copy the {what} the customer gives in their message exactly as written, or null "
        "if there is none. Never guess or complete one."
    )


def checked_fact(kind: str, value: str | None, text: str) -> str | None:
    """The extracted value when it is well formed and the customer really wrote it."""
    if not value:
        return None
    value = value.strip()
    if kind == "order_number":
        digits = value.lstrip("#").strip()
        if not re.fullmatch(r"\d{3,12}", digits):
            return None
        return digits if re.search(rf"(?<!\d){digits}(?!\d)", text) else None
    if kind == "email":
        if not _EMAIL.match(value) or value.lower() not in text.lower():
            return None
        return value.lower()
    return None


async def second_opinion(
    model: LanguageModel,
    text: str,
    expecting: str | None,
    options: list[tuple[str, str, str]],
    reply: Reply,
) -> Reply:
    """``reply`` with what the model settled of what it left open (or unchanged)."""
    ids = [option_id for option_id, _, _ in options]
    open_question = unsure_about(text, expecting, ids, reply)
    if open_question is None:
        return reply
    if open_question == "choice":
        chosen = await model.choose(choice_instructions(options), text, ids)
        if chosen is None:
            return reply
        return reply.model_copy(update={"choice": chosen, "intent": "accept", "unsure_between": []})
    if open_question == "yes_no":
        answer = await model.choose(YES_NO_INSTRUCTIONS, text, ["yes", "no"], field="answer")
        return reply if answer is None else reply.model_copy(update={"intent": answer})
    found = await model.choose_text(extract_instructions(open_question), text, open_question)
    value = checked_fact(open_question, found, text)
    if value is None:
        return reply
    return reply.model_copy(update={"slots": {**reply.slots, open_question: value}})
