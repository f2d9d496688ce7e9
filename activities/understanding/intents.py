"""What a reply means as an answer: yes or no (hedged ones too), taking or turning down an
offer, insisting on the cancellation, asking for a person, or raising a concern.

Phrases are matched on word boundaries over a normalised text (lower case, curly quotes
straightened, "im" → "i'm"); phrases that contain a "no" but mean yes ("no problem",
"why not") are taken out first, and an unsure answer ("not sure", "maybe") is no answer.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

HUMAN = (
    "human",
    "real person",
    "a person",
    "an agent",
    "agent please",
    "representative",
    "talk to someone",
    "speak to someone",
    "speak with someone",
    "customer service",
    "operator",
    "a manager",
    "live agent",
    "live chat",
)
INSIST = (
    "just cancel",
    "cancel anyway",
    "cancel it anyway",
    "still want to cancel",
    "still cancel",
    "still like to cancel",
    "please cancel",
    "cancel it",
    "cancel the order",
    "cancel my order",
    "i want to cancel",
    "go ahead and cancel",
    "proceed with the cancellation",
    "proceed with cancel",
    "want it cancelled",
    "want it canceled",
    "just want a cancellation",
    "cancel please",
)
DECLINE = (
    "no thanks",
    "no thank you",
    "no thx",
    "not interested",
    "none of",
    "none",
    "neither",
    "nope",
    "i'll pass",
    "i will pass",
    "pass",
    "decline",
    "i'm good",
    "i'm fine",
    "i'm ok",
    "i'm okay",
    "all good",
    "don't want any",
    "don't need any",
    "not for me",
    "no deal",
    "not tempted",
    "nothing",
)
ACCEPT = (
    "i'll take",
    "i will take",
    "i'd take",
    "sounds good",
    "sounds great",
    "let's do",
    "lets do",
    "go with",
    "i accept",
    "accept",
    "deal",
    "keep it",
    "keep the order",
    "i'll keep",
    "i'd like the",
    "i want the",
    "give me the",
    "i'll go for",
    "go for",
    "i choose",
    "i pick",
)
# Meaning yes although they hold a "no" or a "not"; taken out before anything else.
YES_DESPITE_NO = (
    "no problem",
    "no worries",
    "no prob",
    "why not",
    "not a problem",
    "no doubt",
    "i don't mind",
    "don't mind",
    "no objection",
    "can't complain",
    "i'm good with",
    "i'm fine with",
    "i'm ok with",
    "i'm okay with",
    "good with that",
    "fine with that",
    "fine by me",
    "not bad",
)
# No answer at all: the customer does not know yet.
UNSURE = (
    "not sure",
    "unsure",
    "i don't know",
    "dunno",
    "idk",
    "no idea",
    "let me check",
    "let me think",
    "need to check",
    "not certain",
    "can't remember",
    "can't recall",
    "don't remember",
)
YES = (
    "yes",
    "yeah",
    "yea",
    "ya",
    "yah",
    "yep",
    "yup",
    "yess",
    "yesss",
    "yas",
    "sure",
    "surely",
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "correct",
    "right",
    "that's right",
    "please do",
    "y",
    "i guess so",
    "guess so",
    "defo",
    "deffo",
    "def",
    "sí",
    "si",
    "claro",
    "oui",
    "ja",
    "i guess",
    "go on",
    "ye",
    "yh",
    "okie",
    "oki",
    "okie dokie",
    "i suppose",
    "suppose so",
    "i think so",
    "think so",
    "absolutely",
    "definitely",
    "certainly",
    "of course",
    "go ahead",
    "do it",
    "fine",
    "alright",
    "all right",
    "that works",
    "works for me",
    "affirmative",
    "totally",
    "indeed",
    "exactly",
    "i did",
    "i have",
    "did that",
    "done that",
    "already did",
    "already have",
    "yes please",
    "please",
    "fair enough",
    "i'm in",
    "count me in",
    "sounds good",
    "sounds great",
    "perfect",
    "great",
    "cool",
    "👍",
    "true",
    "same address",
    "that one",
    "mhm",
    "mm-hmm",
    "mmhm",
    "uh huh",
    "uh-huh",
    "you bet",
    "believe so",
    "it is",
    "it does",
    "i do",
    "they did",
    "aye",
    "roger",
    "for sure",
)
NO = (
    "no",
    "na",
    "nay",
    "no need",
    "not necessary",
    "won't be necessary",
    "won't be needed",
    "won't be required",
    "not needed",
    "not required",
    "let's not",
    "let us not",
    "guess not",
    "nah",
    "naw",
    "nope",
    "noo",
    "nooo",
    "not really",
    "n",
    "didn't",
    "did not",
    "haven't",
    "have not",
    "hasn't",
    "wrong",
    "maybe not",
    "probably not",
    "i don't think so",
    "don't think so",
    "rather not",
    "i'd rather not",
    "not now",
    "not yet",
    "not at all",
    "never",
    "negative",
    "no way",
    "of course not",
    "definitely not",
    "absolutely not",
    "certainly not",
    "don't",
    "do not",
    "i'm good",
    "i'm fine",
    "i'm ok",
    "i'm okay",
    "not interested",
    "pass",
    "i'll pass",
    "not for me",
    "no thanks",
    "no thank you",
    "not quite",
    "incorrect",
    "not right",
    "not correct",
    "👎",
    "false",
    "prefer not",
    "is not",
    "are not",
    "was not",
    "does not",
    "not here",
    "not that i know",
    "it isn't",
    "it's not",
    "isn't",
    "doesn't",
    "i don't",
    "nothing",
)
CONCERN = ("but ", "however", "concern", "worried", "problem", "issue", "question")

_HEDGED_NO = re.compile(
    r"\b(?:hmm+|um+|uh+|well|maybe|eh+)\W+(?:\w+\W+){0,2}(?:not|no|nah|don't)\b", re.I
)


# "not right now", "not for the time being", "maybe another time": a no for now.
_NOT_NOW = re.compile(
    r"\bnot\s+(?:\w+\s+){0,2}(?:now|today|tonight|yet|atm|currently|(?:the\s+)?moment|"
    r"this\s+(?:time|month|week|point|stage)|time\s+being)\b"
    r"|\b(?:maybe|perhaps|possibly)?\s*(?:another|some\s+other)\s+time\b|\bmaybe\s+later\b"
)


def _one_word_typo(text: str) -> str | None:
    """A reply of one mistyped yes or no ("yse", "nopw", "yeahh"): "yes", "no" or None.

    Letters held down are let go first; then a word of four letters or more may be one
    key off, a shorter one only two letters swapped, so real words ("now", "yet") stay
    what they are."""
    words = re.findall(r"[a-z]+", text)
    if len(words) != 1 or len(words[0]) < 3:
        return None
    word = re.sub(r"(\w)\1+$", r"\1", words[0])
    sides = {"yes": [w for w in YES if w.isalpha()], "no": [w for w in NO if w.isalpha()]}
    found = set()
    for side, targets in sides.items():
        if word in targets:
            found.add(side)
            continue
        for target in targets:
            if len(target) < 3 or abs(len(target) - len(word)) > 1:
                continue
            distance = OSA.distance(word, target)
            swapped = sorted(word) == sorted(target)
            if distance == 1 and (len(target) >= 4 or swapped):
                found.add(side)
    return found.pop() if len(found) == 1 else None


_NO_FIRST = re.compile(
    r"^\W*(?:no|nope|nah|na)\s*[,.!;-]\s*(?:i'?d|i\s+would|i'?ll|i\s+want|leave|keep)\b"
)


def normalise(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"\bim\b", "i'm", t)
    t = re.sub(r"\b(dont|didnt|havent|wont|cant|isnt|wasnt|hasnt)\b", _apostrophe, t)
    t = re.sub(r"\bid rather\b", "i'd rather", t)
    t = re.sub(r"\bill (pass|take|keep|go)\b", r"i'll \1", t)
    return t


def _apostrophe(m: re.Match[str]) -> str:
    word = m.group(1)
    return {"cant": "can't", "wont": "won't"}.get(word, word[:-1] + "'" + word[-1])


def has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w']){re.escape(p)}(?![\w'])", text) for p in phrases)


def _without(text: str, phrases: tuple[str, ...]) -> str:
    for p in phrases:
        text = re.sub(rf"(?<![\w']){re.escape(p)}(?![\w'])", " ", text)
    return text


def find_intent(text: str) -> str | None:
    t = normalise(text)
    if has_phrase(t, HUMAN):
        return "human"
    if has_phrase(t, INSIST) and not re.search(r"\b(?:don't|do not|not)\b[^.!?]*\bcancel", t):
        return "insist_cancel"
    yes_despite_no = has_phrase(t, YES_DESPITE_NO)
    t = _without(t, YES_DESPITE_NO)
    if has_phrase(t, UNSURE) and not has_phrase(
        _without(t, UNSURE), ("yes", "no", "nope", "yeah", "yep", "nah")
    ):
        return None
    if _NO_FIRST.match(t):
        return "no"  # "no, I'd rather keep it": the no comes first, the rest is why
    if has_phrase(t, DECLINE):
        return "decline"
    if has_phrase(t, ACCEPT) and not _HEDGED_NO.search(t):
        return "accept"
    if has_phrase(t, NO) or _HEDGED_NO.search(t) or _NOT_NOW.search(t):
        return "no"
    if yes_despite_no or has_phrase(t, YES):
        return "yes"
    typo = _one_word_typo(t)
    if typo is not None:
        return typo
    if has_phrase(t, CONCERN) or t.rstrip().endswith("?"):
        return "concern"
    if re.search(r"\bmaybe\b|\bperhaps\b", t):
        return None
    return None
