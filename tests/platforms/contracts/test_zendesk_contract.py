"""Zendesk Support's contract, per operation the connector uses, checked on real traffic.

Source of truth: Zendesk's own OpenAPI document for the Support API ("Support API",
``info.version`` 2.0.0, the file developer.zendesk.com serves as ``oas.yaml``), read as the
copy kept in github.com/botbrains-io/python-zendesk (``openapi-src.yaml``, commit
806dda64, 2025-06-12): ``UpdateTicket`` (``TicketUpdateRequest`` / ``TicketUpdateInput``),
``ShowTicket``, ``ListTicketComments``, ``ListAuditsForTicket``, ``ListGroups``,
``ShowUser``, ``SearchUsers``, ``PutTagsTicket`` (safe update), and the prose 404 body it
quotes. The fields below are written from that document in our own words: what a request
may carry, with its types, and the response fields the connector reads. Every check runs on
the request the connector really sent and the answer the emulator really gave (the
sandbox's request log).

The single-ticket update documents ``tags`` (the whole list) and ``safe_update`` /
``updated_stamp``; ``additional_tags`` / ``remove_tags`` appear nowhere in the document
(the help pages mention them for the bulk update only), so the connector reads the ticket,
merges the tags and writes the list with a safe update. Where the document is silent
(audit sorting, custom audit metadata on an update, the 409 body, trigger placeholders)
the connector's docstring says so with ⚠.
"""

from __future__ import annotations

import json

import pytest

from activities.platforms.base import NotFound, PlatformRejected
from activities.platforms.roles import HANDOFF_TAG
from activities.platforms.zendesk import ZendeskConnector, ZendeskTicketUpdate
from api.webhooks import zendesk as zendesk_webhooks
from api.webhooks.protocol import InboundMessage
from policies.library import load_library
from sandbox.credentials import SANDBOX_ZENDESK_EMAIL, SANDBOX_ZENDESK_WEBHOOK_SECRET
from tests.platforms.contracts.shapes import (
    BOOL,
    INT,
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

STATUS = one_of("new", "open", "pending", "hold", "solved", "closed")
TIMESTAMP = pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "an ISO 8601 UTC timestamp")
OBJECT = kind(dict, what="object")
NULL_OR_INT = kind(int, type(None), what="integer or null")
NULL_OR_STR = kind(str, type(None), what="string or null")

# --- requests -------------------------------------------------------------------------------

# A comment written through an update: body (or html_body), public, author_id; the rest of
# the comment object is read-only.
COMMENT_IN = Shape(
    optional={"body": STR, "html_body": STR, "public": BOOL, "author_id": INT},
    closed=True,
)
# TicketUpdateInput, the fields the connector may write (all optional), plus `metadata`,
# which the ticket object documents as write-only audit metadata. `tags` replaces the whole
# list; `safe_update: true` needs `updated_stamp` (the ticket's updated_at as last read).
TICKET_UPDATE = Shape(
    required={
        "ticket": Shape(
            optional={
                "comment": COMMENT_IN,
                "status": STATUS,
                "group_id": INT,
                "assignee_id": INT,
                "tags": list_of(STR),
                "safe_update": BOOL,
                "updated_stamp": TIMESTAMP,
                "metadata": OBJECT,
            },
            closed=True,
        )
    },
    closed=True,
)

# --- responses (what the connector reads; Zendesk may add fields) ---------------------------

TICKET = Shape(
    required={
        "id": INT,
        "status": STATUS,
        "tags": list_of(STR),
        "updated_at": TIMESTAMP,
    },
    optional={
        "subject": NULL_OR_STR,
        "description": NULL_OR_STR,
        "requester_id": NULL_OR_INT,
        "assignee_id": NULL_OR_INT,
        "group_id": NULL_OR_INT,
        "custom_fields": list_of(Shape(required={"id": INT})),
    },
)
EVENT = Shape(required={"type": STR}, optional={"id": INT})
AUDIT = Shape(
    required={
        "id": INT,
        "ticket_id": INT,
        "created_at": TIMESTAMP,
        "events": list_of(EVENT),
        "metadata": OBJECT,
    },
    optional={"author_id": INT},
)
COMMENT = Shape(
    required={"id": INT, "body": STR, "public": BOOL, "created_at": TIMESTAMP},
    optional={
        "author_id": INT,
        "audit_id": INT,
        "type": one_of("Comment", "VoiceComment"),
        "html_body": STR,
        "plain_body": STR,
    },
)
# Offset pagination: next_page is a full URL or null.
COMMENTS = Shape(required={"comments": list_of(COMMENT)}, optional={"next_page": NULL_OR_STR})
AUDITS = Shape(
    required={"audits": list_of(AUDIT)},
    optional={"next_page": NULL_OR_STR, "previous_page": NULL_OR_STR, "count": INT},
)
UPDATED = Shape(required={"ticket": TICKET, "audit": AUDIT})
GROUPS = Shape(required={"groups": list_of(Shape(required={"id": INT, "name": STR}))})
USER = Shape(
    required={"id": INT, "name": STR},
    optional={"email": NULL_OR_STR, "role": one_of("end-user", "agent", "admin")},
)
USERS = Shape(required={"users": list_of(USER)})
# The error body the document quotes: {"error": "RecordNotFound", "description": "Not found"}.
ERROR = Shape(required={"error": STR}, optional={"description": STR, "details": OBJECT})

# --- the trigger webhook (ticketflow's template; every placeholder renders as a string) -----

WEBHOOK_BODY = Shape(
    required={
        "event": STR,
        "ticket": Shape(
            required={"id": pattern(r"\d+", "digits")},
            optional={"status": STR, "tags": STR, "subject": STR, "requester_email": STR},
            closed=True,
        ),
        "comment": Shape(
            required={"id": pattern(r"\d+", "digits"), "body": STR},
            optional={
                "public": one_of("true", "false"),
                "author_email": STR,
                "created_at": STR,
            },
            closed=True,
        ),
    },
    closed=True,
)


@pytest.fixture
async def zendesk(sandbox_settings: Settings):
    connector = ZendeskConnector(sandbox_settings.zendesk)
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path_end: str) -> list[dict]:
    return [r for r in sandbox.requests("zendesk", method) if r["path"].endswith(path_end)]


async def test_reads(zendesk: ZendeskConnector, sandbox: SandboxControl) -> None:
    ticket = await zendesk.get_ticket(1003)
    await zendesk.list_comments(1003)
    await zendesk.recent_audits(1003)
    await zendesk.list_groups()
    await zendesk.get_user(ticket.requester_id or 0)
    await zendesk.find_user_by_email("sam@example.com")
    assert_all(TICKET, [r["response"]["ticket"] for r in traffic(sandbox, "GET", "/1003.json")])
    (comments,) = traffic(sandbox, "GET", "/comments.json")
    assert set(comments["query"]) <= {"per_page", "page", "sort_order"}
    assert_all(COMMENTS, [comments["response"]])
    (audits,) = traffic(sandbox, "GET", "/audits.json")
    assert set(audits["query"]) <= {"per_page", "page"}  # no sorting is documented here
    assert_all(AUDITS, [audits["response"]])
    assert_all(GROUPS, [r["response"] for r in traffic(sandbox, "GET", "/groups.json")])
    (search,) = traffic(sandbox, "GET", "/users/search.json")
    assert set(search["query"]) == {"query"}
    assert_all(USERS, [search["response"]])
    shown = [r["response"]["user"] for r in traffic(sandbox, "GET", "/users/800003.json")]
    assert_all(USER, shown)


async def test_reply_note_and_hand_off_send_documented_fields(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    await zendesk.comment("1001", "We can restart it today.", public=True, idempotency_key="k1")
    await zendesk.comment("1001", "checked Stay AI", public=False, idempotency_key="k2")
    await zendesk.hand_off("1002", "customer asks for a manager", None, "k3")
    puts = traffic(sandbox, "PUT", ".json")
    assert len(puts) == 3
    assert_all(TICKET_UPDATE, [r["body"] for r in puts])
    assert all(r["status"] == 200 for r in puts)
    assert_all(UPDATED, [r["response"] for r in puts])
    assert [r["body"]["ticket"]["comment"]["public"] for r in puts] == [True, False, False]


async def test_tags_are_written_whole_with_a_safe_update(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    """Tags go out as the whole list, read just before, guarded by the ticket's stamp."""
    await zendesk.hand_off("1002", "customer asks for a manager", None, "k3")
    (read,) = traffic(sandbox, "GET", "/tickets/1002.json")
    (put,) = traffic(sandbox, "PUT", "/tickets/1002.json")
    ticket = put["body"]["ticket"]
    before = read["response"]["ticket"]
    assert ticket["tags"] == [*before["tags"], HANDOFF_TAG]
    assert ticket["safe_update"] is True
    assert ticket["updated_stamp"] == before["updated_at"]
    assert put["response"]["ticket"]["tags"] == ticket["tags"]


async def test_a_stale_stamp_is_a_conflict_and_the_connector_reads_again(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    stale = (await zendesk.get_ticket(1004)).updated_at
    assert stale is not None
    sandbox.advance(seconds=5)
    await zendesk.update_ticket(1004, ZendeskTicketUpdate(status="open"), idempotency_key=None)
    with pytest.raises(PlatformRejected) as conflict:
        await zendesk.request(
            "PUT",
            "/api/v2/tickets/1004.json",
            json={
                "ticket": {
                    "tags": ["x"],
                    "safe_update": True,
                    "updated_stamp": stale.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            },
        )
    assert conflict.value.status == 409
    (refused,) = [r for r in traffic(sandbox, "PUT", "/1004.json") if r["status"] == 409]
    assert_all(ERROR, [refused["response"]])
    assert "x" not in (await zendesk.get_ticket(1004)).tags
    # The connector's own tag change reads the ticket again and succeeds.
    await zendesk.update_ticket(
        1004, ZendeskTicketUpdate(add_tags=["vip"], drop_tags=["stayai"]), idempotency_key=None
    )
    tags = (await zendesk.get_ticket(1004)).tags
    assert "vip" in tags and "stayai" not in tags


async def test_a_keyed_update_is_found_among_many_audits(
    zendesk: ZendeskConnector, sandbox: SandboxControl
) -> None:
    """The audits list documents offset pages and a count, no order: the connector reads the
    last pages by number to find a recent key, whatever order the first page comes in."""
    for status in ["open", "pending"] * 60:
        await zendesk.update_ticket(1001, ZendeskTicketUpdate(status=status), idempotency_key=None)
    update = ZendeskTicketUpdate(comment_body="Restarted.")
    first = await zendesk.update_ticket(1001, update, idempotency_key="late-key")
    await zendesk.update_ticket(1001, ZendeskTicketUpdate(status="open"), idempotency_key=None)
    again = await zendesk.update_ticket(1001, update, idempotency_key="late-key")
    assert again.replayed and again.audit_id == first.audit_id
    reads = traffic(sandbox, "GET", "/tickets/1001/audits.json")
    assert all(set(r["query"]) <= {"per_page", "page"} for r in reads)
    assert_all(AUDITS, [r["response"] for r in reads])


async def test_error_bodies(zendesk: ZendeskConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(NotFound):
        await zendesk.get_ticket(424242)
    (missing,) = traffic(sandbox, "GET", "/424242.json")
    assert missing["status"] == 404
    assert_all(ERROR, [missing["response"]])
    unauthorized = sandbox.client.get("/zendesk/api/v2/tickets/1001.json")
    assert unauthorized.status_code == 401
    assert_all(ERROR, [unauthorized.json()])


def test_trigger_webhook_carries_the_template_fields(sandbox: SandboxControl) -> None:
    """The emulator renders ticketflow's trigger template; the API reads it as a message."""
    reply = sandbox.client.post(
        "/zendesk/_sandbox/tickets/1003/customer_reply", json={"body": "Any news?"}
    )
    reply.raise_for_status()
    (hook,) = sandbox.webhooks("zendesk")
    assert_all(WEBHOOK_BODY, [json.loads(hook["body"])])
    headers = {k.lower() for k in hook["headers"]}
    assert {zendesk_webhooks.SIGNATURE, zendesk_webhooks.TIMESTAMP} <= headers
    assert "x-zendesk-webhook-id" in headers
    source = zendesk_webhooks.ZendeskWebhooks(
        SANDBOX_ZENDESK_WEBHOOK_SECRET, SANDBOX_ZENDESK_EMAIL, load_library()
    )
    (parsed,) = source.parse(hook["body"].encode())
    assert isinstance(parsed, InboundMessage)
    assert parsed.message.text == "Any news?"


def test_the_vocabulary_sees_drift() -> None:
    """The hand-off body the connector sent before issue 19 fails the update contract."""
    old = {
        "ticket": {
            "comment": {"body": "note", "public": False},
            "group_id": 360002,
            "status": "open",
            "additional_tags": [HANDOFF_TAG],
        }
    }
    assert problems(TICKET_UPDATE, old) == ["$.ticket.additional_tags: not a documented field"]
