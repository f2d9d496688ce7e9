"""TicketWorkflow: one support ticket, one durable conversation.

This is the walking skeleton: it answers each customer message and waits durably
for the next. The policy interpreter (runtime issue) replaces the body of
`_answer`; the contract (id, update/signal/queries, search attributes) stays.
"""

from __future__ import annotations

from collections import deque

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.ticket_models import (
        MAX_MESSAGE_CHARS,
        CustomerMessage,
        TicketOutcome,
        TicketStart,
        TicketState,
        TicketStatus,
        TranscriptEntry,
        TurnResult,
    )


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, start: TicketStart) -> None:
        self._start = start
        self._status = TicketStatus.OPEN
        self._transcript: list[TranscriptEntry] = []
        self._inbox: deque[CustomerMessage] = deque()
        self._seen: set[str] = set()
        self._replies: dict[str, list[str]] = {}

    @workflow.run
    async def run(self, start: TicketStart) -> TicketOutcome:
        workflow.upsert_search_attributes(
            [
                sa.TICKET_STATUS.value_set(self._status.value),
                sa.HELPDESK.value_set(start.helpdesk),
                sa.TICKET_TYPE.value_set(start.ticket_type or "unrouted"),
            ]
        )
        while True:
            await workflow.wait_condition(lambda: bool(self._inbox))
            message = self._inbox.popleft()
            self._set_status(TicketStatus.OPEN)
            replies = self._answer(message)
            for text in replies:
                self._transcript.append(TranscriptEntry(role="bot", text=text, at=workflow.now()))
            self._replies[message.message_id] = replies
            self._set_status(TicketStatus.WAITING_CUSTOMER)
            workflow.set_current_details("Waiting for the customer's next message.")

    def _answer(self, message: CustomerMessage) -> list[str]:
        if not self._replies:
            name = self._start.customer.name
            greeting = f"Hi {name}, thanks" if name else "Hi, thanks"
            return [
                f"{greeting} for reaching out. I'm the ticketflow assistant and I'm "
                "looking into this for you."
            ]
        return ["Thanks, I've added that to your ticket."]

    def _accept(self, message: CustomerMessage) -> None:
        self._seen.add(message.message_id)
        self._transcript.append(
            TranscriptEntry(
                role="customer",
                text=message.text,
                at=message.sent_at or workflow.now(),
                message_id=message.message_id,
            )
        )
        self._inbox.append(message)

    def _set_status(self, status: TicketStatus) -> None:
        if status != self._status:
            self._status = status
            workflow.upsert_search_attributes([sa.TICKET_STATUS.value_set(status.value)])

    @workflow.signal
    def customer_message(self, message: CustomerMessage) -> None:
        """Asynchronous delivery (webhooks); redelivery of a message id is ignored."""
        if message.message_id not in self._seen:
            self._accept(message)

    @workflow.update
    async def message(self, message: CustomerMessage) -> TurnResult:
        """Synchronous turn: returns the bot's replies to this message."""
        duplicate = message.message_id in self._seen
        if not duplicate:
            self._accept(message)
        await workflow.wait_condition(lambda: message.message_id in self._replies)
        return TurnResult(
            ticket_id=workflow.info().workflow_id,
            message_id=message.message_id,
            replies=self._replies[message.message_id],
            status=self._status,
            duplicate=duplicate,
        )

    @message.validator
    def _validate_message(self, message: CustomerMessage) -> None:
        if not message.text.strip():
            raise ValueError("message text is empty")
        if len(message.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"message text is longer than {MAX_MESSAGE_CHARS} characters")

    @workflow.query
    def state(self) -> TicketState:
        return TicketState(
            ticket_id=workflow.info().workflow_id,
            helpdesk=self._start.helpdesk,
            external_id=self._start.external_id,
            status=self._status,
            ticket_type=self._start.ticket_type,
            waiting_for="customer_message" if not self._inbox else None,
            messages_received=len(self._seen),
        )

    @workflow.query
    def transcript(self) -> list[TranscriptEntry]:
        return self._transcript
