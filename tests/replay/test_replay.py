"""Replay every recorded workflow history against the current workflow code.

A history is what a running ticket is made of: when a worker picks the ticket up again
(after a deploy, a restart, an eviction) it re-runs the workflow code from the start
against that history, and code that now makes different decisions fails the ticket with
a non-determinism error. These tests do the same, without a server, for the histories
in tests/replay/histories/ (recorded by tests/replay/record.py; README.md beside this
file says when re-recording is right and when it hides the bug).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from policies.library import load_library
from tests.codec_keys import codec_converter
from tests.replay.record import MANIFEST, RECORD_COMMAND
from workflows.claim_sweep import CLAIM_SWEEP
from workflows.ticket import LEAN_TURNS, TicketWorkflow
from workflows.ticket_models import TicketStart
from workflows.worker import WORKFLOWS, workflow_runner

HERE = Path(__file__).parent
HISTORIES = HERE / "histories"
README = "tests/replay/README.md"
BEFORE_LEAN = f"before-{LEAN_TURNS}/{MANIFEST}"


def _manifests() -> list[Path]:
    """histories/manifest.json (the current recording) and those of kept older ones
    (histories/<name>/manifest.json), which go on replaying until they are deleted."""
    return sorted(HISTORIES.rglob(MANIFEST))


def _entries(manifest: Path) -> dict[str, dict[str, Any]]:
    return dict(json.loads(manifest.read_text(encoding="utf-8"))["histories"])


def _cases() -> list[Any]:
    cases = []
    for manifest in _manifests():
        for name, entry in sorted(_entries(manifest).items()):
            path = manifest.parent / name
            cases.append(pytest.param(path, entry, id=path.relative_to(HISTORIES).as_posix()))
    return cases


def _load(path: Path, entry: dict[str, Any]) -> WorkflowHistory:
    return WorkflowHistory.from_json(entry["workflow_id"], path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["default-sandbox", "worker-sandbox"])
def replayer(request: pytest.FixtureRequest) -> Replayer:
    """The production worker's workflows and data converter (with the encryption codec,
    which passes the recorded plain payloads through), in the workflow sandbox: the
    default one, and the worker's (the project's modules passed through)."""
    if request.param == "worker-sandbox":
        return Replayer(
            workflows=WORKFLOWS, data_converter=codec_converter(), workflow_runner=workflow_runner()
        )
    return Replayer(workflows=WORKFLOWS, data_converter=codec_converter())


@pytest.mark.parametrize(("path", "entry"), _cases())
async def test_recorded_history_replays_on_the_current_code(
    path: Path, entry: dict[str, Any], replayer: Replayer
) -> None:
    history = _load(path, entry)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    if failure is not None:
        name = path.relative_to(HISTORIES).as_posix()
        pytest.fail(
            f"{name}: the current workflow code cannot replay this {entry['workflow_type']} "
            f"history (run {entry['run']}, policy {entry['policy']}, script "
            f"{entry['script']}, recorded {entry['recorded_at']} at commit "
            f"{entry['git_commit'][:12]}).\n"
            f"{type(failure).__name__}: {failure}\n\n"
            "Every ticket running in production that went down this path would fail the "
            "same way once workers run this code. Make the change deterministic for old "
            "histories (guard it with workflow.patched(...), see "
            f"{README}). Do NOT re-record to make this test pass: that hides exactly the "
            "bug it exists to catch.",
            pytrace=False,
        )


def test_there_are_recorded_histories() -> None:
    assert (HISTORIES / MANIFEST).is_file(), (
        f"no {HISTORIES / MANIFEST}: record the histories with `{RECORD_COMMAND}`"
    )


@pytest.mark.parametrize("manifest", _manifests(), ids=lambda p: p.parent.name)
def test_manifest_lists_exactly_the_history_files(manifest: Path) -> None:
    listed = set(_entries(manifest))
    present = {p.name for p in manifest.parent.glob("*.json")} - {MANIFEST}
    assert not listed - present, f"{manifest}: listed but missing: {sorted(listed - present)}"
    assert not present - listed, (
        f"{manifest.parent}: history files the manifest does not know (they would never be "
        f"replayed): {sorted(present - listed)}"
    )


def test_every_library_policy_has_a_recorded_history() -> None:
    recorded = {e["policy"] for e in _entries(HISTORIES / MANIFEST).values()}
    missing = sorted(set(load_library().plans) - recorded)
    assert not missing, (
        f"library policies without a recorded history: {', '.join(missing)}. Give each a "
        "conversation script in policies/tests/ (and, to choose which one, a Pick in "
        "tests/replay/record.py: PICKS), then record on the code running in production "
        f"(`{RECORD_COMMAND} --rev <deployed commit>`, or without --rev on a clean tree "
        f"of it) and commit tests/replay/histories/. See {README}."
    )


def test_the_recording_covers_claims_continue_as_new_and_escalation() -> None:
    entries = list(_entries(HISTORIES / MANIFEST).values())
    assert any(e["workflow_type"] == "CarrierClaimWorkflow" for e in entries), (
        "no CarrierClaimWorkflow (carrier claim follow-up) history"
    )
    assert any(
        e["workflow_type"] == "TicketWorkflow" and not e["run"].endswith("/1") for e in entries
    ), "no ticket that continued as new (a ticket with more than one run)"
    assert any(e["ticket_status"] == "escalated" for e in entries), "no escalated ticket"


# -- the harness catches what it should, and lets through what it should -----------------


@workflow.defn(name="TicketWorkflow", sandboxed=False)
class _TicketWithANewFirstStep(TicketWorkflow):
    """Today's ticket with one step added at the start, as a careless change would."""

    @workflow.run
    async def run(self, start: TicketStart) -> Any:
        await workflow.execute_activity(
            "audit_ticket", start, start_to_close_timeout=timedelta(seconds=10)
        )
        return await super().run(start)


@workflow.defn(name="TicketWorkflow", sandboxed=False)
class _TicketWithAPatchedNewFirstStep(TicketWorkflow):
    """The same step, guarded: only tickets that start on this code take it."""

    @workflow.run
    async def run(self, start: TicketStart) -> Any:
        if workflow.patched("audit-ticket"):
            await workflow.execute_activity(
                "audit_ticket", start, start_to_close_timeout=timedelta(seconds=10)
            )
        return await super().run(start)


def _a_first_ticket_run() -> WorkflowHistory:
    for name, entry in sorted(_entries(HISTORIES / MANIFEST).items()):
        if entry["workflow_type"] == "TicketWorkflow" and entry["run"].startswith("1/"):
            return _load(HISTORIES / name, entry)
    raise AssertionError("no first run of a TicketWorkflow recorded")


async def test_an_unguarded_change_fails_replay_and_a_patched_one_passes() -> None:
    history = _a_first_ticket_run()
    unguarded = Replayer(
        workflows=[_TicketWithANewFirstStep],
        data_converter=codec_converter(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await unguarded.replay_workflow(history, raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result
    guarded = Replayer(
        workflows=[_TicketWithAPatchedNewFirstStep],
        data_converter=codec_converter(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await guarded.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def _patch_ids(path: Path) -> set[str]:
    """The `workflow.patched` ids a recorded history took (its `core_patch` markers)."""
    found = set()
    for event in json.loads(path.read_text(encoding="utf-8"))["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(data))["id"])
    return found


def test_the_recordings_replay_both_sides_of_lean_turns() -> None:
    """The current recording's tickets took `lean-turns` (one local activity per message,
    the kept silence timer); the one kept from before it did not, so the replay tests above
    run both branches."""
    for manifest, took in ((HISTORIES / MANIFEST, True), (HISTORIES / BEFORE_LEAN, False)):
        for name, entry in _entries(manifest).items():
            if entry["workflow_type"] == "TicketWorkflow" and entry["run"].startswith("1/"):
                assert (LEAN_TURNS in _patch_ids(manifest.parent / name)) is took, name


def test_the_claim_recordings_replay_both_sides_of_the_claim_sweep() -> None:
    """A follow-up recorded on the shared sweep took `claim-sweep`; the one kept from before
    it did not, so the replay tests above run both branches."""
    folder = HISTORIES / "claim-follow-ups"
    entries = _entries(folder / MANIFEST)
    took = {name: CLAIM_SWEEP in _patch_ids(folder / name) for name in entries}
    assert took["deadline_webhook_check_now.claim-sweep.claim.run1.json"]
    assert not took["deadline_webhook_check_now.before-claim-sweep.claim.run1.json"]
