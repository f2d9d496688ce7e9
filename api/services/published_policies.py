"""The published policy set the API routes with, reloaded when the store changes.

`current()` checks the store's change counter (one indexed `max(id)` on the audit log) at
most every `CHECK_EVERY` seconds and rebuilds the `PolicyLibrary` from the published
versions' stored plans (no recompiling) when it moved; a publish through this process
calls `invalidate()`, so its next ticket already takes the new version. Until the store
holds anything (a database not yet imported), the bundled library is the set.
"""

from __future__ import annotations

import time
from threading import Lock

from sqlalchemy import Engine
from sqlmodel import Session

from api.services.policy_store import change_counter, published_rows
from policies.compiler import CompileResult, PolicyIndex
from policies.library import DEFAULT_LIBRARY_DIR, PolicyLibrary, load_library
from policies.parser import split_front_matter

#: A publish through another API process reaches this one's routing within this long.
CHECK_EVERY = 0.5


def library_from_store(engine: Engine) -> PolicyLibrary | None:
    """The published versions as a library (None: the store is empty)."""
    with Session(engine) as session:
        rows = published_rows(session)
    if not rows:
        return None
    index = PolicyIndex()
    results = []
    for row in rows:
        meta = split_front_matter(row.source)[0]
        index.add(row.policy_id, str(meta.get("title") or ""))
        results.append(CompileResult(plan=row.plan(), diagnostics=[], path=None))
    library = PolicyLibrary(directory=DEFAULT_LIBRARY_DIR, index=index)
    library.results.extend(results)
    return library


class PublishedSet:
    def __init__(self, engine: Engine, fallback: PolicyLibrary | None = None) -> None:
        self.engine = engine
        self._fallback = fallback
        self._library: PolicyLibrary | None = None
        self._counter = -1
        self._checked = 0.0
        self._lock = Lock()

    def invalidate(self) -> None:
        self._checked = 0.0
        self._counter = -1

    def current(self) -> PolicyLibrary:
        now = time.monotonic()
        library = self._library
        if library is not None and now - self._checked < CHECK_EVERY:
            return library
        with self._lock:
            counter = change_counter(self.engine)
            if self._library is None or counter != self._counter:
                stored = library_from_store(self.engine)
                if stored is None:
                    stored = self._fallback = self._fallback or load_library()
                self._library, self._counter = stored, counter
            self._checked = now
            return self._library
