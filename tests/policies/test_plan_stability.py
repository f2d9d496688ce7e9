"""Every library policy and fixture compiles to exactly the plan and diagnostics on file.

The snapshots in `plans/` pin the compiler's output, so a refactor that changes any
node, wording or diagnostic shows up as a diff. After an intended change, rewrite them
with `TICKETFLOW_WRITE_PLANS=1 .venv/bin/pytest tests/policies/test_plan_stability.py`
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from policies.compiler import CompileResult, compile_policy
from policies.library import DEFAULT_LIBRARY_DIR, PolicyLibrary, load_library, policy_files

from .conftest import FIXTURES

PLANS = Path(__file__).parent / "plans"
REPO = Path(__file__).resolve().parents[2]
WRITE = os.environ.get("TICKETFLOW_WRITE_PLANS") == "1"
REWRITE_HINT = "TICKETFLOW_WRITE_PLANS=1 .venv/bin/pytest tests/policies/test_plan_stability.py"

LIBRARY_FILES = policy_files(DEFAULT_LIBRARY_DIR)
FIXTURE_FILES = sorted(FIXTURES.glob("*/*.md"))


def snapshot_name(path: Path) -> str:
    """`library__refund`, `seeds__seed_000`: unique across the library and fixture folders."""
    group = "library" if path.parent == DEFAULT_LIBRARY_DIR else path.parent.name
    return f"{group}__{path.stem}"


def relative(path: Path | str | None) -> str | None:
    """Paths relative to the repository, so snapshots match in every checkout."""
    if path is None:
        return None
    p = Path(path)
    return p.relative_to(REPO).as_posix() if p.is_absolute() else p.as_posix()


def snapshot(result: CompileResult) -> dict[str, Any]:
    plan = None
    if result.plan is not None:
        plan = result.plan.model_dump(mode="json")
        plan["source_path"] = relative(plan["source_path"])
    return {
        "ok": result.ok,
        "diagnostics": [
            {
                "code": d.code,
                "severity": d.severity,
                "line": d.line,
                "column": d.column,
                "length": d.length,
                "message": d.message,
                "fix": d.fix,
            }
            for d in result.diagnostics
        ],
        "plan": plan,
    }


def check(name: str, actual: dict[str, Any]) -> None:
    target = PLANS / f"{name}.json"
    text = json.dumps(actual, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if WRITE:
        PLANS.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return
    if not target.exists():
        pytest.fail(f"No snapshot {target.relative_to(REPO)}; write it with: {REWRITE_HINT}")
    expected = json.loads(target.read_text(encoding="utf-8"))
    assert actual == expected, (
        f"{name} compiles differently from {target.relative_to(REPO)}. If the change is "
        f"intended, rewrite the snapshots with: {REWRITE_HINT}"
    )


@pytest.fixture(scope="module")
def compiled_library() -> PolicyLibrary:
    """Compiled as the runtime does, so `#references` resolve across the library."""
    return load_library()


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.stem)
def test_library_policy_plan_is_stable(path: Path, compiled_library: PolicyLibrary) -> None:
    result = next(r for r in compiled_library.results if r.path == str(path))
    check(snapshot_name(path), snapshot(result))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=snapshot_name)
def test_fixture_plan_is_stable(path: Path) -> None:
    result = compile_policy(path.read_text(encoding="utf-8"), path=relative(path))
    check(snapshot_name(path), snapshot(result))


def test_every_snapshot_belongs_to_a_policy() -> None:
    """A snapshot whose policy was renamed or removed would silently stop being checked."""
    names = {snapshot_name(p) for p in [*LIBRARY_FILES, *FIXTURE_FILES]}
    if WRITE:
        for stale in PLANS.glob("*.json"):
            if stale.stem not in names:
                stale.unlink()
    assert {p.stem for p in PLANS.glob("*.json")} <= names
