"""Which option a reply chooses: by number or position, by name, or by what it means.

"the cheaper one", "keep it but faster", "the coupon thing", "swap it for something else":
each option's label and description are read into concepts (money off now, speed, a swap,
something for next time, a refund, a replacement, lost, damaged, wrong item …) and into
attributes when the options carry them (a price, a percentage, delivery days); the reply is
read the same way, with what it rules out ("not the discount") set aside. The option with
the clearly best score wins; a tie is no choice, so the bot asks again instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from rapidfuzz import fuzz

from activities.understanding.intents import normalise

CONCEPTS: dict[str, tuple[str, ...]] = {
    "money": (
        r"discount\w*",
        r"\d+\s*%\s*off",
        r"percent off",
        r"money off",
        r"cheap\w*",
        r"less expensive",
        r"lower (?:the )?price",
        r"price (?:cut|drop|reduction)",
        r"reduc\w+",
        r"sav(?:e|es|ing|ings)",
        r"pay less",
        r"costs? less",
        r"knock\w* (?:some(?:thing)?|it|a bit)? ?off",
        r"off (?:the|this|my) (?:order|price|total|bill)",
        r"markdown",
        r"price",
        r"a deal",
        r"money",
    ),
    "speed": (
        r"fast\w*",
        r"quick\w*",
        r"soon\w*",
        r"speed\w*",
        r"express",
        r"expedit\w*",
        r"rush\w*",
        r"asap",
        r"earl(?:y|ier)",
        r"overnight",
        r"next[- ]day",
        r"priority",
        r"hurry",
        r"upgrade\w*",
        r"arrive\w* (?:earlier|sooner|quicker|faster)",
        r"get (?:it|here) (?:earlier|sooner|quicker|faster)",
    ),
    # Where a parcel goes: a pickup point, the door, the depot.
    "pickup": (
        r"pick\s*-?\s*up\w*",
        r"collect\w*",
        r"(?:corner |local |parcel )?shops?",
        r"lockers?",
        r"near(?:by| me| here)?",
        r"post office",
        r"point",
    ),
    "door": (
        r"(?:my|the|front) door\w*",
        r"doorstep",
        r"home",
        r"(?:my|the) house",
        r"my (?:address|flat|place)",
        r"to me",
    ),
    "depot": (r"depot", r"warehouse", r"hold (?:it|on to it)", r"keep it there", r"sorting office"),
    "swap": (
        r"swap\w*",
        r"exchang\w*",
        r"switch\w*",
        r"trade\w*",
        r"different (?:product|item|flavou?r|one|thing|size|colou?r|variant)",
        r"another (?:product|item|flavou?r|variant)",
        r"something else",
        r"something different",
        r"different",
        r"other (?:product|item|flavou?r)",
        r"change (?:the|my) (?:product|item|flavou?r)",
        r"instead of (?:this|the) (?:product|item)",
        r"change (?:what|which)",
    ),
    "future": (
        r"coupon\w*",
        r"voucher\w*",
        r"promo\w*",
        r"codes?",
        r"next time",
        r"next (?:order|purchase|box|one|month|week|year)",
        r"future",
        r"later on",
        r"(?:store )?credit",
        r"for later",
        r"balance",
        r"(?<!back )(?:on|to|into|onto|in) my account",
        r"(?:spend|use|shop|buy)\w* (?:\w+ )?later",
    ),
    "refund": (
        r"refund\w*",
        r"money back",
        r"reimburs\w*",
        r"back (?:on|to) my (?:card|account)",
        r"get (?:my )?money",
        r"pay(?:ment)? back",
        r"(?:my|the) money(?! off)",
    ),
    "reship": (
        r"replac\w+",
        r"reship\w*",
        r"re-?send\w*",
        r"send (?:me )?(?:another|a new|it again|a fresh)",
        r"new one",
        r"ship (?:it )?again",
        r"another one",
        r"same (?:thing|item|one|product)(?: again)?",
        r"send .{0,20}\bagain",
        r"still (?:want|like|need) (?:to have )?(?:it|them|the (?:item|product|order|thing)s?)",
        r"(?:want|need) (?:the|my) (?:item|product|order|thing)s?",
    ),
    "lost": (
        r"lost",
        r"never (?:arrived|came|showed|got here|turned up|got it|received)",
        r"(?:didn't|did not|hasn't|has not|haven't|have not|never|not yet) (?:been )?"
        r"(?:arriv\w*|c[oa]me|show\w*|turn\w* up|receiv\w*|get|gotten|got|deliver\w*)",
        r"not (?:received|delivered|arrived)",
        r"missing",
        r"disappeared",
        r"stol(?:en|e)",
        r"in transit",
        r"nowhere to be found",
        r"no sign",
        r"(?:says|shows|marked(?: as)?|showing) delivered",
        r"(?:have|got|received) nothing",
        r"(?:isn't|is not|wasn't|not) (?:here|there)",
        r"no (?:package|parcel|box)",
    ),
    "damaged": (
        r"damag\w*",
        r"broke\w*",
        r"smash\w*",
        r"crack\w*",
        r"crush\w*",
        r"dent\w*",
        r"leak\w*",
        r"torn",
        r"ripped",
        r"shatter\w*",
        r"busted",
        r"wreck\w*",
        r"spill\w*",
        r"defective",
        r"in pieces",
        r"ruined",
    ),
    "wrong": (
        r"wrong",
        r"not what i (?:ordered|bought|asked for)",
        r"incorrect",
        r"someone else'?s",
        r"mix(?:ed)?[- ]?up",
        r"not mine",
        r"different (?:item|product) than",
        r"different",
        r"sent (?:me )?.{1,30}\b(?:i|but i) (?:ordered|wanted|asked for|bought)",
        r"(?:ordered|wanted|bought) .{1,30}\b(?:got|received|they sent)",
    ),
    "standard": (
        r"standard",
        r"regular",
        r"normal",
        r"usual",
        r"no rush",
        r"not in a (?:rush|hurry)",
        r"(?:don't|do not) need it (?:fast|quickly|soon)",
        r"slow\w*",
    ),
    "skip": (
        r"skip\w*",
        r"push (?:it )?back",
        r"postpone\w*",
        r"delay\w*",
        r"miss (?:one|a)",
        r"(?:sit|leave|miss) (?:it|this(?: one)?|that(?: one)?|one) out",
        r"(?:don't|do not) send (?:the |my )?(?:next|this|that)\b",
        r"leave out",
    ),
    "pause": (
        r"paus\w*",
        r"on hold",
        r"hold off",
        r"a break",
        r"stop for a",
        r"for (?:a|one) (?:month|while|bit)",
        r"take a month off",
    ),
    "cancel": (
        r"cancel\w*",
        r"end (?:it|my subscription)",
        r"stop (?:it|everything|sending)",
        r"for good",
        r"altogether",
        r"no more (?:deliveries|boxes|orders)",
    ),
}
# "the wrong address" is a typo of the customer's, not a wrong item.
_NOT_ITEMS = "address|email|number|card|account|zip|postcode|name|size chart"
_COMPILED = {
    name: re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")
    for name, parts in CONCEPTS.items()
}
# Concepts an option's text may mention only in passing ("expedited shipping at no
# charge" is about speed, not money): these need the option's label to carry them.
_LABEL_ONLY = {"money"}

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "top": 1,
    "last": -1,
    "bottom": -1,
    "final": -1,
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NEGATOR = re.compile(
    r"\b(?:not|no|don't want|do not want|don't need|without|rather than|instead of|"
    r"isn't|never mind|forget|anything but|except|other than|don'?t|do not|"
    # "skip the discount" rules it out; "skip the next box" is the skip.
    r"skip the(?! (?:next|upcoming|coming|following|first|box|delivery|shipment|order|"
    r"parcel|month|week|one)\b))\b\s+"
    r"(?P<span>(?:(?!but\b|just\b|rather\b|instead\b|i'd\b|i'll\b|i\b|give\b)[\w%'-]+\s*){1,3})"
)
_STOP = {
    "the",
    "and",
    "for",
    "use",
    "this",
    "that",
    "with",
    "their",
    "your",
    "order",
    "them",
    "customer",
    "one",
    "item",
    "get",
    "take",
    "give",
    "please",
    "would",
    "like",
    "want",
    "next",
    "time",
    "thing",
    "option",
    "extra",
    "charge",
    "cost",
    "no",
    "not",
    "at",
    "to",
    "off",
    "of",
    "another",
    "same",
    "higher",
    "value",
    "equal",
}
_CHEAPER = re.compile(
    r"\b(?:cheap(?:er|est)?|smaller|smallest|less expensive|lowest price|lower price|"
    r"least expensive|"
    r"(?:saves?|save me) (?:the )?most|(?:bigger|biggest|larger|more) (?:discount|savings?|off)|"
    r"most (?:off|money off|savings?))\b"
)
_PRICIER = re.compile(
    r"\b(?:more expensive|priciest|pricier|most expensive|premium|bigger|biggest|larger|largest)\b"
)
_FASTER = re.compile(r"\b(?:fast(?:er|est)|quick(?:er|est)|soon(?:er|est)|speedier)\b")


class Option(Protocol):
    id: str
    label: str
    description: str


def _tidy(text: str) -> str:
    """Choice wording in one shape: "15 percent" → "15%", "two-day" → "2 day",
    "discount code" → "coupon"."""
    t = normalise(text)
    t = re.sub(r"(\d+)\s*(?:percent|per cent|pct)\b", r"\1%", t)
    t = re.sub(
        r"\b(one|two|three|four|five)[- ](day|week)",
        lambda m: f"{_NUMBER_WORDS[m.group(1)]} {m.group(2)}",
        t,
    )
    t = re.sub(r"(\d+)-(day|week)", r"\1 \2", t)
    t = re.sub(r"\bbusiness (days?)\b", r"\1", t)
    t = re.sub(r"\b(?:discount|promo|money[- ]off) (?:code|voucher|coupon)\b", "coupon", t)
    return t


def _words(text: str) -> set[str]:
    words = set()
    for w in re.findall(r"[a-z0-9%]+", normalise(text)):
        if len(w) > 2 and w not in _STOP:
            words.add(re.sub(r"(?:ing|ed|es|s)$", "", w) if len(w) > 4 else w)
    return words


def concepts(text: str) -> set[str]:
    t = normalise(text)
    return {name for name, rx in _COMPILED.items() if rx.search(t)}


def _option_text(option: Option) -> tuple[str, str]:
    """Label and description without policy syntax (`@tool(...)`, `$var`)."""
    description = re.sub(r"@\w+\([^)]*\)", " ", option.description or "")
    description = re.sub(r"\buse\b|\$[A-Za-z_]\w*|#[A-Za-z_]\w*", " ", description, flags=re.I)
    return option.label, description


_AFTER_NUMBER = (
    r"(?:please|pls|plz|thanks|thank|thx|sounds|works|is|would|will|for|looks|seems|then|it|"
    r"one|option|choice)\b"
)


def _by_position(t: str, n: int) -> int | None:
    m = re.fullmatch(
        r"(?:(?:option|number|choice|no\.?)\s*|#)?(\d)\s*(?:please|pls|plz|thanks|thank you)?"
        r"\s*[.)!]*",
        t.strip(),
    ) or re.search(r"\b(?:option|number|choice|#|no\.?)\s*(\d)\b(?!\s*%)", t)
    if not m:
        # A lone digit is an option's number, unless it counts something ("3 days").
        lone = re.findall(
            r"(?<![\w%$.,])(\d)(?![\w%$.,]|\s*%|\s+(?!" + _AFTER_NUMBER + r")[a-z]{3,})", t
        )
        m = (
            re.search(
                r"(?<![\w%$.,])(\d)(?![\w%$.,]|\s*%|\s+(?!" + _AFTER_NUMBER + r")[a-z]{3,})", t
            )
            if len(lone) == 1
            else None
        )
    if m and 1 <= int(m.group(1)) <= n:
        return int(m.group(1)) - 1
    m = re.search(r"\b(?:option|number|choice)\s+(one|two|three|four|five)\b", t)
    if m and _NUMBER_WORDS[m.group(1)] <= n:
        return _NUMBER_WORDS[m.group(1)] - 1
    # Lettered: "option b", "c)", "(a)".
    m = re.search(r"\b(?:option|choice|letter)\s+([a-e])\b", t) or re.fullmatch(
        r"\W*\(?([a-e])[).]?\W*", t
    )
    if m and ord(m.group(1)) - ord("a") < n:
        return ord(m.group(1)) - ord("a")
    for word, position in _ORDINALS.items():
        if re.search(rf"\b{word}\b(?:\s+(?:one|option|choice|thing|offer|1))?", t):
            if word in {"top", "bottom"} and not re.search(rf"\b{word}\s+(?:one|option)", t):
                continue
            return position - 1 if position > 0 else n - 1
    if n == 3 and re.search(r"\bmiddle\b", t):
        return 1
    return None


def _numbers(text: str, pattern: str) -> list[float]:
    return [float(x) for x in re.findall(pattern, text)]


_COUNTED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|one|two|three|four|five)\s*(%|[a-z]{3,})")
# "15%", "15 percent" and "the 15 off" all state a percentage.
_AMOUNT = re.compile(
    r"[$€£]\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b|off\b)|"
    r"(\d+(?:\.\d+)?)\s*(?:dollars?|bucks|usd|pounds?|quid|euros?)\b"
)


def _figures(text: str) -> set[str]:
    """Amounts ("$19", "15%") and counted things ("two boxes" → "2 box") a text states."""
    out = {f"${a or c}" if a or c else f"{b}%" for a, b, c in _AMOUNT.findall(text)}
    for number, noun in _COUNTED.findall(text):
        number = str(_NUMBER_WORDS.get(number, number))
        if noun not in {"one", "off", "thing", "option", "choice", "and", "for", "the"}:
            out.add(f"{number} {re.sub(r'(?:es|s)$', '', noun)}")
    return out


def _by_figure(t: str, options: Sequence[Option]) -> int | None:
    """ "the $19 one", "the 15% off", "two boxes": the one option stating that figure."""
    said = _figures(t)
    stated = [_figures(_tidy(" ".join(_option_text(o)))) for o in options]
    if not said:
        # "the 20": a bare figure that only one option states, as a percentage or a price.
        bare = set(re.findall(r"\bthe\s+(\d+(?:\.\d+)?)\b(?!\s*[a-z%$€£])", t))
        said = {f"{b}%" for b in bare} | {f"${b}" for b in bare}
        if not said:
            return None
    hits = [i for i, figures in enumerate(stated) if said & figures]
    return hits[0] if len(hits) == 1 else None


def _by_attribute(t: str, options: Sequence[Option]) -> int | None:
    """ "the cheaper one", "the faster one": compared on what the options state."""
    if (by_figure := _by_figure(t, options)) is not None:
        return by_figure
    texts = [_tidy(" ".join(_option_text(o))) for o in options]
    prices = [_numbers(x, r"[$€£]\s*(\d+(?:\.\d+)?)") for x in texts]
    prices = [
        p or ([0.0] if re.search(r"\bfree\b", x) else [])
        for p, x in zip(prices, texts, strict=True)
    ]
    percents = [_numbers(x, r"(\d+(?:\.\d+)?)\s*%") for x in texts]
    days = [_numbers(x, r"(\d+)(?:\s*-\s*\d+)?[\s-]*(?:business\s+)?days?") for x in texts]
    days = [
        d
        or ([1.0] if re.search(r"overnight|next[- ]day", x) else [])
        or ([0.0] if re.search(r"same[- ]day|today", x) else [])
        for d, x in zip(days, texts, strict=True)
    ]

    def pick(values: list[list[float]], lowest: bool) -> int | None:
        known = [(min(v) if lowest else max(v), i) for i, v in enumerate(values) if v]
        if len(known) < 2:
            return None
        known.sort(reverse=not lowest)
        return known[0][1] if known[0][0] != known[1][0] else None

    if _CHEAPER.search(t):
        if all(prices) and (chosen := pick(prices, lowest=True)) is not None:
            return chosen
        if re.search(r"discount|off|saving|save", t) and len([p for p in percents if p]) >= 2:
            return pick(percents, lowest=False)
    if _PRICIER.search(t) and all(prices):
        return pick(prices, lowest=False)
    if _FASTER.search(t):
        return pick(days, lowest=True)
    return None


_NEGATION_WORD = re.compile(r"\b(?:not|no|never|n't)\b|n't\b")


def _fixed_phrases(t: str) -> tuple[str, set[str]]:
    """Concept phrases that hold a negation ("never arrived", "not what I ordered", "no
    rush") are meanings of their own: taken out before negation is read."""
    found: set[str] = set()
    for name, rx in _COMPILED.items():
        for m in list(rx.finditer(t)):
            if _NEGATION_WORD.search(m.group(0)):
                found.add(name)
                t = t.replace(m.group(0), " , ")
    return t, found


def _negated(t: str) -> tuple[str, str]:
    """The reply without what it rules out, and what it rules out."""
    ruled_out = " ".join(m.group("span") for m in _NEGATOR.finditer(t))
    kept = _NEGATOR.sub(" ", t)
    return kept, ruled_out


def score_options(text: str, options: Sequence[Option]) -> list[float]:
    t = re.sub(r"\bwrong (" + _NOT_ITEMS + r")\b", r"mistaken \1", _tidy(text))
    t, fixed = _fixed_phrases(t)
    kept, ruled_out = _negated(t)
    reply_words, reply_concepts = _words(kept), concepts(kept) | fixed
    out_words, out_concepts = _words(ruled_out), concepts(ruled_out)
    if _CHEAPER.search(kept):
        reply_concepts.add("money")
    scores: list[float] = []
    for option in options:
        label, description = _option_text(option)
        label_words = _words(label) | _words(option.id.replace("_", " "))
        label_concepts = concepts(label) | concepts(option.id.replace("_", " "))
        desc_concepts = concepts(description) - _LABEL_ONLY
        desc_words = _words(description) - label_words
        score = 3.0 * len(label_words & reply_words)
        score += 2.0 * len(label_concepts & reply_concepts)
        score += 1.0 * len((desc_concepts - label_concepts) & reply_concepts)
        score += 0.5 * len(desc_words & reply_words)
        # Typos: "discout", "shiping", "cupon".
        for w in reply_words - label_words:
            if len(w) >= 5 and any(len(lw) >= 5 and fuzz.ratio(w, lw) >= 80 for lw in label_words):
                score += 2.0
            # "skp", "swp": a short word with one letter left out of the label's.
            elif 3 <= len(w) < 5 and any(
                len(lw) == len(w) + 1 and lw[0] == w[0] and fuzz.ratio(w, lw) >= 85
                for lw in label_words
            ):
                score += 2.0
        score -= 4.0 * len(label_words & out_words) + 3.0 * len(label_concepts & out_concepts)
        if "future" in label_concepts | desc_concepts and "future" not in reply_concepts:
            score -= 0.25  # "a discount" means this order unless the reply says later
        elif "future" in reply_concepts and "future" not in label_concepts | desc_concepts:
            score -= 0.5  # "save it for next time" is the later option
        scores.append(score)
    return scores


_ASKS_IF_OFFERED = re.compile(
    r"^\W*(?:do|does|can)\s+you\s+(?:have|offer|do)\b|^\W*is\s+there\b|^\W*any\s+chance\s+of\b"
)
_CHANGE_OF_MIND = re.compile(
    r"\bbut\s+actually\b|\bactually\b|\bon\s+second\s+thoughts?\b|\bscratch\s+that\b|"
    r"\bchanged\s+my\s+mind\b|\bno,?\s+wait\b|\bwait,?\s+no\b|\bi\s+mean\b|"
    r"\bbut\s+(?:let'?s|let\s+us|i'?ll|we'?ll)\s+(?:just\s+)?"
)
#: A question back ("what's the difference between the first two?"): no choice yet.
_QUESTION_BACK = re.compile(r"^\W*(?:what'?s|what|which|how|why|explain|tell\s+me)\b.*\?\s*$")


def find_choice(text: str, options: Sequence[Option], *, by_position: bool = True) -> str | None:
    """The option the reply chooses, never one it rules out ("anything but the refund")."""
    t = _tidy(text)
    # A change of mind: what follows "but actually", "on second thought" is the choice.
    turn = list(_CHANGE_OF_MIND.finditer(t))
    if turn:
        later = _find_choice(t[turn[-1].end() :], options, by_position=by_position)
        if later is not None:
            return later
    chosen = _find_choice(text, options, by_position=by_position)
    if chosen is not None and (_ASKS_IF_OFFERED.match(t) or _QUESTION_BACK.match(t)):
        # "do you have same-day?" asks about an option not offered; "do you have express?"
        # names one in full, and chooses it.
        label = next(o.label for o in options if o.id == chosen).lower()
        if not set(re.findall(r"[a-z]{3,}", label)) <= set(re.findall(r"[a-z]{3,}", t)):
            return None
    _, ruled_out = _negated(t)
    out = _words(ruled_out)
    out_concepts = concepts(ruled_out)
    named_out = [
        o.id
        for o in options
        if out & (_words(o.label) | _words(o.id.replace("_", " ")))
        or out_concepts & (concepts(o.label) | concepts(o.id.replace("_", " ")))
    ]
    if (
        chosen is None
        and len(named_out) == len(options) - 1
        and (re.search(r"\bother\b", t) or len(options) == 2)
    ):
        # "not the refund, the other": of the options, the one not ruled out.
        return next(o.id for o in options if o.id not in named_out)
    for option in options:
        if option.id == chosen and out & (
            _words(option.label) | _words(option.id.replace("_", " "))
        ):
            return None
    return chosen


def _find_choice(text: str, options: Sequence[Option], *, by_position: bool = True) -> str | None:
    """The option the reply chooses, or None when it names none or two equally.

    `by_position=False` reads meaning only: for messages written before the options were
    shown ("1" then answered a menu, not this question)."""
    if not options:
        return None
    t = _tidy(text).strip()
    position = _by_position(t, len(options)) if by_position else None
    if position is not None:
        return options[position].id
    attribute = _by_attribute(t, options)
    if attribute is not None:
        return options[attribute].id
    scores = score_options(text, options)
    if len(named_options(t, options)) >= 2 and re.search(r"\b(?:both|and|or|either|plus)\b", t):
        return None  # "the discount and faster shipping": two at once is no one choice
    ranked = sorted(range(len(options)), key=lambda i: -scores[i])
    best = ranked[0]
    if scores[best] >= 1.0 and (len(ranked) == 1 or scores[best] - scores[ranked[1]] >= 0.5):
        return options[best].id
    if scores[best] >= 1.0 or not by_position:
        return None  # two options fit as well as each other: ask, do not guess (`close_options`)
    kept = _negated(t)[0].strip()
    if len(kept) < 3:
        return None
    fuzzy = [fuzz.partial_ratio(kept, o.label.lower()) for o in options]
    top = max(range(len(options)), key=lambda i: fuzzy[i])
    if fuzzy[top] >= 85 and sorted(fuzzy)[-2] < fuzzy[top]:
        return options[top].id
    return None


def named_options(t: str, options: Sequence[Option]) -> list[str]:
    """Options the reply names by a word of their label (not ruled out)."""
    kept, _ = _negated(t)
    said = _words(kept)
    return [
        o.id for o in options if _words(o.label) & said or _words(o.id.replace("_", " ")) & said
    ]


def close_options(text: str, options: Sequence[Option]) -> list[str]:
    """When a reply fits two or more options equally well, their ids (best first): the
    clarifying question names them. Empty when one fits clearly or none does."""
    if len(options) < 2:
        return []
    named = named_options(_tidy(text), options)
    if len(named) >= 2:
        return named
    scores = score_options(text, options)
    best = max(scores)
    if best < 1.0:
        return []
    tied = [o.id for o, score in zip(options, scores, strict=True) if best - score < 0.5]
    return tied if len(tied) >= 2 else []
