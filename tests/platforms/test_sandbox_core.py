"""The sandbox's control API: reset, clock, faults."""

from __future__ import annotations

from activities.platforms.config import SANDBOX_BIGCOMMERCE_STORE_HASH, SANDBOX_BIGCOMMERCE_TOKEN
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
