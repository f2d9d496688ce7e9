"""Where the router's lines are: how its signals combine and the scores that route, ask
or show the menu (fitted on the corpora's development splits,
benchmarks/understanding_routing.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """How the signals combine and where the lines are (fitted on the corpus' tune split,
    benchmarks/understanding_routing.py)."""

    semantic: float = 0.55
    lexical: float = 0.2
    keywords: float = 0.25
    exact: float = 0.15
    #: Below this combined score nothing is plausible: the menu.
    floor: float = 0.50
    #: The best candidate routes when it leads the second by at least this much.
    margin: float = 0.06
    #: Within the margin, the second counts as a real alternative above this score.
    second_floor: float = 0.45
    #: The menu when the message is this much closer to an off-topic opening than to the
    #: best candidate's phrases.
    off_topic_lead: float = 0.0
    #: ... unless the best candidate scores at least this (its own words, its typos
    #: forgiven: "cancle my order pls").
    off_topic_below: float = 0.65
    #: A question whose subject is the shop and that names no order of the customer's gets
    #: the menu below this score ("do you do next-day delivery?" scores 0.68 for skip).
    shop_question_below: float = 0.8
    #: A clause of a longer message counts as a request of its own only with at least
    #: this keyword share ("Hi, I'd like to come back and restart my plan" is one request).
    clause_keywords: float = 0.5
    #: ... and at least this combined score: a clause routes on its own only when sure.
    clause_floor: float = 0.69
    #: A later clause that asks ("… and please refund the fee") is a request of its own
    #: with at least this keyword share.
    asked_clause_keywords: float = 0.35
    #: A first clause with this score (and the keyword share above) is a request of its own
    #: even when the next clause does not say it adds one ("also", "too").
    unmarked_clause_floor: float = 0.6
    #: Taken from the sibling whose kind of order (subscription or not) the message does
    #: not name.
    subscription_fit: float = 0.05
    #: A message the wording table read (a fault told, money not seen yet) routes above
    #: this score when the words it read belong to the best candidate's family and not
    #: the second's, and the best leads by `recognised_lead`: a long story dilutes the
    #: scores, not what the rule read.
    recognised_floor: float = 0.45
    recognised_lead: float = 0.1
    #: The weight in the keyword share of a content word no policy uses (a known word
    #: weighs between 0.7 and 2.3, by how few families use it).
    unknown_word: float = 0.5
