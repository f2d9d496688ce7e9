"""Bind stage: a step's `@tool(…)` against the tool catalog.

The tool must exist and run on a platform the policy lists; every argument it takes is
bound to a `$variable`, a literal of the right type, or a value found in context; an
offer option that names no tool gets one chosen from its words.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from policies.catalog import CATALOG, CONTEXT_SOURCES, TYPE_ALIASES, ToolSpec
from policies.compiler.check import Checker
from policies.compiler.patterns import ASKABLE, OFFER_TOOL_WORDS, PERCENT, RESULT_AS, TOOL_RE
from policies.compiler.state import AssumedPlatform, CompileState, Scope
from policies.compiler.wording import customer_message, strip_eg, strip_tools
from policies.conditions import LiteralValue, TemplateValue, Value, VarRef
from policies.parser import Step
from policies.plan import AskNode, CallNode, Node
from policies.platforms import (
    PLATFORM_ROLES,
    PLATFORM_TITLES,
    ROLES,
    default_for_role,
    resolve_platform,
)


class Binder:
    def __init__(self, state: CompileState, checker: Checker) -> None:
        self.state = state
        self.sink = state.sink
        self.checker = checker

    def known_tool(self, step: Step, name: str) -> ToolSpec | None:
        if name in CATALOG:
            return CATALOG[name]
        hit = process.extractOne(name, list(CATALOG), scorer=fuzz.WRatio)
        self.sink.report(
            "TF001",
            f"Step {step.label} uses @{name}, but there is no tool with that name.",
            step,
            needle="@" + name,
            fix=(f"Did you mean @{hit[0]}? " if hit and hit[1] >= 60 else "")
            + "Run `ticketflow tools` to see every tool.",
        )
        return None

    def assume_default(self, step: Step, spec: ToolSpec) -> str | None:
        """The deployment's one default platform for the tool's role, now one of the
        policy's platforms (reported once, by the pipeline); None when it has none or
        several for the role."""
        platform = default_for_role(spec.binds_to, self.state.default_platforms)
        if platform is not None:
            self.state.platforms.append(platform)
            self.state.assumed.append(
                AssumedPlatform(spec.binds_to, platform, spec.name, step.line)
            )
        return platform

    def call(
        self,
        step: Step,
        text: str,
        scope: Scope,
        *,
        tool_name: str | None = None,
        inferred: bool = False,
    ) -> CallNode | None:
        m = TOOL_RE.search(text)
        name = tool_name or (m.group(1) if m else "")
        spec = self.known_tool(step, name)
        if spec is None:
            return None
        self.state.tools_used.add(spec.name)
        platform = resolve_platform(spec.binds_to, self.state.platforms)
        if (
            spec.binds_to in ROLES
            and not any(spec.binds_to in PLATFORM_ROLES.get(p, ()) for p in self.state.platforms)
            and spec.binds_to not in ("carrier",)
        ):
            if spec.binds_to == "helpdesk" and platform:
                pass
            elif (assumed := self.assume_default(step, spec)) is not None:
                platform = assumed
            else:
                self.sink.report(
                    "TF013",
                    f"@{spec.name} runs on the policy's {spec.binds_to} platform, "
                    "but the front matter names none.",
                    step,
                    needle="@" + spec.name,
                    fix=_name_a_platform(spec.binds_to, self.state.default_platforms),
                )
        elif spec.binds_to in PLATFORM_ROLES and spec.binds_to not in self.state.platforms:
            title = PLATFORM_TITLES.get(spec.binds_to, spec.binds_to)
            self.sink.report(
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
                self.sink.report(
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
            before = len(self.sink)
            bound = self.arg_value(step, spec, key, val, text, scope)
            if bound is not None:
                args[key] = bound
            elif len(self.sink) > before:
                reported.add(key)
            elif key not in spec.required_params():
                # Written, so meant: leaving an optional argument out changes what the
                # call does ("amount" left out refunds the order in full).
                self._unbound_written(step, spec, key)
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
            self.sink.report(
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
        named = RESULT_AS.search(text)
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

    def _unbound_written(self, step: Step, spec: ToolSpec, key: str) -> None:
        field = spec.params.model_fields.get(key)
        meaning = (
            field.description if field else None
        ) or "when left out, the tool uses its default"
        sources = CONTEXT_SOURCES.get(key, ())
        self.sink.report(
            "TF003",
            f"Step {step.label} passes `{key}` to @{spec.name}, but nothing before it "
            "provides it"
            + (f" (I looked for ${', $'.join(sources)})" if sources else f" (I looked for ${key})")
            + f"; {meaning}.",
            step,
            needle=key,
            fix=f"Give it a value, e.g. `@{spec.name}({key}: $something)` or a number, "
            f"or leave `{key}` out of the call if that is what you mean.",
        )

    def arg_value(
        self, step: Step, spec: ToolSpec, key: str, val: str, text: str, scope: Scope
    ) -> Value | None:
        expected = spec.param_type(key)
        if not val:
            return self.implicit_arg(spec, key, text, scope)
        if val.startswith("$"):
            path = val[1:].rstrip(".,").split(".")
            self.checker.check_var(step, path, scope)
            return VarRef(path=path)
        if val.lower() in TYPE_ALIASES:
            given = TYPE_ALIASES[val.lower()]
            if given != expected and not (given == "int" and expected == "float"):
                self.sink.report(
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
            self.sink.report(
                "TF004",
                f"I can't read the value `{val}` for `{key}` of @{spec.name}.",
                step,
                needle=val,
                fix=f"Use a type ({expected}), a $variable, a number or a quoted text.",
            )
            return None
        if expected in ("int", "float") and not isinstance(literal, int | float):
            self.sink.report(
                "TF004",
                f"`{key}` of @{spec.name} is a number, but step {step.label} gives “{val}”.",
                step,
                needle=val,
                fix=f"Write a number, e.g. `{key}: 15`.",
            )
        return LiteralValue(value=literal)

    def implicit_arg(self, spec: ToolSpec, key: str, text: str, scope: Scope) -> Value | None:
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
            pct = PERCENT.search(text)
            if pct:
                return LiteralValue(value=int(pct.group(1)))
        if key in ("message", "reason", "note"):
            return TemplateValue(
                text=customer_message(text)
                if key == "message"
                else strip_eg(strip_tools(text)).rstrip(".")
            )
        return None

    def infer_offer_call(self, step: Step, text: str, scope: Scope) -> list[Node] | None:
        low = text.lower()
        for pattern, tool in OFFER_TOOL_WORDS:
            if not re.search(pattern, low):
                continue
            return self.call_with_asks(step, text, scope, CATALOG[tool], True)
        return None

    def call_with_asks(
        self, step: Step, text: str, scope: Scope, spec: ToolSpec | None, inferred: bool
    ) -> list[Node] | None:
        """An offer option's call; a value only the customer can give is asked for first."""
        if spec is None or (
            resolve_platform(spec.binds_to, self.state.platforms) is None
            and default_for_role(spec.binds_to, self.state.default_platforms) is None
        ):
            return None
        tool = spec.name
        pre: list[Node] = []
        inner = scope
        for key in spec.required_params():
            if self.implicit_arg(spec, key, text, inner) is None and key in ASKABLE:
                slot, question, var = ASKABLE[key]
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


def _name_a_platform(role: str, defaults: list[str]) -> str:
    """The fix for a role no listed platform fills: the platforms that can, by name, and
    why the deployment's default platforms did not choose one."""
    able = [k for k, roles in PLATFORM_ROLES.items() if role in roles]
    listed = _titles(able, "or")
    fix = (
        f"Name the {role} platform you use in the front matter, e.g. "
        f"`platforms: [{able[0]}]`. {listed} can fill it."
    )
    candidates = [p for p in defaults if role in PLATFORM_ROLES.get(p, ())]
    if len(candidates) > 1:
        return (
            fix + f" This deployment's default platforms (TICKETFLOW_DEFAULT_PLATFORMS) "
            f"list {_titles(candidates, 'and')} for the {role}, so I can't choose one."
        )
    return fix + (
        f" Or list one in this deployment's default platforms (TICKETFLOW_DEFAULT_PLATFORMS, "
        f"now {', '.join(defaults)})."
        if defaults
        else " Or set this deployment's default platforms, e.g. "
        f"TICKETFLOW_DEFAULT_PLATFORMS={able[0]}."
    )


def _titles(keys: list[str], joined_by: str) -> str:
    """ "Shopify (`shopify`) and BigCommerce (`bigcommerce`)"."""
    names = [f"{PLATFORM_TITLES.get(k, k)} (`{k}`)" for k in keys]
    return ", ".join(names[:-1]) + f" {joined_by} {names[-1]}" if len(names) > 1 else names[0]


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
