"""Kustomer's contract, per operation the connector uses, checked on real traffic.

Source of truth: Kustomer publishes no OpenAPI file we could read whole. Its developer site
(developer.kustomer.com, read December 2026; the API is ``/v1``): the Core resources API
pages "Create customer search", "Create draft for customer", "Update draft", "Create note",
"Create message by customer ID", "Get conversations", the concept pages "Search",
"Conversations and messages", and the Events pages "Outbound webhooks", "Delivery and
security", "Event catalog"; and the standard-attributes JSON schema of the customer search
(as mirrored by api-docs.integration.app, Kustomer "Customer Search"). The fields below are
written from those pages in our own words; every check runs on the request the connector
really sent and the answer the emulator really gave (the sandbox's request log).

What the pages do not settle (``externalId`` on drafts and notes, PATCH rather than PUT for
a conversation update, the error body) is marked ⚠ in the connector's docstring.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from activities.platforms.base import NotFound
from activities.platforms.kustomer import KustomerConnector
from api.webhooks.kustomer import KustomerWebhooks
from api.webhooks.protocol import InboundMessage
from sandbox.credentials import SANDBOX_KUSTOMER_WEBHOOK_SECRET
from tests.platforms.contracts.shapes import (
    NULL_OR_STR,
    STR,
    Shape,
    assert_all,
    kind,
    list_of,
    one_of,
    pattern,
    problems,
)
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

SAM_CONVERSATION = "5f000000000000000000d003"
KIM_CONVERSATION = "5f000000000000000000d008"
STATUS = one_of("open", "snoozed", "done")
TIMESTAMP = pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "an ISO 8601 UTC timestamp")


def at_most(limit: int, item: Any) -> Any:
    def check(value: Any, path: str) -> list[str]:
        found = list_of(item)(value, path)
        if isinstance(value, list) and len(value) > limit:
            found.append(f"{path}: at most {limit} items")
        return found

    return check


def ref(kind_name: str) -> Shape:
    """A JSON:API relationship: ``{data: {type, id}}``."""
    return Shape(required={"data": Shape(required={"type": one_of(kind_name), "id": STR})})


# --- requests -------------------------------------------------------------------------------

# One search criterion: a standard attribute (the customer search's standard-attributes
# schema; `customer_email` is a string attribute) with one operator and its value.
STRING_TEST = Shape(optional={"equals": STR, "contains": STR}, closed=True)
CRITERION = Shape(optional={"customer_email": STRING_TEST}, closed=True)
# The search body: queryContext says what comes back; and / or / not hold criteria.
SEARCH = Shape(
    required={"queryContext": one_of("customer", "conversation", "message", "company")},
    optional={
        "and": list_of(CRITERION, min_items=1),
        "or": list_of(CRITERION, min_items=1),
        "sort": list_of(kind(dict)),
        "timeZone": STR,
    },
    closed=True,
)
# A draft to a customer: channel and body, the conversation it answers, to / from for
# email. Without `scheduled: true` it is sent at once.
DRAFT = Shape(
    required={"channel": STR, "body": STR, "conversation": STR},
    optional={"to": STR, "from": STR, "subject": STR, "externalId": STR},
    closed=True,
)
NOTE = Shape(required={"conversation": STR, "body": STR}, optional={"externalId": STR}, closed=True)
# A conversation update: status, priority 1-5, tags (the whole list), up to 10 teams, the
# routing queue.
CONVERSATION_UPDATE = Shape(
    optional={
        "status": STATUS,
        "priority": one_of(1, 2, 3, 4, 5),
        "tags": list_of(STR),
        "assignedTeams": at_most(10, STR),
        "assignedUsers": at_most(10, STR),
        "queue": Shape(required={"id": STR}, closed=True),
    },
    closed=True,
)

# --- responses (JSON:API resources; what the connector reads) -------------------------------

LOCATION = Shape(
    optional={
        "address": NULL_OR_STR,
        "address2": NULL_OR_STR,
        "cityName": NULL_OR_STR,
        "regionCode": NULL_OR_STR,
        "zipCode": NULL_OR_STR,
        "countryCode": NULL_OR_STR,
    }
)
CUSTOMER = Shape(
    required={
        "type": one_of("customer"),
        "id": STR,
        "attributes": Shape(
            optional={
                "name": NULL_OR_STR,
                "emails": list_of(Shape(required={"email": STR})),
                "locations": list_of(LOCATION),
                "externalId": NULL_OR_STR,
            }
        ),
    }
)
CONVERSATION = Shape(
    required={
        "type": one_of("conversation"),
        "id": STR,
        "attributes": Shape(
            required={"status": STATUS},
            optional={
                "name": NULL_OR_STR,
                "channels": list_of(STR),
                "tags": list_of(STR),
                "assignedUsers": list_of(STR),
                "assignedTeams": list_of(STR),
                "priority": kind(int, type(None), what="integer or null"),
            },
        ),
        "relationships": Shape(required={"customer": ref("customer")}),
    }
)
ENTRY = Shape(
    required={
        "type": one_of("message", "note"),
        "id": STR,
        "attributes": Shape(
            optional={
                "channel": NULL_OR_STR,
                "direction": one_of("in", "out"),
                "preview": NULL_OR_STR,
                "body": NULL_OR_STR,
                "externalId": NULL_OR_STR,
            }
        ),
        "relationships": Shape(required={"conversation": ref("conversation")}),
    }
)
CREATED = Shape(required={"data": Shape(required={"id": STR})})
LINKS = Shape(optional={"next": NULL_OR_STR})


def page(item: Any) -> Shape:
    return Shape(required={"data": list_of(item)}, optional={"links": LINKS})


TEAMS = page(Shape(required={"id": STR, "attributes": Shape(required={"name": STR})}))
ERRORS = Shape(
    required={
        "errors": list_of(
            Shape(required={"title": STR}, optional={"status": kind(int, str), "detail": STR}),
            min_items=1,
        )
    }
)
# The outbound webhook's event envelope: the full resource in `data`; `changes` is null on a
# create event.
MESSAGE_CREATED = Shape(
    required={
        "id": STR,
        "name": one_of("kustomer.message.create"),
        "org": STR,
        "data": ENTRY,
        "changes": one_of(None),
    },
    optional={"partition": STR, "createdAt": TIMESTAMP},
)


@pytest.fixture
async def kustomer(sandbox_settings: Settings):
    connector = KustomerConnector(sandbox_settings.kustomer, sender="support@example.com")
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path_end: str) -> list[dict]:
    return [r for r in sandbox.requests("kustomer", method) if r["path"].endswith(path_end)]


async def test_customer_lookup(kustomer: KustomerConnector, sandbox: SandboxControl) -> None:
    details = await kustomer.account_details("sam@example.com")
    assert details.address is not None
    customer_id = details.customer_id or ""
    await kustomer.get_customer(customer_id)
    await kustomer.customer_conversations(customer_id)
    (search,) = traffic(sandbox, "POST", "/v1/customers/search")
    assert_all(SEARCH, [search["body"]])
    assert "@" not in search["path"] and all("@" not in str(v) for v in search["query"].values())
    assert int(search["query"]["pageSize"]) <= 500  # the documented maximum
    assert_all(page(CUSTOMER), [search["response"]])
    shown = traffic(sandbox, "GET", f"/v1/customers/{customer_id}")
    assert_all(Shape(required={"data": CUSTOMER}), [r["response"] for r in shown])
    listed = traffic(sandbox, "GET", "/conversations")
    assert_all(page(CONVERSATION), [r["response"] for r in listed])


async def test_reply_is_a_draft_sent_at_once(
    kustomer: KustomerConnector, sandbox: SandboxControl
) -> None:
    await kustomer.comment(
        SAM_CONVERSATION, "A new bottle is on its way.", public=True, idempotency_key="k1"
    )
    (draft,) = traffic(sandbox, "POST", "/drafts")
    assert_all(DRAFT, [draft["body"]])
    assert "scheduled" not in draft["body"] and "sendAt" not in draft["body"]
    assert draft["status"] == 201
    assert_all(CREATED, [draft["response"]])
    reads = traffic(sandbox, "GET", f"/v1/conversations/{SAM_CONVERSATION}/messages")
    assert all(set(r["query"]) <= {"page", "pageSize"} for r in reads)
    assert_all(page(ENTRY), [r["response"] for r in reads])
    shown = traffic(sandbox, "GET", f"/v1/conversations/{SAM_CONVERSATION}")
    assert_all(Shape(required={"data": CONVERSATION}), [r["response"] for r in shown])


async def test_note_and_hand_off(kustomer: KustomerConnector, sandbox: SandboxControl) -> None:
    await kustomer.comment(KIM_CONVERSATION, "checked Stay AI", public=False, idempotency_key="k1")
    await kustomer.hand_off(KIM_CONVERSATION, "customer asks for a manager", None, "k2")
    notes = traffic(sandbox, "POST", "/v1/notes")
    assert len(notes) == 2
    assert_all(NOTE, [r["body"] for r in notes])
    assert_all(Shape(required={"data": ENTRY}), [r["response"] for r in notes])
    patches = traffic(sandbox, "PATCH", f"/v1/conversations/{KIM_CONVERSATION}")
    assert patches
    assert_all(CONVERSATION_UPDATE, [r["body"] for r in patches])
    assert_all(Shape(required={"data": CONVERSATION}), [r["response"] for r in patches])
    assert_all(TEAMS, [r["response"] for r in traffic(sandbox, "GET", "/v1/teams")])
    listed = traffic(sandbox, "GET", "/notes")
    assert_all(page(ENTRY), [r["response"] for r in listed])


async def test_error_bodies(kustomer: KustomerConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(NotFound):
        await kustomer.get_conversation("5f0000000000000000000000")
    failed = [r for r in sandbox.requests("kustomer") if r["status"] >= 400]
    assert_all(ERRORS, [r["response"] for r in failed])


def test_message_webhook_is_the_documented_envelope(sandbox: SandboxControl) -> None:
    reply = sandbox.client.post(
        f"/kustomer/_sandbox/conversations/{SAM_CONVERSATION}/customer_reply",
        json={"body": "Any news?", "channel": "email"},
    )
    reply.raise_for_status()
    (hook,) = sandbox.webhooks("kustomer")
    assert_all(MESSAGE_CREATED, [json.loads(hook["body"])])
    headers = {k.lower(): v for k, v in hook["headers"].items()}
    assert headers["x-kustomer-webhook-event"] == "kustomer.message.create"
    assert headers["x-kustomer-webhook-signature"].islower()
    (parsed,) = KustomerWebhooks(SANDBOX_KUSTOMER_WEBHOOK_SECRET).parse(hook["body"].encode())
    assert isinstance(parsed, InboundMessage)
    assert parsed.message.text == "Any news?"
    assert parsed.start.external_id == SAM_CONVERSATION


def test_the_vocabulary_sees_drift() -> None:
    assert problems(DRAFT, {"channel": "email", "body": "x", "conversation": "c", "bcc": "x"})
    assert problems(CONVERSATION_UPDATE, {"assignedTeams": ["t"] * 11})
    assert problems(SEARCH, {"and": [{"email": {"equals": "a@b.c"}}]})
    create = {
        "id": "e",
        "name": "kustomer.message.create",
        "org": "o",
        "data": {
            "type": "message",
            "id": "m",
            "attributes": {},
            "relationships": {"conversation": {"data": {"type": "conversation", "id": "c"}}},
        },
        "changes": {},
    }
    assert problems(MESSAGE_CREATED, create) == ["$.changes: {} is not one of (None,)"]
