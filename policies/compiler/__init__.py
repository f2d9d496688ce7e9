"""Compile a policy's steps into a checked plan.

Each step becomes one plan node (plus its sub-steps), chosen by what the step does:
branch ("If …:"), say (a macro, or "Inform/Notify/Thank the customer …"), hand over
("… using #Reshipment Policy"), escalate ("route the case to an agent"), follow up a
carrier claim, ask ("Ask for …", "Request …"), offer ("offer retention options: - …"),
call ("Use @tool(…)"), end, or note. Every problem becomes a diagnostic with a fix;
a step that matches nothing is kept as a note with a warning, so the author sees it
will not run.

Stages, in the order `pipeline` runs them: `front_matter`, then per step `classify`
→ `build` → `bind` → `check`, with `wording` for customer-facing text; all report to
one `sink.DiagnosticSink`.
"""

from policies.compiler.index import PolicyIndex
from policies.compiler.patterns import INITIAL_CONTEXT, KNOWN_KEYS, KNOWN_SETTINGS
from policies.compiler.pipeline import CompileResult, compile_policy
from policies.compiler.sink import DiagnosticSink
from policies.compiler.wording import customer_message, customer_question

__all__ = [
    "INITIAL_CONTEXT",
    "KNOWN_KEYS",
    "KNOWN_SETTINGS",
    "CompileResult",
    "DiagnosticSink",
    "PolicyIndex",
    "compile_policy",
    "customer_message",
    "customer_question",
]
