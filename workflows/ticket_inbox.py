"""The ticket's one ordered inbox: what the handlers deliver (customer messages by signal
or update, agent actions, claim reports, close) waits here until the main loop files it,
so that every item is handled one at a time, in an order replay reproduces."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.ticket_models import (
        CustomerMessage,
        InboxItem,
        InboxMessage,
        TicketMemory,
        TranscriptEntry,
    )


class TicketInbox:
    def __init__(self, mem: TicketMemory) -> None:
        self.mem = mem
        # Every message id this run took in (redelivery is ignored).
        self.seen = set(mem.seen)
        # What this activation's handlers delivered, filed into the inbox by the main loop.
        self._arrivals: list[tuple[int, InboxItem]] = []

    def arrive(self, item: InboxItem, *, by_update: bool = False) -> None:
        self._arrivals.append((1 if by_update else 0, item))

    def accept(self, message: CustomerMessage, *, by_update: bool) -> None:
        self.seen.add(message.message_id)
        self.arrive(InboxMessage(message=message), by_update=by_update)

    def pending(self) -> bool:
        return bool(self._arrivals) or bool(self.mem.inbox)

    def file_arrivals(self) -> None:
        """Into the inbox, in an order replay reproduces: within one workflow task, signals
        before updates (the order of the two kinds of job inside one activation is not
        part of the history), each kind in the order it came."""
        arrivals, self._arrivals = self._arrivals, []
        for _, item in sorted(arrivals, key=lambda arrival: arrival[0]):
            if isinstance(item, InboxMessage):
                message = item.message
                self.mem.seen.append(message.message_id)
                self.mem.transcript.append(
                    TranscriptEntry(
                        role="customer",
                        text=message.text,
                        at=message.sent_at or workflow.now(),
                        message_id=message.message_id,
                    )
                )
            self.mem.inbox.append(item)
