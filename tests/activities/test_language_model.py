"""The optional language model, against the chat completions emulator (sandbox/openai.py):
asked only where the local reading is unsure, its answer taken only inside what the plan
allows, and every failure (bad JSON, 5xx, 429, timeout) leaving the deterministic answer."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr

from activities.language_model import LanguageModel
from activities.policy_store import PolicyActivities, RouteRequest
from activities.understanding import (
    ChoiceOption,
    UnderstandingActivities,
    UnderstandRequest,
    understand,
)
from policies.library import load_library
from policies.tool_models import MessageParams
from sandbox.credentials import SANDBOX_OPENAI_API_KEY
from tests.platforms.tool_runner import TicketCall, tool_runner
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

OFFERS = [
    ChoiceOption(id="discount", label="Discount", description="15% off this order"),
    ChoiceOption(id="faster_shipping", label="Faster shipping", description="expedited, free"),
    ChoiceOption(id="coupon_for_next_time", label="Coupon for next time", description="20% off"),
]
#: The local reading chooses none of the offers for this.
UNSURE = "hmm the thing that helps my budget today"


def ask_offer(text: str = UNSURE) -> UnderstandRequest:
    return UnderstandRequest(text=text, expecting="choice", options=OFFERS)


def model_at(sandbox_url: str, *, timeout: float = 3.0) -> LanguageModel:
    return LanguageModel(
        f"{sandbox_url}/openai/v1", "gpt-4o-mini", SANDBOX_OPENAI_API_KEY, timeout=timeout
    )


def rules(sandbox: SandboxControl, *pairs: tuple[str, dict[str, object] | str]) -> None:
    body = [
        {"contains": contains, "content": c if isinstance(c, str) else json.dumps(c)}
        for contains, c in pairs
    ]
    sandbox.client.put("/openai/_sandbox/rules", json={"rules": body}).raise_for_status()


def script(sandbox: SandboxControl, *answers: dict[str, object]) -> None:
    sandbox.client.post("/openai/_sandbox/answers", json={"answers": list(answers)})


def completions(sandbox: SandboxControl) -> list[dict]:
    return [r for r in sandbox.requests("openai") if r["path"] == "/v1/chat/completions"]


async def test_an_unsure_choice_is_settled_by_the_model(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    assert understand(ask_offer()).choice is None
    rules(sandbox, ("budget", {"choice": "discount"}))
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(ask_offer())
    assert (reply.choice, reply.intent) == ("discount", "accept")
    [sent] = completions(sandbox)
    # Only the customer's words and the plan's options go out, as a strict schema of ids.
    assert sent["body"]["messages"][1] == {"role": "user", "content": UNSURE}
    schema = sent["body"]["response_format"]["json_schema"]
    assert schema["strict"] is True
    enum = schema["schema"]["properties"]["choice"]["anyOf"][0]["enum"]
    assert enum == ["discount", "faster_shipping", "coupon_for_next_time"]


async def test_a_sure_reply_never_asks_the_model(sandbox: SandboxControl, sandbox_url: str) -> None:
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(
        ask_offer("the discount please")
    )
    assert reply.choice == "discount"
    assert completions(sandbox) == []


async def test_an_option_the_plan_does_not_have_is_ignored(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    script(sandbox, {"content": json.dumps({"choice": "full_refund"})})
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(ask_offer())
    assert reply == understand(ask_offer())
    assert reply.choice is None
    assert len(completions(sandbox)) == 1


@pytest.mark.parametrize(
    "failure",
    [
        {"script": {"content": "sure! the discount {"}},
        {"script": {"content": json.dumps({"choice": "discount", "why": "cheap"})}},
        {"fault": {"fail_next": 1, "error_status": 500}},
        {"fault": {"fail_next": 1, "error_status": 400}},
    ],
    ids=["invalid-json", "extra-key", "500", "400"],
)
async def test_a_failed_answer_leaves_the_deterministic_reading(
    sandbox: SandboxControl, sandbox_url: str, failure: dict[str, dict[str, object]]
) -> None:
    if "script" in failure:
        script(sandbox, failure["script"])
    else:
        sandbox.fault("openai", **failure["fault"])
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(ask_offer())
    assert reply == understand(ask_offer())
    assert len(completions(sandbox)) == 1


async def test_a_429_pauses_the_model_for_its_retry_after(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    sandbox.fault("openai", rate_limit_next=1, retry_after=60)
    activities = UnderstandingActivities(model_at(sandbox_url))
    assert await activities.understand_reply(ask_offer()) == understand(ask_offer())
    [limited] = completions(sandbox)
    assert limited["status"] == 429
    # Within the minute: the deterministic reading at once, no call at all.
    assert await activities.understand_reply(ask_offer()) == understand(ask_offer())
    assert len(completions(sandbox)) == 1


async def test_a_slow_model_times_out_to_the_deterministic_reading(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    sandbox.fault("openai", latency_ms=2000)
    activities = UnderstandingActivities(model_at(sandbox_url, timeout=0.3))
    started = time.monotonic()
    reply = await activities.understand_reply(ask_offer())
    assert time.monotonic() - started < 1.5
    assert reply == understand(ask_offer())


async def test_off_by_default_no_call_is_made(sandbox: SandboxControl, sandbox_url: str) -> None:
    settings = Settings().for_sandbox(sandbox_url)
    assert settings.llm_base_url is None
    model = LanguageModel.from_settings(settings)
    assert model is None
    reply = await UnderstandingActivities(model).understand_reply(ask_offer())
    assert reply.choice is None
    assert sandbox.requests("openai") == []


async def test_a_hedged_yes_no_is_read_by_the_model(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    request = UnderstandRequest(text="mmm", expecting="yes_no")
    assert understand(request).intent is None
    rules(sandbox, ("mmm", {"answer": "yes"}))
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(request)
    assert reply.intent == "yes"


async def test_an_order_number_the_customer_did_not_write_is_not_taken(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    request = UnderstandRequest(text="the one from last tuesday", expecting="order_number")
    script(sandbox, {"content": json.dumps({"order_number": "5001"})})
    reply = await UnderstandingActivities(model_at(sandbox_url)).understand_reply(request)
    assert "order_number" not in reply.slots
    assert len(completions(sandbox)) == 1


@pytest.fixture(scope="module")
def policies() -> PolicyActivities:
    return PolicyActivities(load_library())


async def test_routing_lets_the_model_pick_only_between_the_routers_two(
    sandbox: SandboxControl, sandbox_url: str, policies: PolicyActivities
) -> None:
    request = RouteRequest(text="about my package", helpdesk="web")
    alone = policies.route(request)
    assert alone.how == "ambiguous"
    named = [c.policy_id for c in alone.candidates]
    model = model_at(sandbox_url)
    script(sandbox, {"content": json.dumps({"policy": "refund"})})
    assert await policies.second_opinion(request, alone, model) == alone
    script(sandbox, {"content": json.dumps({"policy": named[0]})})
    picked = await policies.second_opinion(request, alone, model)
    assert (picked.policy_id, picked.how) == (named[0], "model")
    sent = completions(sandbox)[-1]["body"]["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["policy"]["anyOf"][0]["enum"] == named


async def test_a_rephrasing_that_loses_a_number_is_not_used(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    original = "Your order #5001 is cancelled and $24.50 will be refunded in 5 days."
    kept = "Done: order #5001 is cancelled; you'll get $24.50 back within 5 days."
    lost = "Done: your order is cancelled and the money will come back soon."
    model = model_at(sandbox_url)
    script(sandbox, {"content": kept}, {"content": lost})
    assert await model.rephrase(original) == kept
    assert await model.rephrase(original) == original


async def test_rephrasing_on_sends_the_rephrased_reply_through_the_helpdesk(
    sandbox: SandboxControl, sandbox_settings: Settings, sandbox_url: str
) -> None:
    settings = sandbox_settings.model_copy(
        update={
            "llm_base_url": f"{sandbox_url}/openai/v1",
            "llm_api_key": SecretStr(SANDBOX_OPENAI_API_KEY),
            "llm_rephrase": True,
            # The emulator always answers; on a busy CI machine it may take over the
            # production 3 s, after which the template is (rightly) sent as written.
            "llm_timeout_seconds": 30.0,
        }
    )
    original = "Your order #5001 is cancelled."
    kept = "All done: order #5001 has been cancelled."
    script(sandbox, {"content": kept}, {"content": "All done, it's cancelled."})
    async with tool_runner(settings) as helpdesk:
        for key in ("kept", "lost"):
            await helpdesk.run(
                "send_async_message",
                TicketCall(
                    helpdesk="zendesk",
                    ticket_id="1003",
                    idempotency_key=f"t/{key}",
                    params=MessageParams(message=original),
                ),
            )
    sent = [
        r["body"]["ticket"]["comment"]["body"]
        for r in sandbox.requests("zendesk", "PUT")
        if "comment" in (r["body"] or {}).get("ticket", {})
    ]
    assert sent == [kept, original]
