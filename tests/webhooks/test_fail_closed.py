"""Platforms fail closed: the sandbox's public demo credentials apply only to the sandbox.

A platform pointed anywhere else must be given its own credentials: the worker refuses to
start without them, and the API answers 401 to every webhook whose secret is unset, even one
signed with the demo secret printed in this repository.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx
import pytest

from api.main import create_app
from sandbox.credentials import SANDBOX_ZENDESK_TOKEN
from tests.api_server import served
from tests.codec_keys import TEST_CODEC_KEYS
from tests.webhooks.test_helpdesk_webhooks import zendesk_delivery
from ticketflow.settings import (
    EasyPostSettings,
    KustomerSettings,
    SalesforceSettings,
    Settings,
    ZendeskSettings,
)

REAL_ZENDESK = "https://acme.zendesk.com"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TICKETFLOW_ variable from the developer's shell or a .env file leaks in."""
    for name in list(os.environ):
        if name.startswith("TICKETFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(os.path.dirname(__file__))
    return monkeypatch


def test_unset_platforms_are_the_sandbox_with_its_demo_credentials(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = Settings()
    assert settings.url("zendesk") == f"{settings.sandbox_url}/zendesk"
    assert settings.zendesk.api_token.get_secret_value() == SANDBOX_ZENDESK_TOKEN
    assert settings.missing_credentials() == []
    assert settings.missing_webhook_secret("zendesk") is None
    settings.require_credentials()


def test_a_platform_pointed_elsewhere_gets_no_demo_credential(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("TICKETFLOW_ZENDESK__BASE_URL", REAL_ZENDESK)
    clean_env.setenv("TICKETFLOW_SHOPIFY__BASE_URL", "https://acme.myshopify.com")
    clean_env.setenv("TICKETFLOW_SHOPIFY__ACCESS_TOKEN", "shpat_real")
    settings = Settings()

    assert settings.zendesk.api_token.get_secret_value() == ""
    assert settings.zendesk.webhook_secret.get_secret_value() == ""
    assert settings.shopify.access_token.get_secret_value() == "shpat_real"
    assert settings.missing_credentials() == [
        "TICKETFLOW_ZENDESK__EMAIL",
        "TICKETFLOW_ZENDESK__API_TOKEN",
    ]
    assert settings.missing_webhook_secret("zendesk") == "TICKETFLOW_ZENDESK__WEBHOOK_SECRET"
    # Platforms left alone are still the sandbox.
    assert settings.missing_webhook_secret("kustomer") is None


def test_the_worker_refuses_to_start_and_names_what_to_set(
    clean_env: pytest.MonkeyPatch,
) -> None:
    env = {
        **os.environ,
        "TICKETFLOW_CODEC_KEYS": TEST_CODEC_KEYS,
        "TICKETFLOW_KUSTOMER__BASE_URL": "https://acme.api.kustomerapp.com",
        # Nothing listens here: the worker must refuse before it tries to connect.
        "TEMPORAL_ADDRESS": "127.0.0.1:9",
    }
    worker = subprocess.run(
        [sys.executable, "-m", "ticketflow", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 2, worker.stderr
    assert "TICKETFLOW_KUSTOMER__API_KEY" in worker.stderr
    assert "Traceback" not in worker.stderr


async def test_webhooks_without_their_secret_are_all_refused(
    dev_settings: Settings, app_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    production = dev_settings.model_copy(
        update={
            "zendesk": ZendeskSettings(base_url=REAL_ZENDESK),
            "kustomer": KustomerSettings(base_url="https://acme.api.kustomerapp.com"),
            "salesforce": SalesforceSettings(base_url="https://acme.my.salesforce.com"),
            "easypost": EasyPostSettings(base_url="https://api.easypost.com/v2"),
        }
    )
    # Signed with the sandbox's demo secret, which is public: must not get through.
    body, headers = zendesk_delivery("4242", "1", "hello", requester="someone@example.com")
    caplog.set_level(logging.ERROR, logger="ticketflow.webhooks")
    async with (
        served(create_app(production, database=app_database)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        refused = {
            path: await http.post(path, content=body, headers=headers)
            for path in (
                "/webhooks/zendesk",
                "/webhooks/kustomer",
                "/webhooks/salesforce",
                "/webhooks/easypost",
            )
        }
    for path, response in refused.items():
        assert response.status_code == 401, (path, response.text)
        assert "not configured" in response.json()["detail"], path
    logged = caplog.text
    for variable in (
        "TICKETFLOW_ZENDESK__WEBHOOK_SECRET",
        "TICKETFLOW_KUSTOMER__WEBHOOK_SECRET",
        "TICKETFLOW_SALESFORCE__ORGANIZATION_ID",
        "TICKETFLOW_EASYPOST__WEBHOOK_SECRET",
    ):
        assert variable in logged
