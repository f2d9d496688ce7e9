"""The condition vocabulary: plain words an author writes after "If", and what each means.

Kept apart from the condition grammar (`policies.conditions`) so a new phrasing is added
here, as a pattern class, without touching the AST. Entries are tried in order, most
specific first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: What the store tools report as `$order.status` (policies/tool_models.OrderDetails).
ORDER_STATUSES: tuple[str, ...] = (
    "pending",
    "placed",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "disputed",
)
#: how the platforms' own admin screens name a status → what the tools report
#: (activities/platforms: Shopify/Stay AI FULFILLED is shipped, BigCommerce Completed is
#: delivered, its Awaiting … states are processing)
STATUS_SYNONYMS: dict[str, str] = {
    "fulfilled": "shipped",
    "unfulfilled": "processing",
    "partially_fulfilled": "shipped",
    "completed": "delivered",
    "complete": "delivered",
    "awaiting_fulfillment": "processing",
    "awaiting_shipment": "processing",
    "awaiting_pickup": "processing",
    "awaiting_payment": "pending",
    "canceled": "cancelled",
}
SUBSCRIPTION_STATUSES: tuple[str, ...] = ("active", "paused", "cancelled")
_SUB_STATUS = r"(?:active|paused|cancelled|canceled)"
_STATUS_WORD = r"(?:delivered|shipped|cancelled|canceled|pending|processing|refunded|disputed)"
#: "status is not …", "status isn't …": the statuses are ruled out
_NOT = r"(?P<negated>not |no longer |n't )?"
#: how an author reports the customer's answer: "says", "replied with", "answers back"
_ANSWER = r"(?:says?|said|answers?|answered|repl(?:y|ies|ied)|responds?|responded|writes?|wrote)"
_ANSWER = rf"{_ANSWER}(?:\s+(?:with|back))?"
_SELF = r"(?:they|he|she|it)"
_AUX = r"(?:have|has|had|do|does|did|are|is|was|were|can|will|would)"
#: what "has shipped" is said of when it means the order (not "the customer has shipped
#: the return back")
_SHIPPABLE = r"(?:order|package|parcel|shipment|it|everything)"
_HAS_SHIPPED = '$order.status == "shipped" or $order.status == "delivered"'


#: "more than 30 days ago" / "within 30 days" / "older than" / "less than … old"
AGE_OPS: dict[str, str] = {
    "more than": ">",
    "over": ">",
    "older than": ">",
    "longer than": ">",
    "at least": ">=",
    "less than": "<",
    "under": "<",
    "younger than": "<",
    "newer than": "<",
    "fewer than": "<",
    "within": "<=",
    "within the last": "<=",
    "in the last": "<=",
    "in the past": "<=",
    "no more than": "<=",
}
AGE_UNITS: dict[str, float] = {"day": 1, "week": 7, "hour": 1 / 24}
_AGE_CMP = "|".join(sorted((re.escape(k) for k in AGE_OPS), key=len, reverse=True))
_AGE = rf"(?P<age_cmp>{_AGE_CMP})\s+(?P<age_n>\d+)\s+(?P<age_unit>days?|weeks?|hours?)"
_DATED = r"(?:order|purchase|package|parcel|item|it)"


def split_statuses(text: str) -> list[str]:
    """“Shipped or Delivered”, “'pending', 'processing' or 'shipped'” → each status, as the
    tools spell it (lower case, underscores)."""
    parts = re.split(r"\s*(?:,|/|\bor\b|\beither\b)\s*", text)
    out = [re.sub(r"[\s_]+", "_", p.strip(" \"“”'‘’.")).strip("_").lower() for p in parts]
    return [STATUS_SYNONYMS.get(s, s) for s in out if s]


@dataclass(frozen=True)
class VocabularyEntry:
    name: str
    description: str
    patterns: tuple[str, ...]
    intent: str | None = None
    #: an explicit expression; a `statuses` match builds status comparisons instead
    expansion: str | None = None
    #: where a `statuses` match reads the status: the first path that is set
    status_of: tuple[str, ...] = ("order.status",)


VOCABULARY: tuple[VocabularyEntry, ...] = (
    VocabularyEntry(
        "insists_on_cancel",
        "the customer still wants to cancel after the offers",
        (r"insists? on cancel", r"still wants? to cancel", r"\binsists?\b"),
        intent="insist_cancel",
    ),
    VocabularyEntry(
        "has_concerns",
        "the customer raises further concerns or questions",
        (r"\bconcerns?\b", r"further (?:questions|issues)", r"^needed$", r"needs? help"),
        intent="concern",
    ),
    VocabularyEntry(
        "user_declines",
        "the customer turns the offer down or says no",
        (
            r"\bdeclines?\b",
            r"\bdeclined\b",
            r"\brefuses?\b",
            r"\bnot interested\b",
            r"\brejects?\b",
            # "they still want to pause" after an offer of something else
            r"\bstill wants? to (?!cancel)",
        ),
        intent="decline",
    ),
    VocabularyEntry(
        "user_accepts",
        "the customer says yes or takes an offer",
        (
            r"\baccepts?\b",
            r"\baccepted\b",
            r"\bagrees?\b",
            r"\b(?:is|are) interested\b",
            r"\bchooses? (?:one|an?|to keep)\b",
        ),
        intent="accept",
    ),
    VocabularyEntry(
        "order_without_tracking",
        "the order has no tracking number (it never got a label)",
        (
            r"\bno tracking(?: (?:info|information|number|details|link|data))?\b",
            r"\b(?:does not|doesn't|has not|hasn't|did not|didn't) (?:have|get) (?:a |any )?"
            r"tracking\b",
            r"\btracking(?: (?:info|information|number))? (?:is|was) (?:missing|empty|unavailable)",
        ),
        expansion="not $order.tracking_number",
    ),
    VocabularyEntry(
        "tracking_shows_no_delivery",
        "the carrier's tracking does not show the parcel delivered",
        (r"tracking shows no delivery", r"tracking (?:does not|doesn't) show", r"lost in transit"),
        expansion="$tracking.delivered == false",
    ),
    VocabularyEntry(
        "tracking_confirms_delivery",
        "the carrier's tracking shows the parcel delivered",
        (
            r"tracking confirms delivery",
            r"tracking (?:shows|says) (?:it was )?delivered",
            r"carrier (?:has )?marked .*delivered",
        ),
        expansion="$tracking.delivered == true",
    ),
    VocabularyEntry(
        "order_not_eligible",
        "the eligibility check said no",
        (r"\bnot eligible\b", r"(?:does not|doesn't) qualify", r"\bineligible\b"),
        expansion="$eligibility.eligible == false",
    ),
    VocabularyEntry(
        "order_eligible",
        "the eligibility check said yes",
        (r"\bis eligible\b", r"\bqualifies\b"),
        expansion="$eligibility.eligible == true",
    ),
    VocabularyEntry(
        "new_address_provided",
        "the customer gave a new shipping address",
        (r"new address (?:is|was) (?:provided|given)", r"(?:provides?|gives?) a new address"),
        expansion="$new_address",
    ),
    VocabularyEntry(
        "order_age",
        "how long ago the order was placed (or delivered), against the conversation's time",
        (
            rf"\b{_DATED}\s+(?:was|were|is|has been)\s+(?:first\s+)?"
            r"(?P<age_event>placed|made|created|purchased|ordered|bought|delivered|received|"
            rf"arrived)\s+{_AGE}(?:\s+ago)?\s*$",
            # anchored: "more than 7 days late" is not an age
            rf"\b{_DATED}\s+(?:is|was)\s+{_AGE}(?:\s+old)?\s*$",
        ),
    ),
    VocabularyEntry(
        "order_not_shipped",
        "the order has not left the warehouse (status neither shipped nor delivered)",
        (
            rf"\b{_SHIPPABLE}(?:'s|\s+(?:has not|hasn't|have not|haven't|was not|wasn't|is not|"
            r"isn't|did not|didn't))\s+(?:yet\s+)?(?:been\s+)?(?:ship|shipped)\b",
            rf"\b{_SHIPPABLE}\s+(?:is\s+|has\s+)?(?:not yet|yet to) (?:been |be )?ship(?:ped)?\b",
        ),
        expansion=f"not ({_HAS_SHIPPED})",
    ),
    VocabularyEntry(
        "order_shipped",
        "the order has left the warehouse (status shipped or delivered)",
        (
            rf"\b{_SHIPPABLE}\s+(?:has|have)\s+(?:already\s+)?(?:been\s+)?shipped\b",
            # "is already shipped" (plain "is shipped" is the status itself)
            rf"\b{_SHIPPABLE}(?:'s|\s+(?:was|were|is))\s+already\s+(?:been\s+)?shipped\b",
            rf"\b{_SHIPPABLE}\s+(?:has|have) (?:already )?left the warehouse\b",
        ),
        expansion=_HAS_SHIPPED,
    ),
    VocabularyEntry(
        "subscription_status_is",
        "the subscription's status is one of the named statuses",
        (
            rf"subscription(?:'s)? status (?:is|was|equals|=)\s*{_NOT}"
            r"(?P<statuses>[\"“'‘]?[a-z][\w \"“”'‘’,/-]*?)[,.]?\s*$",
            rf"subscription (?:is|was|has been)\s+(?:already\s+)?{_NOT}(?:already\s+)?"
            rf"(?P<statuses>{_SUB_STATUS}(?:,?\s*(?:or\s+)?{_SUB_STATUS})*)\b",
        ),
        status_of=("subscription.status", "subscriptions.primary.status"),
    ),
    VocabularyEntry(
        "order_status_is",
        "the order's status equals the quoted status",
        (
            rf"status (?:is|was|equals|=)\s*{_NOT}"
            r"(?P<statuses>[\"“'‘]?[a-z][\w \"“”'‘’,/-]*?)[,.]?\s*$",
            rf"(?:order|package|parcel) is {_NOT}(?P<statuses>{_STATUS_WORD}(?:,?\s*(?:or\s+)?"
            rf"{_STATUS_WORD})*)\b",
        ),
        expansion="$order.status",
    ),
    VocabularyEntry(
        "user_denies",
        "a plain no to the latest question",
        (
            rf"\b{_ANSWER}\s+(?:a\s+)?[\"“'‘]?(?:no|nope|nah)\b",
            rf"\b{_ANSWER}\s+(?:that\s+)?{_SELF}\s+(?:{_AUX}(?:\s+not|n't)|can't|cannot|won't)\b",
            r"^no\b",
            r"(?:has not|hasn't|have not|did not) ",
        ),
        intent="no",
    ),
    VocabularyEntry(
        "user_confirms",
        "a plain yes to the latest question",
        (
            rf"\b{_ANSWER}\s+(?:a\s+)?[\"“'‘]?(?:yes|yeah|yep|sure|ok|okay)\b",
            # "the customer says they have" (the question's own verb, answered)
            rf"\b{_ANSWER}\s+(?:that\s+)?{_SELF}\s+{_AUX}\s*$",
            r"^yes\b",
            r"\bconfirms?\b",
            r"\b(?:they|he|she|customer|user)\s+(?:has\s+|have\s+)?confirmed\b",
        ),
        intent="yes",
    ),
    VocabularyEntry(
        "applicable",
        "always true; keeps an author's “if applicable” readable",
        (r"^applicable$", r"^(?:where|when) applicable$"),
        expansion="true",
    ),
)

VOCABULARY_BY_NAME: dict[str, VocabularyEntry] = {e.name: e for e in VOCABULARY}


# ---------------------------------------------------------------------------
# Choices: "If the customer prefers a refund" names an option of the question before it
# ---------------------------------------------------------------------------

_CHOOSER = r"(?:(?:the )?(?:customer|user|client|shopper)|they|he|she)"
_CHOICE_VERB = (
    r"(?:prefers?|preferred|wants?|wanted|would (?:like|prefer)|'d (?:like|prefer)|"
    r"(?:would|'d) rather(?: have| get| take| receive)?|picks?|picked|chooses?|chose|"
    r"selects?|selected|opts? for|opted for|goes with|go with|went with|asks? for|"
    r"asked for|requests?|requested|takes?|took|accepts?|accepted)"
)
_CHOICE = re.compile(
    rf"^{_CHOOSER}\s*(?:(?:still|really|then|instead)\s+)?{_CHOICE_VERB}\s+"
    r"(?:to (?:get|have|receive|take) )?(?P<what>.+)$"
)
#: what a choice verb can take that names no option ("chooses one", "accepts the offer")
_NOT_AN_OPTION = re.compile(
    r"^(?:to\b|one\b|it\b|this\b|that\b)|"
    r"^(?:(?:the|an?|this|that|our|your|any) )?(?:[\w-]+ )?(?:offer|option|deal|proposal)s?\b"
)
_FILLER = {
    "a", "an", "the", "some", "their", "his", "her", "its", "my", "our", "your", "for",
    "of", "as", "to", "get", "have", "instead", "option", "offer", "please", "back",
    "money", "free",
}  # fmt: skip


def chosen_words(phrase: str) -> tuple[str, bool] | None:
    """What a choice condition names and whether a choosing verb said so: "the customer
    prefers a refund" → ("a refund", True); a bare "refund" → ("refund", False). None when
    the phrase is not about a choice ("they still want to pause", "they accept the offer")."""
    clean = phrase.strip().rstrip(":,.").lower().replace("’", "'")
    m = _CHOICE.match(clean)
    if m:
        what = m.group("what").strip()
        return None if _NOT_AN_OPTION.match(what) else (what, True)
    if len(clean.split()) <= 3 and not re.match(rf"{_CHOOSER}\b", clean):
        return clean, False
    return None


def option_words(text: str) -> set[str]:
    """The words that tell one option from another, singular ("the credits" → {"credit"})."""
    words = re.findall(r"[a-z0-9%]+", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _FILLER}
