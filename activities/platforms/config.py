"""Base URL and credentials per platform, from the environment.

Every platform defaults to the local sandbox (``http://{sandbox_host}:{sandbox_port}/{name}``)
with the sandbox's demo credentials, so a fresh checkout runs offline. Pointing at a real
account is configuration only, e.g.::

    TICKETFLOW_BIGCOMMERCE__BASE_URL=https://api.bigcommerce.com
    TICKETFLOW_BIGCOMMERCE__STORE_HASH=abc123
    TICKETFLOW_BIGCOMMERCE__ACCESS_TOKEN=...

Secrets are ``SecretStr`` so they never show in reprs or logs; connectors read them with
``get_secret_value()`` only when building a request.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Demo credentials the sandbox emulators accept (and the defaults below use).
from sandbox.credentials import (
    SANDBOX_BIGCOMMERCE_STORE_HASH,
    SANDBOX_BIGCOMMERCE_TOKEN,
    SANDBOX_BIGCOMMERCE_WEBHOOK_SECRET,
    SANDBOX_EASYPOST_API_KEY,
    SANDBOX_EASYPOST_WEBHOOK_SECRET,
    SANDBOX_KUSTOMER_API_KEY,
    SANDBOX_KUSTOMER_WEBHOOK_SECRET,
    SANDBOX_SALESFORCE_CLIENT_ID,
    SANDBOX_SALESFORCE_CLIENT_SECRET,
    SANDBOX_SALESFORCE_ORGANIZATION_ID,
    SANDBOX_SHOPIFY_TOKEN,
    SANDBOX_SKIO_TOKEN,
    SANDBOX_STAYAI_TOKEN,
    SANDBOX_ZENDESK_EMAIL,
    SANDBOX_ZENDESK_TOKEN,
    SANDBOX_ZENDESK_WEBHOOK_SECRET,
)


class PlatformEndpoint(BaseModel):
    """Where a platform lives; ``base_url`` None means "the sandbox"."""

    base_url: str | None = None


class BigCommerceSettings(PlatformEndpoint):
    # Real: https://api.bigcommerce.com (paths are /stores/{store_hash}/v2|v3/...)
    store_hash: str = SANDBOX_BIGCOMMERCE_STORE_HASH
    access_token: SecretStr = SecretStr(SANDBOX_BIGCOMMERCE_TOKEN)
    webhook_secret: SecretStr = SecretStr(SANDBOX_BIGCOMMERCE_WEBHOOK_SECRET)


class ShopifySettings(PlatformEndpoint):
    # Real: https://{shop}.myshopify.com (path /admin/api/{api_version}/graphql.json).
    # 2026-01 or later: orderCancel takes refundMethod, refundCreate takes @idempotent(key:).
    api_version: str = "2026-01"
    access_token: SecretStr = SecretStr(SANDBOX_SHOPIFY_TOKEN)


class StayAiSettings(PlatformEndpoint):
    # Real: https://api.retextion.com/api/v2
    access_token: SecretStr = SecretStr(SANDBOX_STAYAI_TOKEN)


class SkioSettings(PlatformEndpoint):
    # Real: https://graphql.skio.com (path /v1/graphql)
    api_token: SecretStr = SecretStr(SANDBOX_SKIO_TOKEN)


class EasyPostSettings(PlatformEndpoint):
    # Real: https://api.easypost.com/v2
    api_key: SecretStr = SecretStr(SANDBOX_EASYPOST_API_KEY)
    webhook_secret: SecretStr = SecretStr(SANDBOX_EASYPOST_WEBHOOK_SECRET)


class ZendeskSettings(PlatformEndpoint):
    # Real: https://{subdomain}.zendesk.com (paths /api/v2/...)
    # The agent group (Zendesk), team (Kustomer) or queue (Salesforce) a hand-off goes to.
    handoff_group: str = "Escalations"
    email: str = SANDBOX_ZENDESK_EMAIL
    api_token: SecretStr = SecretStr(SANDBOX_ZENDESK_TOKEN)
    webhook_secret: SecretStr = SecretStr(SANDBOX_ZENDESK_WEBHOOK_SECRET)


class KustomerSettings(PlatformEndpoint):
    # Real: https://{org}.api.kustomerapp.com (paths /v1/...)
    # The agent group (Zendesk), team (Kustomer) or queue (Salesforce) a hand-off goes to.
    handoff_group: str = "Escalations"
    api_key: SecretStr = SecretStr(SANDBOX_KUSTOMER_API_KEY)
    webhook_secret: SecretStr = SecretStr(SANDBOX_KUSTOMER_WEBHOOK_SECRET)


class SalesforceSettings(PlatformEndpoint):
    # Real: https://{my-domain}.my.salesforce.com (token at /services/oauth2/token)
    # The agent group (Zendesk), team (Kustomer) or queue (Salesforce) a hand-off goes to.
    handoff_group: str = "Escalations"
    client_id: str = SANDBOX_SALESFORCE_CLIENT_ID
    client_secret: SecretStr = SecretStr(SANDBOX_SALESFORCE_CLIENT_SECRET)
    api_version: str = "v62.0"
    # Incoming outbound messages: only this org's are accepted, and, when set, only with
    # `?token=<webhook_token>` on the endpoint URL configured in Salesforce (shared secret).
    organization_id: str = SANDBOX_SALESFORCE_ORGANIZATION_ID
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


class PlatformSettings(BaseSettings):
    """All platforms; nested env vars like ``TICKETFLOW_SKIO__API_TOKEN``."""

    model_config = SettingsConfigDict(
        env_prefix="TICKETFLOW_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    # Same variables as ticketflow.settings.Settings, so both agree on the sandbox address.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100

    bigcommerce: BigCommerceSettings = Field(default_factory=BigCommerceSettings)
    shopify: ShopifySettings = Field(default_factory=ShopifySettings)
    stayai: StayAiSettings = Field(default_factory=StayAiSettings)
    skio: SkioSettings = Field(default_factory=SkioSettings)
    easypost: EasyPostSettings = Field(default_factory=EasyPostSettings)
    zendesk: ZendeskSettings = Field(default_factory=ZendeskSettings)
    kustomer: KustomerSettings = Field(default_factory=KustomerSettings)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.sandbox_host}:{self.sandbox_port}"

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> PlatformSettings:
        for name in PLATFORM_NAMES:
            endpoint: PlatformEndpoint = getattr(self, name)
            if endpoint.base_url is None:
                endpoint.base_url = f"{self.sandbox_url}/{name}"
        return self

    def url(self, platform: str) -> str:
        endpoint: PlatformEndpoint = getattr(self, platform)
        assert endpoint.base_url is not None
        return endpoint.base_url

    @classmethod
    def for_sandbox(cls, sandbox_url: str) -> PlatformSettings:
        """Every platform pointed at a sandbox running at ``sandbox_url`` (tests, benchmarks)."""
        settings = cls()
        for name in PLATFORM_NAMES:
            getattr(settings, name).base_url = f"{sandbox_url.rstrip('/')}/{name}"
        return settings
