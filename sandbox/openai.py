"""OpenAI-compatible chat completions emulator: ``POST /v1/chat/completions``, ``GET /v1/models``.

Mounted at ``/openai``, so a client's base URL is ``{sandbox}/openai/v1``. Auth:
``Authorization: Bearer <key>``; a missing or wrong key answers 401 ``invalid_api_key``.
Errors take OpenAI's shape ``{"error": {message, type, param, code}}``; fault injection
(``PUT /_sandbox/faults/openai``) gives 5xx, 429 with ``Retry-After`` and added latency.

It is not a language model and does not pretend to be one. What it answers, in order:

1. the head of a scripted queue (``POST /openai/_sandbox/answers``): an exact ``content``
   (valid JSON or not: tests feed it garbage on purpose) or an error ``status``;
2. the first rule (``PUT /openai/_sandbox/rules``) whose ``contains`` occurs in the last
   user message (case-insensitive): its ``content``;
3. otherwise a deterministic answer built from the request: for ``json_schema``, an
   instance of the schema where an enum takes the one allowed value that the last user
   message names word for word (else null when the schema allows it, else its first value),
   strings are null or empty, numbers 0, booleans false, arrays empty; ``{}`` for
   ``json_object``; the last user message unchanged for plain text.

Requests are checked as OpenAI checks them: ``model`` among ``GET /v1/models`` (else 404
``model_not_found``), a non-empty ``messages`` list of known roles, a ``response_format``
of ``text``/``json_object``/``json_schema`` (a ``json_schema`` needs ``name`` and
``schema``; with ``strict: true`` every object must list all its properties in
``required`` and set ``additionalProperties: false``; ``json_object`` needs the word
"json" in the messages). Token counts in ``usage`` are word counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Field, Session, select

from sandbox.core import EmulatorError, SandboxModel, SessionDep, now
from sandbox.credentials import SANDBOX_OPENAI_API_KEY

PLATFORM = "openai"
MODELS = ("gpt-4o-mini", "gpt-4.1-mini", "sandbox-small")
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ScriptedAnswer(SandboxModel, table=True):
    """One answer queued by a test: the next completion's exact content, or an error."""

    __tablename__ = "openai_scripted_answer"

    id: int | None = Field(default=None, primary_key=True)
    content: str | None = None
    status: int | None = None
    retry_after: float | None = None


class AnswerRule(SandboxModel, table=True):
    """A standing answer: any request whose last user message contains ``contains``."""

    __tablename__ = "openai_answer_rule"

    id: int | None = Field(default=None, primary_key=True)
    contains: str
    content: str


ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> JSONResponse:
    kind, default_code = ERROR_TYPES.get(status, ("server_error", None))
    body = {"message": message, "type": kind, "param": param, "code": code or default_code}
    return JSONResponse({"error": body}, status_code=status)


def error_response(status: int, message: str) -> JSONResponse:
    if status == 429:
        return error(429, "Rate limit reached for requests. Please try again later.")
    return error(status, "The server had an error while processing your request.")


async def check_auth(request: Request) -> None:
    if "/_sandbox/" in request.url.path:
        return
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise EmulatorError(error(401, "You didn't provide an API key.", code=None))
    if header[7:].strip() != SANDBOX_OPENAI_API_KEY:
        raise EmulatorError(error(401, "Incorrect API key provided."))


router = APIRouter(dependencies=[Depends(check_auth)])


def seed(session: Session) -> None:
    """No demo data: the queue and the rules start empty after every reset."""


# --- models -----------------------------------------------------------------------------------


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "sandbox"}


@router.get("/v1/models")
async def list_models() -> dict[str, Any]:
    return {"object": "list", "data": [_model(name) for name in MODELS]}


@router.get("/v1/models/{name}")
async def get_model(name: str) -> JSONResponse:
    if name not in MODELS:
        return error(404, f"The model `{name}` does not exist or you do not have access to it.")
    return JSONResponse(_model(name))


# --- checking a request -----------------------------------------------------------------------


class Invalid(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


def _text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise Invalid("'messages' must be a non-empty array.", "messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise Invalid(f"Invalid value for 'messages[{i}].role'.", f"messages[{i}].role")
        if message["role"] != "assistant" and not isinstance(message.get("content"), str | list):
            raise Invalid(f"Missing required parameter: 'messages[{i}].content'.")
    return messages


def _strict_problem(schema: Any, where: str = "()") -> str | None:
    """What strict structured outputs refuse in ``schema``, if anything."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            if schema.get("additionalProperties") is not False:
                return (
                    f"In context={where}, 'additionalProperties' is required to be supplied "
                    "and to be false."
                )
            missing = sorted(set(properties) - set(schema.get("required", [])))
            if missing:
                return (
                    f"In context={where}, 'required' is required to be supplied and to be an "
                    f"array including every key in properties. Missing {missing}."
                )
        for key, value in schema.items():
            problem = _strict_problem(value, f"{where}.{key}" if where != "()" else key)
            if problem:
                return problem
    elif isinstance(schema, list):
        for item in schema:
            problem = _strict_problem(item, where)
            if problem:
                return problem
    return None


def _check_format(fmt: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    if fmt is None:
        return {"type": "text"}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return fmt
    if kind == "json_object":
        said = " ".join(_text_of(m.get("content")) for m in messages).lower()
        if "json" not in said:
            raise Invalid(
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                "messages",
            )
        return fmt
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not SCHEMA_NAME.match(str(spec.get("name", ""))):
            raise Invalid("Missing required parameter: 'response_format.json_schema.name'.")
        if not isinstance(spec.get("schema"), dict):
            raise Invalid("Missing required parameter: 'response_format.json_schema.schema'.")
        if spec.get("strict"):
            problem = _strict_problem(spec["schema"])
            if problem:
                raise Invalid(
                    f"Invalid schema for response_format '{spec['name']}': {problem}",
                    "response_format",
                )
        return fmt
    raise Invalid("Invalid value for 'response_format.type'.", "response_format.type")


# --- answering --------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {})
        return dict(target)
    return schema


def _names(value: Any, text: str) -> bool:
    return isinstance(value, str) and bool(
        re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", text)
    )


def instance(schema: dict[str, Any], text: str, root: dict[str, Any] | None = None) -> Any:
    """The deterministic value of ``schema`` for a message ``text`` (lower case)."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        branches = [_resolve(o, root) for o in options]
        nullable = any(b.get("type") == "null" for b in branches)
        for branch in branches:
            values = branch.get("enum") or ([branch["const"]] if "const" in branch else [])
            named = [v for v in values if _names(v, text)]
            if len(named) == 1:
                return named[0]
        if nullable:
            return None
        return instance(branches[0], text, root)
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else None)
    if values:
        named = [v for v in values if _names(v, text)]
        return named[0] if len(named) == 1 else values[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        if "null" in kind:
            return None
        kind = kind[0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: instance(sub, text, root) for name, sub in props.items()}
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(
        str(kind), None
    )


def _default_content(fmt: dict[str, Any], last_user: str) -> str:
    if fmt["type"] == "json_schema":
        schema = fmt["json_schema"]["schema"]
        return json.dumps(instance(schema, last_user.lower()))
    if fmt["type"] == "json_object":
        return "{}"
    return last_user


def _completion(
    request: Request, session: Session, model: str, content: str, prompt: str
) -> dict[str, Any]:
    state = request.app.state
    number = getattr(state, "openai_completions", 0) + 1
    state.openai_completions = number
    prompt_tokens, completion_tokens = len(prompt.split()), len(content.split())
    return {
        "id": f"chatcmpl-sandbox{number:06d}",
        "object": "chat.completion",
        "created": int(now(session).timestamp()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, session: SessionDep) -> JSONResponse:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return error(400, "We could not parse the JSON body of your request.")
    if not isinstance(body, dict):
        return error(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not model:
        return error(400, "you must provide a model parameter", param="model")
    if model not in MODELS:
        return error(404, f"The model `{model}` does not exist or you do not have access to it.")
    if body.get("stream"):
        return error(400, "This emulator does not stream.", param="stream")
    try:
        messages = _check_messages(body.get("messages"))
        fmt = _check_format(body.get("response_format"), messages)
    except Invalid as exc:
        return error(400, exc.message, param=exc.param)
    users = [_text_of(m.get("content")) for m in messages if m["role"] == "user"]
    last_user = users[-1] if users else ""
    prompt = " ".join(_text_of(m.get("content")) for m in messages)
    scripted = session.exec(select(ScriptedAnswer).order_by(ScriptedAnswer.id)).first()  # type: ignore[arg-type]
    if scripted is not None:
        session.delete(scripted)
        session.commit()
        if scripted.status is not None:
            response = error_response(scripted.status, "scripted")
            if scripted.retry_after is not None:
                response.headers["Retry-After"] = str(int(scripted.retry_after))
            return response
        content = scripted.content or ""
    else:
        rules = session.exec(select(AnswerRule).order_by(AnswerRule.id)).all()  # type: ignore[arg-type]
        match = next((r for r in rules if r.contains.lower() in last_user.lower()), None)
        content = match.content if match else _default_content(fmt, last_user)
    return JSONResponse(_completion(request, session, model, content, prompt))


# --- sandbox controls -------------------------------------------------------------------------


class Scripted(BaseModel):
    content: str | None = None
    status: int | None = None  # answer with this error instead
    retry_after: float | None = None


class ScriptedAnswers(BaseModel):
    answers: list[Scripted]


class Rule(BaseModel):
    contains: str
    content: str


class Rules(BaseModel):
    rules: list[Rule]


@router.post("/_sandbox/answers")
async def queue_answers(body: ScriptedAnswers, session: SessionDep) -> dict[str, Any]:
    """Append answers to the queue: each completion takes the oldest one."""
    for answer in body.answers:
        session.add(ScriptedAnswer(**answer.model_dump()))
    session.commit()
    return await queued_answers(session)


@router.get("/_sandbox/answers")
async def queued_answers(session: SessionDep) -> dict[str, Any]:
    """The answers still queued, oldest first."""
    rows = session.exec(select(ScriptedAnswer).order_by(ScriptedAnswer.id)).all()  # type: ignore[arg-type]
    return {"answers": [Scripted(**r.model_dump()).model_dump() for r in rows]}


@router.put("/_sandbox/rules")
async def put_rules(body: Rules, session: SessionDep) -> dict[str, Any]:
    """Replace the standing rules (first match wins)."""
    for old in session.exec(select(AnswerRule)).all():
        session.delete(old)
    for rule in body.rules:
        session.add(AnswerRule(contains=rule.contains, content=rule.content))
    session.commit()
    return {"rules": [r.model_dump() for r in body.rules]}
