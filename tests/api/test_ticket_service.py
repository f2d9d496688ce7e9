"""The API's TicketService routes every new ticket: the routing model's view of the library
(every policy's examples and triggers, embedded) is built once per published set, not once
per request."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from api.services.tickets import TicketService
from policies.library import load_library
from ticketflow.settings import Settings
from workflows.ticket_models import (
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    ticket_workflow_id,
)
from workflows.worker import build_worker, ticket_activities


def test_the_router_is_built_once_per_published_set(
    dev_client: Client, dev_settings: Settings
) -> None:
    published = [load_library()]
    service = TicketService(dev_client, dev_settings, lambda: published[0])
    router = service.policies.router
    assert service.policies.router is router  # a second request: the same router

    published[0] = load_library()  # a publish: a new set
    rebuilt = service.policies.router
    assert rebuilt is not router
    assert service.policies.router is rebuilt


async def test_a_message_to_a_ticket_whose_ended_run_no_worker_can_replay_starts_anew(
    dev_client: Client, dev_settings: Settings, sandbox_settings: Settings
) -> None:
    """The API asks an ended run whether it already answered a message; when no worker can
    replay that run (its task queue or build is gone), the message starts the customer's
    next conversation instead of failing."""
    library = load_library()
    external_id = f"gone-{uuid.uuid4().hex[:8]}"
    ticket_id = ticket_workflow_id("web", external_id)
    start = TicketStart(
        helpdesk="web", external_id=external_id, customer=Customer(email="alex@example.com")
    )
    old_queue = TicketService(dev_client, dev_settings, library)
    worker = build_worker(dev_client, dev_settings, activities=ticket_activities(sandbox_settings))
    async with worker:
        await old_queue.update_with_start(
            ticket_id, start, CustomerMessage(message_id="m1", text="I want to cancel order 5001")
        )
        ended = await old_queue.update_with_start(
            ticket_id, start, CustomerMessage(message_id="m2", text="1")
        )
        await dev_client.get_workflow_handle(ticket_id).result()  # the run has ended
    assert ended.status == TicketStatus.RESOLVED
    first_run = (await dev_client.get_workflow_handle(ticket_id).describe()).run_id

    moved = dev_settings.model_copy(update={"task_queue": f"tq-{uuid.uuid4().hex[:8]}"})
    new_queue = TicketService(dev_client, moved, library)
    worker = build_worker(dev_client, moved, activities=ticket_activities(sandbox_settings))
    async with worker:
        later = await new_queue.update_with_start(
            ticket_id, start, CustomerMessage(message_id="m3", text="Hello again")
        )
    assert later.duplicate is False and later.replies
    assert (await dev_client.get_workflow_handle(ticket_id).describe()).run_id != first_run
