"""An optional language model: an OpenAI-compatible chat completions endpoint, off by default.

Asked only when the local (deterministic) understanding is unsure, and only to pick among
values the plan already has: one of an offer's options, yes or no, a fact the ask wants,
one of the two policies the router hesitated between. Every answer comes back through a
Pydantic schema built from those allowed values (sent as a strict ``json_schema``
response format, and validated again here); invalid JSON, a value outside the set, a
timeout, any 4xx/5xx give ``None`` and the caller keeps its deterministic answer. A 429
also pauses every call until its ``Retry-After`` has passed. Nothing here can add a step,
a tool call or an argument: callers only choose among what they offered.

It sees the customer's message text and the option wording, nothing else (no ids, names,
emails from the context), and logs only why a call failed, never what was sent.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ticketflow.settings import Settings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: Seconds a 429 without ``Retry-After`` pauses the model.
DEFAULT_PAUSE = 30.0


def one_of(name: str, field: str, allowed: Sequence[str]) -> type[BaseModel]:
    """A schema with one field that is one of ``allowed`` or null (strict: no extra keys)."""
    values = tuple(dict.fromkeys(allowed))
    fields: dict[str, Any] = {field: (Literal[values] | None, ...)}
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return model


def free_text(name: str, field: str) -> type[BaseModel]:
    """A schema with one string-or-null field (the caller checks the value)."""
    fields: dict[str, Any] = {field: (str | None, ...)}
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return model


class LanguageModel:
    """The chat completions client; one per worker, its connection pool shared."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        *,
        timeout: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        self._paused_until = 0.0
        #: How many calls were made and how many answers were used (for tests, metrics).
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> LanguageModel | None:
        """The configured model, or None while ``TICKETFLOW_LLM_BASE_URL`` is unset."""
        if not settings.llm_base_url:
            return None
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key.get_secret_value(),
            timeout=settings.llm_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    async def complete(
        self, instructions: str, text: str, response_format: dict[str, Any] | None = None
    ) -> str | None:
        """The assistant's text for ``text`` under ``instructions``; None on any failure."""
        if self.paused:
            return None
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": instructions},
                {"role": "user", "content": text},
            ],
            "temperature": 0,
        }
        if response_format is not None:
            body["response_format"] = response_format
        self.calls += 1
        try:
            response = await self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            log.warning(
                "language model not reached (%s); deterministic answer kept", type(exc).__name__
            )
            return None
        if response.status_code == 429:
            self._paused_until = time.monotonic() + _retry_after(response)
            log.warning("language model rate-limited; paused, deterministic answers meanwhile")
            return None
        if response.status_code >= 400:
            log.warning(
                "language model answered %s; deterministic answer kept", response.status_code
            )
            return None
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("language model answer has no message; deterministic answer kept")
            return None
        return content if isinstance(content, str) else None

    async def structured(self, schema: type[M], instructions: str, text: str) -> M | None:
        """``text`` read into ``schema`` (strict JSON schema output); None when the answer
        is not valid JSON of that schema or the call failed."""
        response_format = {
            "type": "json_schema",
            "json_schema": {
                "name": schema.__name__,
                "schema": schema.model_json_schema(),
                "strict": True,
            },
        }
        content = await self.complete(instructions, text, response_format)
        if content is None:
            return None
        try:
            return schema.model_validate_json(content)
        except ValidationError:
            log.warning("language model answer outside its schema %s; ignored", schema.__name__)
            return None

    async def choose(
        self, instructions: str, text: str, allowed: Sequence[str], field: str = "choice"
    ) -> str | None:
        """One of ``allowed`` for ``text``, or None (the model is unsure, or failed)."""
        if not allowed:
            return None
        schema = one_of(f"{field.title().replace('_', '')}Answer", field, allowed)
        answer = await self.structured(schema, instructions, text)
        value = getattr(answer, field, None) if answer is not None else None
        return value if value in allowed else None

    async def choose_text(self, instructions: str, text: str, field: str) -> str | None:
        """A string read out of ``text`` (the caller checks it), or None."""
        schema = free_text(f"{field.title().replace('_', '')}Answer", field)
        answer = await self.structured(schema, instructions, text)
        value = getattr(answer, field, None) if answer is not None else None
        return value if isinstance(value, str) else None

    async def rephrase(self, text: str) -> str:
        """``text`` said more naturally with the same meaning, or ``text`` itself when the
        rephrasing loses or adds a number, an id, an amount, an email or a link."""
        answer = await self.complete(REPHRASE_INSTRUCTIONS, text)
        if answer is None or not keeps_facts(text, answer):
            return text
        return answer.strip()


REPHRASE_INSTRUCTIONS = (
    "You rewrite a customer-support message so it reads naturally and warmly. Keep its "
    "meaning exactly: every number, order id, amount, date, code, email and link must appear "
    "unchanged; add no promise, option, step or fact. Answer with the rewritten message only."
)

#: What a bot message's facts look like: amounts, numbers and ids, emails, links, codes.
_FACT = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|[$€£]?\d[\d,]*(?:\.\d+)?%?|\b[A-Z][A-Z0-9]*\d[A-Z0-9]*\b"
)


def facts(text: str) -> list[str]:
    return sorted(m.group(0).rstrip(".,") for m in _FACT.finditer(text))


def keeps_facts(original: str, rephrased: str) -> bool:
    """The rephrasing states the same facts, no more and no fewer, and is not empty or
    out of proportion."""
    if not rephrased.strip() or len(rephrased) > 2 * len(original) + 80:
        return False
    return facts(original) == facts(rephrased)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", DEFAULT_PAUSE)))
    except ValueError:
        return DEFAULT_PAUSE
