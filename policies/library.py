"""The policy library: every policy file in a directory, compiled against each other.

`load_library()` indexes ids and titles first (so `#references` resolve in any order),
then compiles every file. The runtime uses `get(id)` for a published plan and
`match(text)` to route a ticket by ticket type or trigger phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from policies.compiler import CompileResult, PolicyIndex, compile_policy
from policies.compiler.front_matter import policy_name
from policies.diagnostics import make
from policies.parser import parse_policy
from policies.plan import Plan

#: The bundled library, next to this module so it works from an installed package.
DEFAULT_LIBRARY_DIR = Path(__file__).resolve().parent / "library"
#: The conversation scripts that test the library policies (`ticketflow policy test`).
SCRIPTS_DIR = Path(__file__).resolve().parent / "tests"


def policy_files(directory: Path | str) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.md") if p.name.lower() != "readme.md")


def build_index(paths: list[Path]) -> PolicyIndex:
    """Every policy's id and title as the compiler will name it (a file without an `id`
    is known by its file name), so `#references` to it resolve."""
    index = PolicyIndex()
    for path in paths:
        policy_id, title, _ = policy_name(parse_policy(path.read_text(encoding="utf-8")), str(path))
        if isinstance(policy_id, str):
            index.add(policy_id, title)
    return index


@lru_cache(maxsize=1)
def default_index() -> PolicyIndex:
    """Ids and titles of the bundled library (for compiling a file on its own)."""
    return build_index(policy_files(DEFAULT_LIBRARY_DIR))


@dataclass
class PolicyLibrary:
    directory: Path
    index: PolicyIndex
    results: list[CompileResult] = field(default_factory=list)

    @property
    def plans(self) -> dict[str, Plan]:
        return {r.plan.id: r.plan for r in self.results if r.plan is not None and r.ok}

    @property
    def ok(self) -> bool:
        return all(not r.errors for r in self.results)

    def get(self, policy_id: str) -> Plan:
        """The compiled plan with this id (or a `#reference`-style name); KeyError if none
        or if it has errors."""
        resolved = self.index.resolve(policy_id.lstrip("#")) or policy_id
        return self.plans[resolved]

    def match(self, text: str, *, threshold: float = 70.0) -> Plan | None:
        """Route a ticket: an exact ticket type or trigger phrase first, else the best fuzzy
        match of the customer's words against the triggers, if it scores above threshold."""
        low = _words(text)
        best: tuple[float, Plan] | None = None
        for plan in self.plans.values():
            for phrase in [*plan.ticket_types, *plan.triggers]:
                p = _words(phrase)
                if not p:
                    continue
                if low == p or re.search(rf"\b{re.escape(p)}\b", low):
                    score = 100.0 + len(p)
                else:
                    score = (
                        fuzz.token_set_ratio(p, low)
                        if len(low) < 4 * len(p) + 20
                        else fuzz.partial_ratio(p, low)
                    )
                if best is None or score > best[0]:
                    best = (score, plan)
        return best[1] if best and best[0] >= threshold else None


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("’", "'")))


def load_library(
    directory: Path | str | None = None, *, default_platforms: Sequence[str] = ()
) -> PolicyLibrary:
    """Compile every `*.md` policy in `directory` (default: the bundled library), a role
    no policy names a platform for on the deployment's `default_platforms`."""
    root = Path(directory) if directory is not None else DEFAULT_LIBRARY_DIR
    paths = policy_files(root)
    index = build_index(paths)
    library = PolicyLibrary(directory=root, index=index)
    seen: dict[str, Path] = {}
    for path in paths:
        result = compile_policy(
            path.read_text(encoding="utf-8"),
            path=str(path),
            library=index,
            default_platforms=default_platforms,
        )
        if result.plan is not None:
            if result.plan.id in seen:
                result.diagnostics.append(
                    make(
                        "TF018",
                        f"Two policies use the id `{result.plan.id}`: this file and "
                        f"{seen[result.plan.id].name}. References would be ambiguous.",
                        line=1,
                        path=str(path),
                        fix="Give each policy its own `id:` in the front matter.",
                    )
                )
                result.plan = None
            else:
                seen[result.plan.id] = path
        library.results.append(result)
    return library
