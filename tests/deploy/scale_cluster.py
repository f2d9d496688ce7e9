"""The production processes of a scaled-out deployment, started as real OS processes:
`ticketflow setup`, `ticketflow worker` and `ticketflow api`, each with its own state
directory, sharing only what a cluster shares (the Temporal address, the app database, the
codec keys and the customer-key secret).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.ports import free_port

READY_SECONDS = 180.0  # imports take long on a busy 2-core machine


class ClusterProcess:
    """One `ticketflow <role>` process, its stdout and stderr in one log file (JSON lines)."""

    def __init__(self, name: str, role: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.role = role
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.ready_lines = 0
        self.port = int(env["TICKETFLOW_API_PORT"]) if role == "api" else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.ready_lines = self._ready_lines()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ticketflow", self.role],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Worker: its "worker ready" line since this start; API: `/health` answers 200."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_SECONDS
        async with httpx.AsyncClient(timeout=2) as http:
            while loop.time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    break
                if self.role == "worker":
                    if self._ready_lines() > self.ready_lines:
                        return
                else:
                    try:
                        if (await http.get(f"{self.url}/health")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not get ready:\n{self.log.read_text()[-4000:]}")

    def _ready_lines(self) -> int:
        return self.log.read_bytes().count(b"worker ready") if self.log.exists() else 0

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye, as when a node dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


def cluster_env(
    *,
    temporal_address: str,
    task_queue: str,
    database_url: str,
    sandbox_url: str,
    customer_key_secret: str,
    state_dir: Path,
    pycache: Path,
) -> dict[str, str]:
    """What every process of the deployment is given; TICKETFLOW_CODEC_KEYS comes from the
    test session's environment (tests/conftest.py), the same for all of them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETFLOW_")}
    # Bytecode cache on (outside the tree): the workflow sandbox re-imports the workflow
    # modules for every ticket it builds; the image compiles them at build for the same reason.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    state_dir.mkdir(parents=True, exist_ok=True)
    return dict(
        env,
        PYTHONPYCACHEPREFIX=str(pycache),
        TEMPORAL_ADDRESS=temporal_address,
        TICKETFLOW_CODEC_KEYS=os.environ["TICKETFLOW_CODEC_KEYS"],
        TICKETFLOW_CUSTOMER_KEY_SECRET=customer_key_secret,
        TICKETFLOW_DATABASE_URL=database_url,
        TICKETFLOW_TASK_QUEUE=task_queue,
        TICKETFLOW_SANDBOX_PORT=sandbox_url.rsplit(":", 1)[1],
        TICKETFLOW_STATE_DIR=str(state_dir),
        TICKETFLOW_LOG_FORMAT="json",
        TICKETFLOW_API_PORT=str(free_port()),
    )


def json_log_records(lines: list[str]) -> tuple[list[dict], list[str]]:
    """The lines that are JSON objects, and those that are not (which a pipeline would
    ingest as unstructured text)."""
    records, other = [], []
    for line in lines:
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(parsed, dict):
            records.append(parsed)
        else:
            other.append(line)
    return records, other


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 if none)."""
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric != name:
            continue
        if all(f'{key}="{wanted}"' in label_text for key, wanted in labels.items()):
            total += float(value)
    return total
