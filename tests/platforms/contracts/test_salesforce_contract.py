"""Salesforce Service Cloud's contract, per operation the connector uses, checked on real
traffic.

Source of truth: Salesforce's developer documentation (developer.salesforce.com), REST API
Developer Guide (read in its v68.0 edition; the connector calls v62.0, and parameterized
search, the newest resource used, exists since v36.0): "sObject Rows" (GET / PATCH a record,
204 on update), "sObject Basic Information" (POST a record, 201 ``{id, success, errors}``),
"Query" (``totalSize``, ``done``, ``records``, ``nextRecordsUrl``), "Parameterized Search"
(POST body ``q``, ``in``, ``sobjects[{name, fields, limit}]``, ``overallLimit``;
``searchRecords`` back), "Status Codes and Error Responses" (a list of ``{message,
errorCode, fields?}``); the Object Reference for ``Case``, ``CaseComment`` (``ParentId``,
``CommentBody`` up to 4,000 bytes, ``IsPublished``), ``Contact``, ``Group`` and
``EmailMessage``; the OAuth 2.0 client credentials flow (token response ``access_token``,
``instance_url``, ``id``, ``token_type``, ``issued_at``, ``signature``); and the SOAP API
Developer Guide, "Understanding the Outbound Messaging WSDL" (``notifications``:
``OrganizationId``, ``ActionId``, ``SessionId``, ``EnterpriseUrl``, ``PartnerUrl``, up to
100 ``Notification {Id, sObject}``; answered by a ``notificationsResponse`` with ``Ack``).
The fields are written in our own words; every check runs on the request the connector
really sent and the answer the emulator really gave.

What the documents leave to the org (the tags custom field, the Status picklist, the
outbound message's field selection) is marked ⚠ in the connector's docstring.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from activities.platforms.base import NotFound, PlatformRejected
from activities.platforms.salesforce import (
    CONTACT_FIELDS,
    OUTBOUND_NS,
    SOBJECT_NS,
    XSI_NS,
    SalesforceConnector,
    outbound_message_ack,
)
from api.webhooks.protocol import InboundMessage
from api.webhooks.salesforce import SalesforceOutboundMessages
from sandbox.credentials import SANDBOX_SALESFORCE_ORGANIZATION_ID
from tests.platforms.contracts.shapes import (
    BOOL,
    INT,
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

ALEX_CASE = "500000000000001AAA"
SF_ID = pattern(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?", "a 15- or 18-character Salesforce id")
QUEUE_ID = pattern(r"00G[A-Za-z0-9]{12}([A-Za-z0-9]{3})?", "a queue (Group) id")
DATETIME = pattern(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d{4}|[+-]\d\d:\d\d)", "a datetime"
)
ATTRIBUTES = Shape(required={"type": STR}, optional={"url": STR})


def at_most_bytes(limit: int) -> Any:
    def check(value: Any, path: str) -> list[str]:
        if isinstance(value, str) and len(value.encode()) <= limit:
            return []
        return [f"{path}: a string of at most {limit} bytes"]

    return check


# --- requests -------------------------------------------------------------------------------

# CaseComment create: ParentId (the case) is required, CommentBody up to 4,000 bytes,
# IsPublished a boolean (false: an internal comment).
CASE_COMMENT_POST = Shape(
    required={"ParentId": SF_ID, "CommentBody": at_most_bytes(4000)},
    optional={"IsPublished": BOOL},
    closed=True,
)
# Case update: the fields the connector writes. ⚠ Ticketflow_Tags__c is the org's custom
# text field; Status must be a value of the org's Case Status picklist.
CASE_PATCH = Shape(
    optional={"Status": STR, "OwnerId": QUEUE_ID, "Priority": STR, "Ticketflow_Tags__c": STR},
    closed=True,
)
SEARCH_POST = Shape(
    required={"q": STR},
    optional={
        "in": one_of("ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"),
        "fields": list_of(STR),
        "sobjects": list_of(
            Shape(
                required={"name": STR},
                optional={"fields": list_of(STR), "limit": INT, "where": STR, "orderBy": STR},
                closed=True,
            ),
            min_items=1,
        ),
        "overallLimit": INT,
        "defaultLimit": INT,
    },
    closed=True,
)

# --- responses ------------------------------------------------------------------------------

TOKEN = Shape(
    required={"access_token": STR, "instance_url": STR, "token_type": one_of("Bearer")},
    optional={"id": STR, "issued_at": STR, "signature": STR, "scope": STR},
)
CASE = Shape(
    required={"attributes": ATTRIBUTES, "Id": SF_ID},
    optional={
        "CaseNumber": NULL_OR_STR,
        "Subject": NULL_OR_STR,
        "Description": NULL_OR_STR,
        "Status": NULL_OR_STR,
        "Priority": NULL_OR_STR,
        "OwnerId": NULL_OR_STR,
        "ContactId": NULL_OR_STR,
        "ContactEmail": NULL_OR_STR,
    },
)
CREATED = Shape(required={"id": SF_ID, "success": one_of(True), "errors": list_of(kind(dict))})
COMMENT_ROW = Shape(
    required={
        "attributes": ATTRIBUTES,
        "Id": SF_ID,
        "CommentBody": NULL_OR_STR,
        "IsPublished": BOOL,
        "CreatedDate": DATETIME,
    }
)
QUEUE_ROW = Shape(required={"attributes": ATTRIBUTES, "Id": QUEUE_ID, "Name": STR})
QUERY = Shape(
    required={"totalSize": INT, "done": BOOL, "records": list_of(kind(dict))},
    optional={"nextRecordsUrl": STR},
)
CONTACT_ROW = Shape(
    required={"attributes": Shape(required={"type": one_of("Contact")}), "Id": SF_ID},
    optional={name: NULL_OR_STR for name in CONTACT_FIELDS if name != "Id"},
)
SEARCH = Shape(required={"searchRecords": list_of(CONTACT_ROW)})
ERRORS = list_of(
    Shape(required={"message": STR, "errorCode": STR}, optional={"fields": list_of(STR)}),
    min_items=1,
)


@pytest.fixture
async def salesforce(sandbox_settings: Settings):
    connector = SalesforceConnector(sandbox_settings.salesforce)
    yield connector
    await connector.aclose()


def traffic(sandbox: SandboxControl, method: str, path_part: str) -> list[dict]:
    return [r for r in sandbox.requests("salesforce", method) if path_part in r["path"]]


async def test_token_case_and_contact(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    await salesforce.get_case(ALEX_CASE)
    await salesforce.account_details("alex@example.com")
    (token,) = traffic(sandbox, "POST", "/services/oauth2/token")
    assert token["status"] == 200
    assert_all(TOKEN, [token["response"]])
    (case,) = traffic(sandbox, "GET", f"/sobjects/Case/{ALEX_CASE}")
    assert case["path"].startswith(f"/services/data/{salesforce.api_version}/")
    assert_all(CASE, [case["response"]])
    (search,) = traffic(sandbox, "POST", "/parameterizedSearch")
    assert_all(SEARCH_POST, [search["body"]])
    assert "@" not in search["path"] and not search["query"]
    assert_all(SEARCH, [search["response"]])


async def test_comments_and_hand_off(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    await salesforce.comment(
        ALEX_CASE, "Your order is cancelled.", public=True, idempotency_key="k1"
    )
    await salesforce.hand_off(ALEX_CASE, "customer asks for a manager", None, "k2")
    await salesforce.change_tags(ALEX_CASE, ["vip"], [])
    created = traffic(sandbox, "POST", "/sobjects/CaseComment")
    assert len(created) == 2
    assert_all(CASE_COMMENT_POST, [r["body"] for r in created])
    assert [r["body"]["IsPublished"] for r in created] == [True, False]
    assert all(r["status"] == 201 for r in created)
    assert_all(CREATED, [r["response"] for r in created])
    patches = traffic(sandbox, "PATCH", f"/sobjects/Case/{ALEX_CASE}")
    assert len(patches) == 2
    assert_all(CASE_PATCH, [r["body"] for r in patches])
    assert all(r["status"] == 204 and r["response"] is None for r in patches)
    queries = traffic(sandbox, "GET", "/query")
    assert all(set(r["query"]) == {"q"} for r in queries)
    assert_all(QUERY, [r["response"] for r in queries])
    rows = [row for r in queries for row in r["response"]["records"]]
    comments = [row for row in rows if row["attributes"]["type"] == "CaseComment"]
    queues = [row for row in rows if row["attributes"]["type"] == "Group"]
    assert_all(COMMENT_ROW, comments)
    assert_all(QUEUE_ROW, queues)


async def test_a_long_reply_stays_within_the_comment_limit(
    salesforce: SalesforceConnector, sandbox: SandboxControl
) -> None:
    """CommentBody holds 4,000 bytes, the reference line included: a longer reply goes out
    in parts, each within the limit, and a retry with the same key posts nothing again."""
    text = "Über die Rückerstattung: " + "x" * 3990 + " Danke."
    first = await salesforce.comment(ALEX_CASE, text, public=True, idempotency_key="long")
    again = await salesforce.comment(ALEX_CASE, text, public=True, idempotency_key="long")
    assert again.message_id == first.message_id
    created = traffic(sandbox, "POST", "/sobjects/CaseComment")
    assert len(created) == 2 and all(r["status"] == 201 for r in created)
    assert_all(CASE_COMMENT_POST, [r["body"] for r in created])
    parts = [r["body"]["CommentBody"].rsplit("\n\n", 1)[0] for r in created]
    assert "".join(parts) == text


async def test_error_bodies(salesforce: SalesforceConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(NotFound):
        await salesforce.get_case("500000000000999AAA")
    with pytest.raises(PlatformRejected):
        await salesforce.rest(
            "POST",
            "sobjects/CaseComment",
            json={"ParentId": ALEX_CASE, "CommentBody": "x" * 4001, "IsPublished": False},
        )
    failed = [r for r in sandbox.requests("salesforce") if r["status"] >= 400]
    assert [r["status"] for r in failed] == [404, 400]
    assert_all(ERRORS, [r["response"] for r in failed])


def _child(element: ET.Element, name: str) -> ET.Element:
    found = element.find(f"{{{OUTBOUND_NS}}}{name}")
    assert found is not None, f"no {name}"
    return found


def test_outbound_message_is_the_documented_envelope(sandbox: SandboxControl) -> None:
    reply = sandbox.client.post(
        f"/salesforce/_sandbox/cases/{ALEX_CASE}/customer_reply", json={"body": "Any news?"}
    )
    reply.raise_for_status()
    (hook,) = sandbox.webhooks("salesforce")
    root = ET.fromstring(hook["body"])
    notifications = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    assert notifications is not None
    order = [child.tag.split("}")[-1] for child in notifications]
    assert order[:5] == ["OrganizationId", "ActionId", "SessionId", "EnterpriseUrl", "PartnerUrl"]
    assert set(order[5:]) == {"Notification"} and 1 <= len(order[5:]) <= 100
    assert not problems(SF_ID, _child(notifications, "OrganizationId").text)
    (item,) = notifications.findall(f"{{{OUTBOUND_NS}}}Notification")
    assert not problems(SF_ID, _child(item, "Id").text)
    sobject = _child(item, "sObject")
    assert sobject.get(f"{{{XSI_NS}}}type", "").endswith(":CaseComment")
    fields = {child.tag: child.text for child in sobject}
    for name in ("Id", "ParentId", "CommentBody", "IsPublished", "CreatedDate"):
        assert f"{{{SOBJECT_NS}}}{name}" in fields, name
    assert fields[f"{{{SOBJECT_NS}}}IsPublished"] in ("true", "false")
    assert not problems(DATETIME, fields[f"{{{SOBJECT_NS}}}CreatedDate"])
    assert hook["headers"]["Content-Type"].startswith("text/xml")
    source = SalesforceOutboundMessages(None, SANDBOX_SALESFORCE_ORGANIZATION_ID)
    (parsed,) = source.parse(hook["body"].encode())
    assert isinstance(parsed, InboundMessage)
    assert parsed.message.text == "Any news?"
    assert parsed.start.external_id == ALEX_CASE
    ack = ET.fromstring(outbound_message_ack())
    response = ack.find(f".//{{{OUTBOUND_NS}}}notificationsResponse")
    assert response is not None and _child(response, "Ack").text == "true"


def test_the_vocabulary_sees_drift() -> None:
    assert problems(CASE_COMMENT_POST, {"ParentId": ALEX_CASE, "Body": "x"})
    assert problems(CASE_COMMENT_POST, {"ParentId": ALEX_CASE, "CommentBody": "é" * 2001})
    assert problems(CASE_PATCH, {"OwnerId": "005000000000001AAA"})  # a user, not a queue
    assert problems(SEARCH_POST, {"q": "a@b.c", "in": "EMAILS"})
