"""The one tool registry: every catalog entry is implemented by the connectors of its role,
with the parameters the entry declares, and becomes exactly one typed activity."""

from __future__ import annotations

import inspect
import typing

import pytest

from activities.platforms.base import PlatformRejected
from activities.platforms.carrier import StoreCarrier
from activities.tools import CONNECTORS, INTERNAL_NOTE, Platforms, ToolCall, tool_activities
from policies.catalog import CATALOG, ToolSpec
from policies.platforms import PLATFORM_ROLES
from policies.tool_models import OrderIdParams
from tests.platforms.tool_runner import TicketCall, ToolRunner, tool_runner
from ticketflow.settings import Settings


def _implementations(spec: ToolSpec) -> dict[str, type]:
    """Each platform whose connector (or, for the carrier, the store-carrier) has the
    entry's operation."""
    if spec.role == "carrier":
        return {"easypost": StoreCarrier} if hasattr(StoreCarrier, spec.operation) else {}
    candidates = (
        [spec.binds_to]
        if spec.binds_to in PLATFORM_ROLES
        else [p for p, roles in PLATFORM_ROLES.items() if spec.role in roles]
    )
    return {
        p: CONNECTORS[p]  # type: ignore[misc]
        for p in candidates
        if p in CONNECTORS and hasattr(CONNECTORS[p], spec.operation)
    }


@pytest.mark.parametrize("spec", list(CATALOG.values()), ids=list(CATALOG))
def test_every_tool_is_implemented_with_its_declared_parameters(spec: ToolSpec) -> None:
    implementations = _implementations(spec)
    assert implementations, f"no connector implements @{spec.name} ({spec.operation})"
    if spec.binds_to in CONNECTORS:
        assert spec.binds_to in implementations, f"{spec.binds_to} lacks {spec.operation}"
    expected = set(spec.params.model_fields)
    if spec.side_effect:
        expected.add("idempotency_key")
    if spec.role == "helpdesk" and spec.side_effect:
        expected.add("ticket_id")
    for platform, cls in implementations.items():
        signature = inspect.signature(getattr(cls, spec.operation))
        accepted = {name for name in signature.parameters if name != "self"}
        assert accepted == expected, f"{platform}.{spec.operation}{signature}"


def test_the_worker_gets_one_typed_activity_per_tool_and_the_note() -> None:
    activities = tool_activities(Platforms(Settings()))
    names = [fn.__name__ for fn in activities]
    assert names == [*CATALOG, INTERNAL_NOTE]
    for fn in activities[:-1]:
        spec = CATALOG[fn.__name__]
        hints = typing.get_type_hints(fn)
        assert hints["call"] == ToolCall[spec.params]  # type: ignore[name-defined]
        assert hints["return"] is spec.result


@pytest.fixture
async def tools(sandbox_settings: Settings):
    async with tool_runner(sandbox_settings) as runner:
        yield runner


async def test_a_role_no_platform_of_the_policy_fills_is_refused_by_name(
    tools: ToolRunner,
) -> None:
    """A policy on Zendesk alone asks for an order: there is no store to ask."""
    with pytest.raises(PlatformRejected, match="not available on any platform of this policy"):
        await tools.run(
            "get_order_details",
            TicketCall(params=OrderIdParams(order_id="5001"), platforms=["Zendesk"]),
        )


async def test_the_same_tool_runs_on_whichever_store_the_policy_names(tools: ToolRunner) -> None:
    orders = {
        "BigCommerce": "5001",
        "Shopify": "6001",
        "Stay AI": "7001",
        "Skio": "9001",
    }
    for platform, order_id in orders.items():
        order = await tools.run(
            "get_order_details",
            TicketCall(params=OrderIdParams(order_id=order_id), platforms=[platform, "Zendesk"]),
        )
        assert order.id == order_id and order.platform == platform.lower().replace(" ", "")
