"""Check stage: what a step refers to exists where it is used.

`$variables` must be set by an earlier step (and name a field of the result they hold),
`#references` must name a library policy, conditions must be readable, and an ending's
outcome must be one the metrics record.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from policies.compiler.patterns import BRACED, TIME_SPAN, VAR_RE
from policies.compiler.state import CompileState, Scope
from policies.conditions import (
    Compare,
    Condition,
    ConditionSyntaxError,
    LiteralValue,
    VarRef,
    Vocab,
    match_vocabulary,
    parse_expression,
    variables_in,
)
from policies.customer_text import syntax_in, without_syntax
from policies.parser import Step
from policies.plan import Outcome
from policies.vocabulary import (
    ORDER_STATUSES,
    SUBSCRIPTION_STATUSES,
    VOCABULARY,
    chosen_words,
    option_words,
)


class Checker:
    def __init__(self, state: CompileState) -> None:
        self.state = state
        self.sink = state.sink

    def customer_text(self, step: Step, text: str, what: str) -> str:
        """Words the customer will read, without policy syntax; when the author's wording
        has some, say so (TF021) and show the rewrite that will be sent instead.
        `$vars` are filled from context when the text is sent, so they stay."""
        text = self._braces_as_vars(step, text, what)
        found = syntax_in(text, vars_filled=what != "option label")
        if not found:
            return text
        clean = without_syntax(text, keep_vars=what != "option label")
        shown = ", ".join(f"`{f}`" for f in dict.fromkeys(found))
        self.sink.report(
            "TF021",
            f"The {what} of step {step.label} would show {shown} to the customer, who "
            f"can't follow a policy reference. I'll send “{clean}” instead.",
            step,
            needle=found[0],
            fix=f"Write it in the customer's words: “{clean}”. Keep tools and policies "
            "in the step itself (`- Replacement: Reship the order using #Reshipment`), "
            "not in the words the customer reads.",
        )
        return clean

    def _braces_as_vars(self, step: Step, text: str, what: str) -> str:
        """Helpdesk macros write placeholders in braces (`{order_id}`, `{{ order_id }}`);
        ticketflow fills `$vars`, so a placeholder becomes one (and is checked like one)
        and the author is told, rather than the customer reading the braces."""
        found = [m.group(0) for m in BRACED.finditer(text)]
        if not found or what == "option label":
            return text
        filled = BRACED.sub(lambda m: "$" + (m.group(1) or m.group(2)), text)
        shown = ", ".join(f"`{f}`" for f in dict.fromkeys(found))
        self.sink.report(
            "TF021",
            f"The {what} of step {step.label} has {shown}: braces are not filled, the "
            f"customer would read them as written. I'll fill it as a context value: "
            f"“{filled}”.",
            step,
            needle=found[0],
            fix=f"Write context values with $: “{filled}”.",
        )
        return filled

    def outcome(self, word: str, step: Step | None = None) -> Outcome:
        """An ending's outcome must be one the metrics know; anything else is a diagnostic."""
        try:
            return Outcome(word)
        except ValueError:
            known = [o.value for o in Outcome]
            hit = process.extractOne(word, known, scorer=fuzz.WRatio)
            guess = hit[0] if hit and hit[1] >= 60 else None
            self.sink.report(
                "TF020",
                f"The outcome `{word}` is not one ticketflow records, so this ending could "
                "not be counted.",
                step,
                needle=word.replace("_", " ") if step else None,
                fix=(f"Did you mean `{guess}`? " if guess else "")
                + "Outcomes are: "
                + ", ".join(known)
                + ".",
            )
            return Outcome.RESOLVED

    def condition(self, step: Step, text: str, scope: Scope) -> Condition | None:
        text = text.strip().rstrip(":,")
        if "$" in text:
            expr = re.sub(r"^(?:the )?", "", text)
            try:
                cond = parse_expression(expr)
            except ConditionSyntaxError as exc:
                self.sink.report(
                    "TF011",
                    f"I can't read the condition in step {step.label}: {exc}.",
                    step,
                    needle=expr,
                    fix='Write it like `If $tracking.status == "delivered":` — compare '
                    "a $variable with a quoted value using == != < <= > >=, and "
                    "join with and / or / not.",
                )
                return None
            for var in variables_in(cond):
                self.check_var(step, var.path, scope)
            return cond
        chosen = chosen_words(text)
        if chosen is not None:
            choice = self.choice(step, text, *chosen)
            if choice is not None or chosen[1]:
                return choice
        vocab = match_vocabulary(text)
        if vocab is None:
            if TIME_SPAN.search(text):
                self.sink.report(
                    "TF012",
                    f"I can't check “{text}” (step {step.label}): the only times I can "
                    "measure are how long ago the order was placed or delivered, against the "
                    "time of the conversation. The step was kept as a note and will not run.",
                    step,
                    needle=text,
                    fix="Write it about the order, e.g. “If the order was placed more than 30 "
                    "days ago:”, “If the order was delivered within 14 days:” or “If the "
                    "order is older than 45 days:” (days, weeks or hours). For any other "
                    "date, route the case to an agent.",
                )
                return None
            phrases = [e.name.replace("_", " ") for e in VOCABULARY]
            hit = process.extractOne(text.lower(), phrases, scorer=fuzz.WRatio)
            self.sink.report(
                "TF012",
                f"I don't know how to check “{text}” (step {step.label}), so "
                "the step was kept as a note and will not run.",
                step,
                needle=text,
                fix=(f"Did you mean “{hit[0]}”? " if hit and hit[1] >= 70 else "")
                + "Use a phrase from the condition vocabulary (policies/README.md) or an "
                'explicit condition such as `If $order.status == "delivered":`.',
            )
            return None
        self.check_statuses(step, vocab)
        return vocab

    def check_statuses(self, step: Step, vocab: Vocab) -> None:
        """A status the tools never report makes its comparison always false: say so."""
        known = {"order_status_is": ORDER_STATUSES, "subscription_status_is": SUBSCRIPTION_STATUSES}
        reported = known.get(vocab.name)
        named = str(vocab.args.get("status", "")).split(" or ")
        unknown = [s for s in named if reported and s and s not in reported]
        if not unknown or reported is None:
            return
        what = "order" if vocab.name == "order_status_is" else "subscription"
        self.sink.report(
            "TF012",
            f"Step {step.label} compares the {what} status with "
            + ", ".join(f"“{s}”" for s in unknown)
            + ", which the tools never report, so that part is never true. They report: "
            + ", ".join(reported)
            + ".",
            step,
            needle=vocab.phrase,
            fix="Use one of those statuses, e.g. `If the order status is Shipped or "
            "Delivered:`; for where a parcel is, use the tracking: `If tracking shows no "
            "delivery:`.",
        )

    def choice(self, step: Step, text: str, what: str, said: bool) -> Condition | None:
        """ "If the customer prefers a refund": the answer to the latest ask or offer with
        options is the option it names. Reported (when a choosing verb says it is a
        choice) if no question comes before it or none of its options is named."""
        asked = self.state.last_options
        if asked is not None and asked.lost:
            if said:
                self.sink.report(
                    "TF012",
                    f"Step {step.label} checks which option the customer took (“{what}”), "
                    f"but the question it answers, in step {asked.step}, was kept as a note "
                    "(see the message there), so there is nothing to compare. The step was "
                    "kept as a note and will not run.",
                    step,
                    needle=text,
                    fix=f"Make the condition of step {asked.step} one I can check, or put "
                    "the question in a step of its own.",
                )
            return None
        wanted = option_words(what)
        scores = (
            [(len(wanted & option_words(label)), value, label) for value, label in asked.options]
            if asked and wanted
            else []
        )
        best = max((score for score, _, _ in scores), default=0)
        named = [(value, label) for score, value, label in scores if score == best and best]
        if len(named) == 1:
            value, label = named[0]
            return Vocab(
                name="user_chooses",
                phrase=text,
                args={"option": label},
                expansion=Compare(
                    op="==", left=VarRef(path=asked.var), right=LiteralValue(value=value)
                )
                if asked
                else None,
            )
        if not said:
            return None
        if asked is None:
            self.sink.report(
                "TF012",
                f"Step {step.label} checks which option the customer took (“{what}”), but "
                "no question or offer with options runs before it (one in a step kept as a "
                "note doesn't count), so I can't tell what to compare. The step was kept "
                "as a note and will not run.",
                step,
                needle=text,
                fix="Put the options to the customer first, e.g. `Ask whether they'd like "
                "a refund or store credit.` or `Offer a refund or store credit.`, then "
                "`If they want store credit, …`.",
            )
            return None
        listed = ", ".join(f"“{label}”" for _, label in asked.options)
        self.sink.report(
            "TF012",
            f"Step {step.label} checks whether the customer took “{what}”, but "
            + (
                f"that fits several options of step {asked.step}"
                if named
                else f"that is not one of the options of step {asked.step}"
            )
            + f" ({listed}). The step was kept as a note and will not run.",
            step,
            needle=text,
            fix="Name one option as step "
            f"{asked.step} words it, e.g. `If they want {asked.options[-1][1].lower()}, …`.",
        )
        return None

    def policy_ref(self, step: Step, raw: str) -> str | None:
        words = raw.strip().rstrip(".,:;").split(" ")
        for n in range(len(words), 0, -1):
            candidate = " ".join(words[:n])
            pid = self.state.index.resolve(candidate)
            if pid:
                return pid
        name = raw.strip()
        low = [w.lower() for w in words]
        if "policy" in low:
            name = " ".join(words[: low.index("policy") + 1])
        elif len(words) > 1 and not words[1][:1].isupper():
            name = words[0]
        guess = self.state.index.suggest(name)
        self.sink.report(
            "TF005",
            f"Step {step.label} refers to #{name}, but there is no policy "
            "with that name in the library.",
            step,
            needle="#" + words[0],
            fix=(f"Did you mean #{guess}? " if guess else "")
            + "Run `ticketflow policy list` to see every policy.",
        )
        return None

    def check_vars(self, step: Step, text: str, scope: Scope) -> None:
        for m in VAR_RE.finditer(text):
            self.check_var(step, m.group(1).rstrip(".").split("."), scope)
        # A macro's `{placeholder}` is filled like a `$var` (`_braces_as_vars`).
        for m in BRACED.finditer(text):
            self.check_var(step, (m.group(1) or m.group(2)).split("."), scope)

    def check_var(self, step: Step, path: list[str], scope: Scope) -> None:
        root = path[0]
        if root not in scope.names:
            hit = process.extractOne(root, list(scope.names), scorer=fuzz.WRatio)
            self.sink.report(
                "TF006",
                f"Step {step.label} uses ${'.'.join(path)}, but nothing before it sets ${root}.",
                step,
                needle="$" + root,
                fix=(f"Did you mean ${hit[0]}? " if hit and hit[1] >= 70 else "")
                + f"Set ${root} first with a tool call (its result) or an “Ask for …” "
                "step, or list it under `inputs:` if a calling policy provides it.",
            )
            return
        model = scope.names[root]
        if model is not None and len(path) > 1 and path[1] not in model.model_fields:
            fields = list(model.model_fields)
            hit = process.extractOne(path[1], fields, scorer=fuzz.WRatio)
            self.sink.report(
                "TF017",
                f"${root} has no field `{path[1]}` (step {step.label}).",
                step,
                needle="$" + ".".join(path[:2]),
                fix=(f"Did you mean ${root}.{hit[0]}? " if hit and hit[1] >= 60 else "")
                + f"${root} has: "
                + ", ".join(fields)
                + ".",
            )
