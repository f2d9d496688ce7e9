"""Classify stage: what kind of step a line is, in a fixed order of precedence.

A condition first ("If …:", "… if the user accepts"), then a macro, a hand-over to
another policy, an escalation, a claim follow-up, an ending, a question, an offer, a
tool call, a message to the customer, and finally an informational note. The first
kind that matches decides which builder makes the node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from policies.catalog import CATALOG
from policies.compiler.bind import Binder
from policies.compiler.build import Builder, options_under
from policies.compiler.check import Checker
from policies.compiler.patterns import (
    ACTS,
    ASK,
    BY_ANSWER,
    CHECK_SECTION,
    CLOSE_ONLY,
    END,
    ESCALATE,
    FINDS_OUT,
    FOLLOW_UP,
    GOES_BACK,
    HANDOVER_VERB,
    LEADING_IF,
    MACRO,
    NOTE_LINE,
    OFFER,
    OFFER_LIST,
    OTHERWISE,
    PLAIN_POLICY,
    POLICY_RE,
    QUOTE_SAY,
    QUOTED,
    SAY,
    SOME_CASES,
    SUBJECT,
    TAG,
    TOOL_RE,
)
from policies.compiler.state import CompileState, Scope
from policies.compiler.wording import customer_message, strip_eg
from policies.conditions import match_vocabulary
from policies.parser import Step
from policies.plan import (
    BranchNode,
    EndNode,
    EscalateNode,
    Node,
    Outcome,
    SayNode,
    UsePolicyNode,
)
from policies.platforms import PLATFORM_TITLES


class Classifier:
    """Turns steps into nodes; owns the other stages so they share one state."""

    def __init__(self, state: CompileState) -> None:
        self.state = state
        self.sink = state.sink
        self.checker = Checker(state)
        self.binder = Binder(state, self.checker)
        self.builder = Builder(state, self.checker, self)

    def compile_steps(
        self, steps: Iterable[Step], scope: Scope, *, in_offer: bool = False
    ) -> list[Node]:
        out: list[Node] = []
        for step in steps:
            otherwise = OTHERWISE.match(step.text)
            if otherwise and out and isinstance(out[-1], BranchNode) and not out[-1].otherwise:
                rest = step.text[otherwise.end() :].strip()
                inner = scope.child()  # what the line asks for, the lines under it can use
                sub = self.compile_text(step, rest, inner, in_offer=in_offer) if rest else []
                sub += self.compile_steps(step.children, inner)
                out[-1].otherwise = sub
                continue
            if otherwise:
                self.sink.report(
                    "TF008",
                    f"Step {step.label} says “{otherwise.group(0).strip(' ,:→-')}”, but the "
                    "step right before it is not an If that I could compile, so there is no "
                    "condition to take the other way. It was kept as a note, so it will not "
                    "run.",
                    step,
                    fix="Put it right after the `If …:` step it belongs to, at the same "
                    "level, and make that condition one I can check (see the messages "
                    "above it).",
                )
                out.append(self.builder.note(step, recognised=False))
                continue
            out.extend(self.compile_step(step, scope, in_offer=in_offer))
        return out

    def compile_step(self, step: Step, scope: Scope, *, in_offer: bool = False) -> list[Node]:
        if NOTE_LINE.match(step.text):
            return self.note_line(step)
        if step.children and BY_ANSWER.match(step.text):
            return self.builder.by_answer(step, scope)
        if step.header and step.children:
            return self.compile_steps(step.children, scope)
        if (
            step.children
            and CHECK_SECTION.match(step.text)
            and all(c.conditional or c.text.lower().startswith("if not") for c in step.children)
        ):
            # "Check the code:" over "- If …" lines: a section title, the checks are the Ifs
            return self.compile_steps(step.children, scope)
        if step.header:
            self.builder.unrecognised(step, "it reads like a section title with nothing under it")
            return [self.builder.note(step, recognised=False)]
        return self.compile_text(step, step.text, scope, in_offer=in_offer, children=step.children)

    def compile_text(
        self,
        step: Step,
        text: str,
        scope: Scope,
        *,
        in_offer: bool = False,
        children: list[Step] | None = None,
    ) -> list[Node]:
        children = children or []
        text = text.strip()
        # "Ask whether it arrived. If they say no, …": each sentence is a step; "Apologize
        # and ask for …": a message and the action joined to it are two
        pieces = _pieces(text)
        if len(pieces) > 1:
            out: list[Node] = []
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                out += self.compile_text(
                    replace(step, text=piece),
                    piece,
                    scope,
                    in_offer=in_offer,
                    children=children if last else [],
                )
            return out
        # 1. conditions: "If …:", "If …, do", "In cases where …, do", "Once …, do"
        m = LEADING_IF.match(text)
        if m:
            cond_text, rest = _split_condition(m.group("cond"))
            if text.lower().startswith(("once", "after")):
                rest = m.group("cond").partition(",")[2].strip() or rest
                return (
                    self.compile_text(step, rest, scope, in_offer=in_offer, children=children)
                    if rest
                    else self.compile_steps(children, scope)
                )
            return self.builder.branch(step, cond_text, rest, children, scope, in_offer)
        trailing = re.match(r"^(?P<do>.+?\S)\s+if\s+(?P<cond>[^,]+?)\.?$", text, re.I)
        if (
            trailing
            and not TOOL_RE.search(trailing.group("cond"))
            and not re.match(
                r"^(?:ask|request|confirm|check|verify|see|find out|determine)\b", text, re.I
            )
        ):
            vocab = match_vocabulary(trailing.group("cond"))
            if (vocab is not None and vocab.name not in ("user_confirms", "user_denies")) or (
                not in_offer
                and ACTS.search(trailing.group("do"))
                and not FINDS_OUT.search(trailing.group("do"))
                and not QUOTED.search(text)
            ):
                # An action that acts (escalates, calls a tool, hands over) only "if …":
                # read as a branch, so a condition I cannot check keeps it from running
                # on every ticket (the branch reports it and keeps the step as a note).
                return self.builder.branch(
                    step, trailing.group("cond"), trailing.group("do"), children, scope, in_offer
                )
        nodes = self.compile_action(step, text, scope, in_offer=in_offer, children=children)
        return nodes

    def compile_action(
        self, step: Step, text: str, scope: Scope, *, in_offer: bool, children: list[Step]
    ) -> list[Node]:
        base = {"line": step.line, "step": step.label, "source": step.text}
        tail: list[Node] = []
        if (
            children
            and not (ASK.match(text) and not TOOL_RE.search(text))
            and not (not in_offer and (OFFER.match(text) or OFFER_LIST.search(text)))
            and not FOLLOW_UP.search(text)
        ):
            tail = self.compile_steps(children, scope)
        # 2. macro
        macro = MACRO.search(text)
        if macro:
            words = macro.group(1) or macro.group(2)
            self.checker.check_vars(step, words, scope)
            said = self.checker.customer_text(step, words.strip(), "message")
            return [SayNode(text=said, macro=True, **base), *tail]
        # 2b. exact words after a verb of saying: "Close with: “…”", "… and confirm: “…”"
        quoted_say = QUOTE_SAY.match(text)
        if quoted_say and not (
            quoted_say.group("words").rstrip().endswith("?") and ASK.match(text)
        ):
            return [*self.quoted_reply(step, quoted_say, scope, in_offer), *tail]
        # 2c. "Tag the ticket …", "… and close"
        closing = AND_CLOSE.match(text)
        if closing:
            done = self.compile_action(
                step, closing.group("do"), scope, in_offer=in_offer, children=[]
            )
            return [*done, *tail, EndNode(outcome=Outcome.RESOLVED, **base)]
        if TAG.match(text):
            self.builder.unrecognised(
                step,
                "a plan step can't set tags on the helpdesk ticket",
                fix="Tag tickets with a rule in your helpdesk (for example on the "
                "conversation's outcome), or rephrase the step as a note for agents: "
                "“Agents tag these tickets return-window.”",
            )
            return [self.builder.note(step, recognised=False), *tail]
        if CLOSE_ONLY.match(text):
            return [EndNode(outcome=Outcome.RESOLVED, **base)]
        # 3. hand over to another policy
        # "Tell the customer “… #Refund …”": the quote is what is said, not a hand-over
        said_only = QUOTED.sub("", text) if SAY.match(text) else text
        refs = list(POLICY_RE.finditer(said_only))
        if refs:
            resolved = [self.checker.policy_ref(step, r.group(1)) for r in refs]
            if SUBJECT.match(text) or not HANDOVER_VERB.match(text):
                return [self.builder.note(step, refs=[f"#{r}" for r in resolved if r]), *tail]
            target = next((r for r in resolved if r), None)
            if target is None:
                return [self.builder.note(step, recognised=False), *tail]
            self.state.policies_used.append(target)
            return [
                UsePolicyNode(policy_id=target, reference="#" + refs[0].group(1).strip(), **base),
                *tail,
            ]
        plain = PLAIN_POLICY.search(text)
        if plain and not TOOL_RE.search(text):
            guess = self.state.index.suggest(plain.group(1))
            self.sink.report(
                "TF015",
                f"Step {step.label} mentions “the {plain.group(1)} policy” in "
                "plain words, so I can't tell which policy to run. It was kept as a note "
                "and will not run.",
                step,
                needle=plain.group(0),
                fix=f"Reference it with #: `#{guess}`."
                if guess
                else "Reference the policy with # and its name, e.g. `#Refund Policy`.",
            )
            return [self.builder.note(step, recognised=False), *tail]
        # 4. escalate
        some = SOME_CASES.search(text)
        if ESCALATE.search(text) and not TOOL_RE.search(text) and some:
            self.builder.unrecognised(
                step,
                f"it escalates only in some cases (“{some.group(0)}”), and I can't tell "
                "which, so it would escalate every ticket",
                fix="Say when, as a condition I can check: `If the order status is "
                "Delivered, escalate to Tier 2.`; or keep it as advice with “Note: …”.",
            )
            return [self.builder.note(step, recognised=False), *tail]
        if ESCALATE.search(text) and not TOOL_RE.search(text):
            quoted = QUOTED.search(text)
            return [
                EscalateNode(
                    reason=strip_eg(text).rstrip("."),
                    note=quoted.group(1) if quoted else "",
                    **base,
                ),
                *tail,
            ]
        # 5. follow up a carrier claim
        if FOLLOW_UP.search(text) and not TOOL_RE.search(text):
            return [self.builder.follow_up(step, text, scope, children)]
        # 6. end
        if END.match(text):
            ending = re.search(r"(?:as|outcome:?)\s+[“\"]?([a-z_ ]+?)[”\"]?\.?$", text, re.I)
            word = ending.group(1).strip().replace(" ", "_").lower() if ending else "resolved"
            return [EndNode(outcome=self.checker.outcome(word, step), **base)]
        tools = list(dict.fromkeys(t.group(1) for t in TOOL_RE.finditer(text)))
        # 7. ask
        if ASK.match(text) and not tools:
            ask = self.builder.ask(step, text, scope, children)
            # the lines under it are its options, or (options named inline) its steps
            rest = [] if options_under(children) else self.compile_steps(children, scope)
            return [ask, *rest]
        # 8. offer
        if not in_offer and (
            (children and (OFFER.match(text) or OFFER_LIST.search(text)))
            or (OFFER.match(text) and not children)
        ):
            return [self.builder.offer(step, text, scope, children)]
        # 9. call
        if len(tools) > 1 or (tools and re.search(r"\btools? (?:like|such as)\b", text, re.I)):
            self.sink.report(
                "TF009",
                f"Step {step.label} names "
                + ", ".join(f"@{t}" for t in tools)
                + " only as examples or alternatives, so I can't tell which tool to run. "
                "It was kept as a note and will not run.",
                step,
                needle="@" + tools[0],
                fix="Put each tool in its own step, or under the offer option it "
                "belongs to (`- Discount: Use @set_discount_to_order …`).",
            )
            for t in tools:
                self.binder.known_tool(step, t)
            return [self.builder.note(step, recognised=False, refs=[f"@{t}" for t in tools]), *tail]
        if tools and in_offer:
            offered = self.binder.call_with_asks(step, text, scope, CATALOG.get(tools[0]), False)
            if offered:
                return [*offered, *tail]
        if tools:
            call = self.binder.call(step, text, scope)
            return [*([] if call is None else [call]), *tail]
        if in_offer:
            inferred = self.binder.infer_offer_call(step, text, scope)
            if inferred:
                return [*inferred, *tail]
        # 10. tell the customer
        if SAY.match(text):
            quoted = QUOTED.search(text)
            if quoted and re.search(r"\b(?:say|reply|respond|with)\b", text, re.I):
                self.checker.check_vars(step, quoted.group(1), scope)
                said = self.checker.customer_text(step, quoted.group(1), "message")
                return [SayNode(text=said, macro=True, **base), *tail]
            self.checker.check_vars(step, text, scope)
            said = self.checker.customer_text(step, customer_message(text), "message")
            return [SayNode(text=said, generated=True, **base), *tail]
        # 11. informational lines
        if _is_informational(text):
            return [self.builder.note(step), *tail]
        if GOES_BACK.search(text):
            self.builder.unrecognised(
                step,
                "a policy runs its steps once, top to bottom, so it can't go back to an "
                "earlier step",
                fix="Write again what should happen, under this condition: e.g. "
                "`If they say no, ask for the new address again.` (an “Ask for …” step "
                "asks even when the answer is already known).",
            )
            return [self.builder.note(step, recognised=False), *tail]
        self.builder.unrecognised(step, "it doesn't start with anything I can run")
        return [self.builder.note(step, recognised=False), *tail]

    def note_line(self, step: Step) -> list[Node]:
        """ "NOTE: …", "Notes:" and the lines under it: kept for the reader, never run. A
        note that reads like an instruction says so, since the author may expect it to run."""
        notes: list[Node] = [self.builder.note(step)]
        notes += [self.builder.note(c) for c in step.children]
        said = NOTE_LINE.sub("", step.text)
        runnable = [
            s
            for s in [said, *(c.text for c in step.children)]
            if ESCALATE.search(s) or TOOL_RE.search(s) or re.search(r"\bif\b", s, re.I)
        ]
        if runnable:
            said = runnable[0].strip().rstrip(".")
            said = said if len(said) <= 70 else said[:70].rstrip() + "…"
            self.sink.report(
                "TF008",
                f"Step {step.label or step.line} is a note, so what it says will not run, "
                f"though it reads like an instruction: “{said}”.",
                step,
                fix="If it should run, write it as a step of the logic without “Note”, e.g. "
                "`6. If …, escalate to Tier 2.`; if it is advice for agents, leave it.",
            )
        return notes

    def quoted_reply(
        self, step: Step, m: re.Match[str], scope: Scope, in_offer: bool
    ) -> list[Node]:
        """The exact words, with what the step does before and after them as steps of their
        own; a hand-over or an ending goes last, so the customer reads the words first."""
        base = {"line": step.line, "step": step.label, "source": step.text}
        self.checker.check_vars(step, m.group("words"), scope)
        said = self.checker.customer_text(step, m.group("words").strip(), "message")
        nodes: list[Node] = [SayNode(text=said, macro=True, **base)]
        lead = (m.group("lead") or "").strip(" ,;")
        if lead and not (_APPLY_IT.match(lead) and self.state.last_options):
            # "apply it and confirm" after an offer: the chosen option already applies it
            before = self.compile_text(step, lead, scope, in_offer=in_offer)
            terminal = [n for n in before if n.kind in ("escalate", "use_policy", "end")]
            nodes = [*(n for n in before if n not in terminal), *nodes, *terminal]
        after = m.group("after").strip()
        if after:
            nodes += self.compile_text(step, after, scope, in_offer=in_offer)
        return nodes


#: "apply it", "process the change": the offer the customer just took, already applied
_APPLY_IT = re.compile(
    r"^(?:apply|process|action|make)\s+(?:it|that|this|them|the (?:offer|change|discount))$", re.I
)
#: "Tag the ticket … and close", "Send the label, then close the ticket"
AND_CLOSE = re.compile(
    r"^(?P<do>.+?)\s*,?\s+(?:and|then)\s+close(?:\s+(?:it|out|it out|the (?:ticket|case|"
    r"conversation|chat)))?\s*[.!]?$",
    re.I,
)


#: a later sentence that starts with "If": a step of its own
_IF_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=if\b)", re.I)
#: a message, then another kind of action: "Apologize and ask …", "…, and offer …"
_MESSAGE_THEN = re.compile(
    r"(?:,\s*|\s+)(?:and|then|and then)\s+(?=(?:ask|request|offer|escalate|route|transfer|"
    r"hand (?:it |the case )?over|use @|proceed with)\b)",
    re.I,
)


def _pieces(text: str) -> list[str]:
    """The steps one line holds: sentences that start with "If", and a message with the
    action joined to it. Quoted words are never split."""
    if QUOTED.search(text):
        return [text]
    pieces = [p.strip() for p in _IF_SENTENCE.split(text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        if SAY.match(piece) and not LEADING_IF.match(piece):
            out += [p.strip(" ,") for p in _MESSAGE_THEN.split(piece, maxsplit=1) if p.strip()]
        else:
            out.append(piece)
    return out


def _split_condition(text: str) -> tuple[str, str]:
    """Split "the status is “Delivered,” verify …" into condition and action: at the first
    colon or comma outside quotes and parentheses."""
    quote = False
    depth = 0
    for i, ch in enumerate(text):
        if ch in "“" or (ch == '"' and not quote):
            quote = True
        elif ch in "”" or (ch == '"' and quote):
            quote = False
            if i > 0 and text[i - 1] == ",":
                return text[: i - 1] + text[i], text[i + 1 :].strip()
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in ",:→⇒" and not quote and depth == 0:  # "If yes → thank them"
            return text[:i].strip(), text[i + 1 :].strip()
    return text.strip(), ""


def _is_informational(text: str) -> bool:
    titles = [t.lower() for t in PLATFORM_TITLES.values()]
    low = text.lower()
    if any(low.startswith(t) for t in titles) and re.search(r"\bwill\b", low):
        return True
    return bool(re.match(r"^(?:note:|fyi\b|the customer wants|customer wants|the user wants)", low))
