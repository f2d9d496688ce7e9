"""Every benchmark, one after another, each on its own dev server and sandbox:

    python -m benchmarks            (make bench)

then the claims benchmark when it exists (benchmarks/claims.py, written by the claims work).
"""

from __future__ import annotations

import importlib
import importlib.util

from benchmarks import codec, http, open_tickets, overhead


def main() -> None:
    overhead.main([])
    codec.main([])
    http.main([])
    open_tickets.main([])
    if importlib.util.find_spec("benchmarks.claims") is not None:
        claims = importlib.import_module("benchmarks.claims")
        claims.main()


if __name__ == "__main__":
    main()
