"""One place every compiler stage reports problems to.

Stages hand the sink a step (or a line) and, optionally, the words to underline; the
sink turns that into a located `Diagnostic`, so no stage deals with columns, source
lines or the file path, and no list of diagnostics is passed from stage to stage.
"""

from __future__ import annotations

from policies.diagnostics import Diagnostic, make
from policies.parser import Step


class DiagnosticSink:
    """Collects the diagnostics of one compilation, in the order they were found."""

    def __init__(self, lines: list[str], path: str | None) -> None:
        self.lines = lines
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def __len__(self) -> int:
        return len(self.diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    def report(
        self,
        code: str,
        message: str,
        step: Step | None = None,
        *,
        line: int | None = None,
        needle: str | None = None,
        fix: str | None = None,
    ) -> None:
        """Points at `needle` when it is on the line, else at the whole step."""
        ln = line if line is not None else (step.line if step else 1)
        src = self.lines[ln - 1] if 0 < ln <= len(self.lines) else ""
        col = step.column if step else 1
        length = len(step.text) if step else max(1, len(src.strip()))
        if needle and needle in src:
            col, length = src.index(needle) + 1, len(needle)
        self.diagnostics.append(
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

    def in_source_order(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=lambda d: (d.line, d.column, d.code))
