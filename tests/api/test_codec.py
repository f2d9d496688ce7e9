"""The codec server (/codec/encode, /codec/decode) over real HTTP, and a real ticket's
history: ciphertext in Temporal, the customer restored through the codec endpoint."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import Worker

from api.main import create_app
from tests.api_server import served
from ticketflow.settings import Settings
from workflows.payload_codec import EncryptionCodec, Keyring

UI_ORIGIN = "http://localhost:8233"
NAME, EMAIL, STREET = "Zebulon Quartermaine", "zq.private@example.com", "742 Evergreen Terrace"


def as_json(payloads: list[Payload]) -> dict:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def from_json(body: dict) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p["metadata"].items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body["payloads"]
    ]


PLAIN = [Payload(metadata={"encoding": b"json/plain"}, data=b'{"email": "zq@example.com"}')]


async def test_encode_then_decode_round_trips(http: httpx.AsyncClient) -> None:
    encoded = await http.post("/codec/encode", json=as_json(PLAIN))
    assert encoded.status_code == 200, encoded.text
    sealed = from_json(encoded.json())
    assert sealed[0].metadata["encoding"] == b"binary/encrypted"
    assert sealed[0].metadata["encryption-key-id"] == b"test-current"
    assert b"zq@example.com" not in sealed[0].data
    decoded = await http.post(
        "/codec/decode", json=encoded.json(), headers={"X-Namespace": "default"}
    )
    assert decoded.status_code == 200, decoded.text
    assert from_json(decoded.json()) == PLAIN
    # plain payloads (recorded before encryption) come back as they are
    assert from_json((await http.post("/codec/decode", json=as_json(PLAIN))).json()) == PLAIN


async def test_auth_namespace_and_bad_input(http: httpx.AsyncClient, api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as anonymous:
        for path in ("/codec/encode", "/codec/decode"):
            refused = await anonymous.post(path, json=as_json(PLAIN))
            assert refused.status_code == 401, refused.text
            # the dev UI exception is off unless configured
            from_ui = await anonymous.post(path, json=as_json(PLAIN), headers={"Origin": UI_ORIGIN})
            assert from_ui.status_code == 401
    other = await http.post(
        "/codec/decode", json=as_json(PLAIN), headers={"X-Namespace": "someone-else"}
    )
    assert other.status_code == 403 and "someone-else" in other.json()["detail"]
    bad = await http.post("/codec/decode", json={"payloads": [{"metadata": {}, "data": "!!"}]})
    assert bad.status_code == 422 and "payloads[0].data" in bad.json()["detail"]
    assert (await http.post("/codec/decode", json={"nope": []})).status_code == 422


async def test_unknown_key_and_tampering_are_400s(http: httpx.AsyncClient) -> None:
    retired = EncryptionCodec(Keyring.parse(Keyring.new_entry("retired-3")))
    unknown = await http.post("/codec/decode", json=as_json(await retired.encode(PLAIN)))
    assert unknown.status_code == 400 and "retired-3" in unknown.json()["detail"]
    sealed = from_json((await http.post("/codec/encode", json=as_json(PLAIN))).json())
    sealed[0].data = sealed[0].data[:-1] + bytes([sealed[0].data[-1] ^ 1])
    tampered = await http.post("/codec/decode", json=as_json(sealed))
    assert tampered.status_code == 400 and "failed authentication" in tampered.text


async def test_cors_preflight_needs_no_key(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as anonymous:
        preflight = {
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        }
        allowed = await anonymous.options("/codec/decode", headers=preflight)
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
        stranger = await anonymous.options(
            "/codec/decode", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers
        # CORS is for /codec only
        tickets = await anonymous.options("/tickets", headers=preflight)
        assert "access-control-allow-origin" not in tickets.headers


async def test_the_dev_ui_decodes_without_a_key_from_loopback(
    dev_settings: Settings, app_database: str
) -> None:
    """What `ticketflow dev` turns on: the UI's origin, from loopback, needs no key."""
    settings = dev_settings.model_copy(update={"codec_ui_without_key": True})
    async with (
        served(create_app(settings, database=app_database)) as url,
        httpx.AsyncClient(base_url=url) as ui,
    ):
        sealed = await ui.post("/codec/encode", json=as_json(PLAIN), headers={"Origin": UI_ORIGIN})
        assert sealed.status_code == 200, sealed.text
        assert sealed.headers["access-control-allow-origin"] == UI_ORIGIN
        opened = await ui.post("/codec/decode", json=sealed.json(), headers={"Origin": UI_ORIGIN})
        assert from_json(opened.json()) == PLAIN
        stranger = await ui.post(
            "/codec/decode", json=sealed.json(), headers={"Origin": "https://evil.example"}
        )
        assert stranger.status_code == 401
        assert (await ui.post("/codec/decode", json=sealed.json())).status_code == 401


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere in a history (inputs, results, signals, updates, failures…)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            items = [value]
        elif field.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


@pytest.mark.e2e
async def test_a_tickets_history_holds_no_customer_data_in_plain_bytes(
    http: httpx.AsyncClient, dev_client: Client, dev_worker: Worker
) -> None:
    created = await http.post(
        "/tickets",
        json={
            "message": f"I want to cancel order 5001, I moved to {STREET}",
            "customer": {"email": EMAIL, "name": NAME},
            "ticket_type": "Cancel order",
        },
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["ticket_id"]
    reply = await http.post(f"/tickets/{ticket_id}/messages", json={"text": "2"})
    assert reply.status_code == 200, reply.text

    history = await dev_client.get_workflow_handle(ticket_id).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    raw += history.to_json().encode()
    for secret in (NAME, EMAIL, STREET, "Zebulon", "Quartermaine"):
        assert secret.encode() not in raw, secret
    payloads = [p for event in history.events for p in payloads_in(event)]
    # Unencrypted by design: search attributes (ids, never PII; the server indexes them),
    # the SDK's own local-activity marker bookkeeping (seq, attempt, activity type, times)
    # and its patch markers (the patch id of a `workflow.patched` branch).
    patches = [
        p
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
        for p in payloads_in(event)
    ]
    plain = [
        p
        for p in payloads
        if p.metadata["encoding"] != b"binary/encrypted"
        and "type" not in p.metadata
        and not p.data.startswith(b'{"seq":')
        and p not in patches
    ]
    assert all(b'"deprecated"' in p.data for p in patches)
    assert payloads and not plain, [(dict(p.metadata), p.data[:60]) for p in plain]

    decoded = await http.post(
        "/codec/decode", json=as_json(payloads), headers={"X-Namespace": dev_client.namespace}
    )
    assert decoded.status_code == 200, decoded.text
    clear = b"".join(p.data for p in from_json(decoded.json()))
    for secret in (NAME, EMAIL, STREET):
        assert secret.encode() in clear, secret
