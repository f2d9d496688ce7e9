"""What every platform connector shares: named errors and one pooled HTTP client.

The error classes are Temporal ``ApplicationError`` subclasses whose ``type`` is the class
name, so activity retry policies can list them in ``non_retryable_error_types`` and the
Temporal UI shows a name an operator understands. Status codes map the same way for every
platform: 401/403 -> ``PlatformAuthError``, 404 -> ``NotFound``, other 4xx ->
``PlatformRejected`` (carrying the platform's own message), 429 -> ``PlatformRateLimited``
(retried after the platform's Retry-After), 5xx / connect errors / timeouts ->
``PlatformUnavailable`` (retried with the policy's backoff).
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from temporalio.exceptions import ApplicationError

log = logging.getLogger(__name__)


class PlatformError(ApplicationError):
    """A platform call failed; ``type`` is the concrete class name."""

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        status: int | None = None,
        next_retry_delay: timedelta | None = None,
    ) -> None:
        super().__init__(
            f"{platform}: {message}",
            {"platform": platform, "status": status},
            type=type(self).__name__,
            non_retryable=not self.retryable,
            next_retry_delay=next_retry_delay,
        )
        self.platform = platform
        self.status = status
        self.platform_message = message


class PlatformAuthError(PlatformError):
    """401/403: credentials are wrong or lack a scope; retrying cannot help."""

    retryable = False


class NotFound(PlatformError):
    """404: the order, subscription, tracker or ticket does not exist."""

    retryable = False


class PlatformRejected(PlatformError):
    """Any other 4xx (or a GraphQL user error): the platform refused this request as sent."""

    retryable = False


class PlatformRateLimited(PlatformError):
    """429: retried after the platform's Retry-After (Temporal's next retry delay)."""

    retryable = True


class PlatformUnavailable(PlatformError):
    """5xx, connect errors and timeouts: transient, retried with backoff."""

    retryable = True


# For activity retry policies: RetryPolicy(non_retryable_error_types=NON_RETRYABLE_ERROR_TYPES)
NON_RETRYABLE_ERROR_TYPES: list[str] = [
    PlatformAuthError.__name__,
    NotFound.__name__,
    PlatformRejected.__name__,
]

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=10)
# Used when a 429 carries no usable Retry-After.
DEFAULT_RETRY_AFTER = timedelta(seconds=1)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - (now or datetime.now(UTC)))


class PlatformConnector:
    """Base of every connector: one pooled ``httpx.AsyncClient`` per instance.

    Build one connector per platform per worker and share it across activities. Subclasses
    set ``platform``, supply auth through ``auth_headers()`` / ``auth()``, and may refine
    ``error_message()`` (where the platform puts its message) and ``retry_after()``.
    Nothing here logs headers or bodies, so credentials never reach the logs.
    """

    platform: ClassVar[str] = "platform"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            limits=limits,
            headers={"Accept": "application/json", "User-Agent": "ticketflow"},
            follow_redirects=False,
        )

    def auth_headers(self) -> dict[str, str]:
        return {}

    def auth(self) -> httpx.Auth | None:
        return None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one request; return the 2xx response or raise the matching named error."""
        all_headers = {**self.auth_headers(), **(headers or {})}
        if idempotency_key:
            all_headers["Idempotency-Key"] = idempotency_key
        auth = self.auth()
        try:
            response = await self._client.request(
                method,
                path,
                json=json,
                params=params,
                data=data,
                headers=all_headers,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise PlatformUnavailable(
                f"timed out: {method} {path} ({type(exc).__name__})", platform=self.platform
            ) from exc
        except httpx.TransportError as exc:
            raise PlatformUnavailable(
                f"connection failed: {method} {path} ({type(exc).__name__})",
                platform=self.platform,
            ) from exc
        log.debug("%s %s %s -> %s", self.platform, method, path, response.status_code)
        if response.is_success:
            return response
        raise self.error_for(response)

    def error_for(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        message = self.error_message(response) or response.reason_phrase or f"HTTP {status}"
        if status in (401, 403):
            return PlatformAuthError(message, platform=self.platform, status=status)
        if status == 404:
            return NotFound(message, platform=self.platform, status=status)
        if status == 429:
            delay = self.retry_after(response) or DEFAULT_RETRY_AFTER
            return PlatformRateLimited(
                message, platform=self.platform, status=status, next_retry_delay=delay
            )
        if 400 <= status < 500:
            return PlatformRejected(message, platform=self.platform, status=status)
        return PlatformUnavailable(message, platform=self.platform, status=status)

    def retry_after(self, response: httpx.Response) -> timedelta | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def error_message(self, response: httpx.Response) -> str:
        """The platform's own message, found in the usual places of a JSON error body."""
        try:
            body = response.json()
        except ValueError:
            return response.text[:500]
        return _find_message(body)[:1000]


def _find_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(m for m in (_find_message(item) for item in body) if m)
    if isinstance(body, dict):
        for key in ("message", "title", "error_description", "detail", "error", "errors"):
            if body.get(key):
                found = _find_message(body[key])
                if found:
                    return found
    return ""


# GraphQL platforms (Skio on Hasura, Shopify) answer 200 with ``errors[]``; map their codes.
GRAPHQL_AUTH_CODES = {"invalid-headers", "invalid-jwt", "access-denied", "ACCESS_DENIED"}
GRAPHQL_NOT_FOUND_CODES = {"not-found", "NOT_FOUND"}
GRAPHQL_RATE_LIMIT_CODES = {"THROTTLED", "rate-limited"}
GRAPHQL_TRANSIENT_CODES = {"unexpected", "INTERNAL_SERVER_ERROR"}


def graphql_error(platform: str, errors: list[dict[str, Any]]) -> PlatformError:
    """The named error for a GraphQL ``errors[]`` list (codes in ``extensions.code``)."""
    message = "; ".join(str(e.get("message", "")) for e in errors) or "GraphQL error"
    codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
    if codes & GRAPHQL_AUTH_CODES:
        return PlatformAuthError(message, platform=platform)
    if codes & GRAPHQL_NOT_FOUND_CODES:
        return NotFound(message, platform=platform)
    if codes & GRAPHQL_RATE_LIMIT_CODES:
        return PlatformRateLimited(message, platform=platform, next_retry_delay=DEFAULT_RETRY_AFTER)
    if codes & GRAPHQL_TRANSIENT_CODES:
        return PlatformUnavailable(message, platform=platform)
    return PlatformRejected(message, platform=platform)
