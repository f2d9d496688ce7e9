"""Understanding customers, in one run: routing of openings and reading of replies, on the
held-out third of each corpus, for the old rule-based path and the new one, against the
issue's targets.

    python -m benchmarks.understanding

Reuses the two benchmarks' own code (`benchmarks.understanding_routing`,
`benchmarks.understanding_replies`): the same corpora, splits, scoring and figures. Both
routers run here, in this process; the old reply path is not kept in the code, so its
figures are the ones `understanding_replies --write-baseline` recorded on the same corpus
(`results/understanding_replies_baseline.json`). The optional language model is off (as
by default): these are the figures of the deterministic path every deployment has.
Routing is judged on `blind` (`data/openings_blind.jsonl`, written at the start of the third
round and never tuned on); the held-out third of `openings.jsonl` and `fresh` had their misses
read in earlier rounds, so they are development sets now, reported beside it, as is
`round4` (`data/openings_round4.jsonl`, the fourth round's own development set).
`blind4` (`data/openings_blind4.jsonl`, 63 openings written after the fourth round's changes
and scored once) is reported beside as that round's unseen figure; it is smaller than the
blind set, so the targets stay on the blind set. `round5` (`data/openings_round5.jsonl`, 91
openings written at the start of the fifth round, before any run) was read for misses in the
fifth and sixth rounds. `round6` (`data/openings_round6.jsonl`, 96 openings written at the start
of the sixth round, before any run or change, and only scored until that round was over) was
that round's unseen set; `dev6` (`data/openings_dev6.jsonl`) was the sixth round's development
set.

Since the eighth round routing is judged on an outside author's set that nobody read:
`blind9` (`data/openings_blind9.jsonl`, 110 openings written after that round's changes by
an author who never saw the router, its wording tables or the library, briefed only on the
labels; scored once). `blind8` (118, another outside author, written before the round) is
shown beside: its lines were never read either, but its figures were watched during the
round, so it is not a held-out figure any more. Every earlier set was
written by the same hand as the router's rules, and the outside sets showed how much that
flattered them (blind8 scored 68.6% on the router that scored 93.8% on `blind`). `round8`
and `dev8` (two more outside authors) were that round's development sets; `blind` is
reported beside.

Since the ninth round routing is judged on `blind18` (`data/openings_blind18.jsonl`, 130
openings by a fourteenth outside author, written after every change of that round, never
read, scored once at the round's start and once at its end). `blind9` (the eighth round's
judged set) and `blind10`–`blind17` (eight more outside authors of the ninth round, each
scored once when it arrived and read since) are reported beside, the latter as development
sets.
The replies' targets stay on the held-out third of `replies.jsonl`; the outside authors'
reply sets (`replies_outside.jsonl`, `replies_outside2.jsonl`, `replies_outside3.jsonl`)
are shown beside.

Writes `results/understanding.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from activities.policy_store import PolicyActivities
from benchmarks import understanding_replies as replies
from benchmarks import understanding_routing as routing
from benchmarks.harness import table, write_results
from policies.library import load_library

#: The issue's targets on the held-out third: (figure, at least or at most, value).
TARGETS: dict[str, tuple[str, float]] = {
    "routing_accuracy": (">=", 0.97),
    "wrong_route_rate": ("<=", 0.01),
    "slot_f1": (">=", 0.97),
    "choice_accuracy": (">=", 0.97),
}
#: The corpus sizes the issue asks for (openings across every ticket type, replies).
MINIMUM_LINES = 300


def routing_figures(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rule-based and meaning routers on ``lines`` (the routing benchmark's scoring)."""
    library = load_library()
    old = PolicyActivities(library, semantic=False)
    new = PolicyActivities(library)
    return {"old": routing.evaluate(old, lines)[0], "new": routing.evaluate(new, lines)[0]}


def reply_figures(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """The new reply path on ``rows``; the old one as its baseline run recorded it."""
    baseline = (
        json.loads(replies.BASELINE.read_text())["figures"]["heldout"]
        if replies.BASELINE.exists()
        else None
    )
    return {"old": baseline, "new": replies.evaluate(rows)[0]}


def verdicts(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = {}
    for name, (way, target) in TARGETS.items():
        value = figures.get(name)
        met = value is not None and (value >= target if way == ">=" else value <= target)
        result[name] = {"target": f"{way} {target}", "value": value, "met": met}
    return result


def main() -> dict[str, Any]:
    openings = routing.load_corpus()
    fresh = routing.load_corpus(routing.FRESH)
    blind = routing.load_corpus(routing.BLIND)
    round4 = routing.load_corpus(routing.ROUND4)
    blind4 = routing.load_corpus(routing.BLIND4)
    round5 = routing.load_corpus(routing.ROUND5)
    round6 = routing.load_corpus(routing.ROUND6)
    dev6 = routing.load_corpus(routing.DEV6)
    round8 = routing.load_corpus(routing.ROUND8)
    dev8 = routing.load_corpus(routing.DEV8)
    blind8 = routing.load_corpus(routing.BLIND8)
    blind9 = routing.load_corpus(routing.BLIND9)
    blind10 = routing.load_corpus(routing.BLIND10)
    blind11 = routing.load_corpus(routing.BLIND11)
    blind12 = routing.load_corpus(routing.BLIND12)
    blind13 = routing.load_corpus(routing.BLIND13)
    blind14 = routing.load_corpus(routing.BLIND14)
    blind15 = routing.load_corpus(routing.BLIND15)
    blind16 = routing.load_corpus(routing.BLIND16)
    blind17 = routing.load_corpus(routing.BLIND17)
    blind18 = routing.load_corpus(routing.BLIND18)
    reply_rows = replies.load()
    heldout_openings = [x for x in openings if x["split"] == "heldout"]
    heldout_replies = [r for r in reply_rows if r["heldout"]]
    routed = routing_figures(blind18)
    routed_blind17 = routing_figures(blind17)
    routed_blind16 = routing_figures(blind16)
    routed_blind15 = routing_figures(blind15)
    routed_blind13 = routing_figures(blind13)
    routed_blind14 = routing_figures(blind14)
    routed_blind9 = routing_figures(blind9)
    routed_blind10 = routing_figures(blind10)
    routed_blind11 = routing_figures(blind11)
    routed_blind12 = routing_figures(blind12)
    outside_replies = {
        name: replies.evaluate(replies.load(replies.CORPUS.parent / f"{name}.jsonl"))[0]
        for name in (
            "replies_outside",
            "replies_outside2",
            "replies_outside3",
            "replies_outside4",
            "replies_outside5",
        )
    }
    routed_blind8 = routing_figures(blind8)
    routed_blind = routing_figures(blind)
    routed_round8 = routing_figures(round8)
    routed_dev8 = routing_figures(dev8)
    routed_heldout = routing_figures(heldout_openings)
    routed_fresh = routing_figures(fresh)
    routed_round4 = routing_figures(round4)
    routed_blind4 = routing_figures(blind4)
    routed_round5 = routing_figures(round5)
    routed_round6 = routing_figures(round6)
    routed_dev6 = routing_figures(dev6)
    read = reply_figures(heldout_replies)
    paths: dict[str, dict[str, Any]] = {}
    for path in ("old", "new"):
        route, reply = routed[path], read[path] or {}
        paths[path] = {
            "routing_accuracy": route["routing_accuracy"],
            "wrong_route_rate": route["wrong_route_rate"],
            "disambiguation_rate": route["disambiguation_rate"],
            "resolved_accuracy": route["resolved_accuracy"],
            "slot_f1": reply.get("slot_f1"),
            "choice_accuracy": reply.get("choice_accuracy"),
            "yes_no_accuracy": reply.get("yes_no_accuracy"),
        }
    targets = {path: verdicts(paths[path]) for path in paths}
    sizes = {
        "openings": len(openings)
        + len(fresh)
        + len(blind)
        + len(round4)
        + len(blind4)
        + len(round5)
        + len(round6)
        + len(dev6)
        + len(round8)
        + len(dev8)
        + len(blind8)
        + len(blind9)
        + len(blind10)
        + len(blind11)
        + len(blind12)
        + len(blind13)
        + len(blind14)
        + len(blind15)
        + len(blind16)
        + len(blind17)
        + len(blind18),
        "openings_blind18": len(blind18),
        "openings_blind17": len(blind17),
        "openings_blind16": len(blind16),
        "openings_blind15": len(blind15),
        "openings_blind14": len(blind14),
        "openings_blind13": len(blind13),
        "openings_blind12": len(blind12),
        "openings_blind11": len(blind11),
        "openings_blind10": len(blind10),
        "openings_blind9": len(blind9),
        "openings_blind8": len(blind8),
        "openings_round8": len(round8),
        "openings_dev8": len(dev8),
        "openings_blind": len(blind),
        "openings_heldout": len(heldout_openings),
        "openings_fresh": len(fresh),
        "openings_round4": len(round4),
        "openings_blind4": len(blind4),
        "openings_round5": len(round5),
        "openings_round6": len(round6),
        "openings_dev6": len(dev6),
        "replies": len(reply_rows),
        "replies_heldout": len(heldout_replies),
    }
    sizes_met = {
        "openings_ge_300": sizes["openings"] >= MINIMUM_LINES,
        "replies_ge_300": sizes["replies"] >= MINIMUM_LINES,
    }
    metrics = [*paths["new"]]
    table(
        "Understanding: routing on blind18 (an outside author's, never read), replies on "
        "the held-out third",
        ["metric", "old rule-based", "new", "target", "new meets it"],
        [
            [
                m,
                paths["old"][m],
                paths["new"][m],
                targets["new"].get(m, {}).get("target", ""),
                targets["new"].get(m, {}).get("met", ""),
            ]
            for m in metrics
        ],
    )
    for title, unseen in (
        ("blind9 (the eighth round's judged set, outside author, never read)", routed_blind9),
        ("blind8 (outside author, lines never read, figures watched)", routed_blind8),
        ("the third round's blind set (written by the router's own author)", routed_blind),
        ("the fourth round's blind set (written after its changes, scored once)", routed_blind4),
        (
            "the sixth round's set (written before any run of that round, scored only)",
            routed_round6,
        ),
    ):
        table(
            f"Routing, {title}",
            ["metric", "old rule-based", "new"],
            [
                [m, unseen["old"][m], unseen["new"][m]]
                for m in ("routing_accuracy", "wrong_route_rate", "disambiguation_rate")
            ],
        )
    for title, routed_set in (
        ("held-out third", routed_heldout),
        ("fresh openings", routed_fresh),
        ("round-four openings", routed_round4),
        ("round-five openings", routed_round5),
        ("the sixth round's development set", routed_dev6),
        ("the eighth round's first development set (outside author)", routed_round8),
        ("the eighth round's second development set (outside author)", routed_dev8),
        ("blind10 (outside author, the ninth round's; read after two scorings)", routed_blind10),
        ("blind11 (outside author, the ninth round's; read after two scorings)", routed_blind11),
        ("blind12 (outside author, the ninth round's; read after two scorings)", routed_blind12),
        ("blind13 (outside author, the ninth round's; read after two scorings)", routed_blind13),
        ("blind14 (outside author, the ninth round's; read after two scorings)", routed_blind14),
        ("blind15 (outside author, the ninth round's; read after two scorings)", routed_blind15),
        ("blind16 (outside author, the ninth round's; read after two scorings)", routed_blind16),
        ("blind17 (outside author, the ninth round's; read after two scorings)", routed_blind17),
    ):
        table(
            f"Routing, {title} (a development set now; not in the targets)",
            ["metric", "old rule-based", "new"],
            [
                [m, routed_set["old"][m], routed_set["new"][m]]
                for m in ("routing_accuracy", "wrong_route_rate", "disambiguation_rate")
            ],
        )
    table(
        "Replies, the outside authors' sets (not in the targets)",
        ["set", "slot_f1", "choice_accuracy", "yes_no_accuracy"],
        [
            [name, f["slot_f1"], f["choice_accuracy"], f["yes_no_accuracy"]]
            for name, f in outside_replies.items()
        ],
    )
    print(f"corpus sizes: {sizes}")
    figures = {
        "heldout": paths,
        "targets": targets["new"],
        "targets_old": targets["old"],
        "all_targets_met": all(v["met"] for v in targets["new"].values()),
        "routing_detail": routed,
        "replies_detail": read,
        "heldout_routing": routed_heldout,
        "fresh_routing": routed_fresh,
        "round4_routing": routed_round4,
        "blind4_routing": routed_blind4,
        "round5_routing": routed_round5,
        "round6_routing": routed_round6,
        "dev6_routing": routed_dev6,
        "blind_routing": routed_blind,
        "blind8_routing": routed_blind8,
        "round8_routing": routed_round8,
        "dev8_routing": routed_dev8,
        "blind9_routing": routed_blind9,
        "blind10_routing": routed_blind10,
        "blind11_routing": routed_blind11,
        "blind12_routing": routed_blind12,
        "blind13_routing": routed_blind13,
        "blind14_routing": routed_blind14,
        "blind15_routing": routed_blind15,
        "blind16_routing": routed_blind16,
        "blind17_routing": routed_blind17,
        "outside_replies": outside_replies,
        "corpus": sizes,
        "corpus_sizes_met": sizes_met,
    }
    root = Path(__file__).parent.parent
    write_results(
        "understanding",
        "python -m benchmarks.understanding",
        {
            "openings": str(routing.CORPUS.relative_to(root)),
            "fresh_openings": str(routing.FRESH.relative_to(root)),
            "round4_openings": str(routing.ROUND4.relative_to(root)),
            "blind4_openings": str(routing.BLIND4.relative_to(root)),
            "round5_openings": str(routing.ROUND5.relative_to(root)),
            "round6_openings": str(routing.ROUND6.relative_to(root)),
            "dev6_openings": str(routing.DEV6.relative_to(root)),
            "blind_openings": str(routing.BLIND.relative_to(root)),
            "round8_openings": str(routing.ROUND8.relative_to(root)),
            "dev8_openings": str(routing.DEV8.relative_to(root)),
            "blind8_openings": str(routing.BLIND8.relative_to(root)),
            "blind9_openings": str(routing.BLIND9.relative_to(root)),
            "blind10_openings": str(routing.BLIND10.relative_to(root)),
            "blind11_openings": str(routing.BLIND11.relative_to(root)),
            "blind12_openings": str(routing.BLIND12.relative_to(root)),
            "blind13_openings": str(routing.BLIND13.relative_to(root)),
            "blind14_openings": str(routing.BLIND14.relative_to(root)),
            "blind15_openings": str(routing.BLIND15.relative_to(root)),
            "blind16_openings": str(routing.BLIND16.relative_to(root)),
            "blind17_openings": str(routing.BLIND17.relative_to(root)),
            "blind18_openings (the routing targets)": str(routing.BLIND18.relative_to(root)),
            "replies": str(replies.CORPUS.relative_to(root)),
            "old_replies": "baseline figures, "
            + str(replies.BASELINE.relative_to(root))
            + " (the old reply path is not in the code)",
            "language_model": "off (the default)",
            "helpdesk": "web",
        },
        figures,
    )
    return figures


if __name__ == "__main__":
    main()
