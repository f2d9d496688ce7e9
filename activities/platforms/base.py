"""What every platform connector shares: named errors and one pooled HTTP client.

The error classes are Temporal ``ApplicationError`` subclasses whose ``type`` is the class
name, so activity retry policies can list them in ``non_retryable_error_types`` and the
Temporal UI shows a name an operator understands. Status codes map the same way for every
platform: 401/403 -> ``PlatformAuthError``, 404 -> ``NotFound``, other 4xx ->
``PlatformRejected`` (carrying the platform's own message), 429 -> ``PlatformRateLimited``
(retried after the platform's Retry-After), 5xx / connect errors / timeouts ->
``PlatformUnavailable`` (retried with the policy's backoff).

Input no platform can answer (an order number typed as "ABC-12", an empty id) is ``NotFound``
before any call; ``path_id`` makes an id one safe URL path segment. Tool activities are
wrapped in ``named_errors``, so an answer the connector cannot use (or input it cannot
parse) leaves the activity as ``PlatformRejected`` instead of a generic Python exception
that Temporal would retry until the step gives up.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, TypeVar
from urllib.parse import quote

import httpx
from temporalio.exceptions import ApplicationError

from activities.redaction import redact
from policies.tool_models import Address

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
        # Temporal keeps the message in the ticket's history, the trace and agent notes
        # repeat it: a platform's error body that quotes an email or a phone number is
        # masked here (the connectors' own messages name ids only).
        message = redact(message)
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
    """Any other 4xx (or a GraphQL user error): the platform refused this request as sent.

    Also what ``named_errors`` raises when the platform's answer (or the call's input) could
    not be used: the same call would fail the same way again."""

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
        # The path only (never the query string, which may carry a lookup's email).
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


# --- input and answers that cannot be used ------------------------------------------------


def path_id(value: str | int, *, what: str, platform: str) -> str:
    """An id from a policy or a customer as one URL path segment.

    Empty (or only dots, which would address the parent path) names nothing: ``NotFound``
    before any call. Everything else is percent-encoded, so ``/``, ``?``, ``#`` and ``..``
    stay inside the segment (``7001/../7002`` cannot read order 7002) and the platform
    answers 404 for an id it does not have. The message never repeats the value.
    """
    text = str(value).strip()
    if not text.strip("."):
        raise NotFound(f"no {what} given (empty)", platform=platform)
    return quote(text, safe="")


P = ParamSpec("P")
R = TypeVar("R")

# What parsing a platform's answer (or the call's input) raises when it is not what the code
# expects: pydantic's ValidationError and int()/float()/date parses (ValueError), a missing
# field or an empty list (KeyError, IndexError), None where a value was expected.
UNUSABLE_DATA = (ValueError, LookupError, TypeError, AttributeError)
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def named_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """For tool activities (put it under ``@activity.defn``; the function is named after its
    activity): every failure leaves as a named platform error, so the retry policy decides
    by name.

    - ``PlatformError`` passes unchanged: 5xx, 429, timeouts and connect errors stay
      retryable, 4xx stay non-retryable.
    - A 2xx body that is not JSON at all (a proxy's maintenance page) is
      ``PlatformUnavailable``: retrying can help.
    - Any other ``UNUSABLE_DATA`` exception is ``PlatformRejected`` (non-retryable), naming
      the activity, the platform whose connector was parsing, the exception's class and the
      line it came from. Not its text, nor the original as the cause: their messages quote
      the data (pydantic's ``input_value``, the key, the unparsable value), which may be the
      customer's email or address, and Temporal keeps failures in the ticket's history.
    """

    @functools.wraps(fn)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except PlatformError:
            raise
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            platform, where = _origin(exc)
            log.warning("%s: %s answered 2xx with a body that is not JSON", where, platform)
            raise PlatformUnavailable(
                f"answered with a body that is not JSON ({where})", platform=platform
            ) from None
        except UNUSABLE_DATA as exc:
            platform, where = _origin(exc)
            tool = fn.__name__
            log.warning("@%s: unusable data from %s: %s", tool, platform, where)
            raise PlatformRejected(
                f"@{tool} could not use the answer or the call's input "
                f"({type(exc).__name__} {where}); retrying cannot help",
                platform=platform,
            ) from None

    return guarded


def _origin(exc: BaseException) -> tuple[str, str]:
    """(platform of the innermost connector frame or "ticketflow", "in f at file:line" of the
    innermost frame of this project)."""
    platform = "ticketflow"
    where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        owner = frame.f_locals.get("self")
        if isinstance(owner, PlatformConnector):
            platform = owner.platform
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(_PROJECT_ROOT) and ".venv" not in path.parts:
            where = f"in {frame.f_code.co_name} at {path.relative_to(_PROJECT_ROOT)}:{line}"
    return platform, where


def promotion_code(idempotency_key: str) -> str:
    """A stable coupon / discount code for one tool call, so a retry finds the code it
    already made instead of making a second one."""
    return "TF" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()


def promotion_title(percent: int, idempotency_key: str) -> str:
    """The coupon / discount's name in the store's admin: the percentage, the code and the
    ticket (the workflow id that starts every idempotency key), never the customer's email
    or name: store admins, exports and reports show titles to everyone."""
    ticket = idempotency_key.split("/", 1)[0]
    return f"ticketflow {percent}% {promotion_code(idempotency_key)} ({ticket})"


def shopify_style_address(raw: dict[str, Any] | None, *, country_field: str) -> Address | None:
    """An address in the Shopify shape (address1, province, zip) that Shopify-based apps
    such as Skio and Stay AI also answer with; they differ only in the country's field."""
    if not raw:
        return None
    return Address(
        name=raw.get("name"),
        line1=raw.get("address1", ""),
        line2=raw.get("address2"),
        city=raw.get("city", ""),
        region=raw.get("province"),
        postal_code=raw.get("zip", ""),
        country=raw.get(country_field, "US"),
    )
