"""The catalog holds every tool the seeds name, spelled as they spell it, with typed contracts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from policies.catalog import CATALOG, get_tool
from policies.platforms import platform_key, resolve_platform

SEED_TOOLS = [
    "set_discount_to_order",
    "upgrade_shipping",
    "send_async_message",
    "stayai_order_details",
    "create_stayai_order",
    "update_stayai_address",
    "set_order_to_paid",
    "check_reshipment_eligibility",
    "get_kustomer_account_details",
    "get_skio_account_details",
    "skio_order_details",
    "get_tracking_info",
    "file_carrier_claim",
    "bigcommerce_order_details",
    "bigcommerce_shipping_upgrade",
    "bigcommerce_product_swap",
    "bigcommerce_discount_future",
    "bigcommerce_set_discount",
    "kustomer_send_async_message",
    "shopify_order_details",
]
LIBRARY_TOOLS = [
    "skip_next_shipment",
    "swap_subscription_product",
    "reactivate_subscription",
    "cancel_subscription",
    "refund_order",
    "cancel_order",
    "handoff_to_agent",
]


@pytest.mark.parametrize("name", SEED_TOOLS + LIBRARY_TOOLS)
def test_every_needed_tool_is_in_the_catalog_with_typed_models(name: str) -> None:
    spec = get_tool("@" + name)
    assert spec.name == name
    assert issubclass(spec.params, BaseModel) and issubclass(spec.result, BaseModel)
    assert spec.description and "\n" not in spec.description


def test_seed_signatures_match_the_catalog_types() -> None:
    assert get_tool("create_stayai_order").signature() == (
        "@create_stayai_order(items: list, address: json, user_email: str)"
    )
    assert get_tool("update_stayai_address").signature() == (
        "@update_stayai_address(address_id: str, new_address: json)"
    )
    assert get_tool("set_discount_to_order").param_type("percent") == "int"


def test_side_effects_are_marked() -> None:
    assert get_tool("refund_order").side_effect and get_tool("file_carrier_claim").side_effect
    assert not get_tool("skio_order_details").side_effect
    assert not get_tool("get_tracking_info").side_effect


def test_platform_specific_tools_bind_to_their_platform_and_generic_ones_to_a_role() -> None:
    assert get_tool("bigcommerce_set_discount").binds_to == "bigcommerce"
    assert get_tool("kustomer_send_async_message").binds_to == "kustomer"
    assert get_tool("set_discount_to_order").binds_to == "store"
    assert get_tool("send_async_message").binds_to == "helpdesk"
    assert get_tool("file_carrier_claim").binds_to == "carrier"


def test_roles_resolve_from_the_policy_platforms() -> None:
    assert resolve_platform("store", ["stayai", "zendesk"]) == "stayai"
    # The order is the author's (and at run time the entry policy's platforms come first).
    assert resolve_platform("store", ["stayai", "bigcommerce"]) == "stayai"
    assert resolve_platform("store", ["shopify", "skio", "kustomer"]) == "shopify"
    assert resolve_platform("subscriptions", ["shopify", "skio", "kustomer"]) == "skio"
    assert resolve_platform("helpdesk", ["BigCommerce", "Salesforce Service Cloud"]) == (
        "salesforce"
    )
    assert resolve_platform("subscriptions", ["skio", "kustomer"]) == "skio"
    assert resolve_platform("carrier", ["skio"]) == "easypost"
    assert resolve_platform("store", ["kustomer"]) is None
    assert platform_key("Stay AI") == "stayai"


def test_fingerprint_covers_the_contract() -> None:
    fp = CATALOG["refund_order"].fingerprint()
    assert fp["side_effect"] is True and "order_id" in fp["params"]["properties"]
