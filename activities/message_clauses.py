"""How a customer's message divides into requests: where its clauses join, which of them
ask for something and which tell what happened, which add a request to the one before.

The router (activities/routing.py) scores a message whole and clause by clause; these
patterns decide which clauses count as requests of their own.
"""

from __future__ import annotations

import re

#: Where a message joins two requests.
JOINS = re.compile(
    r"(?:\s*[.;!?]\s+|\s*,?\s+(?:and also|and then|and|also|plus|then|as well as)\s+)",
    re.IGNORECASE,
)

#: The full stop of an abbreviation ("order no. 4402", "approx. 3 weeks"), which does not
#: end a sentence and so must not split a message into two requests.
ABBREVIATION_STOP = re.compile(
    r"\b(no|nr|num|ref|approx|appx|mr|mrs|ms|dr|st|vs|etc|e\.g|i\.e)\.(?=\s)", re.IGNORECASE
)

#: A clause that tells of a charge ("my plan renewed yesterday", "you billed me twice"):
#: what happened, the reason for a request, not one itself unless it also asks.
TELLS_A_CHARGE = re.compile(
    r"\b(?:renewed|charged|billed|debited|took\s+(?:[£$€]|\d|the\s+money|payment))", re.IGNORECASE
)
#: A clause that says how the customer is ("I'm back from …", "we were away"): the scene.
SPEAKER_STATE = re.compile(
    r"^\W*(?:(?:hi|hello|hey)\W+)?(?:i'?m|i\s+am|i\s+was|we'?re|we\s+are|we\s+were)\b",
    re.IGNORECASE,
)

#: A clause that asks (a question, a "please", a want, or a command: "skip the next one"),
#: as against one that tells what happened ("my order arrived three weeks late").
ASKING = re.compile(
    r"\?|\b(?:please|pls|plz|kindly|can|could|would|will\s+you|want|wanna|like|need|"
    r"how\s+(?:do|can)|is\s+it\s+possible|let\s+me|help|hoping)\b|"
    r"^\W*(?:cancel|refund|skip|swap|switch|change|restart|resume|reship|resend|send|stop|"
    r"put|move|give|return|pause|add|remove|make|get)\b",
    re.IGNORECASE,
)

#: Words that mark a clause as one more request on top of the one before.
ADDS_A_REQUEST = re.compile(
    r"\b(also|too|as well|additionally|another thing|separately|while you'?re at it|"
    r"in addition|on top of that|one more thing|after that|afterwards|after this|"
    r"on an?\s+(?:separate|different|side|unrelated)\s+note|unrelated|another question)\b|"
    r"^\W*plus\b|"
    # A clause about another order than the first's is another request.
    r"\b(?:my|the|an|your)?\s*(?:other|another|different)\s+(?:order|parcel|package|box|delivery)\b",
    re.IGNORECASE,
)
