"""How a customer answers "is it A or B?" by its form, before its words are scored: a
number or a position ("the first", "2", "the latter"), a bare no, a yes (to the first)."""

from __future__ import annotations

import re

_YES = re.compile(r"^(y|yes|yeah|yep|yup|sure|correct|right|exactly|that's it|that one)\b")
_NO_ONLY = re.compile(r"^(n|no|nope|neither|none|nah|not really)[\s.!]*$")
# "one" alone is the first option; inside an answer ("the damaged one") it is not.
_FIRST = re.compile(r"\b(1|first|former)\b|^(the )?(one|number one|option one)\W*$")
_SECOND = re.compile(r"\b(2|second|latter|other one|the other)\b|^(the )?(two|number two)\W*$")
#: `picked_by_form`'s answer for a bare no: neither of the two.
NEITHER = -1


def picked_by_form(low: str) -> int | None:
    """0 or 1 for the first or second named by position, `NEITHER` for a bare no, None
    when the form does not say (the words then decide). `low`: the normalised answer."""
    first, second = _FIRST.search(low), _SECOND.search(low)
    if first and not second:
        return 0
    if second and not first:
        return 1
    return NEITHER if _NO_ONLY.match(low) else None


def says_yes(low: str) -> bool:
    """A yes to "is it A or B?" means the first one asked about."""
    return bool(_YES.match(low))
