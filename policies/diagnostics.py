"""Compiler diagnostics: what is wrong, where, and what to write instead.

Every problem carries a stable code (tests, tooling and docs refer to it), a severity
(errors block a policy from running, warnings do not), a 1-based line and column, a
plain-English message a CX manager can act on, and, where possible, a fix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]

#: Stable code → (short name, severity). Codes never change meaning once released.
CODES: dict[str, tuple[str, Severity]] = {
    "TF001": ("unknown-tool", "error"),
    "TF002": ("unknown-argument", "error"),
    "TF003": ("missing-argument", "error"),
    "TF004": ("argument-type", "error"),
    "TF005": ("unknown-policy", "error"),
    "TF006": ("unbound-variable", "error"),
    "TF007": ("empty-branch", "error"),
    "TF008": ("unrecognised-step", "warning"),
    "TF009": ("ambiguous-tools", "warning"),
    "TF010": ("front-matter", "error"),
    "TF011": ("condition-syntax", "error"),
    "TF012": ("unknown-condition", "warning"),
    "TF013": ("no-platform-for-tool", "error"),
    "TF014": ("platform-not-listed", "warning"),
    "TF015": ("policy-without-hash", "warning"),
    "TF016": ("no-steps", "error"),
    "TF017": ("unknown-field", "error"),
    "TF018": ("duplicate-policy-id", "error"),
    "TF019": ("unknown-setting", "warning"),
    "TF020": ("unknown-outcome", "error"),
    "TF021": ("customer-facing-syntax", "warning"),
    "TF022": ("inferred-front-matter", "warning"),
    "TF023": ("default-platform", "warning"),
}


class Diagnostic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    line: int
    column: int = 1
    length: int = 1
    severity: Severity
    code: str
    name: str
    message: str
    fix: str | None = None
    source_line: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        return f"{self.path or '<policy>'}:{self.line}:{self.column}"

    def render(self) -> str:
        """Elm-style plain text: a header, the message, the line with a caret, the fix."""
        title = self.name.replace("-", " ").upper()
        loc = self.location()
        header = f"-- {title} " + "-" * max(3, 78 - len(title) - len(loc) - 5) + f" {loc}"
        parts = [header, "", self.message]
        if self.source_line:
            gutter = f"{self.line:>5} | "
            caret = " " * (len(gutter) + self.column - 1) + "^" * max(1, self.length)
            parts += ["", gutter + self.source_line, caret]
        if self.fix:
            parts += ["", self.fix]
        return "\n".join(parts) + "\n"


def make(
    code: str,
    message: str,
    *,
    line: int,
    column: int = 1,
    length: int = 1,
    fix: str | None = None,
    path: str | None = None,
    source_line: str = "",
) -> Diagnostic:
    name, severity = CODES[code]
    return Diagnostic(
        path=path,
        line=line,
        column=max(1, column),
        length=max(1, length),
        severity=severity,
        code=code,
        name=name,
        message=message,
        fix=fix,
        source_line=source_line,
    )
