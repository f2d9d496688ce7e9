"""Settings for every ticketflow process, read from the environment (prefix ``TICKETFLOW_``).

One object so that `ticketflow dev`, the worker, the API and the tests agree on addresses,
ports, the task queue, the app database and every platform's endpoint and credentials.

Platforms fail closed. A platform whose ``BASE_URL`` is unset is the local sandbox and gets
the sandbox's demo credentials, so a fresh checkout runs offline. A platform pointed anywhere
else gets nothing by default: the worker refuses to start while one of its credentials is
missing (naming the variable), and the API rejects every webhook whose secret is missing.
Pointing at a real account is configuration only, e.g.::

    TICKETFLOW_BIGCOMMERCE__BASE_URL=https://api.bigcommerce.com
    TICKETFLOW_BIGCOMMERCE__STORE_HASH=abc123
    TICKETFLOW_BIGCOMMERCE__ACCESS_TOKEN=...

Secrets are ``SecretStr`` so they never show in reprs or logs; connectors read them with
``get_secret_value()`` only when building a request.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sandbox import credentials as demo


def _plain(value: str | SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


class PlatformEndpoint(BaseModel):
    """Where a platform lives (``base_url`` None: the sandbox) and the credentials to use.

    ``CREDENTIALS`` are what the connector needs to call the platform; ``WEBHOOK_SECRETS``
    what the API needs to trust its webhooks; ``SANDBOX`` the demo value of each, used only
    while the platform is the sandbox. An empty value means "not set".
    """

    CREDENTIALS: ClassVar[tuple[str, ...]] = ()
    WEBHOOK_SECRETS: ClassVar[tuple[str, ...]] = ()
    SANDBOX: ClassVar[dict[str, str]] = {}

    base_url: str | None = None

    def use_sandbox(self, url: str) -> None:
        """Point at a sandbox at ``url`` with its demo credentials for whatever is unset."""
        self.base_url = url
        for name in self.unset(tuple(self.SANDBOX)):
            secret = isinstance(getattr(self, name), SecretStr)
            value = self.SANDBOX[name]
            setattr(self, name, SecretStr(value) if secret else value)

    def unset(self, names: tuple[str, ...]) -> list[str]:
        """Which of ``names`` have no value."""
        return [name for name in names if not _plain(getattr(self, name))]


class BigCommerceSettings(PlatformEndpoint):
    # Real: https://api.bigcommerce.com (paths are /stores/{store_hash}/v2|v3/...)
    CREDENTIALS = ("store_hash", "access_token")
    SANDBOX = {
        "store_hash": demo.SANDBOX_BIGCOMMERCE_STORE_HASH,
        "access_token": demo.SANDBOX_BIGCOMMERCE_TOKEN,
    }
    store_hash: str = ""
    access_token: SecretStr = SecretStr("")


class ShopifySettings(PlatformEndpoint):
    # Real: https://{shop}.myshopify.com (path /admin/api/{api_version}/graphql.json).
    # 2026-01 or later: orderCancel takes refundMethod, refundCreate takes @idempotent(key:).
    CREDENTIALS = ("access_token",)
    SANDBOX = {"access_token": demo.SANDBOX_SHOPIFY_TOKEN}
    api_version: str = "2026-01"
    access_token: SecretStr = SecretStr("")


class StayAiSettings(PlatformEndpoint):
    # Real: https://api.retextion.com/api/v2
    CREDENTIALS = ("access_token",)
    SANDBOX = {"access_token": demo.SANDBOX_STAYAI_TOKEN}
    access_token: SecretStr = SecretStr("")


class SkioSettings(PlatformEndpoint):
    # Real: https://graphql.skio.com (path /v1/graphql)
    CREDENTIALS = ("api_token",)
    SANDBOX = {"api_token": demo.SANDBOX_SKIO_TOKEN}
    api_token: SecretStr = SecretStr("")


class EasyPostSettings(PlatformEndpoint):
    # Real: https://api.easypost.com/v2
    CREDENTIALS = ("api_key",)
    WEBHOOK_SECRETS = ("webhook_secret",)
    SANDBOX = {
        "api_key": demo.SANDBOX_EASYPOST_API_KEY,
        "webhook_secret": demo.SANDBOX_EASYPOST_WEBHOOK_SECRET,
    }
    api_key: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")


class HelpdeskSettings(PlatformEndpoint):
    # The agent group (Zendesk), team (Kustomer) or queue (Salesforce) a hand-off goes to.
    handoff_group: str = "Escalations"


class ZendeskSettings(HelpdeskSettings):
    # Real: https://{subdomain}.zendesk.com (paths /api/v2/...)
    CREDENTIALS = ("email", "api_token")
    WEBHOOK_SECRETS = ("webhook_secret",)
    SANDBOX = {
        "email": demo.SANDBOX_ZENDESK_EMAIL,
        "api_token": demo.SANDBOX_ZENDESK_TOKEN,
        "webhook_secret": demo.SANDBOX_ZENDESK_WEBHOOK_SECRET,
    }
    email: str = ""
    api_token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")


class KustomerSettings(HelpdeskSettings):
    # Real: https://{org}.api.kustomerapp.com (paths /v1/...)
    CREDENTIALS = ("api_key",)
    WEBHOOK_SECRETS = ("webhook_secret",)
    SANDBOX = {
        "api_key": demo.SANDBOX_KUSTOMER_API_KEY,
        "webhook_secret": demo.SANDBOX_KUSTOMER_WEBHOOK_SECRET,
    }
    api_key: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")


class SalesforceSettings(HelpdeskSettings):
    # Real: https://{my-domain}.my.salesforce.com (token at /services/oauth2/token)
    # Incoming outbound messages: only this org's are accepted, and, when set, only with
    # `?token=<webhook_token>` on the endpoint URL configured in Salesforce (shared secret).
    CREDENTIALS = ("client_id", "client_secret")
    WEBHOOK_SECRETS = ("organization_id",)
    SANDBOX = {
        "client_id": demo.SANDBOX_SALESFORCE_CLIENT_ID,
        "client_secret": demo.SANDBOX_SALESFORCE_CLIENT_SECRET,
        "organization_id": demo.SANDBOX_SALESFORCE_ORGANIZATION_ID,
    }
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    api_version: str = "v62.0"
    organization_id: str = ""
    webhook_token: SecretStr | None = None


PLATFORM_NAMES: tuple[str, ...] = (
    "bigcommerce",
    "shopify",
    "stayai",
    "skio",
    "easypost",
    "zendesk",
    "kustomer",
    "salesforce",
)


class MissingCredentials(RuntimeError):
    """A platform pointed away from the sandbox without the credentials to call it."""


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

    # Worker versioning (deploy/README.md, "Safe upgrades"): off unless a deployment name is
    # set; then the worker polls as version (deployment name, build id) and the server routes
    # each workflow by its versioning behavior. The image bakes the build id in.
    worker_deployment_name: str | None = Field(
        default=None,
        description="Temporal worker deployment name; unset: no worker versioning "
        "(TICKETFLOW_WORKER_DEPLOYMENT_NAME).",
    )
    worker_build_id: str | None = Field(
        default=None,
        description="this worker's build id within the deployment, required with a deployment "
        "name (TICKETFLOW_WORKER_BUILD_ID; the image sets it from its build argument).",
    )
    worker_versioning_behavior: Literal["auto_upgrade", "pinned"] = Field(
        default="auto_upgrade",
        description="the default behavior of workflows this worker runs: `auto_upgrade` moves "
        "open tickets to the current version (guarded by the replay tests and patches), "
        "`pinned` keeps each on the build it started on until it ends.",
    )

    # The HTTP API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # The sandbox platform emulators.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100

    # How long `ticketflow dev` waits for each child to become ready.
    ready_timeout_seconds: float = 60.0

    # The app database (webhook deliveries, API keys, the policy store): any SQLAlchemy URL, e.g.
    # ``postgresql+psycopg://user:pw@host/db``; None means SQLite in the state directory.
    database_url: str | None = None

    # The platforms this deployment runs on, for a policy that names none for a role its
    # generic tools need (`@get_order_details` and no store in its front matter): the one
    # listed that fills the role is used, with a warning (TF023); none or several, and the
    # policy does not compile (TF013). Callers pass it to the compiler, which reads no
    # settings; a compiled plan keeps the platforms it was given.
    default_platforms: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated platforms, e.g. `shopify,kustomer` "
        "(TICKETFLOW_DEFAULT_PLATFORMS); empty: a policy names its own.",
    )

    @field_validator("default_platforms", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip().lower() for name in value.split(",") if name.strip()]
        return value

    @field_validator("default_platforms")
    @classmethod
    def _known_platforms(cls, value: list[str]) -> list[str]:
        """A misspelt platform fails here, not silently later as a tool with no platform."""
        known = (*PLATFORM_NAMES, "web")
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(
                f"TICKETFLOW_DEFAULT_PLATFORMS names {', '.join(unknown)}, which is no "
                f"platform ticketflow knows; the platforms are: {', '.join(known)}"
            )
        return value

    # Every platform, nested: ``TICKETFLOW_SKIO__API_TOKEN`` and so on.
    bigcommerce: BigCommerceSettings = Field(default_factory=BigCommerceSettings)
    shopify: ShopifySettings = Field(default_factory=ShopifySettings)
    stayai: StayAiSettings = Field(default_factory=StayAiSettings)
    skio: SkioSettings = Field(default_factory=SkioSettings)
    easypost: EasyPostSettings = Field(default_factory=EasyPostSettings)
    zendesk: ZendeskSettings = Field(default_factory=ZendeskSettings)
    kustomer: KustomerSettings = Field(default_factory=KustomerSettings)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)

    # An optional language model (any OpenAI-compatible chat completions endpoint, e.g.
    # https://api.openai.com/v1), asked only when the local understanding is unsure; off
    # while the base URL is unset. Never required: every answer it gives is checked against
    # what the plan allows, and anything else falls back to the deterministic path.
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr = SecretStr("")
    #: One call's budget; past it the deterministic answer stands.
    llm_timeout_seconds: float = 3.0
    #: Also let it rephrase bot messages (numbers, ids and amounts kept, or the original).
    llm_rephrase: bool = False

    @model_validator(mode="after")
    def _build_id_with_deployment(self) -> Settings:
        if self.worker_deployment_name and not self.worker_build_id:
            raise ValueError(
                "TICKETFLOW_WORKER_DEPLOYMENT_NAME is set but TICKETFLOW_WORKER_BUILD_ID is "
                "not: a versioned worker needs its build id"
            )
        return self

    @model_validator(mode="after")
    def _unset_platforms_are_the_sandbox(self) -> Settings:
        for name in PLATFORM_NAMES:
            endpoint = self.platform(name)
            if endpoint.base_url is None:
                endpoint.use_sandbox(f"{self.sandbox_url}/{name}")
        return self

    def platform(self, name: str) -> PlatformEndpoint:
        endpoint: PlatformEndpoint = getattr(self, name)
        return endpoint

    def on_sandbox(self, platform: str) -> bool:
        """The platform is this settings' sandbox (the console's test chat may open its
        tickets and show its side effects)."""
        return self.platform(platform).base_url == f"{self.sandbox_url}/{platform}"

    def url(self, platform: str) -> str:
        base_url = self.platform(platform).base_url
        assert base_url is not None
        return base_url

    def missing_credentials(self) -> list[str]:
        """The environment variable of every credential a platform needs and lacks."""
        return [
            f"TICKETFLOW_{name.upper()}__{field.upper()}"
            for name in PLATFORM_NAMES
            for field in self.platform(name).unset(self.platform(name).CREDENTIALS)
        ]

    def require_credentials(self) -> None:
        """Refuse to run a worker that would call a real platform without credentials."""
        missing = self.missing_credentials()
        if missing:
            raise MissingCredentials(
                "these platforms point away from the sandbox but lack credentials; set "
                + ", ".join(missing)
                + " (or unset the platform's BASE_URL to use the sandbox)"
            )

    def missing_webhook_secret(self, platform: str) -> str | None:
        """The variable to set before `platform`'s webhooks can be trusted, if unset."""
        endpoint = self.platform(platform)
        for field in endpoint.unset(endpoint.WEBHOOK_SECRETS):
            return f"TICKETFLOW_{platform.upper()}__{field.upper()}"
        return None

    def for_sandbox(self, sandbox_url: str) -> Settings:
        """A copy with every platform pointed at a sandbox at ``sandbox_url`` and its demo
        credentials (tests, benchmarks, conversation scripts)."""
        settings = self.model_copy(deep=True)
        where = urlsplit(sandbox_url)
        settings.sandbox_host = where.hostname or settings.sandbox_host
        settings.sandbox_port = where.port or settings.sandbox_port
        for name in PLATFORM_NAMES:
            endpoint = settings.platform(name)
            endpoint.use_sandbox(f"{sandbox_url.rstrip('/')}/{name}")
        return settings

    @property
    def app_database_url(self) -> str:
        """`database_url`, else the SQLite file in the state directory (the API and the
        worker, which reads the policy store there, agree on it)."""
        return self.database_url or f"sqlite:///{self.state_dir / 'app.db'}"

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

    # Customers and keys
    customer_key_secret: str | None = Field(
        default=None,
        repr=False,
        description="HMAC-SHA256 secret for the CustomerKey search attribute (a keyed hash "
        "of the customer's email). Set the same value on every worker and API process; "
        "unset, each falls back to {state_dir}/customer-key-secret, created on first use.",
    )
    api_rate_limit_per_second: float = Field(
        default=50.0,
        description="requests per second per API key (in-process token bucket; <= 0: off)",
    )
    api_rate_limit_burst: int = Field(
        default=200, description="requests a key may make at once before the rate applies"
    )

    # Logging
    # TICKETFLOW_LOG_FORMAT: "json" (one JSON object a line, for production log pipelines),
    # "console" (pretty, for people), or "auto": console when stderr is a terminal, else
    # JSON. `ticketflow dev` runs its children with "console".
    log_format: Literal["auto", "json", "console"] = "auto"
    # TICKETFLOW_LOG_LEVEL: the root level (DEBUG, INFO, WARNING, ...).
    log_level: str = "INFO"

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

    # Metrics (README "Observability"). The API serves /metrics without an API key (turn it
    # off with TICKETFLOW_API_METRICS=false); a worker serves its own and the Temporal SDK's
    # runtime metrics together on TICKETFLOW_WORKER_METRICS_PORT (the SDK's alone on
    # TICKETFLOW_TEMPORAL_METRICS_PORT, if set); both off unless set.
    api_metrics: bool = True
    metrics_host: str = Field(
        default="0.0.0.0",
        description="address the worker's metrics endpoints bind (TICKETFLOW_METRICS_HOST)",
    )
    worker_metrics_port: int | None = None
    temporal_metrics_port: int | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
