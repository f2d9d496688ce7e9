"""Helpdesk activities: one interface over Zendesk, Kustomer and Salesforce Service Cloud.

Public reply, internal note, hand-off to an agent group / team / queue, tags and status,
plus the catalog's helpdesk tools (``@send_async_message``, ``@kustomer_send_async_message``,
``@get_account_details``, ``@get_kustomer_account_details``, ``@handoff_to_agent``).
Every input names the helpdesk and its ticket / conversation / case id; writes that add a
comment carry an ``idempotency_key`` (workflow id + plan node, chosen by the caller) and
happen at most once: each connector looks for the key before it writes. Tags, status and
assignment are set-valued, so repeating them is harmless.

Activities raise the connectors' named errors only (``named_errors`` turns an answer a
connector cannot use into ``PlatformRejected``); retry with ``HELPDESK_RETRY_POLICY``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.common import RetryPolicy

from activities.catalog import (
    AccountDetails,
    Address,
    EmailParams,
    HandoffDone,
    HandoffParams,
    MessageParams,
    MessageSent,
)
from activities.platforms.base import (
    NON_RETRYABLE_ERROR_TYPES,
    PlatformRejected,
    named_errors,
)
from activities.platforms.config import PlatformSettings
from activities.platforms.kustomer import KustomerConnector
from activities.platforms.salesforce import SalesforceConnector
from activities.platforms.zendesk import ZendeskConnector, ZendeskTicketUpdate

Helpdesk = Literal["zendesk", "kustomer", "salesforce"]
TicketStatus = Literal["open", "pending", "solved"]

# 429/5xx retry (a 429 waits for the platform's Retry-After); 4xx fail at once.
HELPDESK_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
    non_retryable_error_types=NON_RETRYABLE_ERROR_TYPES,
)

# Generic status -> each helpdesk's own value.
STATUS_MAP: dict[str, dict[str, str]] = {
    "zendesk": {"open": "open", "pending": "pending", "solved": "solved"},
    "kustomer": {"open": "open", "pending": "snoozed", "solved": "done"},
    "salesforce": {"open": "Working", "pending": "Waiting on Customer", "solved": "Closed"},
}
HANDOFF_TAG = "ticketflow_handoff"


class TicketRef(BaseModel):
    """Which helpdesk, and the ticket (Zendesk), conversation (Kustomer) or case (Salesforce)."""

    helpdesk: Helpdesk
    ticket_id: str


class SendMessageInput(TicketRef):
    idempotency_key: str
    params: MessageParams


class KustomerSendMessageInput(BaseModel):
    conversation_id: str
    idempotency_key: str
    params: MessageParams


class InternalNoteInput(TicketRef):
    idempotency_key: str
    body: str


class HandoffInput(TicketRef):
    idempotency_key: str
    params: HandoffParams
    # Agent group (Zendesk), team (Kustomer) or queue (Salesforce), by name or id;
    # None uses the activities' default hand-off group.
    group: str | None = None


class TagsInput(TicketRef):
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class StatusInput(TicketRef):
    status: TicketStatus


class AccountDetailsInput(BaseModel):
    helpdesk: Helpdesk
    params: EmailParams


class KustomerAccountDetailsInput(BaseModel):
    params: EmailParams


class TicketState(BaseModel):
    """A ticket's tags and status after an update, in the helpdesk's own words."""

    helpdesk: Helpdesk
    ticket_id: str
    status: str | None = None
    tags: list[str] = Field(default_factory=list)


class HelpdeskActivities:
    """The helpdesk activities, over connectors built once per worker."""

    def __init__(
        self,
        zendesk: ZendeskConnector,
        kustomer: KustomerConnector,
        salesforce: SalesforceConnector,
        *,
        handoff_group: str = "Escalations",
    ) -> None:
        self.zendesk = zendesk
        self.kustomer = kustomer
        self.salesforce = salesforce
        self.handoff_group = handoff_group

    async def aclose(self) -> None:
        for connector in (self.zendesk, self.kustomer, self.salesforce):
            await connector.aclose()

    # --- writes that add a comment: at most once per key --------------------------------

    async def _comment(
        self, ref: TicketRef, body: str, *, public: bool, idempotency_key: str
    ) -> MessageSent:
        if not body.strip():
            raise PlatformRejected("empty message", platform=ref.helpdesk)
        if ref.helpdesk == "zendesk":
            result = await self.zendesk.update_ticket(
                ref.ticket_id,
                ZendeskTicketUpdate(comment_body=body, public=public),
                idempotency_key=idempotency_key,
            )
            return MessageSent(message_id=str(result.comment_id), channel="zendesk")
        if ref.helpdesk == "kustomer":
            if public:
                sent = await self.kustomer.send_reply(
                    ref.ticket_id, body, idempotency_key=idempotency_key
                )
            else:
                sent = await self.kustomer.add_note(
                    ref.ticket_id, body, idempotency_key=idempotency_key
                )
            return MessageSent(message_id=sent.id, channel=sent.channel)
        comment = await self.salesforce.add_comment(
            ref.ticket_id, body, public=public, idempotency_key=idempotency_key
        )
        return MessageSent(message_id=comment.id, channel="salesforce")

    @activity.defn(name="send_async_message")
    @named_errors
    async def send_async_message(self, input: SendMessageInput) -> MessageSent:
        """@send_async_message: a public reply on the policy's helpdesk."""
        return await self._comment(
            input, input.params.message, public=True, idempotency_key=input.idempotency_key
        )

    @activity.defn(name="kustomer_send_async_message")
    @named_errors
    async def kustomer_send_async_message(self, input: KustomerSendMessageInput) -> MessageSent:
        """@kustomer_send_async_message: a reply on a Kustomer conversation."""
        ref = TicketRef(helpdesk="kustomer", ticket_id=input.conversation_id)
        return await self._comment(
            ref, input.params.message, public=True, idempotency_key=input.idempotency_key
        )

    @activity.defn(name="helpdesk_internal_note")
    @named_errors
    async def internal_note(self, input: InternalNoteInput) -> MessageSent:
        """An internal note agents see and the customer never does."""
        return await self._comment(
            input, input.body, public=False, idempotency_key=input.idempotency_key
        )

    @activity.defn(name="handoff_to_agent")
    @named_errors
    async def handoff_to_agent(self, input: HandoffInput) -> HandoffDone:
        """@handoff_to_agent: a note with the reason, then the ticket to a human group."""
        group = input.group or self.handoff_group
        note = f"Handed over by ticketflow: {input.params.reason}"
        if input.params.note:
            note += f"\n\n{input.params.note}"
        if input.helpdesk == "zendesk":
            zd_group = await self.zendesk.find_group(group)
            await self.zendesk.update_ticket(
                input.ticket_id,
                ZendeskTicketUpdate(
                    comment_body=note,
                    public=False,
                    group_id=zd_group.id,
                    status="open",
                    additional_tags=[HANDOFF_TAG],
                ),
                idempotency_key=input.idempotency_key,
            )
            return HandoffDone(assigned_group=zd_group.name)
        if input.helpdesk == "kustomer":
            team = await self.kustomer.find_team(group)
            await self.kustomer.add_note(
                input.ticket_id, note, idempotency_key=input.idempotency_key
            )
            await self.kustomer.update_conversation(
                input.ticket_id, status="open", assigned_teams=[team.id]
            )
            await self.kustomer.change_tags(input.ticket_id, [HANDOFF_TAG], [])
            return HandoffDone(assigned_group=team.name)
        queue = await self.salesforce.find_queue(group)
        await self.salesforce.add_comment(
            input.ticket_id, note, public=False, idempotency_key=input.idempotency_key
        )
        await self.salesforce.update_case(
            input.ticket_id, {"OwnerId": queue.id, "Status": "Escalated"}
        )
        return HandoffDone(assigned_group=queue.name)

    # --- set-valued updates ---------------------------------------------------------------

    async def _zendesk_update(self, ticket_id: str, update: ZendeskTicketUpdate) -> TicketState:
        """An unkeyed (set-valued) ticket update, then the ticket's status and tags as stored."""
        await self.zendesk.update_ticket(ticket_id, update, idempotency_key=None)
        ticket = await self.zendesk.get_ticket(ticket_id)
        return TicketState(
            helpdesk="zendesk", ticket_id=ticket_id, status=ticket.status, tags=ticket.tags
        )

    @activity.defn(name="helpdesk_set_tags")
    @named_errors
    async def set_tags(self, input: TagsInput) -> TicketState:
        """Add and remove tags (Zendesk tags, Kustomer tags, Salesforce tag field)."""
        if input.helpdesk == "zendesk":
            return await self._zendesk_update(
                input.ticket_id,
                ZendeskTicketUpdate(additional_tags=input.add, remove_tags=input.remove),
            )
        if input.helpdesk == "kustomer":
            conversation = await self.kustomer.change_tags(input.ticket_id, input.add, input.remove)
            return TicketState(
                helpdesk="kustomer",
                ticket_id=input.ticket_id,
                status=conversation.status,
                tags=conversation.tags,
            )
        tags = await self.salesforce.change_tags(input.ticket_id, input.add, input.remove)
        case = await self.salesforce.get_case(input.ticket_id)
        return TicketState(
            helpdesk="salesforce", ticket_id=input.ticket_id, status=case.status, tags=tags
        )

    @activity.defn(name="helpdesk_set_status")
    @named_errors
    async def set_status(self, input: StatusInput) -> TicketState:
        """Set open / pending (waiting on the customer) / solved in the helpdesk's terms."""
        status = STATUS_MAP[input.helpdesk][input.status]
        if input.helpdesk == "zendesk":
            return await self._zendesk_update(input.ticket_id, ZendeskTicketUpdate(status=status))
        if input.helpdesk == "kustomer":
            conversation = await self.kustomer.update_conversation(
                input.ticket_id,
                status=status,  # type: ignore[arg-type]
            )
            return TicketState(
                helpdesk="kustomer",
                ticket_id=input.ticket_id,
                status=conversation.status,
                tags=conversation.tags,
            )
        await self.salesforce.update_case(input.ticket_id, {"Status": status})
        case = await self.salesforce.get_case(input.ticket_id)
        return TicketState(
            helpdesk="salesforce",
            ticket_id=input.ticket_id,
            status=case.status,
            tags=case.tag_list,
        )

    # --- reads ------------------------------------------------------------------------------

    @activity.defn(name="get_account_details")
    @named_errors
    async def get_account_details(self, input: AccountDetailsInput) -> AccountDetails:
        """@get_account_details: the customer's record on the policy's helpdesk."""
        email = input.params.email
        if input.helpdesk == "kustomer":
            return await self._kustomer_account(email)
        if input.helpdesk == "zendesk":
            user = await self.zendesk.find_user_by_email(email)
            if user is None:
                return AccountDetails(exists=False, email=email)
            return AccountDetails(
                exists=True, customer_id=str(user.id), email=email, name=user.name
            )
        contact = await self.salesforce.find_contact_by_email(email)
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

    @activity.defn(name="get_kustomer_account_details")
    @named_errors
    async def get_kustomer_account_details(
        self, input: KustomerAccountDetailsInput
    ) -> AccountDetails:
        """@get_kustomer_account_details: does the customer exist, and their saved address."""
        return await self._kustomer_account(input.params.email)

    async def _kustomer_account(self, email: str) -> AccountDetails:
        customer = await self.kustomer.find_customer_by_email(email)
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
            exists=True,
            customer_id=customer.id,
            email=email,
            name=customer.name,
            address=address,
        )

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.send_async_message,
            self.kustomer_send_async_message,
            self.internal_note,
            self.handoff_to_agent,
            self.set_tags,
            self.set_status,
            self.get_account_details,
            self.get_kustomer_account_details,
        ]


def build_helpdesk_activities(settings: PlatformSettings) -> HelpdeskActivities:
    """One pooled connector per helpdesk, shared by every activity of this worker."""
    return HelpdeskActivities(
        ZendeskConnector(settings.zendesk),
        KustomerConnector(settings.kustomer),
        SalesforceConnector(settings.salesforce),
    )


def helpdesk_activities(settings: PlatformSettings) -> list[Callable[..., Any]]:
    """The activity callables to register on the worker."""
    return build_helpdesk_activities(settings).activities()
