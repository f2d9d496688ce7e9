"""Routing by meaning: which policy a customer's opening message is about.

Each policy is described by its example openings, trigger phrases, ticket types and its
"When to use" text. A message is scored against every description with a local sentence
embedding model (WordLlama's static token embeddings, shipped inside its PyPI wheel and
loaded once per process) plus the lexical signals the rule-based router had (an exact
trigger or ticket type in the message, fuzzy overlap with the phrases). Policies that
share a ticket type form one candidate (the variants of "Cancel order").

- The best candidate clearly ahead of the second (a margin) and above a floor: routed.
- Two candidates close to each other, both plausible: ambiguous, naming both, so the
  workflow can ask the customer which one it is.
- Nothing plausible: no route (the menu).

A message with two requests ("cancel my order and refund the last one") routes by its first
clause and names the second in `later`.

Pure functions of the message and the library: the model runs in the worker's activity or
in the API, never in workflow code.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from activities.customer_wording import (
    ends_subscriptions,
    ends_the_subscription,
    in_library_words,
    recognised_wording,
    without_told_cancellation,
)
from activities.disambiguation_answers import NEITHER, picked_by_form, says_yes
from activities.message_clauses import (
    ABBREVIATION_STOP,
    ADDS_A_REQUEST,
    ASKING,
    JOINS,
    SPEAKER_STATE,
    TELLS_A_CHARGE,
)
from activities.routing_tuning import Tuning
from activities.shop_questions import (
    OFF_TOPIC,
    asks_about_the_shop,
    asks_to_change_a_detail,
    asks_what_the_shop_does,
    asks_without_an_order,
)
from policies.plan import Plan

#: What a customer asks for, by the head words of the library's ticket types and their
#: everyday forms: after a negation ("without cancelling", "not a refund but …",
#: "instead of a replacement") or the other side of a preference ("rather skip than
#: cancel", "sooner … than get a refund"; not "over", which also means "about") the word names
#: what they do *not* want, so it is left out of the scoring.
_REQUEST_WORDS = (
    r"cancel\w*|refund\w*|reship\w*|restart\w*|skip\w*|swap\w*|replace\w*|resend\w*|"
    r"money|return\w*|pause\w*|subscription"
)
_NEGATED_REQUEST = re.compile(
    r"\b(?:without|instead of|rather than|than|not|no|never|don'?t|do not|"
    r"no need (?:for|to)|not interested in|not looking for|don'?t want(?: to)?|"
    r"do not want(?: to)?)\s+"
    r"((?:(?:a|an|the|my|to|any|for|get|getting|have|having|just)\s+)*)(" + _REQUEST_WORDS + r")\b",
    re.IGNORECASE,
)
#: Words that place a request in a subscription (a box that comes every month) rather
#: than a one-off order: between two policies that differ only in that, they decide.
_SUBSCRIPTION = re.compile(
    r"\b(subs?cr\w*|sub|monthly|weekly|quarterly|recurring|auto-?ship\w*|auto[- ]deliver\w*|"
    r"autoship\w*|refills?|membership|plan|(?:every|each)\s+(?:month|week)|"
    r"(?:this|last|next)\s+(?:month|week)'?s|clubs?|(?:second|third|another)\s+month\s+in\s+a\s+row|"
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
    r"\s+box|box\s+\d+|"
    # Only a subscription has a next delivery to skip.
    r"skip\w*|(?:next|upcoming)\s+(?:delivery|box|shipment|refill))\b",
    re.IGNORECASE,
)


def without_negated_requests(text: str) -> str:
    """The message with what it says it does not want taken out ("skip a box without
    cancelling" → "skip a box without")."""
    kept = _NEGATED_REQUEST.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)], text)
    return re.sub(r" {2,}", " ", kept)


#: A capitalised word inside a sentence: a product's or a person's name ("the Rose Hip
#: Night Cream", "Royal Mail").
_NAME_WORD = re.compile(r"(?<=[\w,] )(?-i:[A-Z][a-z][\w'-]*)")


def mentions_subscription(text: str) -> bool:
    return bool(_SUBSCRIPTION.search(text))


_STOP = frozenset(
    "a an the i i'm im my me we our you your it its it's is are was were be been am to of "
    "in on at for from with and or but so if this that these those there please pls plz "
    "can could would will just want wanted like i'd id need get got have has had do does "
    "did don't dont not no yes hi hello hey thanks thank one some any all what when "
    "how why which who still now also".split()
)


def stem(word: str) -> str:
    """A crude stem, enough to match "damaged"/"damage", "boxes"/"box", "skipping"/"skip"."""
    word = word.strip("'")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


#: Words that place things rather than ask for them: a preposition one policy happens to use
#: ("over" in one example) does not tell what a question wants ("can I order over the phone?").
_PREPOSITIONS = frozenset(
    "over about into onto through across along around under above after before from via per "
    "by with without within near".split()
)


#: Words that negate what follows ("I didn't receive it", "never arrived").
_NEGATIONS = frozenset(
    "not never no didn't didnt haven't havent hasn't hasnt isn't isnt wasn't wasnt don't dont "
    "doesn't doesnt won't wont can't cant nothing".split()
)


def content_words(text: str) -> list[str]:
    """The message's stemmed content words; a word right after a negation (at most one
    stop word between) is marked as negated: "didn't receive" → `not_receiv`, which is
    what a parcel that has not arrived says and a wrong item received does not."""
    out: list[str] = []
    negated = 0
    tokens = normalise(text).split()
    for w, nxt in zip(tokens, [*tokens[1:], ""], strict=True):
        w = w.removesuffix("'s")
        if w in _NEGATIONS:
            # "no 4402" is an order number ("No. 4402"), not a negation.
            negated = 0 if nxt.isdigit() else 2
            continue
        if w in _STOP or len(w) <= 1:
            negated = max(negated - 1, 0)
            continue
        out.append(f"not_{stem(w)}" if negated else stem(w))
        negated = 0
    return out


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text."""


class WordLlamaEmbedder:
    """WordLlama's default 256-dimension model from the files its wheel ships; downloads
    are disabled, so a missing file is an error, never a network call."""

    def __init__(self) -> None:
        import wordllama
        from wordllama import WordLlama

        package = Path(wordllama.__file__).resolve().parent
        # The wheel ships weights/… and tokenizers/…; as `cache_dir` the package folder is
        # where the loader looks for both.
        self._model = WordLlama.load(cache_dir=package, disable_download=True)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process's one model (the worker's activities and the API share it)."""
    return WordLlamaEmbedder()


@dataclass
class Candidate:
    """One routing target: the policies that share a ticket type, scored as one."""

    key: str
    policies: list[Plan]
    phrases: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        first = self.policies[0]
        return first.customer_name or first.title


@dataclass
class Scored:
    candidate: Candidate
    score: float
    best_policy: Plan
    semantic: float = 0.0
    off_topic: float = 0.0
    keywords: float = 0.0


@dataclass
class Decision:
    """What the router concluded: `routed` (one candidate), `ambiguous` (two), or `none`."""

    kind: str
    ranked: list[Scored]
    later: Scored | None = None

    @property
    def top(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None


def _top_mean(values: list[float]) -> float:
    """The best similarity, blended with the mean of the best three."""
    top = sorted(values, reverse=True)[:3]
    return 0.6 * top[0] + 0.4 * sum(top) / len(top) if top else 0.0


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")))


def when_to_use_sentences(plan: Plan) -> list[str]:
    text = re.sub(r"[#@$][\w ]+?(?=[.,;]|$)", "", plan.when_to_use)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


class MeaningRouter:
    """Scores messages against the library's policies; built once per library."""

    def __init__(
        self,
        plans: Sequence[Plan],
        group_of: dict[str, str],
        embedder: Embedder | None = None,
        tuning: Tuning | None = None,
    ) -> None:
        self.embedder = embedder or default_embedder()
        self.tuning = tuning or Tuning()
        self._off_matrix = self.embedder.embed(list(OFF_TOPIC))
        by_key: dict[str, Candidate] = {}
        for plan in plans:
            key = group_of.get(plan.id)
            if key is None:
                continue
            cand = by_key.setdefault(key, Candidate(key=key, policies=[]))
            cand.policies.append(plan)
        self.candidates = sorted(by_key.values(), key=lambda c: c.key)
        rows: list[str] = []
        owners: list[tuple[int, int, float]] = []  # candidate, policy index, weight
        for ci, cand in enumerate(self.candidates):
            for pi, plan in enumerate(cand.policies):
                phrased = [*plan.examples, *plan.triggers, *plan.ticket_types]
                cand.phrases += phrased
                cand.exact += [normalise(p) for p in [*plan.triggers, *plan.ticket_types]]
                for text in phrased:
                    rows.append(text)
                    owners.append((ci, pi, 1.0))
                for text in when_to_use_sentences(plan):
                    rows.append(text)
                    owners.append((ci, pi, 0.85))
        self._owners = owners
        self._matrix = self.embedder.embed(rows) if rows else np.zeros((0, 1), np.float32)
        self._norm_phrases = [[normalise(p) for p in c.phrases] for c in self.candidates]
        # Which candidates use each content word: a word only one of them uses says a lot.
        self._vocab: list[set[str]] = []
        for cand in self.candidates:
            words: set[str] = set()
            for plan in cand.policies:
                for text in [*cand.phrases, *when_to_use_sentences(plan)]:
                    words.update(content_words(text))
            self._vocab.append(words)
        #: Pairs of candidates that are one request, one of them for subscriptions
        #: ("Reship subscription order" and "Reship order"), subscription one first.
        self._siblings: set[tuple[str, str]] = set()
        for sub in self.candidates:
            for plain in self.candidates:
                if sub is plain:
                    continue
                sub_types = {
                    normalise(t.lower().replace("subscription", ""))
                    for p in sub.policies
                    for t in p.ticket_types
                    if "subscription" in t.lower()
                }
                plain_types = {normalise(t) for p in plain.policies for t in p.ticket_types}
                if sub_types & plain_types:
                    self._siblings.add((sub.key, plain.key))
        # A word both siblings use still tells their request apart from the others: the
        # word counts by families of candidates (siblings are one family).
        family = {c.key: c.key for c in self.candidates}
        for sub_key, plain_key in self._siblings:
            family[sub_key] = family[plain_key] = min(sub_key, plain_key)
        self._families = len(set(family.values()))
        users: dict[str, set[str]] = {}
        for cand, words in zip(self.candidates, self._vocab, strict=True):
            for word in words:
                users.setdefault(word, set()).add(family[cand.key])
        self._df: dict[str, int] = {word: len(fams) for word, fams in users.items()}
        merged: dict[str, set[str]] = {}
        for cand, words in zip(self.candidates, self._vocab, strict=True):
            merged.setdefault(family[cand.key], set()).update(words)
        #: Each candidate's family's words: the keyword signal tells families apart, the
        #: kind of order (subscription or not) tells siblings apart.
        self._family_vocab = [merged[family[c.key]] for c in self.candidates]
        #: The same sets by candidate key: siblings share one (`is` tells a family).
        self._family_of = {c.key: merged[family[c.key]] for c in self.candidates}
        self._words = sorted(self._df)

    # -- scoring ------------------------------------------------------------------------

    def parts(self, text: str) -> tuple[list[tuple[int, dict[str, float], Plan]], float]:
        """Each candidate's signals for `text` (semantic, lexical, keywords, exact) and the
        best policy inside it, plus how close the text is to the off-topic openings."""
        text = without_negated_requests(in_library_words(text))
        low = normalise(text)
        if not low:
            return [], 0.0
        vector = self.embedder.embed([text])[0]
        said = content_words(text)
        words = self._known_words(said)
        # Names the library does not use say which product, not which request: no dilution.
        names = {stem(w.lower()) for w in _NAME_WORD.findall(text)} & set(said) - self._df.keys()
        unknown = max(len(said) - len(words) - len(names), 0)
        sims = self._matrix @ vector if len(self._matrix) else np.zeros(0)
        per_candidate: dict[int, list[float]] = {}
        per_policy: dict[tuple[int, int], float] = {}
        for row, (ci, pi, weight) in enumerate(self._owners):
            s = float(sims[row]) * weight
            per_candidate.setdefault(ci, []).append(s)
            per_policy[(ci, pi)] = max(per_policy.get((ci, pi), -1.0), s)
        out: list[tuple[int, dict[str, float], Plan]] = []
        for ci, cand in enumerate(self.candidates):
            lexical = max(
                (
                    fuzz.token_set_ratio(p, low) / 100.0
                    if len(low) < 4 * len(p) + 20
                    else fuzz.partial_ratio(p, low) / 100.0
                    for p in self._norm_phrases[ci]
                    if p
                ),
                default=0.0,
            )
            signals = {
                "semantic": _top_mean(per_candidate.get(ci, [0.0])),
                "lexical": lexical,
                "keywords": self._keyword_share(words, ci, unknown),
                "exact": float(
                    any(p and re.search(rf"\b{re.escape(p)}\b", low) for p in cand.exact)
                ),
            }
            best_pi = max(range(len(cand.policies)), key=lambda pi: per_policy.get((ci, pi), -1.0))
            out.append((ci, signals, cand.policies[best_pi]))
        off = self._off_matrix @ vector
        return out, _top_mean([float(x) for x in off])

    def score(self, text: str, among: Sequence[str] | None = None) -> list[Scored]:
        """Every candidate's score for `text`, best first (only the `among` keys if given)."""
        return self._combine(*self.parts(text), among=among, subscribed=mentions_subscription(text))

    def _combine(
        self,
        parts: list[tuple[int, dict[str, float], Plan]],
        off_topic: float,
        among: Sequence[str] | None = None,
        subscribed: bool = False,
    ) -> list[Scored]:
        t = self.tuning
        sub_keys = {a for a, _ in self._siblings}
        plain_keys = {b for _, b in self._siblings}
        out: list[Scored] = []
        for ci, signals, best in parts:
            cand = self.candidates[ci]
            if among is not None and cand.key not in among:
                continue
            score = (
                t.semantic * signals["semantic"]
                + t.lexical * signals["lexical"]
                + t.keywords * signals["keywords"]
                + t.exact * signals["exact"]
            )
            # Of two sibling policies, the one whose kind of order the message names.
            if (cand.key in sub_keys and not subscribed) or (cand.key in plain_keys and subscribed):
                score -= t.subscription_fit
            out.append(
                Scored(cand, score, best, signals["semantic"], off_topic, signals["keywords"])
            )
        out.sort(key=lambda s: (-s.score, s.candidate.key))
        return out

    def _known_words(self, words: list[str]) -> list[str]:
        """The message's content words as the library spells them (typos forgiven)."""
        known: list[str] = []
        for word in words:
            if word in self._df:
                known.append(word)
            elif len(word) >= 5:
                hit = process.extractOne(word, self._words, scorer=fuzz.ratio, score_cutoff=80)
                if hit is not None:
                    known.append(hit[0])
        return known

    def _keyword_share(self, words: list[str], ci: int, unknown: int = 0) -> float:
        """The share of the message's known content words (weighted by how few families of
        candidates use them) that this candidate's phrases use. Words no policy uses count
        in the whole too (`Tuning.unknown_word` each): "leave a review" shares one word of
        two with "leave out next month's delivery", not all it says."""
        n = self._families
        total = ours = 0.0
        total += self.tuning.unknown_word * unknown
        for word in words:
            weight = np.log(1.0 + n / self._df[word])
            total += weight
            if word in self._family_vocab[ci]:
                ours += weight
        return float(ours / total) if total else 0.0

    def decide(self, text: str) -> Decision:
        """Route the whole message, or its first request when it makes several."""
        text = without_told_cancellation(ABBREVIATION_STOP.sub(r"\1", text))
        whole = self._by_recognised_wording(self._decide_one(self.score(text), text), text)
        if whole.top and ends_the_subscription(text):
            types = [t for p in whole.top.candidate.policies for t in p.ticket_types]
            if any("cancel" in t.lower() for t in types) and not ends_subscriptions(types):
                return Decision("none", whole.ranked)  # a library that cancels orders only
        clauses = [c for c in JOINS.split(text) if len(normalise(c).split()) >= 2]
        if len(clauses) < 2 or (
            whole.kind == "none" and asks_to_change_a_detail(in_library_words(text))
        ):
            return whole
        # Each clause is scored once, however many of the rules below read it; a first clause
        # that tells of a charge and asks nothing is the scene, not a request.
        clause_decision = cache(
            partial(self._decide_clause, subscribed=mentions_subscription(text))
        )
        first = clause_decision(clauses[0])
        if (
            TELLS_A_CHARGE.search(clauses[0]) and not ASKING.search(clauses[0])
        ) or not self._a_request(first):
            rest = text[text.find(clauses[0]) + len(clauses[0]) :]
            adds = bool(ADDS_A_REQUEST.search(rest)) or self._asks_on_its_own(first, clauses[0])
            return self._first_clause_first(whole, first, clauses, adds, clause_decision)
        assert first.top is not None
        for clause in clauses[1:]:
            other = clause_decision(clause)
            if self._another_request(other, clause) and other.top is not None:
                if other.top.candidate.key != first.top.candidate.key:
                    return Decision("routed", first.ranked, later=other.top)
        if whole.kind == "routed" and not ASKING.search(clauses[0]):
            return whole
        return first

    def _by_recognised_wording(self, decision: Decision, text: str) -> Decision:
        """A menu the wording rules read out of (`Tuning.recognised_floor`); no sibling rivals."""
        t = self.tuning
        ranked = decision.ranked
        if decision.kind != "none" or not ranked or ranked[0].score < t.recognised_floor:
            return decision
        ours = self._family_of[ranked[0].candidate.key]
        rival = next((r for r in ranked if self._family_of[r.candidate.key] is not ours), None)
        if rival is not None and ranked[0].score - rival.score < t.recognised_lead:
            return decision
        theirs = self._family_of[rival.candidate.key] if rival else set()
        if {stem(w) for w in recognised_wording(text)} & ours - theirs:
            return self._decide_one(ranked, text, floor=t.recognised_floor)
        return decision

    def _first_clause_first(
        self,
        whole: Decision,
        first: Decision,
        clauses: list[str],
        adds: bool,
        clause_decision: Callable[[str], Decision],
    ) -> Decision:
        """A later clause that says it adds a request ("… and I also want to cancel order
        5530", "… cancel my other one too") makes the whole message route by its strong
        words, over a first clause that asks something else in weaker ones ("where is order
        5521?"): the first clause's request goes first (the other one for later), or the
        customer is asked between the two when that clause is unsure. Without such a word
        the first clause usually sets the scene ("I paid for express shipping and it came
        late, refund the difference"): the whole message's route stands. A long message
        whose whole scores below the floor routes by its first clause when that clause
        routes on its own."""
        if whole.kind == "none" and first.kind == "routed":
            return first
        if whole.kind == "none" and first.kind == "none":
            # A story, then the one clause that asks ("… haha. Can you scrap mine?").
            asking = [
                d
                for clause in clauses[1:]
                if ASKING.search(clause) and self._a_request(d := clause_decision(clause))
            ]
            if len({d.top.candidate.key for d in asking if d.top}) == 1:
                return asking[0]
        if whole.kind == "ambiguous" and adds and first.kind == "routed" and first.top:
            # Torn between two because it asks both, one per clause: the first, then the other.
            named = {s.candidate.key for s in whole.ranked[:2]}
            for clause in clauses[1:]:
                other = clause_decision(clause)
                if (
                    other.kind == "routed"
                    and other.top
                    and other.top.candidate.key != first.top.candidate.key
                    and {first.top.candidate.key, other.top.candidate.key} == named
                ):
                    return Decision("routed", first.ranked, later=other.top)
        if whole.kind != "routed" or whole.top is None or first.top is None:
            return whole
        said = whole.top.candidate.key
        if not adds or first.kind == "none" or first.top.candidate.key == said:
            return whole
        for clause in clauses[1:]:
            other = clause_decision(clause)
            if (
                self._another_request(other, clause)
                and other.top
                and other.top.candidate.key == said
            ):
                if first.kind == "routed":
                    return Decision("routed", first.ranked, later=whole.top)
                return Decision("ambiguous", [first.top, whole.top])
        return whole

    def _another_request(self, decision: Decision, clause: str) -> bool:
        """A later clause is a request of its own when it is sure, when it routes and says
        it adds one ("also I'd like a refund for the late one"), or when it routes and asks
        in its request's own words ("… and please refund the shipping on 50988")."""
        if self._a_request(decision):
            return True
        top = decision.top
        return decision.kind == "routed" and (
            bool(ADDS_A_REQUEST.search(clause))
            or (
                top is not None
                and bool(ASKING.search(clause))
                and top.keywords >= self.tuning.asked_clause_keywords
            )
        )

    def _asks_on_its_own(self, decision: Decision, clause: str) -> bool:
        """A first clause that asks for something in its request's own words ("put me on
        the large bag instead, and skip the next one"): a request even without "also",
        not the scene the rest of the message sets ("I'm back from travelling and …" says
        where the customer is, not what they want)."""
        top = decision.top
        return (
            not SPEAKER_STATE.match(clause)
            and bool(ASKING.search(clause))
            and decision.kind == "routed"
            and top is not None
            and top.keywords >= self.tuning.clause_keywords
            and top.score >= self.tuning.unmarked_clause_floor
        )

    def _a_request(self, decision: Decision) -> bool:
        top = decision.top
        return (
            decision.kind == "routed"
            and top is not None
            and top.keywords >= self.tuning.clause_keywords
            and top.score >= self.tuning.clause_floor
        )

    def _decide_clause(self, clause: str, subscribed: bool) -> Decision:
        """One clause of a message, decided on its own words, except for the kind of order:
        the whole message says whether it is about a subscription (`subscribed`: "the last
        box had a broken jar …, also skip the next delivery")."""
        ranked = self._combine(*self.parts(clause), subscribed=subscribed)
        return self._decide_one(ranked, clause, subscribed=subscribed)

    def _decide_one(
        self,
        ranked: list[Scored],
        text: str = "",
        subscribed: bool | None = None,
        floor: float | None = None,
    ) -> Decision:
        t = self.tuning
        if not ranked or ranked[0].score < (t.floor if floor is None else floor):
            return Decision("none", ranked)
        top = ranked[0]
        # The family's meaning: a sibling may say it better ("the subscription box had …").
        ours = self._family_of[top.candidate.key]
        semantic = max(r.semantic for r in ranked if self._family_of[r.candidate.key] is ours)
        if top.score < t.off_topic_below and top.off_topic - semantic > t.off_topic_lead:
            return Decision("none", ranked)
        if top.score < t.off_topic_below and asks_about_the_shop(text):
            return Decision("none", ranked)
        if top.score < t.shop_question_below and (
            asks_what_the_shop_does(text) or asks_to_change_a_detail(in_library_words(text))
        ):
            return Decision("none", ranked)
        if (
            top.score < t.off_topic_below
            and asks_without_an_order(text)
            and not self._says_what_it_wants(text, top)
        ):
            return Decision("none", ranked)
        ranked, unfit = self._one_of_siblings(ranked, text, subscribed)
        if unfit is not None:
            return Decision("ambiguous", [ranked[0], unfit])
        if len(ranked) == 1 or ranked[0].score - ranked[1].score >= t.margin:
            return Decision("routed", ranked)
        if ranked[1].score >= t.second_floor:
            return Decision("ambiguous", ranked)
        return Decision("routed", ranked)

    def _says_what_it_wants(self, text: str, top: Scored) -> bool:
        """Whether the message uses a word that tells the best candidate's request apart
        (one that at most a third of the families of policies use): "undo the order I just
        put in" does ("undo"), "can I order by phone" does not ("order" is everyone's)."""
        ci = self.candidates.index(top.candidate)
        telling = self._families / 3
        return any(
            word in self._family_vocab[ci] and self._df[word] <= telling
            for word in self._known_words(content_words(text))
            if word not in _PREPOSITIONS
        )

    def _one_of_siblings(
        self, ranked: list[Scored], text: str, subscribed: bool | None = None
    ) -> tuple[list[Scored], Scored | None]:
        """Two sibling policies (one request, one of them for subscriptions) are one
        candidate against the others: the one whose kind of order the message names stands
        for both, with the better of their scores, and the other leaves the ranking. When
        the message names no subscription but the subscription sibling leads ("the wrong
        flavour was in my box"), that sibling is returned too, so the customer is asked
        which one it is rather than told."""
        top = ranked[0]
        pair = next(
            ((sub, plain) for sub, plain in self._siblings if top.candidate.key in (sub, plain)),
            None,
        )
        if pair is None:
            return ranked, None
        by_key = {r.candidate.key: r for r in ranked}
        sub, plain = by_key.get(pair[0]), by_key.get(pair[1])
        if sub is None or plain is None:
            return ranked, None
        if subscribed is None:
            subscribed = mentions_subscription(text)
        fit = sub if subscribed else plain
        rest = [r for r in ranked if r is not sub and r is not plain]
        if not subscribed and top is sub and plain.score >= self.tuning.floor:
            return [sub, *rest], plain
        chosen = Scored(
            fit.candidate,
            top.score,
            fit.best_policy,
            fit.semantic,
            fit.off_topic,
            max(sub.keywords, plain.keywords),
        )
        return [chosen, *rest], None

    def choose(self, text: str, keys: Sequence[str]) -> str | None:
        """The customer's answer to "is it A or B?": a number, yes (to the first), or words
        closer to one of the two; None when it stays unclear."""
        low = normalise(text)
        if not low or len(keys) < 2:
            return None
        if (form := picked_by_form(low)) is not None:
            return None if form == NEITHER else keys[form]
        ranked = self.score(text, among=keys)
        # Between two plausible candidates already: half the margin, a lower floor.
        if len(ranked) == 2 and ranked[0].score - ranked[1].score >= self.tuning.margin / 2:
            if ranked[0].score >= 0.6 * self.tuning.floor:
                return ranked[0].candidate.key
        if says_yes(low):
            return keys[0]
        return None

    def candidate(self, key: str) -> Candidate | None:
        return next((c for c in self.candidates if c.key == key), None)
