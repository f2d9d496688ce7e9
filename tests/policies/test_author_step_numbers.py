"""Lines indented under a numbered step stay its sub-steps, and steps are named by the
numbers the author wrote, so "step 4" in a diagnostic is the line that says 4."""

from __future__ import annotations

from policies.compiler import compile_policy
from policies.parser import Step, parse_policy

HEAD = "---\nid: sample\ntitle: Sample\nplatforms: [shopify]\n---\n"


def outline(steps: list[Step]) -> list[tuple[str, int]]:
    """(label, line) of every step, depth first."""
    out: list[tuple[str, int]] = []
    for step in steps:
        out.append((step.label, step.line))
        out += outline(step.children)
    return out


def test_bullets_indented_under_a_step_colon_condition_stay_its_children() -> None:
    body = (
        "Step 1: Ask for the order number.\n"  # line 6
        "Step 2: If the parcel was opened:\n"
        "    • Use @get_order_details(order_id: str) to see what was in it.\n"
        "    • If the moon is full → say hello\n"
        "    • If the tide is low → say goodbye\n"
        "Step 3: Inform the customer that we are done.\n"
    )
    steps = parse_policy(HEAD + body).steps
    assert outline(steps) == [
        ("1", 6),
        ("2", 7),
        ("2.a", 8),
        ("2.b", 9),
        ("2.c", 10),
        ("3", 11),
    ]


def test_unmarked_lines_indented_under_a_dash_numbered_step_stay_its_children() -> None:
    body = (
        "1 - Ask for the order number\n"  # line 6
        "2 - If the parcel is late, offer a coupon or a refund.\n"
        "      If the customer picks the coupon → say thanks\n"
        "      If the customer picks the refund → say sorry\n"
        "3 - Inform the customer that we are done.\n"
    )
    steps = parse_policy(HEAD + body).steps
    assert outline(steps) == [("1", 6), ("2", 7), ("2.a", 8), ("2.b", 9), ("3", 10)]


def test_roman_sub_steps_indented_under_a_letter_are_its_children() -> None:
    body = (
        "1. Ask what size they need.\n"  # line 6
        "   a. Look it up.\n"
        "   b. If it is missing, ask what they prefer.\n"
        "      i. If they prefer credit, say thanks.\n"
        "      ii. If they prefer cash, say sorry.\n"
        "2. Inform the customer that we are done.\n"
    )
    steps = parse_policy(HEAD + body).steps
    assert outline(steps) == [
        ("1", 6),
        ("1.a", 7),
        ("1.b", 8),
        ("1.b.i", 9),
        ("1.b.ii", 10),
        ("2", 11),
    ]


def test_steps_keep_the_numbers_the_author_wrote() -> None:
    body = "1. Ask for the order number.\n2. Say hello.\n4. Say goodbye.\n"
    assert [s.label for s in parse_policy(HEAD + body).steps] == ["1", "2", "4"]


def test_numbers_that_do_not_count_up_are_renumbered_in_order() -> None:
    body = "1. Ask for the order number.\n1. Say hello.\n1. Say goodbye.\n"
    assert [s.label for s in parse_policy(HEAD + body).steps] == ["1", "2", "3"]


def test_a_diagnostic_after_indented_sub_steps_names_the_authors_step() -> None:
    body = (
        "Step 1: Ask for the order number.\n"
        "Step 2: If the parcel was opened:\n"
        "    • Use @get_order_details(order_id: str).\n"
        "    • If the moon is full → say hello\n"
        "Step 3: Use @no_such_tool(order_id: str).\n"
    )
    result = compile_policy(HEAD + body)
    unknown = next(d for d in result.diagnostics if d.code == "TF001")
    assert unknown.line == 10
    assert unknown.message.startswith("Step 3 uses @no_such_tool")
