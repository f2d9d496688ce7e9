"""Facts in a customer's message: email, order number, shipping address.

Every usual way of writing an order number ("#5001", "order 5001", "order no. 5001",
"ORD-5001", "# 5001", "5001.") is read; a correction ("sorry, I meant 5002", "not
a@x.com, use b@x.com") picks the value the customer settled on and says so, so a fact
given earlier is replaced rather than kept.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A number introduced as an order: "order 5001", "order #5001", "order no. 5001",
# "order number: 5001", "no. 5001", "#5001", "# 5001", "ORD-5001", "ord5001".
_ORDER_MARKED = re.compile(
    r"(?:\border(?:\s*(?:number|num|nr|no\.?|id|ref(?:erence)?))?|\bord\b|\bord(?=[-#\d])"
    r"|\bnumber|\bno\.|\bnum\b|\bnr\.?|#|\bref(?:erence)?|\bconfirmation)"
    r"\s*(?:is|was|should\s+be|=|:)?\s*(?:#|no\.?\s*)?\s*-?\s*(?P<num>\d[\d ]{2,12}\d|\d{3,})"
    r"(?![\d])",
    re.I,
)
_BARE_NUMBER = re.compile(
    r"(?<![\w@.$€£/:-])(?<!\d,)#?(?P<num>\d{3,10})(?![\w@%$€£/:-]|\.\d|\s*(?:days?|weeks?|months?|"
    r"hours?|mins?|minutes?|dollars?|usd|eur|bucks|items?|units?|pcs|x\b|am|pm|packs?|pk|count|ct|"
    r"oz|ml|g|kg|lbs?|inch(?:es)?|cm|mm|calories|kcal))",
    re.I,
)
_PREFIXED_ID = re.compile(r"\b(?:ORD|ORDER|SO|PO)[-_ ]?(?P<num>\d{3,10})\b", re.I)
# Words after which the customer's next value replaces what came before it.
CORRECTION = re.compile(
    r"\b(?:i\s+meant|meant\s+to\s+say|i\s+mean|actually|correction|sorry|oops|typo|wait|"
    r"hang\s+on|hold\s+on|"
    r"instead|rather|wrong\s+(?:one|number|email|address)|not\s+that|my\s+bad|"
    r"should\s+(?:be|have\s+been)|use|scratch\s+that|make\s+that|change\s+it\s+to|"
    r"the\s+right\s+one|the\s+correct\s+one|new\s+one|"
    # A second guess: "5530 or maybe 5503", "… or is it 5503?"
    r"or\s+maybe|or\s+(?:is|was)\s+it|or\s+perhaps)\b|"
    # "72004? maybe 72040": a guess after a question.
    r"(?<=[?.])\s*maybe\b",
    re.I,
)
_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|\bisn'?t|\bwasn'?t|\binstead\s+of|\brather\s+than|\bold|\bprevious|\bwrong|"
    r"\bforget|\bignore|\bscratch)[ \t,:#'\"-]+"
    r"(?:(?:the|that|order|number|no|email|address|my|one|was|is|it|which)[ \t,:#'\"-]+){0,3}$",
    re.I,
)
_STREET = re.compile(
    r"\b\d+[A-Za-z]?\s+(?:[A-Za-z0-9.'-]+\s+){0,4}"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|way|court|ct|place|pl|"
    r"terrace|square|sq|parkway|pkwy|highway|hwy)\b\.?[^\n]*",
    re.I,
)
_REGION_POSTAL = re.compile(
    r"^(?P<city>[A-Za-z .'-]+?)[,\s]+(?P<region>[A-Z]{2})\s+(?P<postal>\d{5}(?:-\d{4})?)"
    r"(?:[,\s]+(?P<country>[A-Za-z .]+))?$"
)
_UNIT = re.compile(r"^(?:apt|apartment|unit|suite|ste|#|floor|fl)\b", re.I)


def _settled(candidates: list[tuple[int, str]], text: str) -> tuple[str | None, bool]:
    """Of the values found (position, value), the one the customer settled on, and whether
    the message corrects an earlier one. Values named as wrong ("not 5001") drop out; after
    a correction word the last value stands."""
    if not candidates:
        return None, False
    kept = [(pos, value) for pos, value in candidates if not _NEGATED_BEFORE.search(text[:pos])]
    dropped = len(kept) < len(candidates)
    corrected = bool(CORRECTION.search(text)) or dropped
    if not kept:
        return None, corrected
    distinct = {value for _, value in kept}
    if len(distinct) == 1 or not corrected:
        # One value, or several without a correction ("7024 and 7025"): the first.
        return kept[0][1], corrected
    # Several different values and a correction: the one after the last correction word.
    last_correction = max((m.end() for m in CORRECTION.finditer(text)), default=-1)
    after = [value for pos, value in kept if pos >= last_correction]
    return (after[0] if after else kept[-1][1]), True


_SPELT_EMAIL = re.compile(
    r"\b([\w.+-]+)\s*(?:\(at\)|\[at\]|\sat\s)\s*([\w-]+)\s*(?:\(dot\)|\[dot\]|\sdot\s|\.)\s*"
    r"(com|net|org|io|co|us|uk|de|fr|ca|au|edu)\b",
    re.I,
)


def find_emails(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    if "@" not in text:
        # "kay at example dot com", written so a bot would not harvest it.
        # "anna dot berg at …": the dots of the name spelt out too.
        if re.search(r"\sat\s", text):
            text = re.sub(r"(?<=\w)\s+dot\s+(?=\w)", ".", text, flags=re.I)
        text = _SPELT_EMAIL.sub(lambda m: f"{m.group(1)}@{m.group(2)}.{m.group(3)}", text)
    for m in EMAIL.finditer(text):
        try:
            email = validate_email(m.group(0).rstrip("."), check_deliverability=False).normalized
        except EmailNotValidError:
            continue
        found.append((m.start(), email))
    return found


def find_email(text: str) -> str | None:
    return _settled(find_emails(text), text)[0]


def email_with_correction(text: str) -> tuple[str | None, bool]:
    return _settled(find_emails(text), text)


def _digits(raw: str) -> str:
    return re.sub(r"\s", "", raw)


# An opening that is about an order: a bare long number in it is the order's
# ("refund 6142 please", "6144 never came"); a year is not.
_ORDER_TALK = re.compile(
    r"\b(?:order\w*|package|parcel|shipment|delivery|box|item|refund\w*|cancel\w*|return\w*|"
    r"reship\w*|track\w*|arriv\w*|came|deliver\w*|purchase\w*|bought|charged|ship\w*|"
    r"never|missing|lost|late|damaged|broken|wrong|turned\s+up|showed\s+up|chang\w*|updat\w*|"
    r"address|status)\b",
    re.I,
)
_NOT_AN_ORDER = re.compile(
    r"\b(?:zip|zip\s*code|post\s*code|postal\s*code|phone|tel|mobile|cell|call\s+me\s+(?:at|on)|"
    r"apt|apartment|unit|suite|room|po\s+box|card|account|sku|item\s+no|paid|pay|cost|costs|"
    r"spent|charged|price|total|worth|tracking(?:\s+(?:number|no\.?|code|id|#))?|size|"
    r"since|in\s+the\s+year)(?:\s+(?:number|no\.?|#|id|code))?"
    r"\W*(?:is\W+|was\W+|me\W+|about\W+|around\W+)?$",
    re.I,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


#: An answer's digits typed in groups, ending the reply.
_GROUPS_AT_THE_END = re.compile(r"(?<![\d.,-])\d{2,4}(?:[ -]\d{1,4}){1,3}(?=\s*[.!]?\s*$)")
_LETTER_PREFIX = re.compile(r"(?<![\w])(#?[A-Za-z]{1,2}-)(\d{4,10})\b")
#: A number read out digit by digit ("9 9 0 2 1"): one number, padded to keep positions.
_DIGITS_READ_OUT = re.compile(r"(?<![\d.,])\d(?: \d){3,9}(?![\d.,])")


def order_numbers(text: str, *, expecting: bool) -> list[tuple[int, str]]:
    """Every order number in the message with its position; bare numbers only when the
    bot asked for one (a bare "5001" is an answer, "I have 2 kids" is not)."""
    without_emails = _DIGITS_READ_OUT.sub(
        lambda m: m.group(0).replace(" ", "") + " " * m.group(0).count(" "),
        EMAIL.sub(lambda m: " " * len(m.group(0)), text),
    )
    if expecting:
        # The answer typed in groups ("401 922", "903-441-2") at the end of the reply, or
        # behind a letter ("#A-30987").
        without_emails = _GROUPS_AT_THE_END.sub(
            lambda m: re.sub(r"[ -]", "", m.group(0)) + " " * len(re.findall(r"[ -]", m.group(0))),
            without_emails,
        )
        without_emails = _LETTER_PREFIX.sub(
            lambda m: " " * len(m.group(1)) + m.group(2), without_emails
        )
    found: dict[int, str] = {}
    for m in _PREFIXED_ID.finditer(without_emails):
        found[m.start("num")] = m.group("num")
    for m in _ORDER_MARKED.finditer(without_emails):
        raw = m.group("num")
        if len(_digits(raw)) > 12 or _NOT_AN_ORDER.search(without_emails[: m.start()]):
            continue  # a tracking number, a phone number: not an order
        # "order 5001 2 items": a space only joins digit groups of 3+ ("5 001" is not it).
        groups = raw.split()
        number = _digits(raw) if all(len(g) >= 3 for g in groups[1:]) else groups[0]
        if len(number) >= 3:
            found.setdefault(m.start("num"), number)
    for m in _BARE_NUMBER.finditer(without_emails):
        start = m.start("num")
        if any(pos <= start < pos + len(num) + 2 for pos, num in found.items()):
            continue
        if _YEAR.match(m.group("num")) and re.search(
            r"\b(?:in|from|since|of|year)\s+$", without_emails[:start], re.I
        ):
            continue
        unasked = not expecting and not CORRECTION.search(without_emails[:start])
        if unasked and not (
            _ORDER_TALK.search(without_emails)
            and len(m.group("num")) >= 4
            and not _YEAR.match(m.group("num"))
        ):
            continue
        if _in_address(without_emails, m.start("num")):
            continue
        if _NOT_AN_ORDER.search(without_emails[:start]):
            continue
        found[start] = m.group("num")
    return sorted(found.items())


def _in_address(text: str, pos: int) -> bool:
    """A house number or a ZIP code is no order number."""
    for m in _STREET.finditer(text):
        if m.start() <= pos < m.end():
            return True
    return bool(re.match(r"[A-Z]{2}\s+$", text[max(0, pos - 4) : pos]))


def find_order_number(text: str, *, expecting: bool) -> str | None:
    return _settled(order_numbers(text, expecting=expecting), text)[0]


def order_with_correction(text: str, *, expecting: bool) -> tuple[str | None, bool]:
    return _settled(order_numbers(text, expecting=expecting), text)


_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT",
    "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI",
    "wyoming": "WY",
}  # fmt: skip
_STATE_NAME = re.compile(
    r",?\s+(" + "|".join(sorted(_STATE_NAMES, key=len, reverse=True)) + r")\s+(?=\d{5}\b)",
    re.I,
)
_AFTER_ZIP = re.compile(r"^(.*?\b[A-Z]{2}\s+\d{5}(?:-\d{4})?)\b", re.S)


def _tidy_address(text: str) -> str:
    """One line; a state written out ("Ohio") as its code; nothing after the ZIP."""
    text = re.sub(r"\s*\n\s*", ", ", text.strip())
    text = _STATE_NAME.sub(lambda m: f", {_STATE_NAMES[m.group(1).lower()]} ", text)
    m = _AFTER_ZIP.match(text)
    return m.group(1) if m else text


def parse_address(text: str) -> dict[str, str] | None:
    """`12 Elm Street, Apt 4, Springfield, IL 62704` → the catalog's Address fields.

    US-style lines (street, optional unit, city, state, ZIP); anything it cannot split
    with confidence is not taken, so the bot asks again rather than ship to a guess.
    """
    parts = [p.strip() for p in _tidy_address(text).rstrip(".").split(",") if p.strip()]
    if len(parts) < 2 or not re.match(r"^\d+[A-Za-z]?\s+\S", parts[0]):
        return None
    line1, rest = parts[0], parts[1:]
    line2 = rest.pop(0) if rest and _UNIT.match(rest[0]) else None
    unit = re.search(r"\s+((?:apt|apartment|unit|suite|ste|#)\.?\s*\w+)$", line1, re.I)
    if unit and line2 is None:
        line1, line2 = line1[: unit.start()], unit.group(1)
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


_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
).split()
_SUFFIX = (
    r"street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|way|court|ct|place|pl|"
    r"terrace|square|sq|parkway|pkwy|highway|hwy"
)
# "12 elm st apt 4 springfield il 62704": one line, no commas.
_ONE_LINE = re.compile(
    rf"(?P<line1>\b\d+[A-Za-z]?\s+(?:[A-Za-z0-9.'-]+\s+){{0,4}}?(?:{_SUFFIX})\b\.?)"
    r"(?:\s+(?P<line2>(?:apt|apartment|unit|suite|ste|#)\.?\s*\w+))?"
    r"\s+(?P<city>[A-Za-z .'-]+?)\s+(?P<region>[A-Za-z]{2})\s+(?P<postal>\d{5}(?:-\d{4})?)\b",
    re.I,
)


def _one_line_address(text: str) -> dict[str, str] | None:
    m = _ONE_LINE.search(text)
    if not m or m.group("region").upper() not in _STATES:
        return None
    address = {
        "line1": m.group("line1").strip(),
        "city": m.group("city").strip().title(),
        "region": m.group("region").upper(),
        "postal_code": m.group("postal"),
        "country": "US",
    }
    if m.group("line2"):
        address["line2"] = m.group("line2")
    return address


def find_address(text: str, *, expecting: bool) -> dict[str, str] | None:
    text = _tidy_address(text) if expecting else text
    m = _STREET.search(text)
    candidate = m.group(0) if m else (text if expecting else "")
    parsed = parse_address(candidate) if candidate else None
    return parsed or _one_line_address(text)
