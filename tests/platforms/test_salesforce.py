"""Salesforce connector against the Salesforce emulator, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from activities.platforms.salesforce import (
    SalesforceConnector,
    outbound_message_ack,
    parse_outbound_message,
    verify_outbound_message,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

ALEX_CASE = "500000000000001AAA"


@pytest.fixture
async def salesforce(sandbox_settings: Settings) -> AsyncIterator[SalesforceConnector]:
    connector = SalesforceConnector(sandbox_settings.salesforce)
    yield connector
    await connector.aclose()


async def test_case_and_contact(salesforce: SalesforceConnector) -> None:
    case = await salesforce.get_case(ALEX_CASE)
    assert (case.subject, case.contact_email) == ("Cancel order 5001", "alex@example.com")
    contact = await salesforce.find_contact_by_email("alex@example.com")
    assert contact is not None and contact.mailing_postal_code == "94105"
    assert await salesforce.find_contact_by_email("o'brien@example.com") is None


async def test_contact_lookup_keeps_the_email_out_of_every_url(
    salesforce: SalesforceConnector,
) -> None:
    """Parameterized search (the term in a POST body), not SOQL in a GET query string."""
    urls: list[str] = []

    async def record(request: httpx.Request) -> None:
        urls.append(str(request.url))

    salesforce._client.event_hooks["request"].append(record)
    assert await salesforce.find_contact_by_email("ALEX@example.com") is not None
    assert await salesforce.find_contact_by_email("alex@example") is None  # a prefix only
    assert urls and all("alex" not in url.lower() for url in urls)
    assert any(url.endswith("/parameterizedSearch") for url in urls)
    with pytest.raises(PlatformRejected, match="longer than one character"):
        await salesforce.rest("POST", "parameterizedSearch", json={"q": "a", "sobjects": []})


async def test_comment_posted_once_per_key(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    first = await salesforce.add_comment(
        ALEX_CASE, "Your order is cancelled.", public=True, idempotency_key="wf-5/n7"
    )
    again = await salesforce.add_comment(
        ALEX_CASE, "Your order is cancelled.", public=True, idempotency_key="wf-5/n7"
    )
    assert again.replayed and again.id == first.id
    comments = await salesforce.case_comments(ALEX_CASE)
    assert len(comments) == 1 and comments[0].is_published
    assert comments[0].body.startswith("Your order is cancelled.")
    assert "wf-5" not in comments[0].body  # the reference is a digest, not the workflow id
    assert len(sandbox.side_effects("salesforce", "casecomment.create")) == 1


async def test_handoff_to_queue(salesforce: SalesforceConnector) -> None:
    queue = await salesforce.find_queue("Escalations")
    assert queue.id.startswith("00G")
    await salesforce.update_case(ALEX_CASE, {"OwnerId": queue.id, "Status": "Escalated"})
    case = await salesforce.get_case(ALEX_CASE)
    assert (case.owner_id, case.status) == (queue.id, "Escalated")
    assert await salesforce.change_tags(ALEX_CASE, ["vip"], ["bigcommerce"]) == [
        "cancel_order",
        "vip",
    ]


async def test_comment_body_limit(salesforce: SalesforceConnector) -> None:
    """The emulator refuses a CommentBody over 4,000 bytes; the connector splits one."""
    with pytest.raises(PlatformRejected, match="STRING_TOO_LONG"):
        await salesforce.rest(
            "POST",
            "sobjects/CaseComment",
            json={"ParentId": ALEX_CASE, "CommentBody": "é" * 2001, "IsPublished": False},
        )
    await salesforce.add_comment(ALEX_CASE, "é" * 2000, public=True, idempotency_key="big")
    bodies = [c.body for c in await salesforce.case_comments(ALEX_CASE)]
    assert sum("[ref:tf-" in b for b in bodies) == 2


async def test_bad_picklist_value_is_rejected(salesforce: SalesforceConnector) -> None:
    with pytest.raises(PlatformRejected, match="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"):
        await salesforce.update_case(ALEX_CASE, {"Status": "Pending"})


async def test_unknown_case_is_not_found(salesforce: SalesforceConnector) -> None:
    with pytest.raises(NotFound, match="NOT_FOUND"):
        await salesforce.get_case("500000000000099AAA")


async def test_token_cached_and_refreshed_once_after_expiry(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    await salesforce.get_case(ALEX_CASE)
    await salesforce.get_case(ALEX_CASE)
    assert salesforce.token_fetches == 1
    sandbox.client.post("/salesforce/_sandbox/expire_tokens").raise_for_status()
    assert (await salesforce.get_case(ALEX_CASE)).id == ALEX_CASE
    assert salesforce.token_fetches == 2


async def test_bad_client_secret_is_auth_error(sandbox_settings: Settings) -> None:
    settings = sandbox_settings.salesforce.model_copy(update={"client_secret": SecretStr("wrong")})
    connector = SalesforceConnector(settings)
    try:
        with pytest.raises(PlatformAuthError, match="invalid_client") as info:
            await connector.get_case(ALEX_CASE)
        assert "wrong" not in str(info.value)
    finally:
        await connector.aclose()


def test_401_has_the_real_shape(sandbox: SandboxControl) -> None:
    response = sandbox.client.get(f"/salesforce/services/data/v62.0/sobjects/Case/{ALEX_CASE}")
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


async def test_rate_limit_then_success(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    await salesforce.get_case(ALEX_CASE)  # token first, so the fault hits the REST call
    sandbox.fault("salesforce", rate_limit_next=1, retry_after=4)
    with pytest.raises(PlatformRateLimited) as info:
        await salesforce.get_case(ALEX_CASE)
    assert info.value.next_retry_delay is not None
    assert info.value.next_retry_delay.total_seconds() == 4
    assert (await salesforce.get_case(ALEX_CASE)).id == ALEX_CASE


async def test_server_error_then_success(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    await salesforce.get_case(ALEX_CASE)
    sandbox.fault("salesforce", fail_next=1, error_status=500)
    with pytest.raises(PlatformUnavailable):
        await salesforce.get_case(ALEX_CASE)
    assert (await salesforce.get_case(ALEX_CASE)).id == ALEX_CASE


def test_outbound_message_parse_and_verify(sandbox: SandboxControl) -> None:
    answer = sandbox.client.post(
        f"/salesforce/_sandbox/cases/{ALEX_CASE}/customer_reply", json={"body": "No <thanks> & bye"}
    ).json()
    body = sandbox.webhooks("salesforce")[-1]["body"].encode()
    message = verify_outbound_message(body, "00D000000000001")
    assert message is not None
    [notification] = message.notifications
    assert notification.notification_id == answer["notification_id"]
    assert notification.sobject_type == "CaseComment"
    assert notification.fields["CommentBody"] == "No <thanks> & bye"
    assert notification.fields["ParentId"] == ALEX_CASE
    assert verify_outbound_message(body, "00D000000000999") is None
    assert verify_outbound_message(b"<x/>", "00D000000000001") is None
    with pytest.raises(ValueError):
        parse_outbound_message(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>')
    assert "<Ack>true</Ack>" in outbound_message_ack()
