"""The sandbox's own configuration: where it listens, its database, where webhooks go.

The sandbox reads no environment and imports nothing of the product: whoever starts it
(``ticketflow sandbox``, the test fixtures, the benchmarks) builds a ``SandboxConfig`` and
passes it to ``sandbox.app.create_app`` or ``sandbox.server.serve``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

# Emulator modules under sandbox/, each mounted at /<name>. One name a line.
PLATFORM_MODULES: tuple[str, ...] = (
    "bigcommerce",
    "shopify",
    "easypost",
    "skio",
    "stayai",
    "zendesk",
    "kustomer",
    "salesforce",
    "openai",
)

# The emulators that post webhooks to a receiver configured up front (the helpdesks); the
# others send to receivers registered through their own API.
HELPDESK_PLATFORMS: tuple[str, ...] = ("zendesk", "kustomer", "salesforce")

IN_MEMORY_DATABASES = ("sqlite://", "sqlite:///:memory:")


def helpdesk_webhook_targets(receiver_url: str) -> dict[str, str]:
    """Each helpdesk's webhook posted to ``{receiver_url}/webhooks/{platform}``."""
    return {name: f"{receiver_url}/webhooks/{name}" for name in HELPDESK_PLATFORMS}


class SandboxConfig(BaseModel):
    """Everything the sandbox app and its server need to know."""

    host: str = "127.0.0.1"
    port: int = 8100
    # SQLite URL; the in-memory default is private to the process and reseeded on start.
    database_url: str = "sqlite://"
    # Reseed the demo data on start even when the database file already has it.
    reset_on_start: bool = False
    # Seed of the random fault injection (``error_rate``), for reproducible runs.
    fault_seed: int | None = None
    platforms: tuple[str, ...] = PLATFORM_MODULES
    # Per platform, the URL its webhooks are posted to until ``PUT /{platform}/_sandbox/webhook``
    # replaces it; a platform without one records its webhooks without sending them.
    webhook_targets: dict[str, str] = Field(
        default_factory=lambda: helpdesk_webhook_targets("http://127.0.0.1:8000")
    )

    @property
    def in_memory(self) -> bool:
        return self.database_url in IN_MEMORY_DATABASES
