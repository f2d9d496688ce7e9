"""The published policy set the API routes with, reloaded when the store changes.

`PublishedSet` (activities/policy_versions.py; the worker's `route_ticket` uses the same)
checks the store's change counter (one indexed `max(id)` on the audit log) at most every
half second and rebuilds the library from the published versions' stored plans when it
moved; a publish through this process calls `invalidate()`, so its next ticket already
takes the new version. Until the store holds anything, the bundled library is the set.
"""

from __future__ import annotations

from sqlalchemy import Engine

from activities.policy_versions import PublishedSet
from policies.library import PolicyLibrary, load_library


class ApiPublishedSet:
    def __init__(self, engine: Engine) -> None:
        # Diagnosed: `GET /policies` counts each published policy's warnings.
        self._set = PublishedSet(engine, fallback=load_library, diagnose=True)

    def invalidate(self) -> None:
        self._set.invalidate()

    def current(self) -> PolicyLibrary:
        library = self._set.current()
        assert library is not None  # the fallback always gives one
        return library
