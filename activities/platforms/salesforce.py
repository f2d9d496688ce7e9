"""Salesforce Service Cloud connector: OAuth token, Cases, CaseComments, queues, outbound messages.

Auth is the OAuth 2.0 client-credentials flow: ``POST {my-domain}/services/oauth2/token``
(form ``grant_type=client_credentials&client_id&client_secret``) returns ``access_token``
and ``instance_url``; REST calls go to ``{instance_url}/services/data/{version}/...`` with
``Authorization: Bearer``. The token is cached per connector, refreshed when its assumed
lifetime (``token_ttl``, the org's session timeout; the response carries no expiry) runs
out, and refreshed once more when a call answers 401 ``INVALID_SESSION_ID``.

Errors are a JSON array of ``{message, errorCode, fields?}``. 403 ``REQUEST_LIMIT_EXCEEDED``
(the org's API allowance) is treated as a rate limit and retried later.

Replies and internal notes are ``CaseComment`` rows (``IsPublished`` true / false,
``CommentBody`` at most 4,000 bytes). Salesforce takes no idempotency key and CaseComment
has no custom fields, so a keyed comment ends with a short reference line
``[ref:tf-<12 hex of sha256(key)>]`` (in the spirit of Email-to-Case's ``ref:`` thread ids; it
carries no workflow id) and the connector first looks for that reference among the case's
comments (``SELECT ... FROM CaseComment WHERE ParentId = '...'``).

A contact is found by email with parameterized search (``POST .../parameterizedSearch``, SOSL
as JSON with the email in the body), never a SOQL query string that would put it in a URL.

Hand-off sets ``OwnerId`` to a queue (``Group`` with ``Type = 'Queue'``, id ``00G...``).
⚠ Tags: Cases have no tags; ticketflow keeps them in a text custom field
``Ticketflow_Tags__c`` (semicolon separated), which the org must add (field configurable).

Checked against Salesforce's documentation (REST API Developer Guide, v68.0 edition, for the v62.0
calls; Object Reference for Case, CaseComment, Contact, Group, EmailMessage; the OAuth 2.0
client credentials flow; SOAP API Developer Guide, "Understanding the Outbound Messaging
WSDL"; see ``tests/platforms/contracts/test_salesforce_contract.py``): record GET / PATCH
(204) / POST (201 ``{id, success, errors}``), SOQL query paging, parameterized search by
POST, the error list, the token answer, the outbound message envelope and its ``Ack``.
``CommentBody`` holds 4,000 bytes: a longer comment is sent in parts (``add_comment``).
⚠ Left to the org, not the documents: the ``Ticketflow_Tags__c`` field, the ``Escalated``
value of the Case Status picklist, which fields the outbound message carries (ticketflow
needs ``Id``, ``ParentId``, ``CommentBody``, ``IsPublished``, ``CreatedDate``; for
EmailMessage ``Incoming``, ``TextBody``, ``MessageDate``); whether SOSL's reserved
characters (``-``, ``+``, ``&`` …) in an email sent as ``q`` need escaping.

Incoming customer messages: ticketflow's choice is an **outbound message** (SOAP
``notifications``) from a flow/workflow rule on ``CaseComment`` created with
``IsPublished = true`` by a portal user. Outbound messages are not HMAC-signed: the receiver
checks the ``OrganizationId`` (and, in production, the client certificate / IP ranges) and
must answer ``Ack=true`` (``outbound_message_ack``), or Salesforce retries for up to 24 hours,
so duplicates are possible and receivers dedupe on the notification ``Id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformConnector,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
)
from activities.platforms.roles import HelpdeskOperations, handoff_note
from policies.tool_models import AccountDetails, Address, HandoffDone, MessageSent
from ticketflow.settings import SalesforceSettings

COMMENT_BODY_MAX_BYTES = 4000
TAGS_FIELD = "Ticketflow_Tags__c"
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SalesforceCase(_Model):
    id: str = Field(alias="Id")
    case_number: str | None = Field(default=None, alias="CaseNumber")
    subject: str | None = Field(default=None, alias="Subject")
    description: str | None = Field(default=None, alias="Description")
    status: str | None = Field(default=None, alias="Status")
    priority: str | None = Field(default=None, alias="Priority")
    owner_id: str | None = Field(default=None, alias="OwnerId")
    contact_id: str | None = Field(default=None, alias="ContactId")
    contact_email: str | None = Field(default=None, alias="ContactEmail")
    tags: str | None = Field(default=None, alias=TAGS_FIELD)

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (self.tags or "").split(";") if t]


class SalesforceComment(_Model):
    id: str = Field(alias="Id")
    body: str = Field(default="", alias="CommentBody")
    is_published: bool = Field(default=False, alias="IsPublished")
    created_date: str | None = Field(default=None, alias="CreatedDate")


class SalesforceQueue(_Model):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    developer_name: str | None = Field(default=None, alias="DeveloperName")


CONTACT_FIELDS = [
    "Id",
    "Name",
    "Email",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
]


class SalesforceContact(_Model):
    id: str = Field(alias="Id")
    name: str | None = Field(default=None, alias="Name")
    email: str | None = Field(default=None, alias="Email")
    mailing_street: str | None = Field(default=None, alias="MailingStreet")
    mailing_city: str | None = Field(default=None, alias="MailingCity")
    mailing_state: str | None = Field(default=None, alias="MailingState")
    mailing_postal_code: str | None = Field(default=None, alias="MailingPostalCode")
    mailing_country: str | None = Field(default=None, alias="MailingCountry")


class SalesforceCommentResult(_Model):
    id: str
    case_id: str
    replayed: bool = False


def reference_line(idempotency_key: str) -> str:
    """The line a keyed comment ends with; a digest, so no workflow id reaches the customer."""
    return f"[ref:tf-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}]"


def part_line(idempotency_key: str, number: int) -> str:
    """The line that ends part ``number`` (not the last) of a comment split in parts."""
    return reference_line(idempotency_key)[:-1] + f".{number}]"


# Room for the text of one CaseComment: the limit less the blank line and the longest
# reference line (a part number up to 999).
_PART_BYTES = COMMENT_BODY_MAX_BYTES - len("\n\n") - len(part_line("", 999).encode())


def split_comment(body: str, limit: int = _PART_BYTES) -> list[str]:
    """``body`` in pieces of at most ``limit`` UTF-8 bytes that join back to it, cut after
    a line break or a space where one falls in the second half of a piece."""
    parts: list[str] = []
    rest = body
    while len(rest.encode()) > limit:
        cut, size = 0, 0
        for index, char in enumerate(rest):
            size += len(char.encode())
            if size > limit:
                break
            cut = index + 1
        window = rest[:cut]
        soft = max(window.rfind("\n"), window.rfind(" "))
        if soft >= cut // 2:
            cut = soft + 1
        parts.append(rest[:cut])
        rest = rest[cut:]
    return [*parts, rest]


def soql_quote(value: str) -> str:
    """A SOQL string literal (backslash-escapes quotes and backslashes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise PlatformRejected(f"not a Salesforce id: {value!r}", platform="salesforce")
    return value


class SalesforceConnector(PlatformConnector, HelpdeskOperations):
    """Async Salesforce REST client with a cached client-credentials token."""

    platform = "salesforce"

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        token_ttl: timedelta = timedelta(hours=2),
        tags_field: str = TAGS_FIELD,
        **kwargs: Any,
    ) -> None:
        assert settings.base_url is not None
        super().__init__(settings.base_url, **kwargs)
        self.handoff_group = settings.handoff_group
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        self.api_version = settings.api_version
        self.token_ttl = token_ttl
        self.tags_field = tags_field
        self._token: str | None = None
        self._instance_url: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0  # for operators and tests: how often a token was requested

    # --- auth ---------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _ensure_token(self, *, force: bool = False, stale: str | None = None) -> None:
        async with self._token_lock:
            if not force and self._token and time.monotonic() < self._token_expires:
                return
            if force and stale is not None and self._token != stale:
                return  # another call refreshed it meanwhile
            self._token = None
            try:
                response = await super().request(
                    "POST",
                    "/services/oauth2/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._client_id,
                        "client_secret": self._client_secret.get_secret_value(),
                    },
                )
            except PlatformRejected as exc:  # 400 invalid_client / invalid_grant
                raise PlatformAuthError(
                    exc.platform_message, platform=self.platform, status=exc.status
                ) from None
            body = response.json()
            self._token = body["access_token"]
            self._instance_url = str(body.get("instance_url") or self.base_url).rstrip("/")
            self._token_expires = time.monotonic() + self.token_ttl.total_seconds()
            self.token_fetches += 1

    def _rest(self, path: str) -> str:
        assert self._instance_url is not None
        return f"{self._instance_url}/services/data/{self.api_version}/{path.lstrip('/')}"

    async def rest(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call with the cached token; one fresh token on 401 INVALID_SESSION_ID."""
        await self._ensure_token()
        token = self._token
        try:
            return await self.request(method, self._rest(path), **kwargs)
        except PlatformAuthError as exc:
            if exc.status != 401:
                raise
            await self._ensure_token(force=True, stale=token)
            return await self.request(method, self._rest(path), **kwargs)

    # --- errors -------------------------------------------------------------------------

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500]
        if isinstance(body, list):
            parts = [
                f"{e.get('errorCode')}: {e.get('message')}" if e.get("errorCode") else str(e)
                for e in body
                if isinstance(e, dict)
            ]
            return "; ".join(parts)[:1000]
        if isinstance(body, dict) and body.get("error"):
            return f"{body['error']}: {body.get('error_description', '')}"[:1000]
        return super().error_message(response)

    def error_for(self, response: httpx.Response) -> PlatformError:
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
            return PlatformRateLimited(
                self.error_message(response),
                platform=self.platform,
                status=403,
                next_retry_delay=self.retry_after(response) or timedelta(minutes=5),
            )
        return super().error_for(response)

    # --- cases and comments -------------------------------------------------------------

    async def get_case(self, case_id: str) -> SalesforceCase:
        response = await self.rest("GET", f"sobjects/Case/{_check_id(case_id)}")
        return SalesforceCase.model_validate(response.json())

    async def update_case(self, case_id: str, fields: dict[str, Any]) -> None:
        """PATCH the Case (204); setting the same values again is harmless."""
        await self.rest("PATCH", f"sobjects/Case/{_check_id(case_id)}", json=fields)

    async def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query (follows ``nextRecordsUrl``)."""
        response = await self.rest("GET", "query", params={"q": soql})
        body = response.json()
        records = list(body.get("records", []))
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            assert self._instance_url is not None
            await self._ensure_token()
            body = (await self.request("GET", self._instance_url + body["nextRecordsUrl"])).json()
            records += body.get("records", [])
        return records

    async def case_comments(self, case_id: str) -> list[SalesforceComment]:
        records = await self.query(
            "SELECT Id, CommentBody, IsPublished, CreatedDate FROM CaseComment "
            f"WHERE ParentId = {soql_quote(_check_id(case_id))} ORDER BY CreatedDate DESC"
        )
        return [SalesforceComment.model_validate(r) for r in records]

    async def add_comment(
        self, case_id: str, body: str, *, public: bool, idempotency_key: str
    ) -> SalesforceCommentResult:
        """A CaseComment (public reply or internal note), at most once per key.

        ``CommentBody`` holds at most 4,000 bytes with the reference line, so a longer text
        goes out as several comments in order: the earlier ones end with a numbered line
        ``[ref:tf-….N]``, the last with the key's own line. A retry skips every part already
        there, and the last part's id is the comment's id."""
        marker = reference_line(idempotency_key)
        existing = await self.case_comments(case_id)
        for comment in existing:
            if comment.body.rstrip().endswith(marker):
                return SalesforceCommentResult(id=comment.id, case_id=case_id, replayed=True)
        parts = split_comment(body)
        comment_id = ""
        for number, text in enumerate(parts, start=1):
            line = marker if number == len(parts) else part_line(idempotency_key, number)
            if any(c.body.rstrip().endswith(line) for c in existing):
                continue
            response = await self.rest(
                "POST",
                "sobjects/CaseComment",
                json={
                    "ParentId": case_id,
                    "CommentBody": f"{text}\n\n{line}",
                    "IsPublished": public,
                },
            )
            comment_id = response.json()["id"]
        return SalesforceCommentResult(id=comment_id, case_id=case_id)

    async def list_queues(self) -> list[SalesforceQueue]:
        records = await self.query("SELECT Id, Name, DeveloperName FROM Group WHERE Type = 'Queue'")
        return [SalesforceQueue.model_validate(r) for r in records]

    async def find_queue(self, name_or_id: str) -> SalesforceQueue:
        wanted = name_or_id.lower()
        for queue in await self.list_queues():
            names = {queue.id.lower(), queue.name.lower(), (queue.developer_name or "").lower()}
            if wanted in names:
                return queue
        raise NotFound(f"no queue named {name_or_id!r}", platform=self.platform, status=404)

    async def change_tags(self, case_id: str, add: list[str], remove: list[str]) -> list[str]:
        case = await self.get_case(case_id)
        tags = [t for t in case.tag_list if t not in remove]
        tags += [t for t in add if t not in tags]
        if tags != case.tag_list:
            await self.update_case(case_id, {self.tags_field: ";".join(tags)})
        return tags

    async def find_contact_by_email(self, email: str) -> SalesforceContact | None:
        """The contact whose email is ``email``, by parameterized search (SOSL as JSON in a
        POST body), not a SOQL ``WHERE Email = ...`` in a GET query string: URLs reach
        access logs, proxies and error messages. ⚠ SOSL reads the search index, which may
        lag a contact created a moment ago."""
        search = {
            "q": email,
            "in": "EMAIL",
            "sobjects": [{"name": "Contact", "fields": CONTACT_FIELDS, "limit": 10}],
            "overallLimit": 10,
        }
        body = (await self.rest("POST", "parameterizedSearch", json=search)).json()
        wanted = email.strip().lower()
        for record in body.get("searchRecords") or []:
            if str(record.get("Email") or "").lower() == wanted:
                return SalesforceContact.model_validate(record)
        return None

    # --- the helpdesk role (activities.platforms.roles.Helpdesk) ------------------------

    async def comment(
        self, ticket_id: str, body: str, *, public: bool, idempotency_key: str
    ) -> MessageSent:
        comment = await self.add_comment(
            ticket_id, body, public=public, idempotency_key=idempotency_key
        )
        return MessageSent(message_id=comment.id, channel=self.platform)

    async def hand_off(
        self, ticket_id: str, reason: str, note: str | None, idempotency_key: str
    ) -> HandoffDone:
        """A private comment with the reason, then the case to the queue, escalated."""
        queue = await self.find_queue(self.handoff_group)
        await self.add_comment(
            ticket_id, handoff_note(reason, note), public=False, idempotency_key=idempotency_key
        )
        await self.update_case(ticket_id, {"OwnerId": queue.id, "Status": "Escalated"})
        return HandoffDone(assigned_group=queue.name)

    async def account_details(self, email: str) -> AccountDetails:
        """The contact, with its mailing address when it is complete."""
        contact = await self.find_contact_by_email(email)
        if contact is None:
            return AccountDetails(exists=False, email=email)
        address = None
        if contact.mailing_street and contact.mailing_city and contact.mailing_postal_code:
            street = contact.mailing_street.split("\n")
            address = Address(
                name=contact.name,
                line1=street[0],
                line2="\n".join(street[1:]) or None,
                city=contact.mailing_city,
                region=contact.mailing_state,
                postal_code=contact.mailing_postal_code,
                country=contact.mailing_country or "US",
            )
        return AccountDetails(
            exists=True, customer_id=contact.id, email=email, name=contact.name, address=address
        )


# --- incoming outbound messages -------------------------------------------------------------

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


class OutboundNotification(_Model):
    """One ``Notification`` of an outbound message: its id and the sObject's fields."""

    notification_id: str
    sobject_type: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class OutboundMessage(_Model):
    organization_id: str
    action_id: str | None = None
    notifications: list[OutboundNotification] = Field(default_factory=list)


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """Parse a SOAP ``notifications`` envelope; ValueError when it is not one.

    DTDs are refused, so entity tricks cannot reach the parser.
    """
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ValueError("DTDs are not allowed in outbound messages")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    notifications = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise ValueError("no notifications element")
    org = notifications.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or ""
    message = OutboundMessage(
        organization_id=org.strip(),
        action_id=(notifications.findtext(f"{{{OUTBOUND_NS}}}ActionId") or "").strip() or None,
    )
    for item in notifications.findall(f"{{{OUTBOUND_NS}}}Notification"):
        sobject = item.find(f"{{{OUTBOUND_NS}}}sObject")
        fields: dict[str, str] = {}
        sobject_type = None
        if sobject is not None:
            sobject_type = (sobject.get(f"{{{XSI_NS}}}type") or "").split(":")[-1] or None
            for child in sobject:
                fields[child.tag.split("}")[-1]] = child.text or ""
        message.notifications.append(
            OutboundNotification(
                notification_id=(item.findtext(f"{{{OUTBOUND_NS}}}Id") or "").strip(),
                sobject_type=sobject_type,
                fields=fields,
            )
        )
    return message


def verify_outbound_message(body: bytes, organization_id: str) -> OutboundMessage | None:
    """The parsed message when it is well formed and from ``organization_id``, else None.

    Compares the 15-character org id prefix, since Salesforce writes the 18-character form.
    """
    try:
        message = parse_outbound_message(body)
    except ValueError:
        return None
    if message.organization_id[:15] != organization_id[:15] or not organization_id:
        return None
    return message


def outbound_message_ack(ack: bool = True) -> str:
    """The SOAP response Salesforce expects; anything but ``Ack=true`` makes it retry."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
        f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>{"true" if ack else "false"}</Ack>'
        "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
    )
