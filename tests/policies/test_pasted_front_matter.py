"""Policies pasted without (all of) their front matter: the id comes from the file name
(or the title), the title from the document's own title line, the platforms from the
platform tools the steps call, and one TF022 warning says what was chosen and shows the
front matter that would choose it."""

from __future__ import annotations

from pathlib import Path

from policies.compiler import CompileResult, compile_policy
from policies.library import load_library

from .conftest import codes

STEPS = "1. Ask for the customer's email address.\n2. Inform the customer that we are on it.\n"


def inferred(result: CompileResult) -> str:
    """The text of the single inferred-front-matter warning (message and fix)."""
    found = [d for d in result.diagnostics if d.code == "TF022"]
    assert len(found) == 1, [d.render() for d in result.diagnostics]
    assert found[0].severity == "warning"
    return f"{found[0].message}\n{found[0].fix}"


def test_a_file_with_no_front_matter_takes_its_id_from_the_file_name() -> None:
    result = compile_policy(
        "Gift Card Balance\n\n" + STEPS, path="exports/Gift Card-Balance (v2).md"
    )
    assert result.ok, [d.render() for d in result.diagnostics]
    assert result.plan is not None and result.plan.id == "gift_card_balance_v2"
    text = inferred(result)
    assert "gift_card_balance_v2" in text
    assert "---\nid: gift_card_balance_v2\ntitle: Gift Card Balance\n" in text


def test_front_matter_without_id_takes_the_id_from_the_file_name() -> None:
    source = "---\ntitle: Loyalty Points\nticket_types: [Points]\n---\n" + STEPS
    result = compile_policy(source, path="points.md")
    assert result.plan is not None and result.plan.id == "points"
    assert result.plan.title == "Loyalty Points"
    assert result.plan.ticket_types == ["Points"]
    assert "id: points" in inferred(result)


def test_without_a_path_the_id_comes_from_the_title() -> None:
    result = compile_policy("# Gift Wrap Requests\n\n" + STEPS)
    assert result.plan is not None and result.plan.id == "gift_wrap_requests"
    assert result.plan.title == "Gift Wrap Requests"


def test_without_path_or_title_a_missing_id_is_still_an_error() -> None:
    result = compile_policy(STEPS)
    assert result.plan is None
    assert "TF010" in codes(result)


def test_a_file_name_that_is_no_id_falls_back_to_the_title() -> None:
    result = compile_policy("Parcel Lost In Transit\n\n" + STEPS, path="2024.md")
    assert result.plan is not None and result.plan.id == "parcel_lost_in_transit"


def test_a_caller_that_files_policies_by_their_id_still_needs_one() -> None:
    """The policy store looks policies up by the id their source declares."""
    result = compile_policy("# Gift Wrap Requests\n\n" + STEPS, require_id=True)
    assert result.plan is None
    error = next(d for d in result.diagnostics if d.code == "TF010")
    assert error.fix is not None and "id: gift_wrap_requests" in error.fix


def test_an_id_in_the_front_matter_wins_and_nothing_is_reported() -> None:
    source = "---\nid: wrap\ntitle: Wrap\n---\n# Gift Wrap Requests\n\n" + STEPS
    result = compile_policy(source, path="something_else.md")
    assert result.plan is not None and result.plan.id == "wrap"
    assert "TF022" not in codes(result)


def test_the_first_heading_that_is_not_a_section_is_the_title() -> None:
    source = "---\nid: wrap\n---\n## When to use\nA customer wants gift wrap.\n\n# Gift Wrap\n\n"
    result = compile_policy(source + "## Steps\n" + STEPS)
    assert result.plan is not None and result.plan.title == "Gift Wrap"
    assert result.plan.when_to_use == "A customer wants gift wrap."


def test_a_title_like_first_line_is_the_title_not_part_of_when_to_use() -> None:
    source = "Gift Wrap Requests\n\nUse this when a customer asks for gift wrap.\n\n" + STEPS
    result = compile_policy(source, path="wrap.md")
    assert result.plan is not None and result.plan.title == "Gift Wrap Requests"
    assert result.plan.when_to_use == "Use this when a customer asks for gift wrap."


def test_a_first_line_that_is_a_sentence_or_a_label_is_not_a_title() -> None:
    for first in (
        "Use this when a customer asks for gift wrap.",
        "When to use: a customer asks for gift wrap",
        "Applies to: customers who want gift wrap",
    ):
        result = compile_policy(f"{first}\n\n{STEPS}", path="gift_wrap.md")
        assert result.plan is not None, first
        assert result.plan.title == "gift_wrap", first
        assert "gift wrap" in result.plan.when_to_use, first


def test_platforms_come_from_the_platform_tools_the_steps_call() -> None:
    source = (
        "---\nid: lookup\ntitle: Lookup\n---\n"
        "1. Ask for the customer's email address and order number.\n"
        "2. Use @shopify_order_details(order_id: str).\n"
        "3. Use @get_order_details(order_id: str).\n"
        "4. Use @get_kustomer_account_details(email: str).\n"
    )
    result = compile_policy(source)
    assert result.ok, [d.render() for d in result.diagnostics]
    assert result.plan is not None and result.plan.platforms == ["shopify", "kustomer"]
    # the generic store tool binds to the platform the steps named
    assert result.plan.roles["store"] == "shopify"
    assert "TF014" not in codes(result)
    text = inferred(result)
    assert "@shopify_order_details" in text and "platforms: [shopify, kustomer]" in text


def test_listed_platforms_are_kept_even_when_a_tool_needs_another() -> None:
    source = (
        "---\nid: lookup\ntitle: Lookup\nplatforms: [bigcommerce]\n---\n"
        "1. Ask for the order number.\n"
        "2. Use @shopify_order_details(order_id: str).\n"
    )
    result = compile_policy(source)
    assert result.plan is not None and result.plan.platforms == ["bigcommerce"]
    assert "TF014" in codes(result)
    assert "TF022" not in codes(result)


def test_only_generic_tools_and_no_platform_names_the_platforms_that_could_fill_it() -> None:
    source = (
        "---\nid: lookup\ntitle: Lookup\n---\n"
        "1. Ask for the email address.\n2. Use @get_subscriptions(email: str).\n"
    )
    result = compile_policy(source)
    error = next(d for d in result.diagnostics if d.code == "TF013")
    assert error.fix is not None
    assert "Stay AI (`stayai`)" in error.fix and "Skio (`skio`)" in error.fix
    assert "platforms: [stayai]" in error.fix


def test_an_id_taken_from_a_file_name_must_still_be_unique_in_the_library(
    tmp_path: Path,
) -> None:
    (tmp_path / "a_wrap.md").write_text("---\nid: gift_wrap\ntitle: Wrap\n---\n" + STEPS)
    (tmp_path / "gift_wrap.md").write_text("Gift Wrap Again\n\n" + STEPS)
    library = load_library(tmp_path)
    assert list(library.plans) == ["gift_wrap"]
    duplicate = [d for r in library.results for d in r.diagnostics if d.code == "TF018"]
    assert len(duplicate) == 1 and duplicate[0].path == str(tmp_path / "gift_wrap.md")


def test_a_reference_to_a_policy_named_after_its_file_resolves(tmp_path: Path) -> None:
    (tmp_path / "gift_wrap.md").write_text("Gift Wrap Requests\n\n" + STEPS)
    (tmp_path / "caller.md").write_text(
        "---\nid: caller\ntitle: Caller\n---\n1. Proceed with #Gift Wrap Requests.\n"
    )
    library = load_library(tmp_path)
    caller = next(r for r in library.results if r.plan and r.plan.id == "caller")
    assert caller.ok and caller.plan is not None and caller.plan.policies == ["gift_wrap"]
