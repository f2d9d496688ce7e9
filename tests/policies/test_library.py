"""The bundled library compiles clean, references resolve, routing finds the right policy."""

from __future__ import annotations

import time

from policies.library import PolicyLibrary, load_library
from policies.plan import CallNode, UsePolicyNode

EXPECTED = {
    "cancel_order_retention_bigcommerce_kustomer",
    "cancel_order_retention_bigcommerce_salesforce",
    "cancel_order_retention_stayai_zendesk",
    "single_order_cancellation",
    "reshipment",
    "reshipment_skio_kustomer",
    "shipment_not_received",
    "refund",
    "restart_subscription",
    "swap_subscription_product",
    "skip_next_shipment",
}


def test_library_compiles_with_zero_errors_and_zero_warnings(library: PolicyLibrary) -> None:
    assert {r.plan.id for r in library.results if r.plan} == EXPECTED
    assert [d.render() for r in library.results for d in r.diagnostics] == []


def test_every_hand_over_resolves_to_a_library_policy(library: PolicyLibrary) -> None:
    hand_overs = [
        node
        for plan in library.plans.values()
        for node in plan.walk()
        if isinstance(node, UsePolicyNode)
    ]
    assert hand_overs, "the library has no #hand-overs, so nothing was checked"
    for node in hand_overs:
        assert node.policy_id in library.plans


def test_platform_specific_and_generic_retention_variants(library: PolicyLibrary) -> None:
    kustomer = library.get("cancel_order_retention_bigcommerce_kustomer")
    assert {
        "bigcommerce_set_discount",
        "bigcommerce_shipping_upgrade",
        "bigcommerce_product_swap",
        "bigcommerce_discount_future",
        "kustomer_send_async_message",
    } <= set(kustomer.tools)
    salesforce = library.get("cancel_order_retention_bigcommerce_salesforce")
    message = next(
        n for n in salesforce.walk() if isinstance(n, CallNode) and n.tool == "send_async_message"
    )
    assert message.platform == "salesforce"
    stayai = library.get("cancel_order_retention_stayai_zendesk")
    discount = next(
        n for n in stayai.walk() if isinstance(n, CallNode) and n.tool == "set_discount_to_order"
    )
    assert discount.platform == "stayai" and stayai.roles["helpdesk"] == "zendesk"


def test_get_accepts_reference_style_names(library: PolicyLibrary) -> None:
    assert library.get("#Reshipment Policy").id == "reshipment"
    assert library.get("Single_order_cancellation_policy").id == "single_order_cancellation"


def test_match_routes_by_ticket_type_and_trigger(library: PolicyLibrary) -> None:
    assert (p := library.match("Skip next shipment")) and p.id == "skip_next_shipment"
    hit = library.match("Hi, I never received my package, tracking says delivered?")
    assert hit is not None and hit.id == "shipment_not_received"
    assert library.match("qwerty zxcv") is None


def test_whole_library_compiles_well_under_a_second() -> None:
    start = time.perf_counter()
    load_library()
    assert time.perf_counter() - start < 1.0


def test_reshipment_ships_to_the_new_address_else_the_saved_one(library: PolicyLibrary) -> None:
    plan = library.get("reshipment")
    create = next(
        n for n in plan.walk() if isinstance(n, CallNode) and n.tool == "create_stayai_order"
    )
    assert str(create.args["address"]) == (
        "$new_address ?? $account.address ?? $order.shipping_address"
    )
    assert str(create.args["items"]) == "$order.items"
    paid = next(n for n in plan.walk() if isinstance(n, CallNode) and n.tool == "set_order_to_paid")
    assert str(paid.args["order_id"]) == "$new_order.order_id"
