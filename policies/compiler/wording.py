"""Customer-facing wording: what the bot says when a step gives no exact words.

Steps are written about the customer ("Inform the customer that their order shipped");
the customer should read them addressed to them ("Your order shipped.").
"""

from __future__ import annotations

import re

from policies.compiler.patterns import EG, RESULT_AS

_AGENT_VOICE = [
    (r"\byou will\b", "we will"),
    (r"\byou'll\b", "we'll"),
    (r"\byou’ll\b", "we’ll"),
    (r"\byou can\b", "we can"),
]
_CUSTOMER_VOICE = [
    (r"\b(?:the )?(?:customer|user)['’]s\b", "your"),
    (r"\btheir\b", "your"),
    (r"\btheirs\b", "yours"),
    (r"\bthemselves\b", "yourself"),
    (r"\bthey['’]ve\b", "you’ve"),
    (r"\bthey['’]re\b", "you’re"),
    (r"\bthey are\b", "you are"),
    (r"\bthey have\b", "you have"),
    (r"\bthey\b", "you"),
    (r"\bthem\b", "you"),
    (r"\b(?:the )?(?:customer|user)\b", "you"),
    (r"\bthe (order|shipment|subscription|package|parcel|item|refund)\b", r"your \1"),
    (r"\bbut offer to\b", "but we'd be glad to"),
    (r"\band provide you with\b", "and here are"),
]


def _swap_voice(text: str, *, possessive_nouns: bool = True) -> str:
    for pattern, repl in _AGENT_VOICE:
        text = re.sub(pattern, repl, text, flags=re.I)
    for pattern, repl in _CUSTOMER_VOICE:
        if not possessive_nouns and repl == r"your \1":
            continue
        text = re.sub(pattern, repl, text, flags=re.I)
    return text


def strip_tools(text: str) -> str:
    text = re.sub(
        r"^(?:use|using|call)\s+@\w+(?:\([^()]*\))?\s*(?:tool\s+)?(?:to\s+)?", "", text, flags=re.I
    )
    text = re.sub(r"\s*(?:using|with|via|through)\s+@\w+(?:\([^()]*\))?", "", text, flags=re.I)
    return re.sub(r"@\w+(?:\([^()]*\))?", "", text).strip()


def strip_eg(text: str) -> str:
    return EG.sub("", text)


def sentence(text: str, end: str = ".") -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(".:;,")
    if not text:
        return text
    return text[0].upper() + text[1:] + end


def customer_message(step_text: str) -> str:
    """A plain, polite message from a step that gives no exact words, in the customer's
    voice: “Inform the customer that their order shipped” → “Your order shipped.”"""
    text = strip_eg(strip_tools(step_text))
    text = RESULT_AS.sub("", text)
    rules = [
        (
            r"^(?:inform|notify|tell|remind)\s+(?:the\s+)?(?:customer|user|them)\s+of\s+",
            "Here are ",
        ),
        (
            r"^(?:inform|notify|tell|remind|let)\s+(?:the\s+)?(?:customer|user|them)\s+"
            r"(?:know\s+)?(?:that\s+)?",
            "",
        ),
        (
            r"^(?:to\s+)?(?:notify|inform|tell)\s+(?:the\s+)?(?:customer|user|them)\s+(?:that\s+)?",
            "",
        ),
        (r"^thank\s+(?:the\s+)?(?:customer|user|them)\b\s*(?:and\b.*)?", "Thank you "),
        (
            r"^(?:ensure|make sure)\s+(?:that\s+)?(?:the\s+)?(?:customer|user)\s+receives\s+"
            r"(?:a\s+)?(?:follow-up\s+)?message\s+confirming\s+(?:that\s+)?",
            "",
        ),
        (
            r"^send\s+(?:a\s+)?(?:follow-up\s+)?message\s+confirming\s+(?:that\s+)?",
            "We've confirmed ",
        ),
        (r"^(?:explain|reiterate)\s+(?:to\s+(?:the\s+)?(?:customer|user)\s+)?(?:that\s+)?", ""),
        (
            r"^apologi[sz]e\s+(?:to\s+(?:the\s+)?(?:customer|user)\s+)?(?:for\s+)?",
            "We're sorry for ",
        ),
    ]
    if re.fullmatch(
        r"\s*apologi[sz]e(?:\s+to\s+(?:the\s+)?(?:customer|user|them))?\s*\.?\s*", text, re.I
    ):
        return "We're sorry about that."
    text = _first_rewrite(text, rules)
    if text.startswith("Thank you"):
        text = re.sub(r"\s+and\s+(?:reiterate|ensure|remind|mention|confirm)\b.*$", "", text)
    if text.strip().rstrip(" .") == "Thank you":  # "thank the customer."
        text = "Thank you for your patience"
    # "… has been skipped and that the following one …": the second "that" reported
    # speech, not the message.
    text = re.sub(r"\b(and|but)\s+that\s+", r"\1 ", text)
    return sentence(_swap_voice(text))


def customer_question(step_text: str, slot: str) -> str:
    """A polite question from an ask step: “Ask for the user’s email” → “Could you please
    share your email?”"""
    text = strip_eg(strip_tools(step_text)) if slot not in ("yes_no",) else strip_tools(step_text)
    text = re.sub(
        r"\s*(?:to|and)\s+(?:look (?:them|it) up|check (?:if|whether) (?:the )?"
        r"(?:user|customer|they)\b).*$",
        "",
        text,
        flags=re.I,
    )
    patterns = [
        (r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+to\s+", "Could you please "),
        (
            r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+(if|whether)\s+",
            r"Could you let us know \1 ",
        ),
        (r"^(?:ask|request)\s+(if|whether)\s+", r"Could you let us know \1 "),
        (
            r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+(?:for\s+)?",
            "Could you please share ",
        ),
        (r"^(?:ask|request|collect)\s+(?:for\s+)?", "Could you please share "),
        (
            r"^(?:confirm|verify|double-check|check)\s+(?!with\b)(.+?)\s+with\s+(?:the\s+)?"
            r"(?:customer|user|them)\b.*$",
            r"Could you please confirm \1",
        ),
        (
            r"^confirm\s+(?:with\s+)?(?:the\s+)?(?:customer|user)['’]s\s+",
            "Could you please confirm your ",
        ),
        (
            r"^(?:confirm\s+with|find out from)\s+(?:the\s+)?(?:customer|user)\s+",
            "Could you please confirm ",
        ),
    ]
    text = _first_rewrite(text, patterns)
    return sentence(_swap_voice(text, possessive_nouns=False), "?")


def _first_rewrite(text: str, rules: list[tuple[str, str]]) -> str:
    """`text` rewritten by the first rule whose pattern changes it (case-insensitive)."""
    for pattern, repl in rules:
        new = re.sub(pattern, repl, text, count=1, flags=re.I)
        if new != text:
            return new
    return text


def option_label(text: str) -> str:
    """A short label for an offer option the author did not name: “Offer free shipping
    using @upgrade_shipping” → “Free shipping”."""
    text = strip_eg(strip_tools(text))
    text = re.sub(r"\s*#[\w ]+", "", text)
    text = re.sub(
        r"^(?:offer|provide|present|propose)\s+(?:the option (?:for|of|to)\s+)?"
        r"(?:to\s+)?(?:a |an |the )?",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(r"\s+(?:using|with|via|through|at|to|for|,).*$", "", text, flags=re.I)
    return sentence(text, "")[:60] or "Option"
