"""Compile a policy's steps into a checked plan, stage by stage.

The front matter is read first; then every step is classified, built into nodes, its
tools bound and its references checked, all reporting to one `DiagnosticSink`; then
the plan is assembled around the nodes. The plan is None when any error was found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from policies.catalog import CATALOG
from policies.compiler.build import merge_offers
from policies.compiler.classify import Classifier
from policies.compiler.front_matter import read_front_matter, report_assumed
from policies.compiler.index import PolicyIndex
from policies.compiler.patterns import INITIAL_CONTEXT
from policies.compiler.sink import DiagnosticSink
from policies.compiler.state import CompileState, Scope
from policies.diagnostics import Diagnostic
from policies.parser import ParsedPolicy, parse_policy
from policies.plan import EndNode, Plan
from policies.platforms import PLATFORM_ROLES, ROLES, platform_key, resolve_platform


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
    require_id: bool = False,
    default_platforms: Sequence[str] = (),
) -> CompileResult:
    """Compile one policy source. `library` resolves `#references` (default: the
    bundled library). A source without an `id` takes one from `path`'s file name, else
    from its title, unless `require_id` (a caller that files policies by the id their
    front matter declares). `default_platforms` are the deployment's (the caller reads
    its settings): a role the front matter leaves empty runs on the one of them that can
    fill it, with TF023, and the plan records it. The plan is None when any error was
    found."""
    if library is None:
        from policies.library import default_index

        index = default_index()
    elif isinstance(library, PolicyIndex):
        index = library
    else:
        index = library.index
    defaults = [platform_key(p) for p in default_platforms]
    known = [p for p in dict.fromkeys(defaults) if p in PLATFORM_ROLES]
    return _Pipeline(text, path, index, require_id, known).run()


class _Pipeline:
    """One compilation: front matter, then the steps, then the plan around them."""

    def __init__(
        self,
        text: str,
        path: str | None,
        index: PolicyIndex,
        require_id: bool,
        default_platforms: list[str],
    ) -> None:
        self.text = text
        self.path = path
        self.require_id = require_id
        self.parsed: ParsedPolicy = parse_policy(text)
        self.sink = DiagnosticSink(self.parsed.lines, path)
        self.state = CompileState(sink=self.sink, index=index, default_platforms=default_platforms)
        self.classifier = Classifier(self.state)

    def run(self) -> CompileResult:
        meta, self.state.platforms = read_front_matter(
            self.parsed, self.sink, path=self.path, require_id=self.require_id
        )
        self.state.situation = " ".join(
            str(v)
            for v in [meta.get("id", ""), meta.get("title", ""), *meta.get("ticket_types", [])]
        )
        scope = Scope({n: None for n in INITIAL_CONTEXT})
        for name in [*meta.get("inputs", []), *meta.get("defaults", {})]:
            scope.bind(str(name))
        steps = self.classifier.compile_steps(self.parsed.steps, scope)
        steps = merge_offers(steps)
        if self.state.assumed:
            report_assumed(self.sink, self.parsed, self.state)
        if not self.parsed.steps:
            self.sink.report(
                "TF016",
                "This policy has no steps, so it would do nothing.",
                line=max(1, self.parsed.body_start + 1),
                fix="Write the logic as a numbered list: `1. Ask for the customer's "
                "email address.`",
            )
        if not steps or steps[-1].kind not in ("end", "use_policy", "escalate"):
            last_line = steps[-1].line if steps else max(1, len(self.parsed.lines))
            word = str(meta.get("settings", {}).get("outcome", "resolved"))
            steps.append(
                EndNode(
                    line=last_line, outcome=self.classifier.checker.outcome(word), implicit=True
                )
            )
        if self.sink.has_errors or "id" not in meta:
            return CompileResult(None, self.sink.in_source_order(), self.path)
        settings = meta.get("settings", {})
        roles = {
            r: p for r in ROLES if (p := resolve_platform(r, self.state.platforms)) is not None
        }
        plan = Plan(
            id=meta["id"],
            title=meta.get("title", meta["id"]),
            version=self.version(),
            when_to_use=self.parsed.when_to_use,
            ticket_types=meta.get("ticket_types", []),
            triggers=meta.get("triggers", []),
            examples=meta.get("examples", []),
            customer_name=meta.get("customer_name", ""),
            platforms=self.state.platforms,
            roles=roles,
            variants=meta.get("variants", []),
            inputs=[str(i) for i in meta.get("inputs", [])],
            defaults=meta.get("defaults", {}),
            settings=settings,
            tools=sorted(self.state.tools_used),
            policies=list(dict.fromkeys(self.state.policies_used)),
            source_path=self.path,
            steps=steps,
        )
        return CompileResult(plan, self.sink.in_source_order(), self.path)

    def version(self) -> str:
        digest = hashlib.sha256(self.text.encode("utf-8"))
        if self.state.assumed:  # the same source on another deployment's store: another plan
            digest.update(json.dumps([(a.role, a.platform) for a in self.state.assumed]).encode())
        for name in sorted(self.state.tools_used):
            digest.update(json.dumps(CATALOG[name].fingerprint(), sort_keys=True).encode())
        return digest.hexdigest()[:12]
