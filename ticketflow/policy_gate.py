"""Publishing runs the policy's conversation scripts against the draft first: the API
(`create_app(policy_scripts=…)`) calls `run_policy_scripts`, wired here in the composition
root because it starts the time-skipping server, the sandbox and a worker
(ticketflow/conversation_tests.py), which the API layer must not import."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from activities.policy_store import PolicyActivities
from api.main import create_app
from policies.compiler import CompileResult
from policies.library import PolicyLibrary
from policies.plan import Plan
from ticketflow.conversation_tests import TESTS_DIR, load_script, run_script_files, script_paths


async def run_policy_scripts(
    policy_id: str, plan: Plan, library: PolicyLibrary, stored: Sequence[str] = ()
) -> list[str]:
    """Every failed expectation of the scripts for `policy_id` (policies/tests/*.yaml with
    `policy: <id>`, and the `stored` YAML sources the console saved), played on the
    time-skipping server with `plan` in place of the published one; [] when all pass or
    the policy has none."""
    with tempfile.TemporaryDirectory(prefix="stored-scripts-") as folder:
        scripts = []
        for path in script_paths([TESTS_DIR]):
            try:
                if load_script(path).policy == policy_id:
                    scripts.append(path)
            except Exception:
                continue
        for number, source in enumerate(stored, 1):
            path = Path(folder) / f"{policy_id}__saved_{number}.yaml"
            path.write_text(source, encoding="utf-8")
            scripts.append(path)  # one that does not parse is reported as a failure
        if not scripts:
            return []
        return await _run(policy_id, plan, library, scripts)


async def _run(
    policy_id: str, plan: Plan, library: PolicyLibrary, scripts: list[Path]
) -> list[str]:
    with_draft = PolicyLibrary(directory=library.directory, index=library.index)
    with_draft.results = [r for r in library.results if r.plan is None or r.plan.id != policy_id]
    with_draft.results.append(CompileResult(plan=plan, diagnostics=[]))
    results = await run_script_files(
        scripts, server="time-skipping", policies=PolicyActivities(with_draft)
    )
    failures: list[str] = []
    for result in results:
        if result.ok:
            continue
        lines = result.failures() or ["passed, but it is marked as a known issue"]
        failures.extend(f"{result.name or result.path}: {line}" for line in lines)
    return failures


def create_gated_app() -> FastAPI:
    """The API `ticketflow api` serves: publishing runs the policy's scripts first."""
    return create_app(policy_scripts=run_policy_scripts)
