"""Kustomer connector against the Kustomer emulator, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from activities.platforms.kustomer import KustomerConnector, verify_webhook, webhook_signature
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

SAM_CONVERSATION = "5f000000000000000000d003"


@pytest.fixture
async def kustomer(sandbox_settings: Settings) -> AsyncIterator[KustomerConnector]:
    connector = KustomerConnector(sandbox_settings.kustomer)
    yield connector
    await connector.aclose()


async def test_customer_by_email_with_saved_address(kustomer: KustomerConnector) -> None:
    customer = await kustomer.find_customer_by_email("sam@example.com")
    assert customer is not None and customer.name == "Sam Silva"
    assert customer.locations[0].zipCode == "97201"
    conversations = await kustomer.customer_conversations(customer.id)
    assert [c.name for c in conversations] == ["Order 7001 arrived damaged"]
    assert await kustomer.find_customer_by_email("nobody@example.com") is None


async def test_customer_lookup_keeps_the_email_out_of_every_url(
    kustomer: KustomerConnector,
) -> None:
    """The email travels in the search body (``POST /v1/customers/search``), never in a
    path or query string, where access logs, proxies and error messages would keep it."""
    urls: list[str] = []

    async def record(request: httpx.Request) -> None:
        urls.append(str(request.url))

    kustomer._client.event_hooks["request"].append(record)
    assert (await kustomer.find_customer_by_email("SAM@example.com")) is not None
    assert await kustomer.find_customer_by_email("sam@example.com#/../x?y") is None
    assert await kustomer.account_details("sam@example.com") is not None
    assert urls and all("sam" not in url.lower() and "%40" not in url for url in urls)
    assert all(url.split("?")[0].endswith("/v1/customers/search") for url in urls[:2])


async def test_customer_search_speaks_kustomers_criteria(kustomer: KustomerConnector) -> None:
    search = {"or": [{"customer_name": {"contains": "silva"}}], "queryContext": "customer"}
    response = await kustomer.request("POST", "/v1/customers/search", json=search)
    assert [d["attributes"]["name"] for d in response.json()["data"]] == ["Sam Silva"]
    with pytest.raises(PlatformRejected, match="queryContext"):
        await kustomer.request("POST", "/v1/customers/search", json={"and": []})
    with pytest.raises(PlatformRejected, match="unknown search field"):
        await kustomer.request(
            "POST",
            "/v1/customers/search",
            json={"and": [{"customer_shoe": {"equals": "x"}}], "queryContext": "customer"},
        )


async def test_reply_is_delivered_once(
    kustomer: KustomerConnector, sandbox: SandboxControl
) -> None:
    first = await kustomer.send_reply(
        SAM_CONVERSATION, "A new bottle is on its way.", idempotency_key="wf-9/n4"
    )
    again = await kustomer.send_reply(
        SAM_CONVERSATION, "A new bottle is on its way.", idempotency_key="wf-9/n4"
    )
    assert not first.replayed and again.replayed
    outgoing = [
        m for m in await kustomer.conversation_messages(SAM_CONVERSATION) if m.direction == "out"
    ]
    assert [(m.preview, m.channel) for m in outgoing] == [("A new bottle is on its way.", "email")]
    assert len(sandbox.side_effects("kustomer", "draft.create")) == 1


async def test_note_and_handoff_fields(kustomer: KustomerConnector) -> None:
    await kustomer.add_note(SAM_CONVERSATION, "eligible for reshipment", idempotency_key="k/1")
    await kustomer.add_note(SAM_CONVERSATION, "eligible for reshipment", idempotency_key="k/1")
    notes = await kustomer.conversation_notes(SAM_CONVERSATION)
    assert [n.external_id for n in notes] == ["ticketflow:k/1"]
    team = await kustomer.find_team("escalations")
    conversation = await kustomer.update_conversation(
        SAM_CONVERSATION, status="snoozed", assigned_teams=[team.id]
    )
    assert (conversation.status, conversation.assigned_teams) == ("snoozed", [team.id])
    tagged = await kustomer.change_tags(SAM_CONVERSATION, ["vip"], ["stayai"])
    assert tagged.tags == ["reshipment", "vip"]


async def test_unknown_conversation_is_not_found(kustomer: KustomerConnector) -> None:
    with pytest.raises(NotFound, match="not found"):
        await kustomer.get_conversation("5f00000000000000000000ff")


async def test_invalid_status_is_rejected(kustomer: KustomerConnector) -> None:
    with pytest.raises(PlatformRejected, match="status must be one of"):
        await kustomer.update_conversation(SAM_CONVERSATION, status="closed")  # type: ignore[arg-type]


async def test_wrong_key_is_auth_error(sandbox_settings: Settings, sandbox: SandboxControl) -> None:
    connector = KustomerConnector(
        sandbox_settings.kustomer.model_copy(update={"api_key": SecretStr("bad")})
    )
    try:
        with pytest.raises(PlatformAuthError):
            await connector.get_conversation(SAM_CONVERSATION)
    finally:
        await connector.aclose()
    response = sandbox.client.get(f"/kustomer/v1/conversations/{SAM_CONVERSATION}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == 401


async def test_rate_limit_then_success(
    kustomer: KustomerConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("kustomer", rate_limit_next=1, retry_after=2)
    with pytest.raises(PlatformRateLimited) as info:
        await kustomer.get_conversation(SAM_CONVERSATION)
    assert info.value.next_retry_delay == timedelta(seconds=2)
    assert (await kustomer.get_conversation(SAM_CONVERSATION)).id == SAM_CONVERSATION


async def test_server_error_then_success(
    kustomer: KustomerConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("kustomer", fail_next=1, error_status=503)
    with pytest.raises(PlatformUnavailable):
        await kustomer.get_conversation(SAM_CONVERSATION)
    assert (await kustomer.get_conversation(SAM_CONVERSATION)).status == "open"


def test_rate_limit_headers(sandbox: SandboxControl) -> None:
    response = sandbox.client.get(
        "/kustomer/v1/teams", headers={"Authorization": "Bearer sandbox-kustomer-key"}
    )
    assert response.status_code == 200
    assert int(response.headers["x-ratelimit-remaining"]) < int(
        response.headers["x-ratelimit-limit"]
    )


def test_signature_round_trip() -> None:
    body = b'{"name": "kustomer.message.create"}'
    signature = webhook_signature("token", body)
    assert signature == signature.lower() and len(signature) == 64
    assert verify_webhook("token", body, signature)
    assert not verify_webhook("token", body + b"x", signature)
    assert not verify_webhook("token", body, None)
