"""Stay AI orders: cancellation, coupons for next time and free replacements, over real HTTP.

Contract tests for the endpoints the retention and reshipment policies need beyond the
subscription API (⚠ paths chosen in the style of the confirmed ones, see the connector):
each one's happy path, its refusal in Stay AI's error shape, and an idempotent replay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.platforms.base import PlatformRejected, promotion_code
from activities.platforms.stayai import StayAiConnector
from policies.tool_models import (
    Address,
    CancelOrderParams,
    CreateOrderParams,
    FutureDiscountParams,
    LineItem,
)
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

TOKEN = {"X-RETEXTION-ACCESS-TOKEN": "sandbox-stayai-token"}
STAYAI = ["stayai", "zendesk"]


@pytest.fixture
async def stay(sandbox_settings: Settings):
    connector = StayAiConnector(sandbox_settings.stayai)
    yield connector
    await connector.aclose()


# --- POST /orders/{id}/cancel ---------------------------------------------------------------


async def test_cancel_unfulfilled_order_refunds_it(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    before = await stay.get_order("7003")
    assert before.status == "processing" and before.cancellable
    done = await stay.cancel_order("7003", "customer request", "wf-1/n5")
    assert (done.order_id, done.status, done.refunded_amount) == ("7003", "cancelled", 45.0)
    after = await stay.get_order("7003")
    assert after.status == "cancelled" and not after.cancellable
    effects = sandbox.side_effects("stayai", "order.cancel")
    assert [e["idempotency_key"] for e in effects] == ["wf-1/n5"]
    assert effects[0]["request"] == {"reason": "customer request"}


async def test_cancel_replay_cancels_once(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    first = await stay.cancel_order("7003", None, "wf-1/n5")
    again = await stay.cancel_order("7003", None, "wf-1/n5")  # looks first: already cancelled
    assert first.status == again.status == "cancelled"
    assert len(sandbox.side_effects("stayai", "order.cancel")) == 1


def test_emulator_replays_a_repeated_cancel_key(sandbox: SandboxControl) -> None:
    """The same Idempotency-Key replays the first answer instead of refusing the second."""
    headers = {**TOKEN, "Idempotency-Key": "wf-7/n2"}
    answers = [
        sandbox.client.post("/stayai/orders/7003/cancel", json={}, headers=headers)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["status"] == "CANCELLED"
    other = sandbox.client.post(
        "/stayai/orders/7003/cancel", json={}, headers={**TOKEN, "Idempotency-Key": "wf-8/n2"}
    )
    assert other.status_code == 400 and other.json()["message"] == "Order is already cancelled"
    assert len(sandbox.side_effects("stayai", "order.cancel")) == 1


async def test_cancel_of_a_delivered_order_is_refused(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    with pytest.raises(PlatformRejected, match="delivered and can no longer be cancelled") as no:
        await stay.cancel_order("7001", None, "wf-2/n5")
    assert no.value.non_retryable
    raw = sandbox.client.post(
        "/stayai/orders/7001/cancel", json={}, headers={**TOKEN, "Idempotency-Key": "wf-2/n6"}
    )
    assert raw.status_code == 400
    assert raw.json() == {
        "message": "Order has been fulfilled and can no longer be cancelled",
        "statusCode": 400,
    }
    assert sandbox.side_effects("stayai", "order.cancel") == []
    unknown = sandbox.client.post("/stayai/orders/0/cancel", json={}, headers=TOKEN)
    assert unknown.status_code == 404


# --- POST /discount-codes -------------------------------------------------------------------


async def test_coupon_is_created_once_per_key(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    first = await stay.create_coupon("sam@example.com", 20, "wf-3/n7")
    again = await stay.create_coupon("sam@example.com", 20, "wf-3/n7")
    other = await stay.create_coupon("sam@example.com", 20, "wf-4/n7")
    assert first == again and first.code == promotion_code("wf-3/n7") != other.code
    assert first.percent == 20 and first.email == "sam@example.com"
    assert first.expires_at is not None
    assert first.expires_at - datetime.now(UTC) > timedelta(days=89)
    creates = sandbox.side_effects("stayai", "discount_code.create")
    assert [e["idempotency_key"] for e in creates] == ["wf-3/n7", "wf-4/n7"]


async def test_coupon_made_by_a_lost_attempt_is_read_back(
    stay: StayAiConnector, sandbox: SandboxControl
) -> None:
    """The code exists but the key is new (say, the platform forgot it): 409, then GET."""
    made = sandbox.client.post(
        "/stayai/discount-codes",
        json={"code": promotion_code("wf-5/n7"), "percentage": 20},
        headers=TOKEN,
    )
    assert made.status_code == 201
    coupon = await stay.create_coupon("sam@example.com", 20, "wf-5/n7")
    assert coupon.code == promotion_code("wf-5/n7") and coupon.percent == 20
    taken = sandbox.client.post(
        "/stayai/discount-codes", json={"code": coupon.code, "percentage": 20}, headers=TOKEN
    )
    assert taken.status_code == 409 and "already exists" in taken.json()["message"]


async def test_coupon_refusal_is_rejected(stay: StayAiConnector, sandbox: SandboxControl) -> None:
    with pytest.raises(PlatformRejected, match="percentage must be between 1 and 100"):
        await stay.create_coupon("sam@example.com", 0, "wf-6/n7")
    assert sandbox.side_effects("stayai", "discount_code.create") == []


# --- the tools, as Temporal activities ------------------------------------------------------


@pytest.fixture
async def tools(sandbox_settings: Settings):
    async with tool_runner(sandbox_settings) as runner:
        yield runner


async def test_handed_over_generic_tools_run_on_the_entry_policys_store(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    """Stay AI retention hands over to single order cancellation ([bigcommerce, kustomer]):
    the ticket passes the entry policy's platforms first, so the cancel runs on Stay AI."""
    call = TicketCall(
        params=CancelOrderParams(order_id="7003", reason="customer request"),
        platforms=[*STAYAI, "bigcommerce", "kustomer"],
        idempotency_key="ticket-zendesk-1003/1/single_order_cancellation/n5",
    )
    assert (await tools.run("cancel_order", call)).status == "cancelled"
    assert len(sandbox.side_effects("stayai", "order.cancel")) == 1
    assert sandbox.side_effects("bigcommerce") == []
    coupon = await tools.run(
        "create_future_discount",
        TicketCall(
            params=FutureDiscountParams(email="sam@example.com", percent=20),
            platforms=STAYAI,
            idempotency_key="ticket-zendesk-1003/0/retention/n9",
        ),
    )
    assert coupon.code.startswith("TF") and coupon.percent == 20


async def test_free_replacement_on_stayai(tools: ToolRunner, sandbox: SandboxControl) -> None:
    call = TicketCall(
        params=CreateOrderParams(
            items=[LineItem(sku="var_greens_30", name="Daily Greens", price=45.0)],
            address=Address(line1="5 Beacon St", city="Boston", region="MA", postal_code="02108"),
            user_email="sam@example.com",
        ),
        platforms=STAYAI,
        idempotency_key="ticket-zendesk-1003/0/reshipment/n8",
    )
    first = await tools.run("create_replacement_order", call)
    again = await tools.run("create_replacement_order", call)
    assert first == again and first.total == 0.0
    order = await tools.platforms.connectors["stayai"].get_order(first.order_id)
    assert order.paid and order.total == 0.0 and order.status == "processing"
    assert len(sandbox.side_effects("stayai", "order.create")) == 1
