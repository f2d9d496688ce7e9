"""Openings that are not requests: questions about the shop (what it sells, how it works)
and the things customers write that no policy handles. The router gives these the menu even
when they share a policy's words ("do you do next-day delivery?" is not a skip)."""

from __future__ import annotations

import re

#: A question about the shop rather than a request about the customer's own order: it
#: opens like a question and names no one (no I, my, we, no order number). "What's your
#: returns policy?", "do you do next-day delivery?", "will the cherry flavour come back?"
#: share a policy's words without asking for it.
_QUESTION_OPENING = re.compile(
    r"^\W*(?:what|whats|how|do|does|are|is|will|would|when|which|who|why)\b", re.IGNORECASE
)
_SOMEONE_NAMED = re.compile(
    r"\b(?:i|i'?m|i'?ve|i'?d|i'?ll|my|me|mine|myself|we|our|us)\b|\d{3,}", re.IGNORECASE
)


#: A question whose subject is the shop ("do you …", "does your …", "are your …"): what the
#: shop does or sells, not something the customer asks it to do to an order.
_SHOP_SUBJECT = re.compile(
    r"^\W*(?:do|does|did)\s+(?:you|your|u|ya)\b(?!\s+(?:mind|think))|^\W*(?:is|are)\s+(?:your|ur)\b",
    re.IGNORECASE,
)
#: A question after a fact (how long, how much, what time): how things work, unless it names
#: one of the customer's orders ("how long does a refund take to show on my statement?" names
#: none; "how long will my parcel take?" does).
_FACT_QUESTION = re.compile(
    r"^\W*(?:how\s+(?:long|much|many|often)|what\s+time)\b",
    re.IGNORECASE,
)
_NAMES_AN_ORDER = re.compile(
    r"\b(?:my|mine|our|this|that)\s+(?:[\w']+\s+){0,2}?(?:orders?|parcels?|packages?|"
    r"box(?:es)?|deliver(?:y|ies)|shipments?|subscriptions?|sub|plan|items?|purchases?|"
    r"refunds?|money|stuff|things?)\b|\d{3,}",
    re.IGNORECASE,
)
_SPEAKS_FOR_ITSELF = re.compile(r"\b(?:i|i'?m|i'?ve|i'?d|i'?ll|me|we|us)\b", re.IGNORECASE)
_OWN_ORDER = re.compile(r"\b(?:my|mine|our|ours)\b|\d{3,}", re.IGNORECASE)
_CAN_I = re.compile(r"^\W*(?:can|could|may)\s+(?:i|we)\b", re.IGNORECASE)


def asks_about_the_shop(text: str) -> bool:
    low = text.lower().replace("’", "'")
    return bool(_QUESTION_OPENING.search(low)) and not _SOMEONE_NAMED.search(low)


def asks_what_the_shop_does(text: str) -> bool:
    """A question about the shop itself that names no order of the customer's ("Do you have
    a number I can ring?", "does your site take Klarna?"), whatever words it shares with a
    policy ("do you do next-day delivery?" is not a request to skip a delivery)."""
    low = text.lower().replace("’", "'")
    if _FACT_QUESTION.search(low):
        return not _NAMES_AN_ORDER.search(low) and not _SPEAKS_FOR_ITSELF.search(low)
    return bool(_SHOP_SUBJECT.search(low)) and not _OWN_ORDER.search(low)


def asks_without_an_order(text: str) -> bool:
    """A question that names the customer but not their order ("Can I order by phone?",
    "do you have a number I can call?"): about the shop, unless it says what it wants."""
    low = text.lower().replace("’", "'")
    return bool(_QUESTION_OPENING.search(low) or _CAN_I.search(low)) and not _OWN_ORDER.search(low)


#: Things customers write that no policy handles (account, product and shop questions,
#: greetings): a message nearer to these than to any policy gets the menu.
OFF_TOPIC = (
    "how do I reset my password",
    "I can't log in to my account",
    "what are your store hours",
    "do you ship internationally",
    "is this product gluten free",
    "what ingredients are in it",
    "do you have any promo codes",
    "I want to change my email address",
    "update the address on my account",
    "which payment options do you take",
    "do you offer wholesale",
    "are there any jobs available",
    "how long is delivery to my country",
    "I have a general question",
    "just saying thanks, great product",
    "how do I stop the marketing emails",
    "can I buy a gift card",
    "what size should I order",
    "is it safe for kids",
    "do you have a shop I can visit",
    "hi there",
    "good morning",
    "can you help me",
    "what's the warranty",
    # Vague about an order: which request it is stays open, so the menu asks.
    "I have a problem with my order",
    "question about my order",
    "I need help with an order",
    "it's about my account",
    "do you deliver abroad",
    "remove me from your newsletter",
    "change the delivery address for my next orders",
    "I want to write a review",
    "I'd like to talk to a real person",
    "can I pay with PayPal",
    "are you open at the weekend",
    "how do I use my discount code",
    "where do you send orders from",
    "is it back in stock",
    # Papers for an order: an invoice, a receipt.
    "can you send me an invoice for my order",
    "I need a receipt with the VAT on it",
    # Praise: a product named, nothing asked.
    "love your products, keep up the good work",
    "the new flavour is delicious, well done",
    # How tracking works, not where a late parcel is.
    "how do I find the tracking link for my orders",
)


#: An account detail to change: the address, the card, the email, the password.
_DETAIL_CHANGE = re.compile(
    r"\b(?:change|update|correct|fix|amend|edit)\s+(?:[\w']+\s+){0,4}?(?:address|card|e-?mail|"
    r"password|phone(?:\s+number)?|payment\s+(?:method|details|info\w*)|billing\s+\w+)\b|"
    r"\b(?:address|card|e-?mail|password|payment\s+method)\b(?:[\s,]+[\w']+){0,8}?[\s,]+"
    r"(?:change|update)\b|"
    r"\b(?:change|update)\s+(?:it|this|that)\s+to\s+\d|"
    r"\b(?:old|wrong|previous)\s+(?:address|card|e-?mail)\b|"
    r"\b(?:card|cards)\s+(?:[\w']+\s+){0,3}?(?:has\s+|had\s+|will\s+)?expir\w*",
    re.IGNORECASE,
)
#: ... unless the message asks for a request of a policy's as well.
_A_POLICYS_REQUEST = re.compile(
    r"\b(?:cancel\w*|refund\w*|money\s+back|skip\w*|paus\w*|postpon\w*|restart\w*|resum\w*|"
    r"swap\w*|reship\w*|resend\w*|replacement|broken|damaged|missing|wrong\s+item|"
    r"never\s+(?:arrived|came)|start\s+(?:it\s+)?again|going\s+again|back\s+on|"
    r"(?:re-?)?activat\w*|again)\b",
    re.IGNORECASE,
)


def asks_to_change_a_detail(text: str) -> bool:
    """A change of an account detail ("I put my old address, can you change it to …",
    "my card expired, how do I update it") and no request of a policy's with it: the
    menu, not the policy whose words (a card, an order) it shares."""
    return bool(_DETAIL_CHANGE.search(text)) and not _A_POLICYS_REQUEST.search(text)
