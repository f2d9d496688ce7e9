"""Auth, problem+json, ticket list / agent / close / wait=false, policies and EasyPost
claim updates over real HTTP (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select
from temporalio.client import Client

from api.auth import create_key, hash_key
from api.db import MIGRATIONS_DIR, ApiKey, open_database
from policies.library import load_library
from sandbox.credentials import SANDBOX_EASYPOST_WEBHOOK_SECRET


async def test_ticket_and_policy_endpoints_need_a_key(api_url: str, app_engine: Engine) -> None:
    async with httpx.AsyncClient(base_url=api_url) as anonymous:
        for method, path in [
            ("GET", "/tickets"),
            ("GET", "/tickets/ticket-web-x"),
            ("POST", "/tickets/ticket-web-x/close"),
            ("GET", "/policies"),
        ]:
            response = await anonymous.request(method, path)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["status"] == 401
        wrong = await anonymous.get("/policies", headers={"Authorization": "Bearer tf_nope"})
        assert wrong.status_code == 401
        assert (await anonymous.get("/health")).status_code == 200

        key = create_key(app_engine, "second")
        ok = await anonymous.get("/policies", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    # Only the hash is stored.
    with Session(app_engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).one()
    assert key not in repr(row.model_dump())


async def test_messages_without_waiting_agent_and_close(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    ticket_id = (await http.post("/tickets", json={"message": "Hello"})).json()["ticket_id"]
    queued = await http.post(
        f"/tickets/{ticket_id}/messages?wait=false", json={"text": "Where is my parcel?"}
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["accepted"] is True
    blank = await http.post(f"/tickets/{ticket_id}/messages?wait=false", json={"text": "  "})
    assert blank.status_code == 422
    assert blank.json()["detail"] == "message text is empty"

    async def customer_texts() -> list[str]:
        shown = (await http.get(f"/tickets/{ticket_id}")).json()
        return [e["text"] for e in shown["transcript"] if e["role"] == "customer"]

    for _ in range(100):
        if len(await customer_texts()) == 2:
            break
        await asyncio.sleep(0.05)
    assert await customer_texts() == ["Hello", "Where is my parcel?"]

    taken = await http.post(
        f"/tickets/{ticket_id}/agent", json={"action": "takeover", "agent": "Dana"}
    )
    assert taken.status_code == 202
    for _ in range(100):
        shown = (await http.get(f"/tickets/{ticket_id}")).json()
        if shown["state"]["agent"] == "Dana":
            break
        await asyncio.sleep(0.05)
    assert shown["state"]["agent"] == "Dana"
    assert "trace" in shown and "outcome" in shown

    closed = await http.post(f"/tickets/{ticket_id}/close")
    assert closed.status_code == 202
    result = await dev_client.get_workflow_handle(ticket_id).result()
    assert result["status"] in ("resolved", "closed")
    after = await http.get(f"/tickets/{ticket_id}")
    assert after.json()["outcome"] == result["outcome"]
    again = await http.post(f"/tickets/{ticket_id}/close")
    assert again.status_code == 409

    unknown = await http.post("/tickets/ticket-web-nope/agent", json={"action": "release"})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    bad_action = await http.post(f"/tickets/{ticket_id}/agent", json={"action": "dance"})
    assert bad_action.status_code == 422
    assert bad_action.json()["errors"][0]["loc"] == ["body", "action"]


async def test_list_tickets_filters_and_pages(http: httpx.AsyncClient) -> None:
    kind = f"list-{uuid.uuid4().hex[:6]}"
    ids = set()
    for n in range(3):
        created = await http.post("/tickets", json={"message": f"Hi {n}", "ticket_type": kind})
        ids.add(created.json()["ticket_id"])

    async def page(**params: object) -> dict:
        response = await http.get("/tickets", params={"ticket_type": kind, **params})
        assert response.status_code == 200, response.text
        return dict(response.json())

    for _ in range(50):
        if len((await page(page_size=10))["tickets"]) == 3:
            break
        await asyncio.sleep(0.1)
    first = await page(page_size=2)
    assert len(first["tickets"]) == 2 and first["next_page_token"]
    second = await page(page_size=2, next_page_token=first["next_page_token"])
    seen = {t["ticket_id"] for t in first["tickets"] + second["tickets"]}
    assert seen == ids
    assert all(t["ticket_type"] == kind and t["helpdesk"] == "web" for t in first["tickets"])
    assert not (await page(status="escalated"))["tickets"]
    assert (await http.get("/tickets", params={"policy": 'x" OR 1=1'})).status_code == 422
    bad_token = await http.get("/tickets", params={"next_page_token": "!!!"})
    assert bad_token.status_code == 422


async def test_policies_list_get_and_check(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/policies")).json()
    ids = {p["id"] for p in listed}
    # One entry per policy file in the library, each by its id.
    assert ids == {plan.id for plan in load_library().plans.values()}
    assert "skip_next_shipment" in ids and len(listed) == len(ids)
    shown = (await http.get("/policies/skip_next_shipment")).json()
    assert shown["source"].startswith("---")
    assert shown["plan"]["id"] == "skip_next_shipment"
    assert shown["version"] == shown["plan"]["version"]
    assert (await http.get("/policies/nope")).status_code == 404

    draft = shown["source"].replace("@skip_next_shipment", "@skip_nxt_shipment", 1)
    checked = await http.post(
        "/policies/check", content=draft.encode(), headers={"content-type": "text/markdown"}
    )
    assert checked.status_code == 200
    report = checked.json()
    assert report["ok"] is False and report["plan"] is None
    unknown_tool = [d for d in report["diagnostics"] if d["code"] == "TF001"]
    assert unknown_tool and unknown_tool[0]["line"] > 1
    good = await http.post("/policies/check", json={"source": shown["source"]})
    assert good.json()["ok"] is True
    assert good.json()["plan"]["version"] == shown["version"]
    assert (await http.post("/policies/check", json={"text": "x"})).status_code == 422


def _easypost(event: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    digest = hmac.new(SANDBOX_EASYPOST_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"x-hmac-signature": f"hmac-sha256-hex={digest}"}


async def test_easypost_claim_update_signals_its_ticket(
    http: httpx.AsyncClient, dev_client: Client
) -> None:
    ticket_id = (await http.post("/tickets", json={"message": "Hello"})).json()["ticket_id"]
    event = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "description": "claim.approved",
        "result": {
            "id": "clm_1",
            "status": "approved",
            "approved_amount": "45.00",
            # Our key travels at the end of the claim's documented description.
            "description": f"Order 9001: lost [ticketflow:{ticket_id}/0/shipment_not_received/3]",
        },
    }
    body, headers = _easypost(event)
    first = await http.post("/webhooks/easypost", content=body, headers=headers)
    assert first.json() == {
        "accepted": True,
        "duplicate": False,
        "ticket_id": ticket_id,
        "ignored": None,
    }
    assert (await http.post("/webhooks/easypost", content=body, headers=headers)).json()[
        "duplicate"
    ]
    signals = [
        e.workflow_execution_signaled_event_attributes
        async for e in dev_client.get_workflow_handle(ticket_id).fetch_history_events()
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert [s.signal_name for s in signals] == ["claim_update"]

    tracker, tracker_headers = _easypost(
        {"id": "evt_t", "description": "tracker.updated", "result": {"status": "delivered"}}
    )
    ignored = await http.post("/webhooks/easypost", content=tracker, headers=tracker_headers)
    assert ignored.json()["accepted"] is False
    bad = await http.post(
        "/webhooks/easypost", content=body, headers={"x-hmac-signature": "hmac-sha256-hex=00"}
    )
    assert bad.status_code == 401


def test_migrations_create_the_schema_once(app_database: str) -> None:
    engine = open_database(app_database)
    engine2 = open_database(app_database)  # a second process: already at head, no error
    tables = set(inspect(engine).get_table_names())
    assert {"webhook_delivery", "api_key", "alembic_version"} <= tables
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    # The newest revision in api/migrations, so the test follows the next migration.
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None and version == head
    engine.dispose()
    engine2.dispose()
