"""The API's TicketService routes every new ticket: the routing model's view of the library
(every policy's examples and triggers, embedded) is built once per published set, not once
per request."""

from __future__ import annotations

from temporalio.client import Client

from api.services.tickets import TicketService
from policies.library import load_library
from ticketflow.settings import Settings


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
