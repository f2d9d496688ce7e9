"""`python -m ticketflow <command>` as an OS process of its own, its stdout and stderr
appended to one log file: what the chaos and scale-out tests SIGKILL as a node dies."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


class TicketflowProcess:
    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def spawn(self, banner: bytes = b"") -> None:
        """Start (again), after writing `banner` to the log."""
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(banner)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ticketflow", self.command],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

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
