"""The chat completions emulator answers as the OpenAI API does: bearer auth, its error
shape, the model list, structured-output checks, and deterministic answers."""

from __future__ import annotations

import json

import httpx

from sandbox.credentials import SANDBOX_OPENAI_API_KEY
from tests.sandbox_fixtures import SandboxControl

AUTH = {"Authorization": f"Bearer {SANDBOX_OPENAI_API_KEY}"}


def chat(sandbox: SandboxControl, body: dict, headers: dict | None = None) -> httpx.Response:
    return sandbox.client.post(
        "/openai/v1/chat/completions", json=body, headers=AUTH if headers is None else headers
    )


def ask(text: str, **extra: object) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "ChoiceAnswer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "choice": {"anyOf": [{"type": "string", "enum": ["red", "blue"]}, {"type": "null"}]}
            },
            "required": ["choice"],
            "additionalProperties": False,
        },
    },
}


def test_a_wrong_or_missing_key_is_401_in_openais_shape(sandbox: SandboxControl) -> None:
    wrong = chat(sandbox, ask("hi"), {"Authorization": "Bearer sk-nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert chat(sandbox, ask("hi"), {}).status_code == 401


def test_models_are_listed_and_an_unknown_model_is_404(sandbox: SandboxControl) -> None:
    models = sandbox.client.get("/openai/v1/models", headers=AUTH).json()
    assert "gpt-4o-mini" in [m["id"] for m in models["data"]]
    missing = chat(sandbox, {**ask("hi"), "model": "gpt-9"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "model_not_found")


def test_a_schema_answer_names_the_value_the_message_names(sandbox: SandboxControl) -> None:
    answer = chat(sandbox, ask("the blue one please", response_format=SCHEMA)).json()
    assert answer["object"] == "chat.completion"
    assert json.loads(answer["choices"][0]["message"]["content"]) == {"choice": "blue"}
    unclear = chat(sandbox, ask("either is fine", response_format=SCHEMA)).json()
    assert json.loads(unclear["choices"][0]["message"]["content"]) == {"choice": None}


def test_strict_schemas_and_json_mode_are_checked(sandbox: SandboxControl) -> None:
    loose = json.loads(json.dumps(SCHEMA))
    del loose["json_schema"]["schema"]["additionalProperties"]
    refused = chat(sandbox, ask("blue", response_format=loose))
    assert (
        refused.status_code == 400 and "additionalProperties" in refused.json()["error"]["message"]
    )
    no_word = chat(sandbox, ask("blue", response_format={"type": "json_object"}))
    assert no_word.status_code == 400
    said = chat(sandbox, ask("answer in json", response_format={"type": "json_object"}))
    assert said.json()["choices"][0]["message"]["content"] == "{}"


def test_scripted_answers_and_errors_come_first_in_order(sandbox: SandboxControl) -> None:
    queued = [{"content": "not json"}, {"status": 429, "retry_after": 7}]
    sandbox.client.post("/openai/_sandbox/answers", json={"answers": queued})
    first = chat(sandbox, ask("x", response_format=SCHEMA))
    assert first.json()["choices"][0]["message"]["content"] == "not json"
    limited = chat(sandbox, ask("x"))
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert chat(sandbox, ask("x")).json()["choices"][0]["message"]["content"] == "x"


def test_injected_rate_limits_carry_retry_after(sandbox: SandboxControl) -> None:
    sandbox.fault("openai", rate_limit_next=1, retry_after=3)
    limited = chat(sandbox, ask("x"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
