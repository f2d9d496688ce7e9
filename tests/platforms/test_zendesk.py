"""Zendesk connector against the Zendesk emulator, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from activities.platforms.zendesk import (
    ZendeskConnector,
    ZendeskTicketUpdate,
    verify_webhook,
    webhook_signature,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings


@pytest.fixture
async def zendesk(sandbox_settings: Settings) -> AsyncIterator[ZendeskConnector]:
    connector = ZendeskConnector(sandbox_settings.zendesk)
    yield connector
    await connector.aclose()


async def test_seeded_ticket_and_requester(zendesk: ZendeskConnector) -> None:
    ticket = await zendesk.get_ticket(1003)
    assert ticket.subject == "Order 7001 arrived damaged"
    requester = await zendesk.get_user(ticket.requester_id or 0)
    assert requester.email == "sam@example.com"
    assert (await zendesk.find_user_by_email("max@example.com")) is not None


async def test_reply_status_group_and_tags_in_one_update(zendesk: ZendeskConnector) -> None:
    group = await zendesk.find_group("escalations")
    result = await zendesk.update_ticket(
        1001,
        ZendeskTicketUpdate(
            comment_body="We can restart it today.",
            status="pending",
            group_id=group.id,
            add_tags=["offered"],
            drop_tags=["stayai"],
        ),
        idempotency_key="wf-1/node-3",
    )
    ticket = await zendesk.get_ticket(1001)
    assert (ticket.status, ticket.group_id) == ("pending", group.id)
    assert "offered" in ticket.tags and "stayai" not in ticket.tags
    comments = await zendesk.list_comments(1001)
    assert comments[-1].id == result.comment_id
    assert (comments[-1].body, comments[-1].public) == ("We can restart it today.", True)


async def test_internal_note_is_private(zendesk: ZendeskConnector) -> None:
    await zendesk.update_ticket(
        1002,
        ZendeskTicketUpdate(comment_body="checked Stay AI", public=False),
        idempotency_key="wf-2/n1",
    )
    assert (await zendesk.list_comments(1002))[-1].public is False


async def test_replayed_reply_posts_once(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    update = ZendeskTicketUpdate(comment_body="Your order is on its way.")
    first = await zendesk.update_ticket(1003, update, idempotency_key="wf-3/n2")
    again = await zendesk.update_ticket(1003, update, idempotency_key="wf-3/n2")
    assert again.replayed and again.comment_id == first.comment_id
    bodies = [c.body for c in await zendesk.list_comments(1003)]
    assert bodies.count("Your order is on its way.") == 1
    effects = sandbox.side_effects("zendesk", "ticket.update")
    assert [e["idempotency_key"] for e in effects] == ["wf-3/n2"]


async def test_unknown_ticket_is_not_found(zendesk: ZendeskConnector) -> None:
    with pytest.raises(NotFound, match="RecordNotFound"):
        await zendesk.get_ticket(424242)


async def test_wrong_token_is_auth_error(sandbox_settings: Settings) -> None:
    settings = sandbox_settings.zendesk.model_copy(update={"api_token": SecretStr("nope")})
    connector = ZendeskConnector(settings)
    try:
        with pytest.raises(PlatformAuthError, match="Couldn't authenticate you") as info:
            await connector.get_ticket(1001)
        assert info.value.non_retryable
    finally:
        await connector.aclose()


def test_401_has_the_real_shape(sandbox: SandboxControl) -> None:
    response = sandbox.client.get("/zendesk/api/v2/tickets/1001.json")
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


async def test_rate_limit_carries_retry_after_then_succeeds(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("zendesk", rate_limit_next=1, retry_after=3)
    with pytest.raises(PlatformRateLimited) as info:
        await zendesk.get_ticket(1001)
    assert info.value.next_retry_delay == timedelta(seconds=3)
    assert not info.value.non_retryable
    assert (await zendesk.get_ticket(1001)).id == 1001


async def test_server_error_is_retryable_then_succeeds(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    sandbox.fault("zendesk", fail_next=1, error_status=500)
    with pytest.raises(PlatformUnavailable) as info:
        await zendesk.get_ticket(1001)
    assert not info.value.non_retryable
    assert (await zendesk.get_ticket(1001)).id == 1001


async def test_comment_limit_is_rejected(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    sandbox.client.post("/zendesk/_sandbox/tickets/1004/bulk_comments", json={"count": 4999})
    with pytest.raises(PlatformRejected, match="maximum of 5000 comments") as info:
        await zendesk.update_ticket(
            1004, ZendeskTicketUpdate(comment_body="one more"), idempotency_key="wf-4/n1"
        )
    assert info.value.status == 422
    # Other changes still go through once no comment is added.
    await zendesk.update_ticket(1004, ZendeskTicketUpdate(status="open"), idempotency_key=None)


def test_signature_round_trip() -> None:
    body = b'{"ticket": {"id": "1001"}}'
    stamp = "2026-01-01T00:00:00Z"
    signature = webhook_signature("secret", stamp, body)
    assert verify_webhook("secret", body, signature, stamp)
    assert not verify_webhook("secret", body + b" ", signature, stamp)
    assert not verify_webhook("other", body, signature, stamp)
    late = datetime(2026, 1, 1, 1, tzinfo=UTC)
    assert not verify_webhook("secret", body, signature, stamp, now=late)
