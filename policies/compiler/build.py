"""Build stage: the plan nodes for a step once its kind is known.

Branches, offers and claim follow-ups hold further steps, so a builder hands those back
to the classify stage (the classifier passes itself in as `steps`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from policies.compiler.check import Checker
from policies.compiler.options import SLASH_LIST, alternative_offers, listed_options
from policies.compiler.patterns import (
    ASK,
    CANCELLING,
    CONFIRM_WITH,
    LIST_PROMPT,
    MERGED_PROMPT,
    OFFER,
    OPTIONS_PROMPT,
    QUOTED,
    REFS,
    RESULT_AS,
    SINGLE_PROMPT,
)
from policies.compiler.state import CompileState, OptionsAsked, Scope
from policies.compiler.wording import customer_message, customer_question, option_label
from policies.conditions import Condition, Truthy, Vocab
from policies.customer_text import without_syntax
from policies.parser import Step
from policies.plan import (
    AskNode,
    AskSlot,
    BranchNode,
    CallNode,
    EscalateNode,
    FollowUpClaimNode,
    Node,
    NoteNode,
    OfferNode,
    OfferOption,
    SayNode,
    SlotKind,
)

if TYPE_CHECKING:
    from policies.compiler.classify import Classifier


class Builder:
    def __init__(self, state: CompileState, checker: Checker, steps: Classifier) -> None:
        self.state = state
        self.sink = state.sink
        self.checker = checker
        self.steps = steps

    def note(
        self, step: Step, *, recognised: bool = True, refs: list[str] | None = None
    ) -> NoteNode:
        return NoteNode(
            text=step.text,
            recognised=recognised,
            refs=refs or [],
            line=step.line,
            step=step.label,
            source=step.text,
        )

    def unrecognised(self, step: Step, why: str, fix: str | None = None) -> None:
        self.sink.report(
            "TF008",
            f"I can't turn step {step.label} into anything that runs: {why}. "
            "It was kept as a note, so it will not run.",
            step,
            fix=fix
            or "Start the step with what should happen: “Ask for …”, “Inform the "
            "customer that …”, “Use @tool(…)”, “If …:”, “Offer …:”, “Route the case "
            "to an agent”, or “Proceed with #Policy”. Or rephrase it as a note, e.g. "
            "“BigCommerce will also email a receipt.”",
        )

    def branch(
        self,
        step: Step,
        cond_text: str,
        rest: str,
        children: list[Step],
        scope: Scope,
        in_offer: bool,
    ) -> list[Node]:
        cond = self.checker.condition(step, cond_text, scope)
        if cond is None:
            asks = [rest, *(c.text for c in children)]
            if any(OFFER.match(a) or (ASK.match(a) and listed_options(a)) for a in asks):
                # a choice after this step must not read an older question's options
                self.state.last_options = OptionsAsked(step.label, [], [], lost=True)
            return [self.note(step, recognised=False)]
        inner = scope.child()
        for var in _guaranteed_vars(cond):
            inner.bind(var)
        then: list[Node] = []
        if rest and children and OFFER.match(rest) and not in_offer:
            # "If yes → offer a choice:- A: … - B: …": the bullets are the offer's options
            then += self.steps.compile_text(step, rest, inner, children=children)
            children = []
        elif rest:
            then += self.steps.compile_text(step, rest, inner, in_offer=in_offer)
        then += self.steps.compile_steps(children, inner)
        if isinstance(cond, Vocab) and cond.intent in ("accept", "yes"):
            self._applied_here(then)
        if not then and (rest or children):
            # the action was written but did not compile: its own diagnostic says why
            return [self.note(step, recognised=False)]
        if not then:
            self.sink.report(
                "TF007",
                f"Step {step.label} says what to check (“{cond_text.strip()}”) but not "
                "what to do then, so the branch would do nothing.",
                step,
                fix="Write the action after the colon, or put the steps under it:\n"
                "  c. If the user declines:\n     - Proceed with #Single order "
                "cancellation.",
            )
            return [self.note(step, recognised=False)]
        return [
            BranchNode(condition=cond, then=then, line=step.line, step=step.label, source=step.text)
        ]

    def by_answer(self, step: Step, scope: Scope) -> list[Node]:
        """ "Based on the reason, make one offer:" with "- Too pricey: offer …" lines: each
        line runs when the answer to the latest question with options is its label."""
        out: list[Node] = []
        asked = self.state.last_options  # an offer in one line must not answer the next
        for child in step.children:
            label, _, body = child.text.partition(":")
            if not child.labelled:
                out += self.steps.compile_steps([child], scope)
                continue
            self.state.last_options = asked
            cond = self.checker.choice(child, label.strip(), label.strip(), True)
            if cond is None:
                out.append(self.note(child, recognised=False))
                continue
            then = self.steps.compile_text(
                child, body.strip(), scope.child(), children=child.children
            )
            out.append(
                BranchNode(
                    condition=cond, then=then, line=child.line, step=child.label, source=child.text
                )
            )
        return out

    def _applied_here(self, then: list[Node]) -> None:
        """ "Offer to skip …" then "If the customer agrees, use @skip_next_shipment": the
        author applies the offer in the accept branch, so the call the compiler inferred
        for the option goes (else the customer's shipment is skipped twice)."""
        asked = self.state.last_options
        explicit = {n.tool for n in then if isinstance(n, CallNode) and not n.inferred}
        if asked is None or asked.offer is None or not explicit:
            return
        for option in asked.offer.options:
            option.steps = [
                n
                for n in option.steps
                if not (isinstance(n, CallNode) and n.inferred and n.tool in explicit)
            ]

    def ask(self, step: Step, text: str, scope: Scope, children: list[Step]) -> AskNode:
        base = {"line": step.line, "step": step.label, "source": step.text}
        low = text.lower()
        named = RESULT_AS.search(text)
        text_wo = RESULT_AS.sub("", text) if named else text
        quoted = QUOTED.search(text_wo)
        slot: SlotKind
        var: str
        options: list[str] = []
        skip = False
        more: list[tuple[SlotKind, str, bool]] = []
        listed = listed_options(text_wo)
        if options_under(children):
            slot, options = "choice", [_clean_option(c.text) for c in children]
        elif listed and not CONFIRM_WITH.match(text_wo):
            slot, options = "choice", listed
        if options:
            var = (
                "issue"
                if "issue" in low
                else "reason"
                if re.search(r"\breason|\bwhy\b", low)
                # an inline list gets the step's own name: a second choice ask must not
                # read as answered by the first
                else "choice"
                if not listed
                else _answer_var(step, low)
            )
        elif CONFIRM_WITH.match(text_wo):
            slot, var = "yes_no", _answer_var(step, low)
        elif len(facts := _facts(low)) > 1:
            # "Ask for the user's email address and the order number": one question,
            # several facts, each stored as if asked alone
            (slot, var, skip), *more = facts
        elif "email" in low:
            slot, var, skip = "email", "email", True
        elif re.search(r"order (?:number|id|#)", low):
            slot, var, skip = "order_number", "order_id", True
        elif "address" in low and re.search(r"\bnew\b|\bprovide|\bdifferent", low):
            slot, var = "address", "new_address"
        elif re.search(r"\bif\b|\bwhether\b|\bconfirm|\bare they|\bdo they|\bis it", low):
            slot, var = "yes_no", _answer_var(step, low)
        else:
            slot, var = "free_text", _answer_var(step, low)
        if named:
            var = named.group(1)
        question = (
            self.checker.customer_text(step, quoted.group(1), "question")
            if quoted
            else customer_question(SLASH_LIST.sub("", text_wo) if options else text_wo, slot)
        )
        if quoted:
            # the author's own question is sent as written: its `$vars` must be set by now
            self.checker.check_vars(step, quoted.group(1), scope)
        scope.bind(var)
        if options:
            self.state.last_options = OptionsAsked(step.label, [var], [(o, o) for o in options])
        also = [
            AskSlot(slot=kind, var=name, question=FACT_QUESTIONS[kind])
            for kind, name, _ in (more if not options and len(_facts(low)) > 1 else [])
        ]
        for extra in also:
            scope.bind(extra.var)
        return AskNode(
            slot=slot,
            question=question,
            var=var,
            options=options,
            skip_if_known=skip,
            also=also,
            **base,
        )

    def offer(self, step: Step, text: str, scope: Scope, children: list[Step]) -> OfferNode:
        quoted = QUOTED.search(text)
        options: list[OfferOption] = []
        # the offer's own words, not the whole step ("If …, offer store credit")
        items = children or alternative_offers(replace(step, text=text))
        for child in items:
            label, _, rest = child.text.partition(":") if child.labelled else ("", "", child.text)
            body = rest.strip() or child.text
            if not label:
                label = option_label(body)
            steps = self.steps.compile_text(
                child,
                body,
                scope.child(),
                in_offer=True,
                children=child.children if children else [],
            )
            options.append(
                OfferOption(
                    id=_slug(label),
                    label=self.checker.customer_text(child, label.strip(), "option label"),
                    # derived from the option's action: "Reship the order using #Reshipment"
                    # reads "Reship your order." (the step is the author's, not the words)
                    description=without_syntax(customer_message(body), keep_vars=True),
                    line=child.line,
                    steps=steps,
                )
            )
        prompt = (
            self.checker.customer_text(step, quoted.group(1), "offer prompt")
            if quoted
            else (self._list_prompt() if children else SINGLE_PROMPT)
        )
        if quoted:
            self.checker.check_vars(step, quoted.group(1), scope)
        scope.bind("offer")
        offer = OfferNode(
            prompt=prompt, options=options, line=step.line, step=step.label, source=step.text
        )
        self.state.last_options = OptionsAsked(
            step.label, ["offer", "choice"], [(o.id, o.label) for o in options], offer
        )
        return offer

    def _list_prompt(self) -> str:
        """ "Before we go ahead …" where the customer came to cancel; plain elsewhere."""
        return LIST_PROMPT if CANCELLING.search(self.state.situation) else OPTIONS_PROMPT

    def follow_up(
        self, step: Step, text: str, scope: Scope, children: list[Step]
    ) -> FollowUpClaimNode:
        if not scope.has("claim"):
            self.sink.report(
                "TF006",
                f"Step {step.label} follows up on a carrier claim, but no claim "
                "has been filed before it.",
                step,
                fix="File the claim first: `Open a claim with the carrier using "
                "@file_carrier_claim(order_id: str).`",
            )
        approved: list[Node] = []
        rejected: list[Node] = []
        for child in children:
            target = approved if re.search(r"approv|accept|paid", child.text, re.I) else rejected
            _, _, rest = child.text.partition(":")
            inner = scope.child()
            if rest.strip():
                target += self.steps.compile_text(child, rest.strip(), inner)
            target += self.steps.compile_steps(child.children, inner)
        if not approved:
            approved = [
                SayNode(
                    text="Good news: the carrier approved the claim for your "
                    "order. We'll be in touch with the next steps.",
                    generated=True,
                    line=step.line,
                    step=step.label,
                    source=step.text,
                )
            ]
        if not rejected:
            rejected = [
                EscalateNode(
                    reason="the carrier rejected the claim",
                    note="Claim $claim.claim_id was rejected; please review.",
                    line=step.line,
                    step=step.label,
                    source=step.text,
                )
            ]
        return FollowUpClaimNode(
            notice=customer_message(text),
            on_approved=approved,
            on_rejected=rejected,
            line=step.line,
            step=step.label,
            source=step.text,
        )


def options_under(children: list[Step]) -> bool:
    """The lines under an ask are its options ("- Small  - Medium"), not steps."""
    return bool(children) and all(
        c.marker == "bullet" and not REFS.search(c.text) and len(c.text.split()) <= 8
        for c in children
    )


def _guaranteed_vars(cond: Condition) -> list[str]:
    """Names a `then` branch may rely on because the condition tested them."""
    if isinstance(cond, Truthy):
        return [cond.value.path[0]]
    if isinstance(cond, Vocab) and isinstance(cond.expansion, Truthy):
        return [cond.expansion.value.path[0]]
    return []


#: The facts a compound ask can hold, how each is found in the step and stored.
_FACT_WORDS: tuple[tuple[SlotKind, str, bool, str], ...] = (
    ("email", "email", True, r"\be-?mail\b"),
    ("order_number", "order_id", True, r"\border (?:number|id|no\b|#)"),
    ("address", "new_address", False, r"(?<!mail )\b(?:shipping|delivery|new|mailing) address\b"),
)
FACT_QUESTIONS: dict[str, str] = {
    "email": "Could you also share the email address on your account?",
    "order_number": "Could you also share the order number?",
    "address": "Could you also share the address we should ship to?",
}


def _facts(low: str) -> list[tuple[SlotKind, str, bool]]:
    """The data facts an ask step names, in the order it names them, when it joins
    several ("… email address and the order number")."""
    found = sorted(
        (m.start(), kind, var, skip)
        for kind, var, skip, pattern in _FACT_WORDS
        if (m := re.search(pattern, low))
    )
    if len(found) < 2 or not re.search(r"\band\b|,|&|\bplus\b|\bas well as\b", low):
        return []
    return [(kind, var, skip) for _, kind, var, skip in found]


def _answer_var(step: Step, low: str) -> str:
    return "reply_" + re.sub(r"\W+", "_", step.label).strip("_")


def _clean_option(text: str) -> str:
    return text.strip().rstrip(".;,")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "option"


def merge_offers(nodes: list[Node]) -> list[Node]:
    """Adjacent one-option offers ("Offer a discount …", "Offer free shipping …") are one
    offer with several options; nested lists are merged too."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, BranchNode):
            node.then = merge_offers(node.then)
            node.otherwise = merge_offers(node.otherwise)
        if (
            isinstance(node, OfferNode)
            and out
            and isinstance(out[-1], OfferNode)
            and node.prompt == SINGLE_PROMPT
            and out[-1].prompt in (SINGLE_PROMPT, MERGED_PROMPT)
        ):
            out[-1].options.extend(node.options)
            out[-1].prompt = MERGED_PROMPT
            continue
        out.append(node)
    return out
