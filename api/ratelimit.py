"""Per-key rate limit: one token bucket per API key, in this process.

A bucket holds up to ``burst`` requests and refills at ``rate`` per second; a request that
finds it empty gets 429 with ``Retry-After`` (whole seconds until a token is back). The
buckets live in the API process: with N replicas behind a load balancer a key gets up to N
times the rate. ``rate <= 0`` turns the limit off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key_id: int) -> float:
        """Take one token for this key: 0 if allowed, else the seconds until one is back."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def retry_after(wait: float) -> str:
    """A `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
