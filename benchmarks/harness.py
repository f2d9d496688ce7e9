"""What every benchmark shares: its own dev server, an in-process sandbox, a worker process,
percentiles, the machine description and the results file.

Everything listens on loopback only; every loop is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import uvicorn
from rich.console import Console
from rich.table import Table
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from sandbox.app import create_app as create_sandbox_app
from sandbox.config import SandboxConfig
from ticketflow.wheel_binaries import wheel_binary
from workflows import search_attributes as sa
from workflows.payload_codec import Keyring, encrypted_converter

RESULTS_DIR = Path(__file__).parent / "results"
console = Console()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- machine and results ------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def write_results(
    name: str, command: str, settings: dict[str, Any], figures: dict[str, Any]
) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    body = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "settings": settings,
        "figures": figures,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    console.print(f"[dim]wrote {path}[/dim]")
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Latencies:
    """Turn latencies in seconds; summaries in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def ms(self, q: float) -> float:
        return round(percentile(self.samples, q) * 1000, 2)

    def summary(self) -> dict[str, float]:
        return {
            "count": len(self.samples),
            "p50_ms": self.ms(50),
            "p95_ms": self.ms(95),
            "p99_ms": self.ms(99),
            "max_ms": self.ms(100),
        }


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    result = Table(title=title)
    for index, column in enumerate(columns):
        result.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        result.add_row(*[str(cell) for cell in row])
    console.print(result)
    return result


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


# --- payload encryption --------------------------------------------------------------------

# Benchmarks encrypt every payload as production does: one random key for the run, handed to
# the worker and API processes they start (worker_environment, benchmarks/http.py).
CODEC_KEYS = Keyring.new_entry("bench")


def encrypted() -> DataConverter:
    return encrypted_converter(Keyring.parse(CODEC_KEYS))


# --- servers -------------------------------------------------------------------------------


@asynccontextmanager
async def dev_server(
    *,
    ui: bool = False,
    database: Path | None = None,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    data_converter: DataConverter | None = None,
) -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own, search attributes registered, pydantic converter with the
    run's encryption key (unless `data_converter` says otherwise)."""
    kwargs: dict[str, Any] = {}
    if database is not None:
        kwargs["dev_server_database_filename"] = str(database)
    if port is not None:
        kwargs["port"] = port
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=wheel_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        data_converter=data_converter or encrypted(),
        dev_server_log_level="error",
        ui=ui,
        dev_server_extra_args=list(extra_args),
        **kwargs,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def dev_server_process(env: WorkflowEnvironment) -> psutil.Process | None:
    """The `temporal server start-dev` process behind an environment (for its RSS)."""
    port = int(env.client.service_client.config.target_host.rsplit(":", 1)[1])
    me = psutil.Process()
    for child in me.children(recursive=True):
        try:
            if any(conn.laddr.port == port for conn in child.net_connections(kind="tcp")):
                return child
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
    return None


@contextmanager
def sandbox_server(fault_seed: int = 7) -> Iterator[str]:
    """The platform sandbox under uvicorn in a thread (in-memory SQLite), as the tests use."""
    port = free_port()
    app = create_sandbox_app(SandboxConfig(fault_seed=fault_seed))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            backlog=4096,
        )
    )
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("sandbox did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def sandbox_process(fault_seed: int = 7) -> Iterator[str]:
    """The platform sandbox under uvicorn in a process of its own: a remote platform, as
    in production, not a thread competing for the benchmark's (the worker's) GIL."""
    port = free_port()
    code = (
        "import sys; from sandbox.config import SandboxConfig; from sandbox.server import serve; "
        "serve(SandboxConfig(port=int(sys.argv[1]), fault_seed=int(sys.argv[2])), "
        "log_level='warning')"
    )
    process = subprocess.Popen([sys.executable, "-c", code, str(port), str(fault_seed)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_sandbox/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("sandbox did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def reset_sandbox(sandbox_url: str) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/reset", timeout=30).raise_for_status()


def worker_environment() -> dict[str, str]:
    """The worker runs with Python's bytecode cache on, as a production image should.

    The Temporal sandbox re-imports the workflow modules for every workflow instance it
    creates (a new ticket, or one evicted from the cache and replayed). With
    PYTHONDONTWRITEBYTECODE=1 (set on this machine) every such import compiles
    workflows/ticket.py from source again: a third of the worker's CPU in the open-tickets
    run. The cache goes to a temporary prefix, not into the source tree.
    """
    env = dict(os.environ, TICKETFLOW_CODEC_KEYS=CODEC_KEYS)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "ticketflow-bench-pycache")
    return env


class WorkerProcess:
    """`python -m benchmarks.worker`: TicketWorkflow, the baseline workflows and every
    activity, in its own OS process (so its RSS is its own and it can be killed)."""

    def __init__(
        self,
        *,
        address: str,
        task_queue: str,
        sandbox_url: str,
        log: Path,
        max_cached_workflows: int = 1000,
        profile: Path | None = None,
        plain_task_queue: str = "",
    ) -> None:
        worker = [sys.executable, "-m", "benchmarks.worker", "--address", address]
        worker += ["--task-queue", task_queue, "--sandbox-url", sandbox_url]
        if plain_task_queue:
            worker += ["--plain-task-queue", plain_task_queue]
        worker += ["--max-cached-workflows", str(max_cached_workflows)]
        self.args = worker
        self.profile = profile
        if profile is not None:
            # py-spy samples every thread (workflow activations run in the SDK's thread
            # pool, which pyinstrument would not see) and writes collapsed stacks at exit.
            spy = str(Path(sys.executable).parent / "py-spy")
            self.args = [spy, "record", "-f", "raw", "-r", "100", "-o", str(profile), "--"]
            self.args += worker
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, env=worker_environment()
            )

    async def ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            text = self.log.read_bytes().split(b"benchmark worker stopping")[-1]
            if b"benchmark worker ready" in text:
                return
            if self.process is not None and self.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-4000:]}")

    def worker_process(self) -> psutil.Process:
        """The worker itself (under py-spy it is py-spy's child)."""
        assert self.process is not None
        proc = psutil.Process(self.process.pid)
        if self.profile is not None:
            children = proc.children()
            if children:
                return children[0]
        return proc

    def rss_bytes(self) -> int:
        return int(self.worker_process().memory_info().rss)

    def stop(self) -> None:
        """SIGINT: the worker drains and exits (and py-spy then writes its profile)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.worker_process().send_signal(signal.SIGINT)
        except psutil.NoSuchProcess:
            pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
