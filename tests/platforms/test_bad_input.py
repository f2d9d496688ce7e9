"""Input no platform can answer, and platform answers ticketflow cannot use, fail at once.

A policy or a customer supplies ids (an order number typed as "ABC-12", an empty id, a path);
a platform may answer a shape the connector does not know. Either way retrying cannot help,
so the tool activity raises a named error listed in ``NON_RETRYABLE_ERROR_TYPES`` (the
workflow then tells the customer and escalates at once) instead of a generic Python
exception Temporal retries for ten minutes, and its message quotes no customer data. A real
outage (5xx, 429, timeouts, a 2xx that is not JSON at all) stays retryable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.claims import ClaimActivities, ClaimLookup
from activities.platforms.base import (
    NON_RETRYABLE_ERROR_TYPES,
    NotFound,
    PlatformConnector,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    promotion_code,
)
from activities.platforms.easypost import EasyPostConnector
from policies.tool_models import (
    CancelOrderParams,
    EmailParams,
    FutureDiscountParams,
    OrderIdParams,
    SubscriptionIdParams,
)
from sandbox.credentials import SANDBOX_BIGCOMMERCE_STORE_HASH, SANDBOX_BIGCOMMERCE_TOKEN
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings

BIGCOMMERCE = ["BigCommerce", "Zendesk"]
SHOPIFY = ["Shopify", "Zendesk"]
STAYAI = ["Stay AI", "Kustomer"]
env = ActivityEnvironment()


@pytest.fixture
async def tools(sandbox_settings: Settings) -> AsyncIterator[ToolRunner]:
    async with tool_runner(sandbox_settings) as runner:
        yield runner


@pytest.fixture
async def claims(sandbox_settings: Settings) -> AsyncIterator[ClaimActivities]:
    connector = EasyPostConnector(sandbox_settings.easypost)
    yield ClaimActivities(connector)
    await connector.aclose()


def decided_at_once(error: BaseException, named: type[PlatformError]) -> PlatformError:
    """What the workflow's retry policy sees: a named error it does not retry."""
    assert isinstance(error, named), f"{type(error).__name__}: {error}"
    assert error.non_retryable and error.type in NON_RETRYABLE_ERROR_TYPES
    return error


def answer_with(connector: PlatformConnector, handler: Callable[[httpx.Request], httpx.Response]):
    """Make ``connector``'s platform answer with ``handler`` (a shape the sandbox never sends)."""
    connector._client = httpx.AsyncClient(
        base_url=connector.base_url, transport=httpx.MockTransport(handler)
    )


# --- ids no platform can have: NotFound before any call -------------------------------------


@pytest.mark.parametrize("order_id", ["ABC-12", "#5001x", ""])
async def test_bigcommerce_tools_with_a_typed_order_number_that_cannot_exist(
    tools: ToolRunner, sandbox: SandboxControl, order_id: str
) -> None:
    for tool, params in [
        ("get_order_details", OrderIdParams(order_id=order_id)),
        ("cancel_order", CancelOrderParams(order_id=order_id)),
    ]:
        call = TicketCall(params=params, platforms=BIGCOMMERCE, idempotency_key="t-1/n2")
        with pytest.raises(NotFound) as raised:
            await tools.run(tool, call)
        error = decided_at_once(raised.value, NotFound)
        assert "not a BigCommerce order number" in error.message
    assert sandbox.faults_served("bigcommerce")["requests"] == 0


@pytest.mark.parametrize("order_id", ["7001/../7002", "..", "", "  "])
async def test_stayai_order_id_is_one_path_segment(
    tools: ToolRunner, sandbox: SandboxControl, order_id: str
) -> None:
    """ "7001/../7002" must not read order 7002 (another customer's); an empty id must not
    read the order list (a redirect, retried until the step gives up)."""
    call = TicketCall(params=OrderIdParams(order_id=order_id), platforms=STAYAI)
    with pytest.raises(NotFound) as raised:
        await tools.run("get_order_details", call)
    decided_at_once(raised.value, NotFound)
    if not order_id.strip(".").strip():
        assert sandbox.faults_served("stayai")["requests"] == 0


async def test_stayai_empty_subscription_id_is_not_found_without_a_call(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    call = TicketCall(
        params=SubscriptionIdParams(subscription_id=""), platforms=STAYAI, idempotency_key="k"
    )
    with pytest.raises(NotFound) as raised:
        await tools.run("cancel_subscription", call)
    decided_at_once(raised.value, NotFound)
    assert sandbox.faults_served("stayai")["requests"] == 0


@pytest.mark.parametrize(
    "order_id", ['#1001" OR name:"#1002', "gid://shopify/Order/abc", "gid://shopify/Customer/1"]
)
async def test_shopify_order_reference_that_cannot_exist(
    tools: ToolRunner, sandbox: SandboxControl, order_id: str
) -> None:
    """A quote cannot widen the order-name search; a gid that is not an order's is refused
    before calling."""
    call = TicketCall(params=OrderIdParams(order_id=order_id), platforms=SHOPIFY)
    with pytest.raises(NotFound) as raised:
        await tools.run("get_order_details", call)
    decided_at_once(raised.value, NotFound)
    if order_id.startswith("gid://"):
        assert sandbox.faults_served("shopify")["requests"] == 0


async def test_kustomer_email_cannot_end_the_path_early(tools: ToolRunner) -> None:
    """ "sam@example.com#x" is not Sam: the "#" must not cut the lookup to sam@example.com."""
    found = await tools.run(
        "get_kustomer_account_details", TicketCall(params=EmailParams(email="sam@example.com#x"))
    )
    assert not found.exists
    sam = await tools.run(
        "get_kustomer_account_details", TicketCall(params=EmailParams(email="sam@example.com"))
    )
    assert sam.exists


async def test_empty_claim_id_is_not_found_without_a_call(
    claims: ClaimActivities, sandbox: SandboxControl
) -> None:
    with pytest.raises(NotFound) as raised:
        await env.run(claims.get_carrier_claim, ClaimLookup(claim_id=""))
    decided_at_once(raised.value, NotFound)
    assert sandbox.faults_served("easypost")["requests"] == 0


# --- answers the connector cannot use: PlatformRejected, no customer data in the message -----


async def test_platform_data_the_connector_cannot_read_is_rejected_at_once(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    """A coupon the merchant made by hand under the code ticketflow derives, with an amount
    that is not a number: the coupon tool fails at once, naming the tool and where."""
    key = "ticket-web-1/n4"
    made = sandbox.client.post(
        f"/bigcommerce/stores/{SANDBOX_BIGCOMMERCE_STORE_HASH}/v2/coupons",
        json={
            "name": "by hand",
            "code": promotion_code(key),
            "type": "percentage_discount",
            "amount": "fifteen",
            "applies_to": {"entity": "categories", "ids": [0]},
        },
        headers={"X-Auth-Token": SANDBOX_BIGCOMMERCE_TOKEN},
    )
    assert made.status_code == 201
    call = TicketCall(
        params=FutureDiscountParams(email="alex@example.com", percent=15),
        platforms=BIGCOMMERCE,
        idempotency_key=key,
    )
    with pytest.raises(PlatformRejected) as raised:
        await tools.run("create_future_discount", call)
    error = decided_at_once(raised.value, PlatformRejected)
    assert error.platform == "bigcommerce"
    assert "@create_future_discount" in error.message and "ValueError" in error.message
    assert "bigcommerce.py" in error.message  # where, for the operator
    assert "alex@example.com" not in error.message and "fifteen" not in error.message
    assert error.__cause__ is None  # the original (which may quote data) is not sent along


async def test_helpdesk_answer_of_an_unknown_shape_is_rejected_at_once(
    tools: ToolRunner,
) -> None:
    answer_with(
        tools.platforms.connectors["zendesk"],
        lambda request: httpx.Response(
            200, json={"users": [{"id": "sam@example.com", "name": "Sam"}]}
        ),
    )
    call = TicketCall(helpdesk="zendesk", params=EmailParams(email="sam@example.com"))
    with pytest.raises(PlatformRejected) as raised:
        await tools.run("get_account_details", call)
    error = decided_at_once(raised.value, PlatformRejected)
    assert error.platform == "zendesk" and "ValidationError" in error.message
    assert "sam@example.com" not in error.message


async def test_claim_answer_missing_fields_is_rejected_at_once(claims: ClaimActivities) -> None:
    answer_with(claims.easypost, lambda request: httpx.Response(200, json={"id": "clm_1"}))
    with pytest.raises(PlatformRejected) as raised:
        await env.run(claims.get_carrier_claim, ClaimLookup(claim_id="clm_1"))
    error = decided_at_once(raised.value, PlatformRejected)
    assert error.platform == "easypost" and "KeyError" in error.message


# --- a real outage stays retryable ------------------------------------------------------------


async def test_outages_stay_retryable_through_the_guarded_tools(
    tools: ToolRunner, sandbox: SandboxControl
) -> None:
    call = TicketCall(params=OrderIdParams(order_id="5001"), platforms=BIGCOMMERCE)
    sandbox.fault("bigcommerce", fail_next=1, error_status=503)
    with pytest.raises(PlatformUnavailable) as unavailable:
        await tools.run("get_order_details", call)
    sandbox.fault("bigcommerce", rate_limit_next=1, retry_after=1)
    with pytest.raises(PlatformRateLimited) as limited:
        await tools.run("get_order_details", call)
    sandbox.fault("bigcommerce", latency_ms=1000)
    tools.platforms.connectors["bigcommerce"]._client.timeout = httpx.Timeout(0.2)
    with pytest.raises(PlatformUnavailable) as timed_out:
        await tools.run("get_order_details", call)
    for error in (unavailable.value, limited.value, timed_out.value):
        assert not error.non_retryable and error.type not in NON_RETRYABLE_ERROR_TYPES
    assert "timed out" in timed_out.value.message
    served = sandbox.faults_served("bigcommerce")
    assert (served["errors"], served["rate_limits"]) == (1, 1)


async def test_a_2xx_that_is_not_json_stays_retryable(claims: ClaimActivities) -> None:
    """A proxy's maintenance page answered with 200: the platform is not really there."""
    answer_with(
        claims.easypost,
        lambda request: httpx.Response(200, text="<html>Be right back</html>"),
    )
    with pytest.raises(PlatformUnavailable) as raised:
        await env.run(claims.get_carrier_claim, ClaimLookup(claim_id="clm_1"))
    assert not raised.value.non_retryable and raised.value.platform == "easypost"
