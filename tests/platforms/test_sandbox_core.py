"""The sandbox's control API: reset, clock, faults."""

from __future__ import annotations

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
    state = sandbox.client.get("/_sandbox/state").json()
    assert state["side_effects"] == []
    assert state["faults"] == {}
