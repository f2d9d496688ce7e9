"""Everyday ways of asking for a support request, put in the words the policy library uses.

The router's model is a static embedding (a bag of tokens): it does not know that "void my
order" is a cancellation, that "reimburse" is a refund, or that "switch my plan back on" is
a restart and not a swap, because the particles and the word order carry that meaning. A
short, curated table of customer wording, written for the requests every support desk
handles (not for any one message), rewrites those expressions into the head words the
library's examples use before the message is scored. Only unambiguous wording is here: a
word that can mean two requests ("return", "exchange", "stop") is left to the model.
"""

from __future__ import annotations

import re

#: (pattern, replacement), applied in order: restarts first, so that "switch … back on"
#: is read before any swap wording. A replacement may keep a group (the object: "switch my
#: membership back on" → "restart my membership").
_WORDING: tuple[tuple[str, str], ...] = (
    # Restart: a particle or a prefix says "again".
    (r"\b(?:turn|switch|put|set|get)\s+((?:[\w']+\s+){0,3}?)back\s+on\b", r"restart \1back on"),
    (r"\bstart\s+((?:[\w']+\s+){0,4}?)(?:up\s+)?again\b", r"restart \1"),
    (r"\b(?:turn|switch|put|set)\s+((?:[\w']+\s+){0,3}?)on\s+again\b", r"restart \1back on"),
    (r"\b(?:running|going|active)\s+again\b", r"\g<0> restart"),
    (r"\bun-?cancel\w*", "restart"),
    (r"\bundo\s+(?:the\s+|my\s+)?cancell?ation\b", "restart"),
    # "renew my plan" asks for it; "it renewed" tells of a charge (not a restart).
    (r"\bre-?(?:activat|subscrib|join|instat|enrol)\w*|\brenew\b", r"\g<0> restart"),
    (r"\bresum(?:e|ed|es|ing)\b", r"\g<0> restart"),
    # Cancel: the other words for calling an order off.
    (r"\bcall\s+((?:[\w']+\s+){0,3}?)off\b", r"cancel \1"),
    (r"\b(?:void|annul\w*|scrap|withdraw|rescind|cancell?ations?)\b", r"\g<0> cancel"),
    (r"\bback\s+out\s+of\b", "cancel"),
    (r"\b(?:nix|axe|ditch|kill)\b(?=\s+(?:my|the|this|that|order|it)\b|\s+#?\d)", r"\g<0> cancel"),
    # Refund: money coming back.
    (r"\b(?:reimburs|compensat)\w*", r"\g<0> refund"),
    (r"\bmoney\s+back\b", r"\g<0> refund"),
    (
        r"\b(?:payment|money|funds|cash)\s+(?:returned|refunded|paid\s+back|put\s+back)\b|"
        r"\b(?:return|give\s+back|pay\s+back)\s+(?:my|the|our)\s+(?:payment|money|funds|cash)\b",
        r"\g<0> refund",
    ),
    (r"\b(?:reverse|reversed|reversal|charge\s?back)\b", r"\g<0> refund"),
    # Skip: leave one delivery out.
    (
        r"\b(?:sit\s+out|miss\s+out(?:\s+on)?|leave\s+out|pass\s+on|skip\s+over|jump\s+over)\b",
        "skip",
    ),
    (r"\bhold\s+off(?:\s+on)?\b", "skip"),
    (r"\bpush\s+((?:[\w']+\s+){0,3}?)back\b(?!\s+on)", r"skip \1"),
    (r"\bpostpone\w*", "skip"),
    (r"\bdelay\b(?=\s+(?:the\s+|my\s+)?(?:next|upcoming|coming))", "skip"),
    # "miss the next box", "miss one delivery"; not "I miss the old recipe" (a feeling)
    # nor "we miss the weekly deliveries" (deliveries that stopped).
    (
        r"\bmiss\b(?=\s+(?:(?:the|my|this|a|one|our)\s+)?(?:next|upcoming|coming|"
        r"(?:[\w']+\s+)?(?:box|delivery|shipment|order|parcel|month|week))\b)",
        "skip",
    ),
    # A refund that has not come through is about the refund, not a parcel.
    (
        r"\b(refund|reimbursement|money|credit)\b((?:\s+[\w']+){0,6}?)\s+(?:still\s+)?"
        r"(?:hasn'?t|has\s+not|have\s+not|haven'?t|not|never|didn'?t|did\s+not)\s+(?:yet\s+)?"
        r"(?:landed|arrived|come|came|shown\s+up|appeared|gone\s+through|come\s+through|"
        r"reached\s+me|been\s+paid)\b",
        r"\1\2 refund still due",
    ),
    # Not received: the ways of saying a parcel never came.
    (
        r"\b(?:never|not\s+yet|still\s+not|still\s+hasn'?t|hasn'?t|has\s+not|haven'?t|"
        r"have\s+not|didn'?t|did\s+not)\s+(?:been\s+)?(?:show(?:ed|n)?\s+up|turn(?:ed)?\s+up|"
        r"c[ao]me|got\s+here|reach(?:ed)?\s+me|arrived?|been\s+delivered|delivered)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:never|didn'?t|did\s+not|haven'?t|have\s+not)\s+(?:got|get|gotten|received?)\s+"
        r"(?:my|the|our|this|that)\s+(?!(?:right|correct|wrong|whole|full|rest)\b)"
        r"(?:[\w']+\s+){0,2}?(?:orders?|parcels?|packages?|deliver(?:y|ies)|box|shipments?|stuff)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\bwaiting\s+(?:for|on)\s+(?:my|the|our|this)\s+(?:[\w']+\s+){0,2}?"
        r"(?:orders?|parcels?|packages?|deliver(?:y|ies)|shipments?|stuff)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:gone|went|go)\s+missing\b|\blost\s+in\s+(?:the\s+)?(?:post|mail|transit)\b|"
        r"\bno\s+sign\s+of\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:stuck|sitting|held\s+up)\s+(?:at|in)\s+(?:the\s+)?(?:depot|customs|warehouse|sorting\s+\w+|transit|"
        r"hub|post\s+office)\b",
        r"\g<0> never arrived",
    ),
    # Wrong item: what came is not what was ordered.
    (
        r"\b(?:is\s*n'?t|is\s+not|was\s*n'?t|was\s+not|not)\s+(?:\w+\s+){0,1}?what\s+(?:i|we)\s+"
        r"(?:ordered|bought|paid\s+for|picked|chose|selected)\b",
        r"\g<0> wrong",
    ),
    (r"\bsome(?:one|body)\s+else'?s\b", r"\g<0> wrong item"),
    (
        r"\b(?:came|arrived|got|received|sent\s+me)\b(?:\s+[\w']+){0,6}?\s*,?\s+but\s+"
        r"(?:i'?m|i\s+am|i|we|we'?re)\s+(?:subscribed\s+to|ordered|paid\s+for|on|chose|picked)\b",
        r"\g<0> wrong item",
    ),
    (r"\bsent\s+(?:me\s+)?(?:[\w']+\s+){0,4}?in\s+(?:a\s+)?size\b", r"\g<0> wrong size"),
    (
        r"\b(?:ordered|paid\s+for|pay\s+for|subscribed\s+to|chose|picked|asked\s+for)\b"
        r"(?:\s+[\w']+){0,6}?\s*,?\s+(?:but|and)\s+(?:i\s+|you\s+|they\s+)?"
        r"(?:got|received|sent(?:\s+me)?|was\s+sent)\b",
        r"\g<0> wrong item",
    ),
    (
        r"\b(?:got|received|sent(?:\s+me)?|came\s+with|delivered)\s+(?:[\w']+\s+){0,3}?instead\s+of\b",
        "wrong item instead of",
    ),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), r) for p, r in _WORDING)

#: What comes in a subscription: the box, the plan, the deliveries from now on.
_WHAT_COMES = re.compile(
    r"\b(?:subs?cr\w*|sub|plan|box(?:es)?|deliver(?:y|ies)|refills?|shipments?|recurring|"
    r"monthly|weekly|(?:every|each)\s+(?:month|week)|from\s+now\s+on|going\s+forward|"
    r"in\s+(?:the\s+)?future|future)\b",
    re.IGNORECASE,
)
#: A preference between products, with no swap verb: one rather than or in place of
#: another, a move from one to another, a new one to try.
_PREFERS_A_PRODUCT = re.compile(
    r"\b(?:i'?d|i\s+would|we'?d|we\s+would)\s+(?:much\s+)?rather\s+"
    r"(?:have|get|receive|take|go\s+with|try|be\s+sent)\b|"
    r"\brather\s+than\b|\binstead\s+of\b|\bin\s+place\s+of\b|"
    r"\bprefer\b(?!\s+(?:not|to\s+(?:cancel|skip|pause|stop)))|"
    r"\b(?:try|trying)\b|\bgiv(?:e|ing)\s+(?:[\w']+\s+){1,4}?a\s+(?:go|try|whirl|shot)\b|"
    r"\b(?:go|move|change|switch|bump|upgrade|downgrade)\s+(?:me\s+|us\s+|it\s+)?"
    r"(?:over\s+)?from\b(?:\s+[\w'-]+){1,6}?\s+(?:to|for)\b",
    re.IGNORECASE,
)
#: Another request, a fault, an account detail, a day or a place beside the preference: the
#: preference is about that ("I'd rather have a refund", "… on Fridays instead"), not about
#: the product.
_ABOUT_SOMETHING_ELSE = re.compile(
    r"\b(?:cancel\w*|refund\w*|money|replace\w*|reship\w*|resend\w*|skip\w*|pause\w*|"
    r"credit|return\w*|restart\w*|exchange|wrong|damaged|broken|never\s+arrived|"
    r"tried|trying\s+to|address|email|card|payment|password|account|name|"
    # When or where it comes is not what comes.
    r"office|home|work|door|porch|neighbou?r|locker|reception|date|day|weekends?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|mornings?|afternoons?|evenings?|"
    r"\d+(?:st|nd|rd|th)|(?:come|comes|arrive|arrives|delivered|shipped|sent)\s+"
    r"(?:on|at|to|by|before|after|earlier|later|sooner))\b",
    re.IGNORECASE,
)


def _asks_for_another_product(text: str) -> bool:
    """A preference about what comes in the subscription, and nothing else asked for."""
    return bool(
        _PREFERS_A_PRODUCT.search(text)
        and _WHAT_COMES.search(text)
        and not _ABOUT_SOMETHING_ELSE.search(text)
    )


def in_library_words(text: str) -> str:
    """`text` with the everyday wording above replaced by the library's own words."""
    text = text.replace("’", "'")
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    if _asks_for_another_product(text):
        text = f"{text} swap product"
    return re.sub(r" {2,}", " ", text)
