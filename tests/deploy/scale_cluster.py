"""The production processes of a scaled-out deployment, started as real OS processes:
`ticketflow setup`, `ticketflow worker` and `ticketflow api`, each with its own state
directory, sharing only what a cluster shares (the Temporal address, the app database, the
codec keys and the customer-key secret).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx

from tests.ports import free_port
from tests.ticketflow_process import TicketflowProcess

READY_SECONDS = 180.0  # imports take long on a busy 2-core machine


class ClusterProcess(TicketflowProcess):
    """One `ticketflow <role>` process, its stdout and stderr in one log file (JSON lines)."""

    def __init__(self, name: str, role: str, env: dict[str, str], log: Path) -> None:
        super().__init__(role, env, log)
        self.name = name
        self.role = role
        self.ready_lines = 0
        self.port = int(env["TICKETFLOW_API_PORT"]) if role == "api" else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.ready_lines = self._ready_lines()
        self.spawn()

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
