"""A deployment's default platforms: a policy that names no platform for a role its generic
tools need runs on the one platform the deployment lists for that role, with a warning
that says so; without one (or with several) it stays TF013."""

from __future__ import annotations

import pydantic
import pytest

from policies.compiler import compile_policy
from policies.plan import CallNode

from .conftest import FIXTURES

#: A policy whose only tool is generic: nothing in it names a store.
LOOKUP = (
    "---\nid: order_lookup\ntitle: Order lookup\nplatforms: [kustomer]\n---\n"
    "1. Ask for the order number.\n"
    "2. Use @get_order_details(order_id: str).\n"
    "3. Tell the customer: Your order is $order.status.\n"
)
TOOL_LINE = 7


def _calls(result) -> list[CallNode]:
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    return [n for n in result.plan.walk() if isinstance(n, CallNode)]


def test_without_defaults_a_generic_tool_with_no_platform_is_an_error() -> None:
    result = compile_policy(LOOKUP)
    assert [d.code for d in result.errors] == ["TF013"]
    assert result.plan is None
    assert "TICKETFLOW_DEFAULT_PLATFORMS" in (result.errors[0].fix or "")


def test_the_deployment_default_fills_the_role_with_a_warning() -> None:
    result = compile_policy(LOOKUP, default_platforms=["shopify", "kustomer"])
    assert result.errors == []
    assert result.plan is not None
    assert result.plan.roles["store"] == "shopify"
    assert result.plan.platforms == ["kustomer", "shopify"]
    assert [c.platform for c in _calls(result)] == ["shopify"]
    [warning] = [d for d in result.warnings if d.code == "TF023"]
    assert warning.line == TOOL_LINE and warning.source_line[warning.column - 1 :].startswith(
        "@get_order_details"
    )
    assert "Shopify" in warning.message and "TICKETFLOW_DEFAULT_PLATFORMS" in warning.message
    assert "platforms: [kustomer, shopify]" in (warning.fix or "")


def test_two_default_platforms_for_the_role_leave_the_error() -> None:
    result = compile_policy(LOOKUP, default_platforms=["shopify", "bigcommerce", "kustomer"])
    assert [d.code for d in result.errors] == ["TF013"]
    assert result.plan is None
    fix = result.errors[0].fix or ""
    assert "Shopify" in fix and "BigCommerce" in fix and "TICKETFLOW_DEFAULT_PLATFORMS" in fix


def test_a_default_that_cannot_fill_the_role_leaves_the_error() -> None:
    result = compile_policy(LOOKUP, default_platforms=["zendesk"])
    assert [d.code for d in result.errors] == ["TF013"]


def test_the_front_matter_wins_over_the_default() -> None:
    named = LOOKUP.replace("[kustomer]", "[bigcommerce, kustomer]")
    without = compile_policy(named)
    result = compile_policy(named, default_platforms=["shopify"])
    assert [d.code for d in result.diagnostics] == []
    assert result.plan is not None and without.plan is not None
    assert result.plan.roles["store"] == "bigcommerce"
    assert result.plan == without.plan


def test_the_plan_records_what_was_assumed() -> None:
    """A stored version keeps its meaning: another default is another version, and the
    plan's own platforms, given back as the defaults, compile to the same plan."""
    shopify = compile_policy(LOOKUP, default_platforms=["shopify"]).plan
    bigcommerce = compile_policy(LOOKUP, default_platforms=["bigcommerce"]).plan
    assert shopify is not None and bigcommerce is not None
    assert shopify.version != bigcommerce.version
    again = compile_policy(LOOKUP, default_platforms=shopify.platforms).plan
    assert again == shopify


def test_an_offer_option_named_in_words_runs_on_the_default_store() -> None:
    text = (
        "---\nid: late_parcel\ntitle: Late parcel\n---\n"
        "1. Ask for the order number.\n"
        "2. Offer a 10% discount on the order or free shipping.\n"
    )
    assert {d.code for d in compile_policy(text).diagnostics} == {"TF008"}  # kept as a note
    result = compile_policy(text, default_platforms=["shopify"])
    assert [d.code for d in result.diagnostics] == ["TF023"]
    assert [(c.tool, c.platform) for c in _calls(result)] == [
        ("set_discount_to_order", "shopify"),
        ("upgrade_shipping", "shopify"),
    ]


def test_a_pasted_sop_without_front_matter_takes_the_default() -> None:
    path = FIXTURES / "newuser" / "late_delivery_tracking.md"
    text = path.read_text(encoding="utf-8")
    assert "TF013" in {d.code for d in compile_policy(text, path=str(path)).errors}
    result = compile_policy(text, path=str(path), default_platforms=["shopify", "kustomer"])
    assert "TF013" not in {d.code for d in result.diagnostics}
    assert "TF023" in {d.code for d in result.warnings}
    assert result.plan is not None and result.plan.roles["store"] == "shopify"


def test_a_subscriptions_tool_is_not_run_on_a_store_default() -> None:
    path = FIXTURES / "newuser" / "subscription_pause.md"
    result = compile_policy(
        path.read_text(encoding="utf-8"), path=str(path), default_platforms=["shopify", "kustomer"]
    )
    assert {d.code for d in result.errors} == {"TF013"}


def test_a_misspelt_default_platform_is_refused_with_the_names_it_could_be() -> None:
    """Fail closed: "shopfy" would otherwise be dropped and every generic tool left unbound."""
    from ticketflow.settings import Settings

    with pytest.raises(pydantic.ValidationError) as refused:
        Settings(default_platforms="shopfy,kustomer")
    assert "shopfy" in str(refused.value)
    assert "shopify" in str(refused.value)
    assert Settings(default_platforms="Shopify, web").default_platforms == ["shopify", "web"]
