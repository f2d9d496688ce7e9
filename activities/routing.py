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
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz

from policies.plan import Plan

#: Below this combined score nothing is plausible: the menu.
FLOOR = 0.50
#: The best candidate routes when it leads the second by at least this much.
MARGIN = 0.06
#: Within MARGIN, the second counts as a real alternative (ambiguous) above this score.
SECOND_FLOOR = 0.45

_YES = re.compile(r"^(y|yes|yeah|yep|yup|sure|correct|right|exactly|that's it|that one)\b")
_NO_ONLY = re.compile(r"^(n|no|nope|neither|none|nah|not really)[\s.!]*$")
_FIRST = re.compile(r"\b(1|one|first|former|the first one|option 1)\b")
_SECOND = re.compile(r"\b(2|two|second|latter|the second one|option 2|other one|the other)\b")
#: Where a message joins two requests.
_JOINS = re.compile(
    r"(?:\s*[.;!?]\s+|\s*,?\s+(?:and also|and then|and|also|plus|then|as well as)\s+)",
    re.IGNORECASE,
)


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


@dataclass
class Decision:
    """What the router concluded: `routed` (one candidate), `ambiguous` (two), or `none`."""

    kind: str
    ranked: list[Scored]
    later: Scored | None = None

    @property
    def top(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None


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
    ) -> None:
        self.embedder = embedder or default_embedder()
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

    # -- scoring ------------------------------------------------------------------------

    def score(self, text: str, among: Sequence[str] | None = None) -> list[Scored]:
        """Every candidate's score for `text`, best first (only the `among` keys if given)."""
        low = normalise(text)
        if not low:
            return []
        vector = self.embedder.embed([text])[0]
        sims = self._matrix @ vector if len(self._matrix) else np.zeros(0)
        per_candidate: dict[int, list[float]] = {}
        per_policy: dict[tuple[int, int], float] = {}
        for row, (ci, pi, weight) in enumerate(self._owners):
            s = float(sims[row]) * weight
            per_candidate.setdefault(ci, []).append(s)
            per_policy[(ci, pi)] = max(per_policy.get((ci, pi), -1.0), s)
        out: list[Scored] = []
        for ci, cand in enumerate(self.candidates):
            if among is not None and cand.key not in among:
                continue
            top = sorted(per_candidate.get(ci, [0.0]), reverse=True)
            semantic = 0.6 * top[0] + 0.4 * (sum(top[:3]) / len(top[:3]))
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
            exact = any(p and re.search(rf"\b{re.escape(p)}\b", low) for p in cand.exact)
            score = 0.7 * semantic + 0.3 * lexical + (0.15 if exact else 0.0)
            best_pi = max(range(len(cand.policies)), key=lambda pi: per_policy.get((ci, pi), -1.0))
            out.append(Scored(cand, score, cand.policies[best_pi]))
        out.sort(key=lambda s: (-s.score, s.candidate.key))
        return out

    def decide(self, text: str) -> Decision:
        """Route the whole message, or its first request when it makes several."""
        whole = self._decide_one(self.score(text))
        clauses = [c for c in _JOINS.split(text) if len(normalise(c).split()) >= 2]
        if len(clauses) < 2:
            return whole
        first = self._decide_one(self.score(clauses[0]))
        if first.kind != "routed":
            return whole
        assert first.top is not None
        for clause in clauses[1:]:
            other = self._decide_one(self.score(clause))
            if other.kind == "routed" and other.top is not None:
                if other.top.candidate.key != first.top.candidate.key:
                    return Decision("routed", first.ranked, later=other.top)
        if whole.kind == "routed":
            return whole
        return first

    def _decide_one(self, ranked: list[Scored]) -> Decision:
        if not ranked or ranked[0].score < FLOOR:
            return Decision("none", ranked)
        if len(ranked) == 1 or ranked[0].score - ranked[1].score >= MARGIN:
            return Decision("routed", ranked)
        if ranked[1].score >= SECOND_FLOOR:
            return Decision("ambiguous", ranked)
        return Decision("routed", ranked)

    def choose(self, text: str, keys: Sequence[str]) -> str | None:
        """The customer's answer to "is it A or B?": a number, yes (to the first), or words
        closer to one of the two; None when it stays unclear."""
        low = normalise(text)
        if not low or len(keys) < 2:
            return None
        first, second = _FIRST.search(low), _SECOND.search(low)
        if first and not second:
            return keys[0]
        if second and not first:
            return keys[1]
        if _NO_ONLY.match(low):
            return None
        ranked = self.score(text, among=keys)
        if len(ranked) == 2 and ranked[0].score - ranked[1].score >= MARGIN / 2:
            if ranked[0].score >= SECOND_FLOOR:
                return ranked[0].candidate.key
        if _YES.match(low):
            return keys[0]
        return None

    def candidate(self, key: str) -> Candidate | None:
        return next((c for c in self.candidates if c.key == key), None)
