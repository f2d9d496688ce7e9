"""The sandbox's control API: reset, clock, faults."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from sqlmodel import SQLModel

import api.db  # noqa: F401  (registers the app's tables on SQLModel.metadata)
from sandbox.app import load_modules
from sandbox.config import PLATFORM_MODULES
from sandbox.core import SANDBOX_METADATA, OutgoingWebhook
from sandbox.credentials import (
    SANDBOX_BIGCOMMERCE_STORE_HASH,
    SANDBOX_BIGCOMMERCE_TOKEN,
    SANDBOX_OPENAI_API_KEY,
)
from tests.sandbox_fixtures import SandboxControl


def test_clock_advances_and_reset_rewinds(sandbox: SandboxControl) -> None:
    before = sandbox.client.get("/_sandbox/clock").json()
    assert before["offset_seconds"] == 0
    after = sandbox.client.post("/_sandbox/clock/advance", json={"days": 2}).json()
    assert after["offset_seconds"] == 2 * 86400
    sandbox.client.post("/_sandbox/reset").raise_for_status()
    assert sandbox.client.get("/_sandbox/clock").json()["offset_seconds"] == 0


def test_faults_unknown_platform_is_404(sandbox: SandboxControl) -> None:
    response = sandbox.client.put("/_sandbox/faults/nosuchplatform", json={"fail_next": 1})
    assert response.status_code == 404


def test_state_starts_empty_after_reset(sandbox: SandboxControl) -> None:
    """A write and a fault first, so the reset has something to clear."""
    made = sandbox.client.post(
        f"/bigcommerce/stores/{SANDBOX_BIGCOMMERCE_STORE_HASH}/v2/coupons",
        json={
            "name": "n",
            "code": "RESETME",
            "type": "percentage_discount",
            "amount": "5",
            "applies_to": {"entity": "categories", "ids": [0]},
        },
        headers={"X-Auth-Token": SANDBOX_BIGCOMMERCE_TOKEN},
    )
    assert made.status_code == 201
    sandbox.fault("shopify", fail_next=1)
    before = sandbox.client.get("/_sandbox/state").json()
    assert before["side_effects"] and before["faults"]
    sandbox.client.post("/_sandbox/reset").raise_for_status()
    state = sandbox.client.get("/_sandbox/state").json()
    assert state["side_effects"] == []
    assert state["faults"] == {}


ORDER_5001 = f"/bigcommerce/stores/{SANDBOX_BIGCOMMERCE_STORE_HASH}/v2/orders/5001"
BC_TOKEN = {"X-Auth-Token": SANDBOX_BIGCOMMERCE_TOKEN}


def test_served_faults_count_what_was_served_not_what_was_configured(
    sandbox: SandboxControl,
) -> None:
    """error_rate 1.0 and 3 requests: 3 errors served; a fault configured on a platform that
    gets no traffic: nothing served; counts outlive clearing the faults, not a reset."""
    sandbox.fault("bigcommerce", error_rate=1.0, error_status=503, latency_ms=20)
    sandbox.fault("shopify", fail_next=5, rate_limit_next=5, latency_ms=2000)
    statuses = [sandbox.client.get(ORDER_5001, headers=BC_TOKEN).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]
    sandbox.client.delete("/_sandbox/faults").raise_for_status()
    assert sandbox.client.get(ORDER_5001, headers=BC_TOKEN).status_code == 200

    served = sandbox.faults_served("bigcommerce")
    assert served == {"requests": 4, "errors": 3, "rate_limits": 0, "latency": 3}
    assert sandbox.faults_served("shopify") == {
        "requests": 0,
        "errors": 0,
        "rate_limits": 0,
        "latency": 0,
    }
    assert sandbox.state()["faults_served"]["bigcommerce"] == served
    sandbox.reset()
    assert sandbox.faults_served("bigcommerce")["requests"] == 0


def test_served_rate_limits_stop_when_the_burst_is_spent(sandbox: SandboxControl) -> None:
    """rate_limit_next=2 then 3 requests: two 429 served, one answered; the configuration
    still reads as set (the existing shape of GET /_sandbox/faults)."""
    sandbox.fault("bigcommerce", rate_limit_next=2, retry_after=1)
    statuses = [sandbox.client.get(ORDER_5001, headers=BC_TOKEN).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    served = sandbox.faults_served("bigcommerce")
    assert (served["rate_limits"], served["errors"], served["latency"]) == (2, 0, 0)
    configured = sandbox.client.get("/_sandbox/faults").json()
    assert configured["bigcommerce"]["error_status"] == 500
    everything = sandbox.client.get("/_sandbox/faults/served").json()
    assert everything["bigcommerce"] == served and everything["zendesk"]["requests"] == 0


def test_a_request_still_delayed_at_a_reset_does_not_reach_the_next_test(
    sandbox: SandboxControl, sandbox_url: str
) -> None:
    """A client that gave up during injected latency leaves its request in the sandbox; once
    the sandbox is reset (the next test), that request must not take the next test's
    scripted answer, write to the new seed or show in its request log."""
    sandbox.fault("openai", latency_ms=1500)
    completion = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    auth = {"Authorization": f"Bearer {SANDBOX_OPENAI_API_KEY}"}
    with httpx.Client(base_url=sandbox_url, timeout=0.2) as impatient:
        with pytest.raises(httpx.TimeoutException):
            impatient.post("/openai/v1/chat/completions", json=completion, headers=auth)
    sandbox.reset()
    sandbox.client.post(
        "/openai/_sandbox/answers", json={"answers": [{"content": "for the next test"}]}
    ).raise_for_status()
    time.sleep(2.0)  # the abandoned request has woken up by now
    assert sandbox.requests("openai") == []
    queued = sandbox.client.get("/openai/_sandbox/answers").json()["answers"]
    assert [a["content"] for a in queued] == ["for the next test"]


def test_sandbox_tables_are_apart_from_the_app_tables() -> None:
    """The sandbox's own MetaData holds every sandbox table and none of the app's, so its
    create_all/drop_all never touch the app database's tables (and vice versa)."""
    load_modules(PLATFORM_MODULES)
    app_tables = set(SQLModel.metadata.tables)
    sandbox_tables = set(SANDBOX_METADATA.tables)
    assert "webhook_delivery" in app_tables
    assert OutgoingWebhook.__tablename__ in sandbox_tables
    assert app_tables.isdisjoint(sandbox_tables)
    assert not any(name.startswith("sandbox_") for name in app_tables)


def test_the_sandbox_imports_nothing_of_the_product() -> None:
    """A fresh interpreter that loads the sandbox app and every emulator has loaded none of
    ticketflow's own packages."""
    probe = (
        "import sys; from sandbox.app import create_app, load_modules; "
        "from sandbox.config import PLATFORM_MODULES; load_modules(PLATFORM_MODULES); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'activities', 'api', 'policies', 'ticketflow', 'workflows'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_request_log_keeps_what_was_sent_and_answered_without_credentials(
    sandbox: SandboxControl,
) -> None:
    sandbox.client.put(ORDER_5001, json={"staff_notes": "hello"}, headers=BC_TOKEN)
    sandbox.fault("bigcommerce", fail_next=1)
    sandbox.client.get(ORDER_5001, headers=BC_TOKEN)
    put, failed = sandbox.requests("bigcommerce")
    assert put["method"] == "PUT" and put["path"].endswith("/v2/orders/5001")
    assert put["body"] == {"staff_notes": "hello"}
    assert put["status"] == 200 and put["response"]["staff_notes"] == "hello"
    assert put["headers"]["x-auth-token"] == "<redacted>"
    assert failed["status"] == 500 and failed["response"][0]["status"] == 500
    sandbox.reset()
    assert sandbox.requests("bigcommerce") == []
