"""Kustomer connector: customers, conversations, replies (drafts), notes, teams, webhooks.

Auth is ``Authorization: Bearer <API key>``; paths are ``/v1/...`` under the org's API URL
(``https://{org}.api.kustomerapp.com``; the sandbox serves them under
``http://127.0.0.1:8100/kustomer``). Resources are JSON:API style
``{"data": {"type", "id", "attributes", "relationships"}}``; errors are JSON:API
``{"errors": [{"status", "code", "title", "detail"}]}``.

A reply to the customer is a draft (``POST /v1/customers/{id}/drafts``) on the
conversation's channel; ``POST /v1/conversations/{id}/messages`` would only record a
message on the timeline without delivering it. An internal note is ``POST /v1/notes``.
Kustomer takes no idempotency key, so a keyed reply or note looks before it writes: the key
is sent as the draft's / note's ``externalId`` and the connector first scans the
conversation's messages (``GET /v1/conversations/{id}/messages``) or notes
(``GET /v1/conversations/{id}/notes``) for it.

Checked against developer.kustomer.com (Core resources API and the Search, Conversations
and messages, and Events pages, read December 2026; see
``tests/platforms/contracts/test_kustomer_contract.py``): the customer search takes
``queryContext`` and ``and`` / ``or`` criteria in the body (``customer_email`` is a standard
string attribute) and ``page`` / ``pageSize`` (at most 500) as query parameters; a draft
without ``scheduled: true`` is created and sent at once, the delivered message then being an
``out`` message on the conversation; ``POST /v1/conversations/{id}/messages`` and
``POST /v1/customers/{id}/messages`` only record a message; notes are ``POST /v1/notes`` and
never reach the customer; a conversation's ``status`` is open / snoozed / done, ``priority``
1-5, ``assignedTeams`` / ``assignedUsers`` up to 10 ids, and ``tags`` replaces the whole list
(the connector reads, merges and writes); webhooks carry the event envelope ``{id, name, org,
partition, data, changes}`` (``changes`` null on a create), signed with the lowercase hex
HMAC-SHA256 of the raw body.

⚠ Unconfirmed, and kept in step with the emulator:
- drafts and notes accept ``externalId`` and the delivered message keeps the draft's
  (the pages list no request schema for either);
- the conversation update is ``PATCH /v1/conversations/{id}`` with the attributes flat in
  the body (one reference page shows ``PUT`` for "Update conversation"); ``queue`` as
  ``{"id": …}``;
- the search answers a JSON:API list (``data[]``, ``links.next``), as the other lists do;
- a customer's saved address is ``attributes.locations[]`` with ``address``, ``address2``,
  ``cityName``, ``regionCode``, ``zipCode``, ``countryCode``;
- error bodies are JSON:API ``{"errors": [{status, code, title, detail}]}``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from activities.platforms.base import NotFound, PlatformConnector, parse_retry_after
from activities.platforms.roles import HANDOFF_TAG, HelpdeskOperations, handoff_note
from policies.tool_models import AccountDetails, Address, HandoffDone, MessageSent
from ticketflow.settings import KustomerSettings

KustomerStatus = Literal["open", "snoozed", "done"]
EXTERNAL_ID_PREFIX = "ticketflow:"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class KustomerLocation(_Model):
    type: str | None = None
    name: str | None = None
    address: str | None = None
    address2: str | None = None
    cityName: str | None = None
    regionCode: str | None = None
    zipCode: str | None = None
    countryCode: str | None = None


class KustomerCustomer(_Model):
    id: str
    name: str | None = None
    emails: list[str] = Field(default_factory=list)
    locations: list[KustomerLocation] = Field(default_factory=list)
    external_id: str | None = None

    @classmethod
    def from_resource(cls, data: dict[str, Any]) -> KustomerCustomer:
        attributes = data.get("attributes", {})
        return cls(
            id=data["id"],
            name=attributes.get("name"),
            emails=[e["email"] for e in attributes.get("emails", []) if e.get("email")],
            locations=[KustomerLocation.model_validate(x) for x in attributes.get("locations", [])],
            external_id=attributes.get("externalId"),
        )


class KustomerConversation(_Model):
    id: str
    customer_id: str
    name: str | None = None
    status: str
    priority: int | None = None
    channels: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    assigned_users: list[str] = Field(default_factory=list)
    assigned_teams: list[str] = Field(default_factory=list)

    @classmethod
    def from_resource(cls, data: dict[str, Any]) -> KustomerConversation:
        attributes = data.get("attributes", {})
        customer = data.get("relationships", {}).get("customer", {}).get("data") or {}
        return cls(
            id=data["id"],
            customer_id=customer.get("id") or attributes.get("customer", ""),
            name=attributes.get("name"),
            status=attributes.get("status", "open"),
            priority=attributes.get("priority"),
            channels=attributes.get("channels", []),
            tags=attributes.get("tags", []),
            assigned_users=attributes.get("assignedUsers", []),
            assigned_teams=attributes.get("assignedTeams", []),
        )


class KustomerMessage(_Model):
    id: str
    channel: str | None = None
    direction: str | None = None
    preview: str | None = None
    external_id: str | None = None

    @classmethod
    def from_resource(cls, data: dict[str, Any]) -> KustomerMessage:
        attributes = data.get("attributes", {})
        return cls(
            id=data["id"],
            channel=attributes.get("channel"),
            direction=attributes.get("direction"),
            preview=attributes.get("preview"),
            external_id=attributes.get("externalId"),
        )


class KustomerTeam(_Model):
    id: str
    name: str


class KustomerWrite(_Model):
    """The result of a keyed write (reply or note)."""

    id: str
    conversation_id: str
    channel: str
    replayed: bool = False


def external_id(idempotency_key: str) -> str:
    return EXTERNAL_ID_PREFIX + idempotency_key


class KustomerConnector(PlatformConnector, HelpdeskOperations):
    """Async Kustomer client; one per worker, shared by the helpdesk activities."""

    platform = "kustomer"

    def __init__(self, settings: KustomerSettings, *, sender: str | None = None, **kwargs: Any):
        assert settings.base_url is not None
        super().__init__(settings.base_url, **kwargs)
        self.handoff_group = settings.handoff_group
        self._bearer = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
        # The outbound address replies go from (email channel); None lets Kustomer choose.
        self.sender = sender

    def auth_headers(self) -> dict[str, str]:
        return dict(self._bearer)

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:500]
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            parts = [str(e.get("detail") or e.get("title") or "") for e in errors]
            return "; ".join(p for p in parts if p)[:1000]
        return super().error_message(response)

    def retry_after(self, response: httpx.Response) -> timedelta | None:
        """Retry-After when sent, else ``x-ratelimit-reset`` (epoch seconds) minus now."""
        delay = parse_retry_after(response.headers.get("Retry-After"))
        if delay is not None:
            return delay
        reset = response.headers.get("x-ratelimit-reset")
        try:
            when = datetime.fromtimestamp(float(reset), UTC) if reset else None
        except ValueError:
            return None
        return max(timedelta(0), when - datetime.now(UTC)) if when else None

    async def find_customer_by_email(self, email: str) -> KustomerCustomer | None:
        """The customer whose email is ``email``, found by customer search.

        ``POST /v1/customers/search`` with the email in the body, not
        ``GET /v1/customers/email={email}``: a URL path reaches access logs, proxies, error
        messages and traces, and the email is the customer's personal data."""
        query = {"and": [{"customer_email": {"equals": email}}], "queryContext": "customer"}
        response = await self.request(
            "POST", "/v1/customers/search", json=query, params={"page": 1, "pageSize": 10}
        )
        found = [KustomerCustomer.from_resource(d) for d in response.json().get("data") or []]
        wanted = email.strip().lower()
        exact = [c for c in found if wanted in (e.lower() for e in c.emails)]
        return next(iter(exact or found), None)

    async def get_customer(self, customer_id: str) -> KustomerCustomer:
        response = await self.request("GET", f"/v1/customers/{customer_id}")
        return KustomerCustomer.from_resource(response.json()["data"])

    async def customer_conversations(self, customer_id: str) -> list[KustomerConversation]:
        response = await self.request("GET", f"/v1/customers/{customer_id}/conversations")
        return [KustomerConversation.from_resource(d) for d in response.json().get("data", [])]

    async def get_conversation(self, conversation_id: str) -> KustomerConversation:
        response = await self.request("GET", f"/v1/conversations/{conversation_id}")
        return KustomerConversation.from_resource(response.json()["data"])

    async def _pages(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated list (``page``/``pageSize``, ``links.next``)."""
        items: list[dict[str, Any]] = []
        next_path: str | None = path
        params: dict[str, Any] | None = {"page": 1, "pageSize": 100}
        while next_path:
            body = (await self.request("GET", next_path, params=params)).json()
            items += body.get("data", [])
            next_path, params = (body.get("links") or {}).get("next"), None
        return items

    async def conversation_messages(self, conversation_id: str) -> list[KustomerMessage]:
        items = await self._pages(f"/v1/conversations/{conversation_id}/messages")
        return [KustomerMessage.from_resource(d) for d in items]

    async def conversation_notes(self, conversation_id: str) -> list[KustomerMessage]:
        items = await self._pages(f"/v1/conversations/{conversation_id}/notes")
        return [KustomerMessage.from_resource(d) for d in items]

    async def send_reply(
        self, conversation_id: str, body: str, *, idempotency_key: str, channel: str | None = None
    ) -> KustomerWrite:
        """Deliver ``body`` to the customer on the conversation's channel, at most once."""
        key = external_id(idempotency_key)
        for message in await self.conversation_messages(conversation_id):
            if message.external_id == key:
                return KustomerWrite(
                    id=message.id,
                    conversation_id=conversation_id,
                    channel=message.channel or "",
                    replayed=True,
                )
        conversation = await self.get_conversation(conversation_id)
        channel = channel or (conversation.channels[0] if conversation.channels else "email")
        draft: dict[str, Any] = {
            "conversation": conversation_id,
            "channel": channel,
            "body": body,
            "externalId": key,
        }
        if channel == "email":
            customer = await self.get_customer(conversation.customer_id)
            if customer.emails:
                draft["to"] = customer.emails[0]
            if self.sender:
                draft["from"] = self.sender
        response = await self.request(
            "POST", f"/v1/customers/{conversation.customer_id}/drafts", json=draft
        )
        return KustomerWrite(
            id=response.json()["data"]["id"], conversation_id=conversation_id, channel=channel
        )

    async def add_note(
        self, conversation_id: str, body: str, *, idempotency_key: str
    ) -> KustomerWrite:
        """An internal note on the conversation, at most once."""
        key = external_id(idempotency_key)
        for note in await self.conversation_notes(conversation_id):
            if note.external_id == key:
                return KustomerWrite(
                    id=note.id, conversation_id=conversation_id, channel="note", replayed=True
                )
        response = await self.request(
            "POST",
            "/v1/notes",
            json={"conversation": conversation_id, "body": body, "externalId": key},
        )
        return KustomerWrite(
            id=response.json()["data"]["id"], conversation_id=conversation_id, channel="note"
        )

    async def update_conversation(
        self,
        conversation_id: str,
        *,
        status: KustomerStatus | None = None,
        priority: int | None = None,
        tags: list[str] | None = None,
        assigned_teams: list[str] | None = None,
        queue_id: str | None = None,
    ) -> KustomerConversation:
        attributes: dict[str, Any] = {}
        if status is not None:
            attributes["status"] = status
        if priority is not None:
            attributes["priority"] = priority
        if tags is not None:
            attributes["tags"] = tags
        if assigned_teams is not None:
            attributes["assignedTeams"] = assigned_teams
        if queue_id is not None:
            attributes["queue"] = {"id": queue_id}
        response = await self.request(
            "PATCH", f"/v1/conversations/{conversation_id}", json=attributes
        )
        return KustomerConversation.from_resource(response.json()["data"])

    async def change_tags(
        self, conversation_id: str, add: list[str], remove: list[str]
    ) -> KustomerConversation:
        """Merge tag changes into the conversation's list (PATCH replaces the whole list)."""
        current = await self.get_conversation(conversation_id)
        tags = [t for t in current.tags if t not in remove]
        tags += [t for t in add if t not in tags]
        if tags == current.tags:
            return current
        return await self.update_conversation(conversation_id, tags=tags)

    async def list_teams(self) -> list[KustomerTeam]:
        response = await self.request("GET", "/v1/teams")
        return [
            KustomerTeam(id=d["id"], name=d.get("attributes", {}).get("name", ""))
            for d in response.json().get("data", [])
        ]

    async def find_team(self, name_or_id: str) -> KustomerTeam:
        for team in await self.list_teams():
            if team.id == name_or_id or team.name.lower() == name_or_id.lower():
                return team
        raise NotFound(f"no team named {name_or_id!r}", platform=self.platform, status=404)

    # --- the helpdesk role (activities.platforms.roles.Helpdesk) ------------------------

    async def comment(
        self, ticket_id: str, body: str, *, public: bool, idempotency_key: str
    ) -> MessageSent:
        if public:
            sent = await self.send_reply(ticket_id, body, idempotency_key=idempotency_key)
        else:
            sent = await self.add_note(ticket_id, body, idempotency_key=idempotency_key)
        return MessageSent(message_id=sent.id, channel=sent.channel)

    async def hand_off(
        self, ticket_id: str, reason: str, note: str | None, idempotency_key: str
    ) -> HandoffDone:
        """A note with the reason, the conversation open and assigned to the team, tagged."""
        team = await self.find_team(self.handoff_group)
        await self.add_note(ticket_id, handoff_note(reason, note), idempotency_key=idempotency_key)
        await self.update_conversation(ticket_id, status="open", assigned_teams=[team.id])
        await self.change_tags(ticket_id, [HANDOFF_TAG], [])
        return HandoffDone(assigned_group=team.name)

    async def account_details(self, email: str) -> AccountDetails:
        """Does the customer exist, and the first complete address they have saved."""
        customer = await self.find_customer_by_email(email)
        if customer is None:
            return AccountDetails(exists=False, email=email)
        address = None
        for location in customer.locations:
            if location.address and location.cityName and location.zipCode:
                address = Address(
                    name=location.name or customer.name,
                    line1=location.address,
                    line2=location.address2,
                    city=location.cityName,
                    region=location.regionCode,
                    postal_code=location.zipCode,
                    country=location.countryCode or "US",
                )
                break
        return AccountDetails(
            exists=True, customer_id=customer.id, email=email, name=customer.name, address=address
        )


# --- incoming webhooks ----------------------------------------------------------------------


class KustomerWebhookEvent(_Model):
    """The envelope Kustomer posts: ``{id, name, org, data, changes}``."""

    id: str
    name: str
    org: str | None = None
    data: dict[str, Any]
    changes: dict[str, Any] | None = None

    @property
    def conversation_id(self) -> str | None:
        related = self.data.get("relationships", {}).get("conversation", {}).get("data") or {}
        return related.get("id")

    @property
    def text(self) -> str:
        attributes = self.data.get("attributes", {})
        return str(attributes.get("preview") or attributes.get("body") or "")

    @property
    def direction(self) -> str | None:
        return self.data.get("attributes", {}).get("direction")


def webhook_signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256(secret, raw body), as Kustomer signs webhooks."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, signature: str | None) -> bool:
    """True when ``X-Kustomer-Webhook-Signature`` matches the raw body."""
    if not signature:
        return False
    return hmac.compare_digest(webhook_signature(secret, body), signature.strip().lower())
