"""Settings for every ticketflow process, read from the environment (prefix ``TICKETFLOW_``).

One object so that `ticketflow dev`, the worker, the API and the tests agree on
addresses, ports and the task queue.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Custom search attributes registered on the namespace: all Keyword, never PII.
SEARCH_ATTRIBUTES: tuple[str, ...] = (
    "TicketStatus",
    "PolicyId",
    "PolicyVersion",
    "TicketType",
    "Helpdesk",
    "Variant",
    "Outcome",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TICKETFLOW_",
        env_file=".env",
        extra="ignore",
        env_nested_delimiter="__",
        populate_by_name=True,
    )

    # Where state of the embedded default lives (Temporal db file, app db, sandbox db).
    state_dir: Path = Path(".ticketflow")

    # Temporal: the embedded dev server by default, any cluster by configuration.
    temporal_address: str = Field(
        default="127.0.0.1:7233",
        validation_alias="TEMPORAL_ADDRESS",
        description="host:port of the Temporal frontend (TEMPORAL_ADDRESS).",
    )
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    temporal_tls: bool = Field(default=False, validation_alias="TEMPORAL_TLS")
    temporal_tls_cert: Path | None = Field(default=None, validation_alias="TEMPORAL_TLS_CERT")
    temporal_tls_key: Path | None = Field(default=None, validation_alias="TEMPORAL_TLS_KEY")
    temporal_api_key: str | None = Field(default=None, validation_alias="TEMPORAL_API_KEY")
    task_queue: str = "ticketflow"

    # The dev server that `ticketflow dev` supervises.
    temporal_ui_port: int = 8233
    temporal_db_file: str = "temporal.db"

    # The HTTP API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # The sandbox platform emulators.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100

    # How long `ticketflow dev` waits for each child to become ready.
    ready_timeout_seconds: float = 60.0

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rsplit(":", 1)[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rsplit(":", 1)[1])

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{self.temporal_host}:{self.temporal_ui_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.sandbox_host}:{self.sandbox_port}"

    # Payload encryption (workflows/payload_codec.py, the codec server api/routes/codec.py).
    codec: Literal["on", "off"] = Field(
        default="on",
        description="`off` stores Temporal payloads in plain text; on without keys, the "
        "worker and API refuse to start (TICKETFLOW_CODEC).",
    )
    codec_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 keyring `id:base64key,id2:base64key`, the first current, the "
        "rest previous keys that still decrypt (TICKETFLOW_CODEC_KEYS).",
    )
    codec_keys_file: Path | None = Field(
        default=None,
        description="a file holding the keyring in the same form, when TICKETFLOW_CODEC_KEYS "
        "is unset; `ticketflow dev` points it at STATE_DIR/codec-keys.",
    )
    codec_ui_origins: str = Field(
        default="",
        description="comma-separated origins of the Temporal UI allowed to call /codec "
        "(CORS); empty: the dev UI, http://localhost:UI_PORT and http://127.0.0.1:UI_PORT.",
    )
    codec_ui_without_key: bool = Field(
        default=False,
        description="let the Temporal UI call /codec without an API key, only from a "
        "loopback address and one of the UI origins (`ticketflow dev` turns it on).",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
