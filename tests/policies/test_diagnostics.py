"""Every diagnostic code: where it points, what it says, what it suggests instead."""

from __future__ import annotations

from pathlib import Path

from policies.compiler import compile_policy
from policies.diagnostics import CODES
from policies.library import load_library

from .conftest import codes, compile_body


def only(result, code: str):
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.render() for d in result.diagnostics]
    return found[0]


def test_unknown_tool_suggests_the_closest_name_and_points_at_it() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @skio_order_detail(order_id: str).\n",
        platforms="[skio, kustomer]",
    )
    d = only(r, "TF001")
    assert d.severity == "error" and r.plan is None
    assert (d.line, d.column) == (7, 8) and d.length == len("@skio_order_detail")
    assert "Did you mean @skio_order_details?" in (d.fix or "")
    assert "^^^^" in d.render() and "UNKNOWN TOOL" in d.render()


def test_unknown_argument() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @bigcommerce_order_details(order: str).\n"
    )
    d = only(r, "TF002")
    assert "`order`" in d.message and "Did you mean `order_id`?" in (d.fix or "")


def test_missing_argument_explains_where_it_looked() -> None:
    r = compile_body(
        "1. Use @create_stayai_order(items: list, address: json, user_email: str).\n",
        platforms="[stayai, kustomer]",
    )
    d = only(r, "TF003")
    assert "needs `items`" in d.message and "$order.items" in d.message


def test_wrong_argument_type() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @bigcommerce_order_details(order_id: int).\n"
    )
    d = only(r, "TF004")
    assert "a text (str)" in d.message and "`order_id: str`" in (d.fix or "")


def test_unknown_policy_reference_suggests_a_library_policy() -> None:
    r = compile_body("1. If the user declines, proceed with #Refnd Policy.\n")
    d = only(r, "TF005")
    assert "#Refnd Policy" in d.message and "Did you mean #refund?" in (d.fix or "")


def test_variable_used_before_it_is_bound() -> None:
    r = compile_body("1. Say “Your order is $ordr.status.”\n2. Ask for the order number.\n")
    d = only(r, "TF006")
    assert "$ordr" in d.message and d.column == 23


def test_branch_with_no_steps_is_an_error() -> None:
    r = compile_body("1. If the user accepts:\n2. Ask for the order number.\n")
    assert only(r, "TF007").severity == "error" and r.plan is None


def test_unrecognised_step_is_a_warning_and_compiles_as_a_note() -> None:
    r = compile_body("1. Double-check everything carefully.\n")
    d = only(r, "TF008")
    assert d.severity == "warning" and r.plan is not None
    assert r.plan.steps[0].kind == "note" and r.plan.steps[0].recognised is False


def test_several_tools_in_one_step_is_ambiguous() -> None:
    r = compile_body(
        "1. Ask for the order number.\n"
        "2. Apply it with @set_discount_to_order or @upgrade_shipping.\n"
    )
    assert "@set_discount_to_order, @upgrade_shipping" in only(r, "TF009").message


def test_front_matter_problems() -> None:
    bad_yaml = compile_policy("---\nid: [unclosed\n---\n1. Ask for the email.\n")
    assert only(bad_yaml, "TF010").line == 2
    no_id = compile_policy("---\ntitle: No id\n---\n1. Ask for the email.\n", require_id=True)
    assert "needs an `id`" in only(no_id, "TF010").message and no_id.plan is None
    # without `require_id` the title names it, and a warning says so
    named = compile_policy("---\ntitle: No id\n---\n1. Ask for the email.\n")
    assert only(named, "TF022").severity == "warning"
    assert named.plan is not None and named.plan.id == "no_id"
    platform = compile_body("1. Ask for the email.\n", platforms="[bigcomerce]")
    assert "Did you mean `bigcommerce`?" in (only(platform, "TF010").fix or "")


def test_condition_syntax_error() -> None:
    r = compile_body('1. Ask for the order number.\n2. If $order_id === "1": route to an agent.\n')
    assert "==" in (only(r, "TF011").fix or "")


def test_unknown_plain_word_condition() -> None:
    r = compile_body("1. If the moon is full, route the case to an agent.\n")
    assert only(r, "TF012").severity == "warning"


def test_generic_tool_without_a_platform_for_its_role() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @cancel_order(order_id: str).\n",
        platforms="[kustomer]",
    )
    d = only(r, "TF013")
    assert "store platform" in d.message and "bigcommerce" in (d.fix or "")


def test_platform_tool_not_listed_in_front_matter() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @bigcommerce_order_details(order_id: str).\n",
        platforms="[shopify, zendesk]",
    )
    assert "BigCommerce" in only(r, "TF014").message


def test_policy_named_in_plain_words() -> None:
    r = compile_body("1. Proceed as outlined in the refund policy.\n")
    assert "`#refund`" in (only(r, "TF015").fix or "")


def test_no_steps() -> None:
    r = compile_body("Just a description, no logic.\n")
    assert only(r, "TF016").severity == "error"


def test_unknown_field_of_a_tool_result() -> None:
    r = compile_body(
        "1. Ask for the order number.\n2. Use @get_order_details(order_id: str).\n"
        "3. Say “It is $order.colour.”\n"
    )
    d = only(r, "TF017")
    assert "no field `colour`" in d.message and "currency" in (d.fix or "")


def test_duplicate_policy_ids_in_a_library(tmp_path: Path) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("---\nid: twin\ntitle: Twin\n---\n1. Ask for the email.\n")
    library = load_library(tmp_path)
    assert [c for r in library.results for c in codes(r)] == ["TF018"]
    assert not library.ok


def test_unknown_setting_is_kept_but_flagged() -> None:
    r = compile_body("1. Ask for the email.\n", extra="reminder_afer: 24h\n")
    d = only(r, "TF019")
    assert "Did you mean `reminder_after`?" in (d.fix or "")
    assert r.plan is not None and r.plan.settings == {"reminder_afer": "24h"}


def test_claim_follow_up_settings_are_known() -> None:
    extra = "claim_check_every: 12h\nclaim_deadline: 14d\nclaim_weekly_update: false\n"
    r = compile_body("1. Ask for the email.\n", extra=extra)
    assert codes(r) == []
    assert r.plan is not None and r.plan.settings["claim_deadline"] == "14d"


def test_every_code_is_covered_by_a_test() -> None:
    text = Path(__file__).read_text()
    assert all(f'"{code}"' in text for code in CODES)


def test_an_ending_must_name_an_outcome_ticketflow_records() -> None:
    r = compile_body("1. Ask for the email.\n2. End the conversation as refundd.\n")
    d = only(r, "TF020")
    assert d.severity == "error" and r.plan is None and (d.line, d.column) == (7, 28)
    assert "`refundd`" in d.message and "Did you mean `refunded`?" in (d.fix or "")
    ok = compile_body("1. Ask for the email.\n2. End the conversation as claim filed.\n")
    assert codes(ok) == [] and ok.plan is not None
    assert ok.plan.steps[-1].kind == "end" and ok.plan.steps[-1].outcome == "claim_filed"


def test_a_successful_call_says_its_outcome_from_the_catalog_not_the_tool_name() -> None:
    # `create_future_discount` is a coupon that keeps the customer: retained, not reshipped.
    r = compile_body(
        "1. Ask for the order number.\n"
        "2. Use @create_future_discount(email: $customer.email, percent: 10).\n",
        platforms="[bigcommerce, kustomer]",
    )
    assert r.plan is not None, [d.render() for d in r.diagnostics]
    call = r.plan.steps[1]
    assert call.kind == "call" and call.outcome == "retained"


def test_customer_facing_syntax_is_flagged_with_the_rewrite_that_is_sent() -> None:
    r = compile_body(
        "1. Ask for the order number.\n"
        '2. Reply with "We will reship your order using #Reshipment policy."\n'
        '3. Offer the customer a choice "Which do you prefer? See @get_order_details":\n'
        "   - Replacement: Reship the order using #Reshipment.\n"
        "   - Refund: Issue a refund using #Refund.\n",
    )
    found = [d for d in r.diagnostics if d.code == "TF021"]
    assert [d.severity for d in found] == ["warning", "warning"], [
        d.render() for d in r.diagnostics
    ]
    message, prompt = found
    assert (message.line, message.column) == (7, 48)  # points at the reference itself
    assert "`#Reshipment policy`" in message.message
    assert "I'll send “We will reship your order.” instead" in message.message
    assert "“We will reship your order.”" in (message.fix or "")
    assert "CUSTOMER FACING SYNTAX" in message.render()
    assert "`@get_order_details`" in prompt.message and "“Which do you prefer? See”" in (
        prompt.fix or ""
    )
    assert r.plan is not None
    say = r.plan.steps[1]
    assert say.kind == "say" and say.text == "We will reship your order."
    offer = r.plan.steps[2]
    assert [o.label for o in offer.options] == ["Replacement", "Refund"]
    # derived from the option's action, not written for the customer: rewritten silently
    assert [o.description for o in offer.options] == ["Reship your order.", "Issue a refund."]


def test_filled_vars_in_a_message_are_not_customer_facing_syntax() -> None:
    r = compile_body(
        "1. Ask for the order number.\n"
        "2. Use @bigcommerce_order_details(order_id: str).\n"
        "3. Use macro: “Order $order_id is $order.status.”\n"
    )
    assert "TF021" not in codes(r)


def test_a_role_filled_from_the_deployment_default_is_a_warning() -> None:
    source = (
        "---\nid: sample\ntitle: Sample\n---\n"
        "1. Ask for the order number.\n2. Use @cancel_order(order_id: str).\n"
    )
    d = only(compile_policy(source, default_platforms=["bigcommerce"]), "TF023")
    assert d.severity == "warning" and d.line == 6
    assert "BigCommerce" in d.message and "platforms: [bigcommerce]" in (d.fix or "")
