"""Zendesk Support connector: tickets, comments, groups, users, and webhook verification.

Auth is Basic ``{email}/token:{api_token}`` (API token), as Zendesk documents it. Paths are
``/api/v2/...`` under the account URL (``https://{subdomain}.zendesk.com``; the sandbox
serves the same paths under ``http://127.0.0.1:8100/zendesk``).

Reply, internal note, status, tags and hand-off are all one ``PUT /api/v2/tickets/{id}.json``.
Zendesk takes no idempotency key on ticket updates, so a keyed update looks before it
writes: the key travels as the update's custom audit metadata
(``ticket.metadata = {"ticketflow_idempotency_key": key}``, stored as the audit's
``metadata.custom``) and the connector first scans the ticket's most recent audits
(``GET /api/v2/tickets/{id}/audits.json``, page 1 and the last two pages by number: the list
documents offset pages and a ``count`` but no order) for it.
⚠ Unconfirmed: that custom ``metadata`` on a ticket update is echoed back in the audit's
``metadata.custom`` exactly as sent (Zendesk documents audit metadata as "custom and system
data"); the emulator behaves so.

Tags: the single-ticket update documents ``tags`` (the whole list) but not
``additional_tags`` / ``remove_tags`` (Zendesk's Support API OpenAPI document, v2.0.0, has
neither; the help pages name them for the bulk update). A tag change therefore reads the
ticket and writes the merged list in the same update as the comment and status, with
``safe_update: true`` and ``updated_stamp`` = the ``updated_at`` just read, so an update made
in between answers 409 instead of being overwritten; the connector then reads again (at most
``SAFE_UPDATE_ATTEMPTS`` times). The idempotency check runs before the read, so a retried
update never adds its comment twice.

Checked against the Support API OpenAPI document (v2.0.0; see
``tests/platforms/contracts/test_zendesk_contract.py``): ticket show/update, comments,
audits, groups, users and user search, the 404 body. ⚠ What the document leaves open:
- ``metadata`` on an update (the ticket object documents it as write-only audit metadata,
  ``TicketUpdateInput`` does not list it) and its echo in the audit's ``metadata.custom``;
- the 409 body of a failed safe update (status documented, body not);
- the trigger placeholders used in ``WEBHOOK_TEMPLATE`` (Zendesk's placeholder reference, not
  the OpenAPI document, defines them; e.g. ``latest_comment.created_at_with_timestamp``);
- looking a user up by email needs ``GET /users/search.json?query=email:…``: Zendesk documents
  no lookup with the email in a body, so this one call puts it in a query string (the
  connector's debug log writes the path only).

Incoming webhooks come from a trigger whose JSON body the admin templates; ticketflow
expects ``WEBHOOK_TEMPLATE`` below and verifies the signature with ``verify_webhook``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from activities.platforms.base import NotFound, PlatformConnector, PlatformRejected
from activities.platforms.roles import HANDOFF_TAG, HelpdeskOperations, handoff_note
from policies.tool_models import AccountDetails, HandoffDone, MessageSent
from ticketflow.settings import ZendeskSettings

IDEMPOTENCY_METADATA_KEY = "ticketflow_idempotency_key"
# How many recent audits a keyed update scans at least before writing, and the page size
# (a retry follows its first attempt closely, so the earlier write is among the latest).
AUDIT_SCAN_LIMIT = 100
# A tag change is a read-modify-write guarded by the ticket's updated_at; this many reads
# and writes before a 409 (a concurrent update each time) is given up.
SAFE_UPDATE_ATTEMPTS = 3

ZendeskStatus = Literal["new", "open", "pending", "hold", "solved", "closed"]

# The trigger webhook body ticketflow expects (Zendesk placeholders render as strings).
WEBHOOK_TEMPLATE = """{
  "event": "comment_added",
  "ticket": {"id": "{{ticket.id}}", "status": "{{ticket.status}}", "tags": "{{ticket.tags}}",
             "subject": "{{ticket.title}}", "requester_email": "{{ticket.requester.email}}"},
  "comment": {"id": "{{ticket.latest_comment.id}}", "body": "{{ticket.latest_comment.value}}",
              "public": "{{ticket.latest_comment.is_public}}",
              "author_email": "{{ticket.latest_comment.author.email}}",
              "created_at": "{{ticket.latest_comment.created_at_with_timestamp}}"}
}"""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZendeskCustomField(_Model):
    id: int
    value: Any = None


class ZendeskTicket(_Model):
    id: int
    status: str
    subject: str | None = None
    description: str | None = None
    requester_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[ZendeskCustomField] = Field(default_factory=list)
    updated_at: datetime | None = None


class ZendeskComment(_Model):
    id: int
    body: str
    public: bool
    author_id: int | None = None
    audit_id: int | None = None
    created_at: datetime | None = None


class ZendeskAudit(_Model):
    id: int
    ticket_id: int
    created_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def idempotency_key(self) -> str | None:
        custom = self.metadata.get("custom") or {}
        value = custom.get(IDEMPOTENCY_METADATA_KEY)
        return str(value) if value else None

    @property
    def comment_id(self) -> int | None:
        for event in self.events:
            if event.get("type") == "Comment" and event.get("id") is not None:
                return int(event["id"])
        return None


class ZendeskGroup(_Model):
    id: int
    name: str


class ZendeskUser(_Model):
    id: int
    name: str | None = None
    email: str | None = None
    role: str | None = None


class ZendeskTicketUpdate(_Model):
    """The fields ticketflow sets on ``PUT /tickets/{id}.json`` (None means "leave as is").

    ``add_tags`` / ``drop_tags`` are ours, not Zendesk's: the single-ticket update documents
    only ``tags`` (the whole list), so ``update_ticket`` reads the ticket, merges them and
    writes the list with a safe update (``safe_update`` + ``updated_stamp``)."""

    model_config = ConfigDict(extra="forbid")

    comment_body: str | None = None
    public: bool = True
    status: ZendeskStatus | None = None
    group_id: int | None = None
    assignee_id: int | None = None
    add_tags: list[str] = Field(default_factory=list)
    drop_tags: list[str] = Field(default_factory=list)

    def merged_tags(self, current: list[str]) -> list[str]:
        tags = [t for t in current if t not in self.drop_tags]
        return tags + [t for t in dict.fromkeys(self.add_tags) if t not in tags]

    def payload(
        self,
        idempotency_key: str | None,
        *,
        tags: list[str] | None = None,
        updated_stamp: str | None = None,
    ) -> dict[str, Any]:
        ticket: dict[str, Any] = {}
        if self.comment_body is not None:
            ticket["comment"] = {"body": self.comment_body, "public": self.public}
        for name in ("status", "group_id", "assignee_id"):
            value = getattr(self, name)
            if value is not None:
                ticket[name] = value
        if tags is not None:
            ticket["tags"] = tags
            if updated_stamp:
                ticket["safe_update"] = True
                ticket["updated_stamp"] = updated_stamp
        if idempotency_key:
            ticket["metadata"] = {IDEMPOTENCY_METADATA_KEY: idempotency_key}
        return {"ticket": ticket}


def _stamp(updated_at: datetime | None) -> str | None:
    """``updated_at`` as Zendesk writes it, for ``updated_stamp``."""
    if updated_at is None:
        return None
    return updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZendeskUpdateResult(_Model):
    ticket_id: int
    audit_id: int | None = None
    comment_id: int | None = None
    # True when an earlier attempt already made this update (nothing was written now).
    replayed: bool = False


class ZendeskConnector(PlatformConnector, HelpdeskOperations):
    """Async Zendesk Support client; one per worker, shared by the helpdesk activities."""

    platform = "zendesk"

    def __init__(self, settings: ZendeskSettings, **kwargs: Any) -> None:
        assert settings.base_url is not None
        super().__init__(settings.base_url, **kwargs)
        self.handoff_group = settings.handoff_group
        self._basic = httpx.BasicAuth(
            f"{settings.email}/token", settings.api_token.get_secret_value()
        )

    def auth(self) -> httpx.Auth | None:
        return self._basic

    def error_message(self, response: httpx.Response) -> str:
        """Zendesk errors are ``{"error": ..., "description": ..., "details": {...}}``."""
        try:
            body = response.json()
        except ValueError:
            return response.text[:500]
        if not isinstance(body, dict):
            return super().error_message(response)
        error = body.get("error")
        if isinstance(error, dict):  # OAuth-style {"error": {"title", "message"}}
            return str(error.get("message") or error.get("title") or "")
        parts = [str(p) for p in (error, body.get("description")) if p]
        details = body.get("details")
        if isinstance(details, dict):
            for items in details.values():
                for item in items if isinstance(items, list) else []:
                    if isinstance(item, dict) and item.get("description"):
                        parts.append(str(item["description"]))
        return ": ".join(parts)[:1000]

    async def get_ticket(self, ticket_id: int | str) -> ZendeskTicket:
        response = await self.request("GET", f"/api/v2/tickets/{ticket_id}.json")
        return ZendeskTicket.model_validate(response.json()["ticket"])

    async def list_comments(self, ticket_id: int | str) -> list[ZendeskComment]:
        """All comments, oldest first (follows ``next_page``)."""
        comments: list[ZendeskComment] = []
        path: str | None = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, Any] | None = {"per_page": 100}
        while path:
            body = (await self.request("GET", path, params=params)).json()
            comments += [ZendeskComment.model_validate(c) for c in body.get("comments", [])]
            path, params = body.get("next_page"), None
        return comments

    async def recent_audits(self, ticket_id: int | str) -> list[ZendeskAudit]:
        """The ticket's most recent audits (at least ``AUDIT_SCAN_LIMIT`` when it has that
        many), newest first.

        The audits list documents offset pages and a ``count`` but no sort order, so this
        reads page 1 and, for a longer history, the last two pages by number."""
        path = f"/api/v2/tickets/{ticket_id}/audits.json"
        size = AUDIT_SCAN_LIMIT
        first = (await self.request("GET", path, params={"per_page": size})).json()
        found = {a["id"]: a for a in first.get("audits", [])}
        count = int(first.get("count") or len(found))
        last = max(1, -(-count // size))
        for number in sorted({last - 1, last} - {0, 1}):
            body = await self.request("GET", path, params={"per_page": size, "page": number})
            found |= {a["id"]: a for a in body.json().get("audits", [])}
        audits = [ZendeskAudit.model_validate(a) for a in found.values()]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(audits, key=lambda a: (a.created_at or oldest, a.id), reverse=True)

    async def find_update(self, ticket_id: int | str, idempotency_key: str) -> ZendeskAudit | None:
        for audit in await self.recent_audits(ticket_id):
            if audit.idempotency_key == idempotency_key:
                return audit
        return None

    async def update_ticket(
        self, ticket_id: int | str, update: ZendeskTicketUpdate, *, idempotency_key: str | None
    ) -> ZendeskUpdateResult:
        """One ticket update; with a key, at most once (look for the key's audit first)."""
        if idempotency_key:
            earlier = await self.find_update(ticket_id, idempotency_key)
            if earlier is not None:
                return ZendeskUpdateResult(
                    ticket_id=int(ticket_id),
                    audit_id=earlier.id,
                    comment_id=earlier.comment_id,
                    replayed=True,
                )
        body = await self._put_update(ticket_id, update, idempotency_key)
        audit = ZendeskAudit.model_validate(body["audit"]) if body.get("audit") else None
        return ZendeskUpdateResult(
            ticket_id=int(body["ticket"]["id"]),
            audit_id=audit.id if audit else None,
            comment_id=audit.comment_id if audit else None,
        )

    async def _put_update(
        self, ticket_id: int | str, update: ZendeskTicketUpdate, idempotency_key: str | None
    ) -> dict[str, Any]:
        """The PUT itself. A tag change reads the ticket, writes the merged list with a safe
        update, and on 409 (someone updated the ticket in between) reads and tries again."""
        path = f"/api/v2/tickets/{ticket_id}.json"
        if not (update.add_tags or update.drop_tags):
            return dict(
                (await self.request("PUT", path, json=update.payload(idempotency_key))).json()
            )
        for attempt in range(SAFE_UPDATE_ATTEMPTS):
            current = await self.get_ticket(ticket_id)
            tags = update.merged_tags(current.tags)
            stamp = _stamp(current.updated_at)
            payload = update.payload(
                idempotency_key, tags=tags if tags != current.tags else None, updated_stamp=stamp
            )
            try:
                return dict((await self.request("PUT", path, json=payload)).json())
            except PlatformRejected as exc:
                if exc.status != 409 or attempt == SAFE_UPDATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def list_groups(self) -> list[ZendeskGroup]:
        response = await self.request("GET", "/api/v2/groups.json")
        return [ZendeskGroup.model_validate(g) for g in response.json().get("groups", [])]

    async def find_group(self, name_or_id: str) -> ZendeskGroup:
        """A group by id or (case-insensitive) name; NotFound otherwise."""
        for group in await self.list_groups():
            if str(group.id) == name_or_id or group.name.lower() == name_or_id.lower():
                return group
        raise NotFound(f"no group named {name_or_id!r}", platform=self.platform, status=404)

    async def get_user(self, user_id: int | str) -> ZendeskUser:
        response = await self.request("GET", f"/api/v2/users/{user_id}.json")
        return ZendeskUser.model_validate(response.json()["user"])

    async def find_user_by_email(self, email: str) -> ZendeskUser | None:
        response = await self.request(
            "GET", "/api/v2/users/search.json", params={"query": f"email:{email}"}
        )
        users = response.json().get("users", [])
        return ZendeskUser.model_validate(users[0]) if users else None

    # --- the helpdesk role (activities.platforms.roles.Helpdesk) ------------------------

    async def comment(
        self, ticket_id: str, body: str, *, public: bool, idempotency_key: str
    ) -> MessageSent:
        result = await self.update_ticket(
            ticket_id,
            ZendeskTicketUpdate(comment_body=body, public=public),
            idempotency_key=idempotency_key,
        )
        return MessageSent(message_id=str(result.comment_id), channel=self.platform)

    async def hand_off(
        self, ticket_id: str, reason: str, note: str | None, idempotency_key: str
    ) -> HandoffDone:
        """A private note with the reason, the ticket to the hand-off group, open, tagged."""
        group = await self.find_group(self.handoff_group)
        await self.update_ticket(
            ticket_id,
            ZendeskTicketUpdate(
                comment_body=handoff_note(reason, note),
                public=False,
                group_id=group.id,
                status="open",
                add_tags=[HANDOFF_TAG],
            ),
            idempotency_key=idempotency_key,
        )
        return HandoffDone(assigned_group=group.name)

    async def account_details(self, email: str) -> AccountDetails:
        user = await self.find_user_by_email(email)
        if user is None:
            return AccountDetails(exists=False, email=email)
        return AccountDetails(exists=True, customer_id=str(user.id), email=email, name=user.name)


# --- incoming webhooks ----------------------------------------------------------------------


class ZendeskWebhookComment(_Model):
    id: str | None = None
    body: str
    public: str | bool | None = None
    author_email: str | None = None
    created_at: str | None = None


class ZendeskWebhookTicket(_Model):
    id: str
    status: str | None = None
    tags: str | None = None
    subject: str | None = None
    requester_email: str | None = None


class ZendeskWebhookPayload(_Model):
    """The body of ``WEBHOOK_TEMPLATE`` once Zendesk rendered it."""

    event: str = "comment_added"
    ticket: ZendeskWebhookTicket
    comment: ZendeskWebhookComment


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk signs webhooks."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_webhook(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: datetime | None = None,
    max_age: timedelta = timedelta(minutes=5),
) -> bool:
    """True when ``x-zendesk-webhook-signature`` matches the raw body and timestamp.

    Pass ``now`` to also reject stale timestamps (replays); the function stays pure.
    """
    if not signature or not timestamp:
        return False
    if now is not None:
        try:
            sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            return False
        if sent.tzinfo is None or abs(now - sent) > max_age:
            return False
    expected = webhook_signature(secret, timestamp, body)
    return hmac.compare_digest(expected, signature.strip())
