"""Options an ask or an offer names inline, without a list under it.

"Ask whether they'd like a replacement or a refund", "Ask why (too pricey / other)",
"Offer a free reshipment or a refund": the builder turns these into choice asks and
offers with one option each, and a choice condition after them names one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from policies.compiler.patterns import REFS
from policies.parser import Step

#: "(too pricey / not needed / other)": the answers an ask lists in passing
SLASH_LIST = re.compile(r"\s*\(([^()/]+(?:/[^()/]+)+)\)")
#: "whether they'd like a replacement or a refund": the alternatives after a wish verb
_ALTERNATIVES = re.compile(
    r"\b(?:whether|if|which)\b.*?\b(?:like|prefer|want|rather have|rather get|choose|pick)\s+"
    r"(?:to (?:get|have|receive) )?(?P<options>[^?.;:]+?\bor\b[^?.;:]+?)\s*(?:instead)?[?.]?$",
    re.I,
)


def alternative_offers(step: Step) -> list[Step]:
    """ "Offer a free reshipment or a refund": one option each (as if each were offered
    alone). Not split: tool references, or amounts ("a 10% or 15% discount")."""
    m = re.match(
        r"^(?P<verb>offer|propose)\s+(?:(?:the customer|them|the user)\s+)?(?P<what>.+)$",
        step.text.strip(),
        re.I,
    )
    if not m or REFS.search(step.text) or re.search(r"\d\s*%?\s+or\s+\d", step.text):
        return [step]
    parts = [p for p in re.split(r",\s*(?:or\s+)?|\s+or\s+", m.group("what").rstrip(" .")) if p]
    if len(parts) < 2 or any(len(p.split()) > 6 for p in parts):
        return [step]
    return [replace(step, text=f"{m.group('verb')} {p.strip()}") for p in parts]


def listed_options(text: str) -> list[str]:
    """The options an ask names inline: a slash list in parentheses, or alternatives
    joined by "or" after a wish verb. "… a refund or not" is a yes/no question."""
    slash = SLASH_LIST.search(text)
    answers = slash.group(1).split("/") if slash else []
    if answers and all(
        "," not in a and "." not in a.strip() and 0 < len(a.split()) <= 5 for a in answers
    ):
        parts = answers  # "(too pricey / not needed / other)", not "(apartment/unit #, …)"
    elif alternatives := _ALTERNATIVES.search(text):
        parts = re.split(r",\s*(?:or\s+)?|\s+or\s+", alternatives.group("options"))
    else:
        return []
    options = [_capitalised(p.strip().rstrip(".;,")) for p in parts if p.strip()]
    if len(options) < 2 or any(o.lower() in ("not", "no", "none") for o in options):
        return []
    return options


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
