"""A deployment's default platforms over HTTP: a draft whose generic tools need a store
its front matter does not name is refused where the deployment names none, and compiles,
publishes and runs on the deployment's store where it does (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import httpx

from api.main import create_app
from tests.api_server import served
from ticketflow.settings import Settings


def lookup(policy_id: str) -> str:
    return (
        f"---\nid: {policy_id}\ntitle: Order lookup {policy_id}\nplatforms: [kustomer]\n---\n"
        "1. Ask for the order number.\n"
        "2. Use @get_order_details(order_id: str).\n"
        "3. Tell the customer: Your order is $order.status.\n"
    )


async def test_a_draft_compiles_on_the_deployments_default_store(
    http: httpx.AsyncClient, dev_settings: Settings, app_database: str, api_key: str
) -> None:
    pid = f"d_{uuid.uuid4().hex[:8]}"
    # No default: the store is unknown, the draft has an error and cannot be published.
    saved = (await http.put(f"/policies/{pid}", json={"source": lookup(pid)})).json()
    assert not saved["ok"] and [d["code"] for d in saved["diagnostics"]] == ["TF013"]
    refused = await http.post(f"/policies/{pid}/publish", json={"message": "first"})
    assert refused.status_code == 422, refused.text

    settings = dev_settings.model_copy(update={"default_platforms": ["shopify", "kustomer"]})
    async with (
        served(create_app(settings, database=app_database)) as url,
        httpx.AsyncClient(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {api_key}"}
        ) as shop,
    ):
        try:
            saved = (await shop.put(f"/policies/{pid}", json={"source": lookup(pid)})).json()
            assert saved["ok"], saved
            assert [d["code"] for d in saved["diagnostics"]] == ["TF023"]
            assert "Shopify" in saved["diagnostics"][0]["message"]
            checked = (await shop.post("/policies/check", json={"source": lookup(pid)})).json()
            assert checked["ok"] and checked["plan"]["roles"]["store"] == "shopify"

            published = await shop.post(f"/policies/{pid}/publish", json={"message": "first"})
            assert published.status_code == 200, published.text
            shown = (await shop.get(f"/policies/{pid}")).json()
            assert shown["version"] == published.json()["version"]
            assert shown["plan"]["roles"]["store"] == "shopify"
            assert "shopify" in shown["plan"]["platforms"]
            [call] = [s for s in shown["plan"]["steps"] if s["kind"] == "call"]
            assert call["platform"] == "shopify"
            assert [d["code"] for d in shown["diagnostics"]] == ["TF023"]

            # The published version keeps its store where the setting is gone.
            elsewhere = (await http.get(f"/policies/{pid}")).json()
            assert elsewhere["version"] == shown["version"]
            assert elsewhere["plan"]["roles"]["store"] == "shopify"
            assert [d["code"] for d in elsewhere["diagnostics"]] == ["TF023"]
        finally:
            await shop.delete(f"/policies/{pid}")
