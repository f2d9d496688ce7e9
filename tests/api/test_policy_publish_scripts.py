"""Publishing plays the policy's conversation scripts against the draft on the
time-skipping server first (the API `ticketflow api` serves): a draft that breaks one is
refused with the failures, and nothing changes."""

from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from tests.api_server import served
from ticketflow.policy_gate import run_policy_scripts
from ticketflow.settings import Settings


async def test_a_draft_that_fails_its_scripts_is_not_published(
    dev_env: WorkflowEnvironment, dev_settings: Settings, app_database: str, api_key: str
) -> None:
    app = create_app(dev_settings, database=app_database, policy_scripts=run_policy_scripts)
    async with (
        served(app) as url,
        httpx.AsyncClient(
            base_url=url, timeout=300, headers={"Authorization": f"Bearer {api_key}"}
        ) as http,
    ):
        shown = (await http.get("/policies/skip_next_shipment")).json()
        published, source = shown["version"], shown["source"]
        broken = source.replace("next shipment has been skipped", "delivery is on hold")
        assert broken != source
        await http.put("/policies/skip_next_shipment", json={"source": broken})
        refused = await http.post(
            "/policies/skip_next_shipment/publish", json={"message": "reword"}
        )
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert "conversation scripts" in problem["detail"]
        assert any("next shipment has been skipped" in e["message"] for e in problem["errors"])
        assert (await http.get("/policies/skip_next_shipment")).json()["version"] == published

        # The published source as the draft passes its scripts (and is the same version).
        await http.put("/policies/skip_next_shipment", json={"source": source})
        ok = await http.post("/policies/skip_next_shipment/publish", json={"message": "same"})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"version": published}
