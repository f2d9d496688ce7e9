"""The test chat's line to the sandbox over its HTTP controls: the demo customers it holds,
a fresh helpdesk ticket to chat on, the side effects one ticket caused, and a reset. Only
platforms the settings point at the sandbox are offered: a test chat never touches a real
helpdesk or store."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, Field

from ticketflow.settings import Settings

HELPDESKS = ("web", "zendesk", "kustomer", "salesforce")
TIMEOUT = 10.0


class DemoCustomer(BaseModel):
    email: str
    name: str = ""
    platforms: list[str] = Field(default_factory=list)
    holds: list[str] = Field(default_factory=list)


class SandboxUnavailable(Exception):
    """The sandbox did not answer (not running, or an error)."""


class SandboxLink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.sandbox_url

    def helpdesks(self) -> list[str]:
        """The web channel, and each helpdesk that is the sandbox's."""
        return [h for h in HELPDESKS if h == "web" or self.settings.on_sandbox(h)]

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as client:
                response = await client.request(method, path, **kwargs)
                response.raise_for_status()
                return response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise SandboxUnavailable(f"the sandbox at {self.url} did not answer: {err}") from None

    async def customers(self) -> list[DemoCustomer]:
        listed = await self._call("GET", "/_sandbox/customers")
        return [DemoCustomer.model_validate(c) for c in listed]

    async def open_ticket(self, helpdesk: str, email: str, name: str) -> str:
        """A new ticket (Zendesk), conversation (Kustomer) or case (Salesforce) of this
        customer on the sandbox's helpdesk: its id."""
        if helpdesk not in self.helpdesks() or helpdesk == "web":
            raise SandboxUnavailable(f"{helpdesk!r} is not a helpdesk of the sandbox")
        body = {"email": email, "name": name, "subject": "Test chat"}
        opened = await self._call("POST", f"/{helpdesk}/_sandbox/tickets", json=body)
        return str(opened["id"])

    async def side_effects(self, ticket_id: str) -> list[dict[str, Any]]:
        """The writes made under this ticket's idempotency keys (they start with its id)."""
        state = await self._call(
            "GET", "/_sandbox/state", params={"idempotency_prefix": f"{ticket_id}/"}
        )
        effects: list[dict[str, Any]] = state["side_effects"]
        return effects

    async def reset(self) -> None:
        await self._call("POST", "/_sandbox/reset")
