"""Compile a policy's steps into a checked plan.

Each step becomes one plan node (plus its sub-steps), chosen by what the step does:
branch ("If …:"), say (a macro, or "Inform/Notify/Thank the customer …"), hand over
("… using #Reshipment Policy"), escalate ("route the case to an agent"), follow up a
carrier claim, ask ("Ask for …", "Request …"), offer ("offer retention options: - …"),
call ("Use @tool(…)"), end, or note. Every problem becomes a diagnostic with a fix;
a step that matches nothing is kept as a note with a warning, so the author sees it
will not run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from policies.catalog import CATALOG, CONTEXT_SOURCES, TYPE_ALIASES, ToolSpec
from policies.conditions import (
    Condition,
    ConditionSyntaxError,
    LiteralValue,
    TemplateValue,
    Truthy,
    Value,
    VarRef,
    Vocab,
    match_vocabulary,
    parse_expression,
    variables_in,
)
from policies.diagnostics import Diagnostic, make
from policies.parser import ParsedPolicy, Step, parse_policy
from policies.plan import (
    AskNode,
    BranchNode,
    CallNode,
    EndNode,
    EscalateNode,
    FollowUpClaimNode,
    Node,
    NoteNode,
    OfferNode,
    OfferOption,
    Outcome,
    Plan,
    SayNode,
    UsePolicyNode,
    Variant,
)
from policies.platforms import (
    PLATFORM_ROLES,
    PLATFORM_TITLES,
    ROLES,
    platform_key,
    resolve_platform,
)

#: Context every ticket starts with (set by the runtime from the helpdesk).
INITIAL_CONTEXT: tuple[str, ...] = ("ticket", "customer", "message")

#: Front-matter keys with a meaning; anything else is kept in `Plan.settings` with a warning.
KNOWN_KEYS = {
    "id",
    "title",
    "ticket_types",
    "triggers",
    "platforms",
    "variants",
    "inputs",
    "defaults",
}
KNOWN_SETTINGS = {
    "reminder_after",
    "auto_close_after",
    # carrier-claim follow-ups (workflows/claim.py)
    "claim_check_every",
    "claim_deadline",
    "claim_weekly_update",
    "outcome",
    "escalation_group",
    "tags",
    "priority",
    "language",
    "owner",
    "description",
}

_REFS = re.compile(r"[@#$]")
_TOOL_RE = re.compile(r"@([A-Za-z_]\w*)(\(([^()]*)\))?")
_VAR_RE = re.compile(r"\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_POLICY_RE = re.compile(r"#([A-Za-z][\w-]*(?:[ ][A-Za-z][\w-]*){0,5})")
_QUOTED = re.compile(r"[“\"]([^”\"]{2,})[”\"]")
_MACRO = re.compile(r"\bmacro\b[:\s]*[“\"]([^”\"]+)[”\"]", re.I)
_PERCENT = re.compile(r"(\d{1,3})\s*%")
_RESULT_AS = re.compile(r"\s*(?:\bas\b|→|->)\s*\$([A-Za-z_]\w*)\s*\.?$")
_EG = re.compile(r"\s*\((?:e\.g\.|i\.e\.|for example|such as)[^)]*\)", re.I)

_ASK = re.compile(
    r"^(?:ask|request|collect|find out|confirm (?:with )?(?:the )?(?:customer|user)(?:['’]s)?)\b",
    re.I,
)
_SAY = re.compile(
    r"^(?:inform|notify|tell|let (?:the )?(?:customer|user|them) know|thank|send|reply|explain|"
    r"apologi[sz]e|remind|reiterate|ensure (?:that )?(?:the )?(?:customer|user) receives|"
    r"say|respond|acknowledge|reassure)\b",
    re.I,
)
_ESCALATE = re.compile(
    r"\b(?:route|escalate|hand(?: it| the (?:case|ticket))?(?: over)? to|transfer|assign)\b"
    r".*\b(?:agent|human|team|specialist|supervisor)s?\b|\bescalate\b",
    re.I,
)
_FOLLOW_UP = re.compile(r"follow(?:[- ]up)?\b.*\bclaim\b|\bclaim is resolved\b", re.I)
_OFFER = re.compile(r"^(?:offer|present|provide the option|propose)\b", re.I)
_OFFER_LIST = re.compile(r"\boffer\b.*\b(?:options?|alternatives?|resolutions?|choices?)\b", re.I)
_END = re.compile(r"^(?:end|close)\b.*\b(?:conversation|ticket|chat|case)\b", re.I)
_HANDOVER_VERB = re.compile(
    r"^(?:proceed|continue|follow|use|run|reship|issue|refund|hand|go|apply|switch|"
    r"process|start|cancel|send|then)\b",
    re.I,
)
_SUBJECT = re.compile(
    r"^(?:the )?(?:customer|user|client|shopper|this policy)\b(?! (?:is|has) (?:asked|told))", re.I
)
_PLAIN_POLICY = re.compile(
    r"\b(?:as (?:outlined|described) in|as per|per|via|using|follow|with) the "
    r"((?:[\w-]+ ){0,3}?[\w-]+) policy\b",
    re.I,
)
_LEADING_IF = re.compile(
    r"^(?:if|when|in (?:the )?cases? (?:where|when)|once|after)\s+(?P<cond>.+)$", re.I
)

_LIST_PROMPT = "Before we go ahead, here are some options we can offer you:"
_SINGLE_PROMPT = "We can also offer you this:"
_MERGED_PROMPT = "Before you decide, here are some options we can offer you:"

#: Words that let the compiler pick a tool for an offer option that names none.
_OFFER_TOOL_WORDS: tuple[tuple[str, str], ...] = (
    (r"shipping", "upgrade_shipping"),
    (r"swap|exchange", "swap_product"),
    (r"future|next order|coupon", "create_future_discount"),
    (r"discount|% off", "set_discount_to_order"),
    (r"skip", "skip_next_shipment"),
)

#: When an inferred tool lacks a value the customer can give, ask for it first.
_ASKABLE: dict[str, tuple[str, str, str]] = {
    "to_product_id": ("free_text", "Which product would you like instead?", "new_product_id"),
    "new_product_id": ("free_text", "Which product would you like instead?", "new_product_id"),
    "order_id": ("order_number", "What is the number of the order in question?", "order_id"),
    "email": ("email", "Could you share the email address on your account?", "email"),
}


# ---------------------------------------------------------------------------
# Policy index: names a `#reference` may use
# ---------------------------------------------------------------------------


def _norm_name(name: str) -> str:
    words = re.sub(r"[_\-\s]+", " ", name.strip().lower()).strip(" .,:;")
    return re.sub(r"\s*\bpolicy$", "", words).strip()


@dataclass
class PolicyIndex:
    """Ids and titles of the policies a reference may name (case and `_`/space blind)."""

    names: dict[str, str] = field(default_factory=dict)  # normalised name → id
    ids: list[str] = field(default_factory=list)

    def add(self, policy_id: str, title: str | None = None) -> None:
        self.ids.append(policy_id)
        self.names[_norm_name(policy_id)] = policy_id
        if title:
            self.names.setdefault(_norm_name(title), policy_id)

    def resolve(self, name: str) -> str | None:
        return self.names.get(_norm_name(name))

    def suggest(self, name: str) -> str | None:
        hit = process.extractOne(_norm_name(name), list(self.names), scorer=fuzz.WRatio)
        return self.names[hit[0]] if hit and hit[1] >= 60 else None


@dataclass
class CompileResult:
    plan: Plan | None
    diagnostics: list[Diagnostic]
    path: str | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.errors


class _HasIndex:
    index: PolicyIndex


def compile_policy(
    text: str,
    *,
    path: str | None = None,
    library: PolicyIndex | _HasIndex | None = None,
) -> CompileResult:
    """Compile one policy source. `library` resolves `#references` (default: the
    bundled library). The plan is None when any error was found."""
    if library is None:
        from policies.library import default_index

        index = default_index()
    elif isinstance(library, PolicyIndex):
        index = library
    else:
        index = library.index
    return _Compiler(text, path, index).run()


# ---------------------------------------------------------------------------
# The compiler
# ---------------------------------------------------------------------------


class _Scope:
    """What `$names` are bound at a point of the plan, with their result models."""

    def __init__(self, names: dict[str, type[BaseModel] | None]) -> None:
        self.names = dict(names)

    def child(self) -> _Scope:
        return _Scope(self.names)

    def bind(self, name: str, model: type[BaseModel] | None = None) -> None:
        self.names[name] = model

    def has(self, path: str) -> bool:
        return path.split(".")[0] in self.names


class _Compiler:
    def __init__(self, text: str, path: str | None, index: PolicyIndex) -> None:
        self.text = text
        self.path = path
        self.index = index
        self.diags: list[Diagnostic] = []
        self.parsed: ParsedPolicy = parse_policy(text)
        self.platforms: list[str] = []
        self.tools_used: set[str] = set()
        self.policies_used: list[str] = []

    def outcome(self, word: str, step: Step | None = None) -> Outcome:
        """An ending's outcome must be one the metrics know; anything else is a diagnostic."""
        try:
            return Outcome(word)
        except ValueError:
            known = [o.value for o in Outcome]
            hit = process.extractOne(word, known, scorer=fuzz.WRatio)
            guess = hit[0] if hit and hit[1] >= 60 else None
            self.diag(
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

    # -- diagnostics ------------------------------------------------------------

    def diag(
        self,
        code: str,
        message: str,
        step: Step | None = None,
        *,
        line: int | None = None,
        needle: str | None = None,
        fix: str | None = None,
    ) -> None:
        ln = line if line is not None else (step.line if step else 1)
        src = self.parsed.lines[ln - 1] if 0 < ln <= len(self.parsed.lines) else ""
        col = step.column if step else 1
        length = len(step.text) if step else max(1, len(src.strip()))
        if needle and needle in src:
            col, length = src.index(needle) + 1, len(needle)
        self.diags.append(
            make(
                code,
                message,
                line=ln,
                column=col,
                length=min(length, 80),
                fix=fix,
                path=self.path,
                source_line=src,
            )
        )

    # -- entry -----------------------------------------------------------------

    def run(self) -> CompileResult:
        meta = self.front_matter()
        scope = _Scope({n: None for n in INITIAL_CONTEXT})
        for name in [*meta.get("inputs", []), *meta.get("defaults", {})]:
            scope.bind(str(name))
        steps = self.compile_steps(self.parsed.steps, scope)
        steps = _merge_offers(steps)
        if not self.parsed.steps:
            self.diag(
                "TF016",
                "This policy has no steps, so it would do nothing.",
                line=max(1, self.parsed.body_start + 1),
                fix="Write the logic as a numbered list: `1. Ask for the customer's "
                "email address.`",
            )
        if not steps or steps[-1].kind not in ("end", "use_policy", "escalate"):
            last_line = steps[-1].line if steps else max(1, len(self.parsed.lines))
            word = str(meta.get("settings", {}).get("outcome", "resolved"))
            steps.append(EndNode(line=last_line, outcome=self.outcome(word), implicit=True))
        if any(d.is_error for d in self.diags) or "id" not in meta:
            return CompileResult(None, self._sorted(), self.path)
        settings = meta.get("settings", {})
        roles = {r: p for r in ROLES if (p := resolve_platform(r, self.platforms)) is not None}
        plan = Plan(
            id=meta["id"],
            title=meta.get("title", meta["id"]),
            version=self.version(),
            when_to_use=self.parsed.when_to_use,
            ticket_types=meta.get("ticket_types", []),
            triggers=meta.get("triggers", []),
            platforms=self.platforms,
            roles=roles,
            variants=meta.get("variants", []),
            inputs=[str(i) for i in meta.get("inputs", [])],
            defaults=meta.get("defaults", {}),
            settings=settings,
            tools=sorted(self.tools_used),
            policies=list(dict.fromkeys(self.policies_used)),
            source_path=self.path,
            steps=steps,
        )
        return CompileResult(plan, self._sorted(), self.path)

    def _sorted(self) -> list[Diagnostic]:
        return sorted(self.diags, key=lambda d: (d.line, d.column, d.code))

    def version(self) -> str:
        digest = hashlib.sha256(self.text.encode("utf-8"))
        for name in sorted(self.tools_used):
            digest.update(json.dumps(CATALOG[name].fingerprint(), sort_keys=True).encode())
        return digest.hexdigest()[:12]

    # -- front matter -------------------------------------------------------------

    def front_matter(self) -> dict[str, Any]:
        p = self.parsed
        if p.meta_error:
            self.diag(
                "TF010",
                f"I can't read the front matter: {p.meta_error[1]}.",
                line=p.meta_error[0],
                fix="Front matter is YAML between two `---` lines, e.g.\n"
                "---\nid: reshipment\ntitle: Reshipment\nplatforms: [stayai, kustomer]\n---",
            )
            return {}
        meta: dict[str, Any] = {}
        raw = p.meta
        lines = p.meta_lines

        def where(key: str) -> int:
            return lines.get(key, 1)

        pid = raw.get("id")
        if not pid or not isinstance(pid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", pid):
            self.diag(
                "TF010",
                "Every policy needs an `id` in its front matter: lower case letters, "
                "digits and underscores" + (f" (found {pid!r})." if pid else "."),
                line=where("id"),
                fix="Add a line such as `id: single_order_cancellation`.",
            )
        else:
            meta["id"] = pid
        meta["title"] = str(raw.get("title") or pid or "")
        for key in ("ticket_types", "triggers", "inputs"):
            value = raw.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                self.diag(
                    "TF010", f"`{key}` should be a list, e.g. `{key}: [a, b]`.", line=where(key)
                )
                value = []
            meta[key] = [str(v) for v in value]
        platforms = raw.get("platforms", [])
        if isinstance(platforms, str):
            platforms = [s.strip() for s in platforms.split(",")]
        for name in platforms or []:
            key = platform_key(str(name))
            if key not in PLATFORM_ROLES:
                hit = process.extractOne(key, list(PLATFORM_ROLES), scorer=fuzz.WRatio)
                self.diag(
                    "TF010",
                    f"I don't know the platform “{name}”.",
                    line=where("platforms"),
                    needle=str(name),
                    fix=(f"Did you mean `{hit[0]}`? " if hit and hit[1] > 60 else "")
                    + "Known platforms: "
                    + ", ".join(PLATFORM_ROLES)
                    + ".",
                )
            else:
                self.platforms.append(key)
        variants = raw.get("variants", [])
        parsed_variants: list[Variant] = []
        if isinstance(variants, dict):
            parsed_variants = [
                Variant(name=str(k), description=str(v or "")) for k, v in variants.items()
            ]
        elif isinstance(variants, list):
            for v in variants:
                if isinstance(v, dict) and "name" in v:
                    parsed_variants.append(
                        Variant(name=str(v["name"]), description=str(v.get("description", "")))
                    )
                else:
                    parsed_variants.append(Variant(name=str(v)))
        meta["variants"] = parsed_variants
        defaults = raw.get("defaults", {})
        if not isinstance(defaults, dict) or not all(
            isinstance(v, str | int | float | bool) for v in defaults.values()
        ):
            self.diag(
                "TF010",
                "`defaults` should map names to plain values, e.g. `defaults: {percent: 15}`.",
                line=where("defaults"),
            )
            defaults = {}
        meta["defaults"] = {str(k): v for k, v in defaults.items()}
        settings: dict[str, Any] = {}
        for key, value in raw.items():
            if key in KNOWN_KEYS:
                continue
            if key not in KNOWN_SETTINGS:
                hit = process.extractOne(str(key), sorted(KNOWN_KEYS | KNOWN_SETTINGS))
                self.diag(
                    "TF019",
                    f"The front matter has a key I don't use: `{key}`. It is "
                    "kept in the plan's settings but changes nothing.",
                    line=where(key),
                    fix=f"Did you mean `{hit[0]}`?" if hit and hit[1] > 70 else None,
                )
            settings[str(key)] = (
                value
                if isinstance(value, str | int | float | bool | list | dict) or value is None
                else str(value)
            )
        meta["settings"] = settings
        return meta

    # -- steps ----------------------------------------------------------------------

    def compile_steps(
        self, steps: Iterable[Step], scope: _Scope, *, in_offer: bool = False
    ) -> list[Node]:
        out: list[Node] = []
        for step in steps:
            if (
                re.match(r"^(?:otherwise|else)\b", step.text, re.I)
                and out
                and isinstance(out[-1], BranchNode)
            ):
                rest = re.sub(r"^(?:otherwise|else)\b[\s,:]*", "", step.text, flags=re.I)
                sub = (
                    self.compile_text(step, rest, scope.child(), in_offer=in_offer) if rest else []
                )
                sub += self.compile_steps(step.children, scope.child())
                out[-1].otherwise = sub
                continue
            out.extend(self.compile_step(step, scope, in_offer=in_offer))
        return out

    def compile_step(self, step: Step, scope: _Scope, *, in_offer: bool = False) -> list[Node]:
        if step.header and step.children:
            return self.compile_steps(step.children, scope)
        if step.header:
            self.unrecognised(step, "it reads like a section title with nothing under it")
            return [self.note(step, recognised=False)]
        return self.compile_text(step, step.text, scope, in_offer=in_offer, children=step.children)

    def compile_text(
        self,
        step: Step,
        text: str,
        scope: _Scope,
        *,
        in_offer: bool = False,
        children: list[Step] | None = None,
    ) -> list[Node]:
        children = children or []
        text = text.strip()
        # 1. conditions: "If …:", "If …, do", "In cases where …, do", "Once …, do"
        m = _LEADING_IF.match(text)
        if m:
            cond_text, rest = _split_condition(m.group("cond"))
            if text.lower().startswith(("once", "after")):
                rest = m.group("cond").partition(",")[2].strip() or rest
                return (
                    self.compile_text(step, rest, scope, in_offer=in_offer, children=children)
                    if rest
                    else self.compile_steps(children, scope)
                )
            return self.branch(step, cond_text, rest, children, scope, in_offer)
        trailing = re.match(r"^(?P<do>.+?\S)\s+if\s+(?P<cond>[^,]+?)\.?$", text, re.I)
        if (
            trailing
            and not _TOOL_RE.search(trailing.group("cond"))
            and not re.match(
                r"^(?:ask|request|confirm|check|verify|see|find out|determine)\b", text, re.I
            )
        ):
            vocab = match_vocabulary(trailing.group("cond"))
            if vocab is not None and vocab.name not in ("user_confirms", "user_denies"):
                return self.branch(
                    step, trailing.group("cond"), trailing.group("do"), children, scope, in_offer
                )
        nodes = self.compile_action(step, text, scope, in_offer=in_offer, children=children)
        return nodes

    def compile_action(
        self, step: Step, text: str, scope: _Scope, *, in_offer: bool, children: list[Step]
    ) -> list[Node]:
        base = {"line": step.line, "step": step.label, "source": step.text}
        tail: list[Node] = []
        if (
            children
            and not (_ASK.match(text) and not _TOOL_RE.search(text))
            and not (not in_offer and (_OFFER.match(text) or _OFFER_LIST.search(text)))
            and not _FOLLOW_UP.search(text)
        ):
            tail = self.compile_steps(children, scope)
        # 2. macro
        macro = _MACRO.search(text)
        if macro:
            self.check_vars(step, macro.group(1), scope)
            return [SayNode(text=macro.group(1).strip(), macro=True, **base), *tail]
        # 3. hand over to another policy
        refs = list(_POLICY_RE.finditer(text))
        if refs:
            resolved = [self.policy_ref(step, r.group(1)) for r in refs]
            if _SUBJECT.match(text) or not _HANDOVER_VERB.match(text):
                return [self.note(step, refs=[f"#{r}" for r in resolved if r]), *tail]
            target = next((r for r in resolved if r), None)
            if target is None:
                return [self.note(step, recognised=False), *tail]
            self.policies_used.append(target)
            return [
                UsePolicyNode(policy_id=target, reference="#" + refs[0].group(1).strip(), **base),
                *tail,
            ]
        plain = _PLAIN_POLICY.search(text)
        if plain and not _TOOL_RE.search(text):
            guess = self.index.suggest(plain.group(1))
            self.diag(
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
            return [self.note(step, recognised=False), *tail]
        # 4. escalate
        if _ESCALATE.search(text) and not _TOOL_RE.search(text):
            quoted = _QUOTED.search(text)
            return [
                EscalateNode(
                    reason=_strip_eg(text).rstrip("."),
                    note=quoted.group(1) if quoted else "",
                    **base,
                ),
                *tail,
            ]
        # 5. follow up a carrier claim
        if _FOLLOW_UP.search(text) and not _TOOL_RE.search(text):
            return [self.follow_up(step, text, scope, children)]
        # 6. end
        if _END.match(text):
            said = re.search(r"(?:as|outcome:?)\s+[“\"]?([a-z_ ]+?)[”\"]?\.?$", text, re.I)
            word = said.group(1).strip().replace(" ", "_").lower() if said else "resolved"
            return [EndNode(outcome=self.outcome(word, step), **base)]
        tools = list(dict.fromkeys(t.group(1) for t in _TOOL_RE.finditer(text)))
        # 7. ask
        if _ASK.match(text) and not tools:
            ask = self.ask(step, text, scope, children)
            rest = [] if ask.slot == "choice" else self.compile_steps(children, scope)
            return [ask, *rest]
        # 8. offer
        if not in_offer and (
            (children and (_OFFER.match(text) or _OFFER_LIST.search(text)))
            or (_OFFER.match(text) and not children)
        ):
            return [self.offer(step, text, scope, children)]
        # 9. call
        if len(tools) > 1 or (tools and re.search(r"\btools? (?:like|such as)\b", text, re.I)):
            self.diag(
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
                self.known_tool(step, t)
            return [self.note(step, recognised=False, refs=[f"@{t}" for t in tools]), *tail]
        if tools and in_offer:
            offered = self.call_with_asks(step, text, scope, CATALOG.get(tools[0]), False)
            if offered:
                return [*offered, *tail]
        if tools:
            call = self.call(step, text, scope)
            return [*([] if call is None else [call]), *tail]
        if in_offer:
            inferred = self.infer_offer_call(step, text, scope)
            if inferred:
                return [*inferred, *tail]
        # 10. tell the customer
        if _SAY.match(text):
            quoted = _QUOTED.search(text)
            if quoted and re.search(r"\b(?:say|reply|respond|with)\b", text, re.I):
                self.check_vars(step, quoted.group(1), scope)
                return [SayNode(text=quoted.group(1), macro=True, **base), *tail]
            self.check_vars(step, text, scope)
            return [SayNode(text=customer_message(text), generated=True, **base), *tail]
        # 11. informational lines
        if _is_informational(text):
            return [self.note(step), *tail]
        self.unrecognised(step, "it doesn't start with anything I can run")
        return [self.note(step, recognised=False), *tail]

    # -- node builders ------------------------------------------------------------

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

    def unrecognised(self, step: Step, why: str) -> None:
        self.diag(
            "TF008",
            f"I can't turn step {step.label} into anything that runs: {why}. "
            "It was kept as a note, so it will not run.",
            step,
            fix="Start the step with what should happen: “Ask for …”, “Inform the "
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
        scope: _Scope,
        in_offer: bool,
    ) -> list[Node]:
        cond = self.condition(step, cond_text, scope)
        if cond is None:
            return [self.note(step, recognised=False)]
        inner = scope.child()
        for var in _guaranteed_vars(cond):
            inner.bind(var)
        then: list[Node] = []
        if rest:
            then += self.compile_text(step, rest, inner, in_offer=in_offer)
        then += self.compile_steps(children, inner)
        if not then:
            self.diag(
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

    def condition(self, step: Step, text: str, scope: _Scope) -> Condition | None:
        text = text.strip().rstrip(":,")
        if "$" in text:
            expr = re.sub(r"^(?:the )?", "", text)
            try:
                cond = parse_expression(expr)
            except ConditionSyntaxError as exc:
                self.diag(
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
        vocab = match_vocabulary(text)
        if vocab is None:
            from policies.conditions import VOCABULARY

            phrases = [e.name.replace("_", " ") for e in VOCABULARY]
            hit = process.extractOne(text.lower(), phrases, scorer=fuzz.WRatio)
            self.diag(
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
        return vocab

    def ask(self, step: Step, text: str, scope: _Scope, children: list[Step]) -> AskNode:
        base = {"line": step.line, "step": step.label, "source": step.text}
        low = text.lower()
        named = _RESULT_AS.search(text)
        text_wo = _RESULT_AS.sub("", text) if named else text
        quoted = _QUOTED.search(text_wo)
        slot: str
        var: str
        options: list[str] = []
        skip = False
        if children and all(
            c.marker == "bullet" and not _REFS.search(c.text) and len(c.text.split()) <= 8
            for c in children
        ):
            slot, options = "choice", [_clean_option(c.text) for c in children]
            var = "issue" if "issue" in low else "reason" if "reason" in low else "choice"
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
        question = quoted.group(1) if quoted else customer_question(text_wo, slot)
        scope.bind(var)
        return AskNode(
            slot=slot,
            question=question,
            var=var,
            options=options,
            skip_if_known=skip,
            **base,
        )

    def offer(self, step: Step, text: str, scope: _Scope, children: list[Step]) -> OfferNode:
        quoted = _QUOTED.search(text)
        options: list[OfferOption] = []
        items = children or [step]
        for child in items:
            label, _, rest = child.text.partition(":") if child.labelled else ("", "", child.text)
            body = rest.strip() or child.text
            if not label:
                label = _option_label(body)
            steps = self.compile_text(
                child,
                body,
                scope.child(),
                in_offer=True,
                children=child.children if children else [],
            )
            options.append(
                OfferOption(
                    id=_slug(label),
                    label=label.strip(),
                    description=customer_message(body),
                    line=child.line,
                    steps=steps,
                )
            )
        prompt = quoted.group(1) if quoted else (_LIST_PROMPT if children else _SINGLE_PROMPT)
        scope.bind("offer")
        return OfferNode(
            prompt=prompt, options=options, line=step.line, step=step.label, source=step.text
        )

    def follow_up(
        self, step: Step, text: str, scope: _Scope, children: list[Step]
    ) -> FollowUpClaimNode:
        if not scope.has("claim"):
            self.diag(
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
                target += self.compile_text(child, rest.strip(), inner)
            target += self.compile_steps(child.children, inner)
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

    # -- tools ------------------------------------------------------------------------

    def known_tool(self, step: Step, name: str) -> ToolSpec | None:
        if name in CATALOG:
            return CATALOG[name]
        hit = process.extractOne(name, list(CATALOG), scorer=fuzz.WRatio)
        self.diag(
            "TF001",
            f"Step {step.label} uses @{name}, but there is no tool with that name.",
            step,
            needle="@" + name,
            fix=(f"Did you mean @{hit[0]}? " if hit and hit[1] >= 60 else "")
            + "Run `ticketflow tools` to see every tool.",
        )
        return None

    def call(
        self,
        step: Step,
        text: str,
        scope: _Scope,
        *,
        tool_name: str | None = None,
        inferred: bool = False,
    ) -> CallNode | None:
        m = _TOOL_RE.search(text)
        name = tool_name or (m.group(1) if m else "")
        spec = self.known_tool(step, name)
        if spec is None:
            return None
        self.tools_used.add(spec.name)
        platform = resolve_platform(spec.binds_to, self.platforms)
        if (
            spec.binds_to in ROLES
            and not any(spec.binds_to in PLATFORM_ROLES.get(p, ()) for p in self.platforms)
            and spec.binds_to not in ("carrier",)
        ):
            if spec.binds_to == "helpdesk" and platform:
                pass
            else:
                self.diag(
                    "TF013",
                    f"@{spec.name} runs on the policy's {spec.binds_to} platform, "
                    "but the front matter names none.",
                    step,
                    needle="@" + spec.name,
                    fix="Add one to `platforms:`, e.g. `platforms: ["
                    + ", ".join(k for k, r in PLATFORM_ROLES.items() if spec.binds_to in r)[:60]
                    + "]`.",
                )
        elif spec.binds_to in PLATFORM_ROLES and spec.binds_to not in self.platforms:
            title = PLATFORM_TITLES.get(spec.binds_to, spec.binds_to)
            self.diag(
                "TF014",
                f"@{spec.name} runs on {title}, which this policy's front matter doesn't list.",
                step,
                needle="@" + spec.name,
                fix=f"Add `{spec.binds_to}` to `platforms:` or use the generic tool.",
            )
        written: dict[str, str] = {}
        if m and m.group(1) == spec.name and m.group(3) is not None:
            for part in _split_args(m.group(3)):
                am = re.match(r"^\s*([A-Za-z_]\w*)\s*(?:[:=]\s*(.*))?$", part)
                if am:
                    written[am.group(1)] = (am.group(2) or "").strip()
        args: dict[str, Value] = {}
        reported: set[str] = set()
        names = spec.param_names()
        for key, val in written.items():
            if key not in names:
                hit = process.extractOne(key, names, scorer=fuzz.WRatio)
                self.diag(
                    "TF002",
                    f"@{spec.name} has no argument called `{key}`. It takes: "
                    + ", ".join(f"`{n}`" for n in names)
                    + ".",
                    step,
                    needle=key,
                    fix=f"Did you mean `{hit[0]}`? The full form is {spec.signature()}."
                    if hit and hit[1] >= 60
                    else f"Write {spec.signature()}.",
                )
                continue
            before = len(self.diags)
            bound = self.arg_value(step, spec, key, val, text, scope)
            if bound is not None:
                args[key] = bound
            elif len(self.diags) > before:
                reported.add(key)
        for key in names:
            if key in args or key in written:
                continue
            value = self.implicit_arg(spec, key, text, scope)
            if value is not None:
                args[key] = value
        missing = [k for k in spec.required_params() if k not in args and k not in reported]
        for key in missing:
            if inferred:
                return None
            sources = CONTEXT_SOURCES.get(key, ())
            self.diag(
                "TF003",
                f"@{spec.name} needs `{key}`, but nothing before step "
                f"{step.label} provides it"
                + (f" (I looked for ${', $'.join(sources)})" if sources else "")
                + ".",
                step,
                needle="@" + spec.name,
                fix=f"Pass it explicitly, e.g. `@{spec.name}({key}: $something)`, or add "
                "an earlier step that provides it (an “Ask for …” or a tool call).",
            )
        if missing:
            return None
        named = _RESULT_AS.search(text)
        result = named.group(1) if named else spec.result_var
        scope.bind(result, spec.result)
        return CallNode(
            tool=spec.name,
            platform=platform,
            args=args,
            result=result,
            side_effect=spec.side_effect,
            inferred=inferred,
            outcome=spec.outcome,
            line=step.line,
            step=step.label,
            source=step.text,
        )

    def arg_value(
        self, step: Step, spec: ToolSpec, key: str, val: str, text: str, scope: _Scope
    ) -> Value | None:
        expected = spec.param_type(key)
        if not val:
            return self.implicit_arg(spec, key, text, scope)
        if val.startswith("$"):
            path = val[1:].rstrip(".,").split(".")
            self.check_var(step, path, scope)
            return VarRef(path=path)
        if val.lower() in TYPE_ALIASES:
            given = TYPE_ALIASES[val.lower()]
            if given != expected and not (given == "int" and expected == "float"):
                self.diag(
                    "TF004",
                    f"`{key}` of @{spec.name} is {_a(expected)}, but step "
                    f"{step.label} declares it as {_a(given)}.",
                    step,
                    needle=f"{key}: {val}",
                    fix=f"Write `{key}: {expected}`. The full form is {spec.signature()}.",
                )
            return self.implicit_arg(spec, key, text, scope)
        literal = _literal(val)
        if literal is None:
            self.diag(
                "TF004",
                f"I can't read the value `{val}` for `{key}` of @{spec.name}.",
                step,
                needle=val,
                fix=f"Use a type ({expected}), a $variable, a number or a quoted text.",
            )
            return None
        if expected in ("int", "float") and not isinstance(literal, int | float):
            self.diag(
                "TF004",
                f"`{key}` of @{spec.name} is a number, but step {step.label} gives “{val}”.",
                step,
                needle=val,
                fix=f"Write a number, e.g. `{key}: 15`.",
            )
        return LiteralValue(value=literal)

    def implicit_arg(self, spec: ToolSpec, key: str, text: str, scope: _Scope) -> Value | None:
        if (
            key == "order_id"
            and re.search(r"\b(?:new|replacement) order\b", text, re.I)
            and scope.has("new_order")
            and spec.name != "create_stayai_order"
        ):
            return VarRef(path=["new_order", "order_id"])
        sources = CONTEXT_SOURCES.get(key, ())
        for i, source in enumerate(sources):
            if scope.has(source):
                rest = [s.split(".") for s in sources[i + 1 :] if scope.has(s)]
                return VarRef(path=source.split("."), fallbacks=rest)
        if key == "percent":
            pct = _PERCENT.search(text)
            if pct:
                return LiteralValue(value=int(pct.group(1)))
        if key in ("message", "reason", "note"):
            return TemplateValue(
                text=customer_message(text)
                if key == "message"
                else _strip_eg(_strip_tools(text)).rstrip(".")
            )
        return None

    def infer_offer_call(self, step: Step, text: str, scope: _Scope) -> list[Node] | None:
        low = text.lower()
        for pattern, tool in _OFFER_TOOL_WORDS:
            if not re.search(pattern, low):
                continue
            return self.call_with_asks(step, text, scope, CATALOG[tool], True)
        return None

    def call_with_asks(
        self, step: Step, text: str, scope: _Scope, spec: ToolSpec | None, inferred: bool
    ) -> list[Node] | None:
        """An offer option's call; a value only the customer can give is asked for first."""
        if True:
            if spec is None or resolve_platform(spec.binds_to, self.platforms) is None:
                return None
            tool = spec.name
            pre: list[Node] = []
            inner = scope
            for key in spec.required_params():
                if self.implicit_arg(spec, key, text, inner) is None and key in _ASKABLE:
                    slot, question, var = _ASKABLE[key]
                    pre.append(
                        AskNode(
                            slot=slot,
                            question=question,
                            var=var,
                            skip_if_known=slot != "free_text",
                            line=step.line,
                            step=step.label,
                            source=step.text,
                        )
                    )
                    inner.bind(var)
            call = self.call(step, text, inner, tool_name=tool, inferred=inferred)
            return [*pre, call] if call else None
        return None

    # -- references ---------------------------------------------------------------------

    def policy_ref(self, step: Step, raw: str) -> str | None:
        words = raw.strip().rstrip(".,:;").split(" ")
        for n in range(len(words), 0, -1):
            candidate = " ".join(words[:n])
            pid = self.index.resolve(candidate)
            if pid:
                return pid
        name = raw.strip()
        low = [w.lower() for w in words]
        if "policy" in low:
            name = " ".join(words[: low.index("policy") + 1])
        elif len(words) > 1 and not words[1][:1].isupper():
            name = words[0]
        guess = self.index.suggest(name)
        self.diag(
            "TF005",
            f"Step {step.label} refers to #{name}, but there is no policy "
            "with that name in the library.",
            step,
            needle="#" + words[0],
            fix=(f"Did you mean #{guess}? " if guess else "")
            + "Run `ticketflow policy list` to see every policy.",
        )
        return None

    def check_vars(self, step: Step, text: str, scope: _Scope) -> None:
        for m in _VAR_RE.finditer(text):
            self.check_var(step, m.group(1).rstrip(".").split("."), scope)

    def check_var(self, step: Step, path: list[str], scope: _Scope) -> None:
        root = path[0]
        if root not in scope.names:
            hit = process.extractOne(root, list(scope.names), scorer=fuzz.WRatio)
            self.diag(
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
            self.diag(
                "TF017",
                f"${root} has no field `{path[1]}` (step {step.label}).",
                step,
                needle="$" + ".".join(path[:2]),
                fix=(f"Did you mean ${root}.{hit[0]}? " if hit and hit[1] >= 60 else "")
                + f"${root} has: "
                + ", ".join(fields)
                + ".",
            )


# ---------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------

_AGENT_VOICE = [
    (r"\byou will\b", "we will"),
    (r"\byou'll\b", "we'll"),
    (r"\byou’ll\b", "we’ll"),
    (r"\byou can\b", "we can"),
]
_CUSTOMER_VOICE = [
    (r"\b(?:the )?(?:customer|user)['’]s\b", "your"),
    (r"\btheir\b", "your"),
    (r"\btheirs\b", "yours"),
    (r"\bthemselves\b", "yourself"),
    (r"\bthey['’]ve\b", "you’ve"),
    (r"\bthey['’]re\b", "you’re"),
    (r"\bthey are\b", "you are"),
    (r"\bthey have\b", "you have"),
    (r"\bthey\b", "you"),
    (r"\bthem\b", "you"),
    (r"\b(?:the )?(?:customer|user)\b", "you"),
    (r"\bthe (order|shipment|subscription|package|parcel|item|refund)\b", r"your \1"),
    (r"\bbut offer to\b", "but we'd be glad to"),
    (r"\band provide you with\b", "and here are"),
]


def _swap_voice(text: str, *, possessive_nouns: bool = True) -> str:
    for pattern, repl in _AGENT_VOICE:
        text = re.sub(pattern, repl, text, flags=re.I)
    for pattern, repl in _CUSTOMER_VOICE:
        if not possessive_nouns and repl == r"your \1":
            continue
        text = re.sub(pattern, repl, text, flags=re.I)
    return text


def _strip_tools(text: str) -> str:
    text = re.sub(
        r"^(?:use|using|call)\s+@\w+(?:\([^()]*\))?\s*(?:tool\s+)?(?:to\s+)?", "", text, flags=re.I
    )
    text = re.sub(r"\s*(?:using|with|via|through)\s+@\w+(?:\([^()]*\))?", "", text, flags=re.I)
    return re.sub(r"@\w+(?:\([^()]*\))?", "", text).strip()


def _strip_eg(text: str) -> str:
    return _EG.sub("", text)


def _sentence(text: str, end: str = ".") -> str:
    text = re.sub(r"\s+", " ", text).strip().rstrip(".:;,")
    if not text:
        return text
    return text[0].upper() + text[1:] + end


def customer_message(step_text: str) -> str:
    """A plain, polite message from a step that gives no exact words, in the customer's
    voice: “Inform the customer that their order shipped” → “Your order shipped.”"""
    text = _strip_eg(_strip_tools(step_text))
    text = _RESULT_AS.sub("", text)
    rules = [
        (
            r"^(?:inform|notify|tell|remind)\s+(?:the\s+)?(?:customer|user|them)\s+of\s+",
            "Here are ",
        ),
        (
            r"^(?:inform|notify|tell|remind|let)\s+(?:the\s+)?(?:customer|user|them)\s+"
            r"(?:know\s+)?(?:that\s+)?",
            "",
        ),
        (
            r"^(?:to\s+)?(?:notify|inform|tell)\s+(?:the\s+)?(?:customer|user|them)\s+(?:that\s+)?",
            "",
        ),
        (r"^thank\s+(?:the\s+)?(?:customer|user|them)\b\s*(?:and\b.*)?", "Thank you "),
        (
            r"^(?:ensure|make sure)\s+(?:that\s+)?(?:the\s+)?(?:customer|user)\s+receives\s+"
            r"(?:a\s+)?(?:follow-up\s+)?message\s+confirming\s+(?:that\s+)?",
            "",
        ),
        (
            r"^send\s+(?:a\s+)?(?:follow-up\s+)?message\s+confirming\s+(?:that\s+)?",
            "We've confirmed ",
        ),
        (r"^(?:explain|reiterate)\s+(?:to\s+(?:the\s+)?(?:customer|user)\s+)?(?:that\s+)?", ""),
        (
            r"^apologi[sz]e\s+(?:to\s+(?:the\s+)?(?:customer|user)\s+)?(?:for\s+)?",
            "We're sorry for ",
        ),
    ]
    text = _first_rewrite(text, rules)
    if text.startswith("Thank you"):
        text = re.sub(r"\s+and\s+(?:reiterate|ensure|remind|mention|confirm)\b.*$", "", text)
    if text.strip() == "Thank you":
        text = "Thank you for your patience"
    # "… has been skipped and that the following one …": the second "that" reported
    # speech, not the message.
    text = re.sub(r"\b(and|but)\s+that\s+", r"\1 ", text)
    return _sentence(_swap_voice(text))


def customer_question(step_text: str, slot: str) -> str:
    """A polite question from an ask step: “Ask for the user’s email” → “Could you please
    share your email?”"""
    text = (
        _strip_eg(_strip_tools(step_text)) if slot not in ("yes_no",) else _strip_tools(step_text)
    )
    text = re.sub(
        r"\s*(?:to|and)\s+(?:look (?:them|it) up|check (?:if|whether) (?:the )?"
        r"(?:user|customer|they)\b).*$",
        "",
        text,
        flags=re.I,
    )
    patterns = [
        (r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+to\s+", "Could you please "),
        (
            r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+(if|whether)\s+",
            r"Could you let us know \1 ",
        ),
        (r"^(?:ask|request)\s+(if|whether)\s+", r"Could you let us know \1 "),
        (
            r"^(?:ask|request)\s+(?:the\s+)?(?:customer|user|them)\s+(?:for\s+)?",
            "Could you please share ",
        ),
        (r"^(?:ask|request|collect)\s+(?:for\s+)?", "Could you please share "),
        (
            r"^confirm\s+(?:with\s+)?(?:the\s+)?(?:customer|user)['’]s\s+",
            "Could you please confirm your ",
        ),
        (
            r"^(?:confirm\s+with|find out from)\s+(?:the\s+)?(?:customer|user)\s+",
            "Could you please confirm ",
        ),
    ]
    text = _first_rewrite(text, patterns)
    return _sentence(_swap_voice(text, possessive_nouns=False), "?")


def _first_rewrite(text: str, rules: list[tuple[str, str]]) -> str:
    """`text` rewritten by the first rule whose pattern changes it (case-insensitive)."""
    for pattern, repl in rules:
        new = re.sub(pattern, repl, text, count=1, flags=re.I)
        if new != text:
            return new
    return text


# ---------------------------------------------------------------------------
# Small pure pieces
# ---------------------------------------------------------------------------


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
        elif ch in ",:" and not quote and depth == 0:
            return text[:i].strip(), text[i + 1 :].strip()
    return text.strip(), ""


def _guaranteed_vars(cond: Condition) -> list[str]:
    """Names a `then` branch may rely on because the condition tested them."""
    if isinstance(cond, Truthy):
        return [cond.value.path[0]]
    if isinstance(cond, Vocab) and isinstance(cond.expansion, Truthy):
        return [cond.expansion.value.path[0]]
    return []


def _split_args(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def _literal(val: str) -> str | int | float | bool | None:
    val = val.strip()
    if re.fullmatch(r"[“\"'‘].*[”\"'’]", val):
        return val[1:-1]
    if re.fullmatch(r"-?\d+", val.rstrip("%")):
        return int(val.rstrip("%"))
    if re.fullmatch(r"-?\d+\.\d+", val):
        return float(val)
    if val.lower() in ("true", "false"):
        return val.lower() == "true"
    return None


def _a(type_word: str) -> str:
    return {
        "int": "a whole number (int)",
        "float": "a number (float)",
        "str": "a text (str)",
        "bool": "a yes/no (bool)",
        "list": "a list",
        "json": "a JSON object (json)",
    }.get(type_word, type_word)


def _answer_var(step: Step, low: str) -> str:
    return "reply_" + re.sub(r"\W+", "_", step.label).strip("_")


def _clean_option(text: str) -> str:
    return text.strip().rstrip(".;,")


def _option_label(text: str) -> str:
    text = _strip_eg(_strip_tools(text))
    text = re.sub(r"\s*#[\w ]+", "", text)
    text = re.sub(
        r"^(?:offer|provide|present|propose)\s+(?:the option (?:for|of|to)\s+)?"
        r"(?:a |an |the )?",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(r"\s+(?:using|with|via|through|at|to|for|,).*$", "", text, flags=re.I)
    return _sentence(text, "")[:60] or "Option"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "option"


def _is_informational(text: str) -> bool:
    titles = [t.lower() for t in PLATFORM_TITLES.values()]
    low = text.lower()
    if any(low.startswith(t) for t in titles) and re.search(r"\bwill\b", low):
        return True
    return bool(re.match(r"^(?:note:|fyi\b|the customer wants|customer wants|the user wants)", low))


def _merge_offers(nodes: list[Node]) -> list[Node]:
    """Adjacent one-option offers ("Offer a discount …", "Offer free shipping …") are one
    offer with several options; nested lists are merged too."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, BranchNode):
            node.then = _merge_offers(node.then)
            node.otherwise = _merge_offers(node.otherwise)
        if (
            isinstance(node, OfferNode)
            and out
            and isinstance(out[-1], OfferNode)
            and node.prompt == _SINGLE_PROMPT
            and out[-1].prompt in (_SINGLE_PROMPT, _MERGED_PROMPT)
        ):
            out[-1].options.extend(node.options)
            out[-1].prompt = _MERGED_PROMPT
            continue
        out.append(node)
    return out
