"""Reply understanding: what a customer's message says, as slots and an intent.

Rule-based and offline by default (no model, no network), so it is fast, free and
repeatable; it runs as an activity so a smarter understander can replace it
without touching the workflow's history. It also picks up what the customer
volunteers early ("cancel order #5001, I'm alex@example.com") so the bot never
asks twice.
"""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from temporalio import activity

from policies.replies import Reply

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ORDER_AFTER_WORD = re.compile(
    r"(?:order|#|number|no\.?)\s*(?:number|no\.?|id)?\s*#?\s*(\d{3,})", re.I
)
_BARE_NUMBER = re.compile(r"(?<![\w@.])#?(\d{3,10})(?![\w@])")
_STREET = re.compile(
    r"\b\d+[A-Za-z]?\s+(?:[A-Za-z0-9.'-]+\s+){0,4}"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|way|court|ct|place|pl|"
    r"terrace|square|sq|parkway|pkwy|highway|hwy)\b\.?[^\n]*",
    re.I,
)

_HUMAN = (
    "human",
    "real person",
    "a person",
    "an agent",
    "agent please",
    "representative",
    "talk to someone",
    "speak to someone",
    "customer service",
    "operator",
)
_INSIST = (
    "just cancel",
    "cancel anyway",
    "cancel it anyway",
    "still want to cancel",
    "still cancel",
    "please cancel",
    "cancel it",
    "cancel the order",
    "cancel my order",
    "i want to cancel",
)
_DECLINE = (
    "no thanks",
    "no thank you",
    "not interested",
    "none of",
    "none",
    "neither",
    "nope",
    "i'll pass",
    "pass",
    "decline",
)
_ACCEPT = (
    "i'll take",
    "i will take",
    "sounds good",
    "let's do",
    "go with",
    "i accept",
    "accept",
    "deal",
    "keep it",
    "keep the order",
)
_YES = ("yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right", "please do", "y")
_NO = ("no", "nah", "not really", "n", "didn't", "did not", "haven't", "have not", "wrong")
_CONCERN = ("but ", "however", "concern", "worried", "problem", "issue", "question")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}


class ChoiceOption(BaseModel):
    id: str
    label: str


class UnderstandRequest(BaseModel):
    text: str
    expecting: str | None = Field(default=None, description="slot kind the bot asked for")
    options: list[ChoiceOption] = Field(default_factory=list)


def _has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![a-z']){re.escape(p)}(?![a-z'])", text) for p in phrases)


def find_email(text: str) -> str | None:
    for candidate in _EMAIL.findall(text):
        try:
            return validate_email(candidate.rstrip("."), check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return None


def find_order_number(text: str, *, expecting: bool) -> str | None:
    without_emails = _EMAIL.sub(" ", text)
    m = _ORDER_AFTER_WORD.search(without_emails)
    if m:
        return m.group(1)
    if expecting:
        m = _BARE_NUMBER.search(without_emails)
        if m:
            return m.group(1)
    return None


_REGION_POSTAL = re.compile(
    r"^(?P<city>[A-Za-z .'-]+?)[,\s]+(?P<region>[A-Z]{2})\s+(?P<postal>\d{5}(?:-\d{4})?)"
    r"(?:[,\s]+(?P<country>[A-Za-z .]+))?$"
)
_UNIT = re.compile(r"^(?:apt|apartment|unit|suite|ste|#|floor|fl)\b", re.I)


def parse_address(text: str) -> dict[str, str] | None:
    """`12 Elm Street, Apt 4, Springfield, IL 62704` → the catalog's Address fields.

    US-style lines (street, optional unit, city, state, ZIP); anything it cannot split
    with confidence is not taken, so the bot asks again rather than ship to a guess.
    """
    parts = [p.strip() for p in text.strip().rstrip(".").split(",") if p.strip()]
    if len(parts) < 2 or not re.match(r"^\d+[A-Za-z]?\s+\S", parts[0]):
        return None
    line1, rest = parts[0], parts[1:]
    line2 = rest.pop(0) if rest and _UNIT.match(rest[0]) else None
    m = _REGION_POSTAL.match(" ".join(rest).replace(" ,", ","))
    if not m and len(rest) >= 2:
        m = _REGION_POSTAL.match(f"{rest[0]}, {' '.join(rest[1:])}")
    if not m:
        return None
    address = {
        "line1": line1,
        "city": m.group("city").strip(" ,"),
        "region": m.group("region"),
        "postal_code": m.group("postal"),
        "country": "US",
    }
    if line2:
        address["line2"] = line2
    return address


def find_address(text: str, *, expecting: bool) -> dict[str, str] | None:
    m = _STREET.search(text)
    candidate = m.group(0) if m else (text if expecting else "")
    return parse_address(candidate) if candidate else None


def find_intent(text: str) -> str | None:
    t = text.lower().replace("’", "'")
    if _has_phrase(t, _HUMAN):
        return "human"
    if _has_phrase(t, _INSIST):
        return "insist_cancel"
    if _has_phrase(t, _DECLINE):
        return "decline"
    if _has_phrase(t, _ACCEPT):
        return "accept"
    if _has_phrase(t, _NO):
        return "no"
    if _has_phrase(t, _YES):
        return "yes"
    if _has_phrase(t, _CONCERN) or t.rstrip().endswith("?"):
        return "concern"
    return None


def find_choice(text: str, options: list[ChoiceOption]) -> str | None:
    """By number ("2", "option 2", "the second"), by label or keyword, then fuzzily."""
    if not options:
        return None
    t = text.lower().strip()
    m = re.fullmatch(r"(?:option\s*|number\s*|#)?(\d)\s*[.)!]?", t) or re.search(
        r"\boption\s*(\d)\b", t
    )
    if m and 1 <= int(m.group(1)) <= len(options):
        return options[int(m.group(1)) - 1].id
    for word, position in _ORDINALS.items():
        if re.search(rf"\b(?:the\s+)?{word}(?:\s+one|\s+option)?\b", t):
            return options[position - 1 if position > 0 else -1].id
    words = set(re.findall(r"[a-z0-9%]+", t))
    for option in options:
        keywords = {w for w in re.findall(r"[a-z0-9%]+", option.label.lower()) if len(w) > 3}
        keywords |= {w for w in re.findall(r"[a-z0-9%]+", option.id.lower()) if len(w) > 3}
        if keywords & words:
            return option.id
    best = process.extractOne(
        t, {o.id: o.label.lower() for o in options}, scorer=fuzz.partial_ratio, score_cutoff=80
    )
    return best[2] if best else None


def understand(request: UnderstandRequest) -> Reply:
    text = request.text
    expecting = request.expecting
    slots: dict[str, Any] = {}
    email = find_email(text)
    if email:
        slots["email"] = email
    order = find_order_number(text, expecting=expecting == "order_number")
    if order:
        slots["order_number"] = order
    address = find_address(text, expecting=expecting == "address")
    if address:
        slots["address"] = address
    intent = find_intent(text)
    choice = find_choice(text, request.options) if expecting == "choice" else None
    if choice and intent in {"decline", "no"}:
        # "no, the discount please" names an option: the choice wins.
        intent = "accept"
    return Reply(text=text, intent=intent, slots=slots, choice=choice)


class UnderstandingActivities:
    """Activity wrapper; holds nothing today, a model client tomorrow."""

    @activity.defn(name="understand_reply")
    async def understand_reply(self, request: UnderstandRequest) -> Reply:
        return understand(request)
