"""SOPs as CX teams paste them (issue 14, item 4): Google Docs, Notion and Word exports,
emails and chat pastes, mixed numbering. Every fixture in `fixtures/messy/` compiles with
no diagnostic at all; a few are read back node by node."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.compiler import CompileResult, compile_policy
from policies.plan import AskNode, BranchNode, OfferNode, SayNode, UsePolicyNode

from .conftest import FIXTURES, compile_body

MESSY = sorted((FIXTURES / "messy").glob("*.md"))


def compiled(name: str) -> CompileResult:
    path = FIXTURES / "messy" / f"{name}.md"
    # newline="": Windows line endings reach the compiler as exported
    with path.open(encoding="utf-8", newline="") as f:
        return compile_policy(f.read(), path=str(path))


def test_there_are_messy_fixtures_in_many_styles() -> None:
    assert len(MESSY) >= 15


@pytest.mark.parametrize("path", MESSY, ids=lambda p: p.stem)
def test_messy_export_compiles_with_no_diagnostic(path: Path) -> None:
    result = compiled(path.stem)
    assert result.diagnostics == [], "\n".join(d.render() for d in result.diagnostics)
    assert result.plan is not None and len(result.plan.walk()) >= 5


def test_google_docs_export_compound_ask_heading_line_and_inline_options() -> None:
    plan = compiled("gdocs_damaged_parcel").plan
    assert plan is not None
    ask = plan.steps[0]
    # "Ask for the user's email address and the order number": one ask, two facts
    assert isinstance(ask, AskNode)
    assert ask.facts == [("email", "email"), ("order_number", "order_id")]
    assert ask.question == "Could you please share your email address and the order number?"
    # "Confirm the damage" on its own line: a section title, its lettered sub-steps run
    assert [(n.kind, n.step) for n in plan.steps[2:4]] == [("ask", "3.a"), ("ask", "3.b")]
    assert not any(n.kind == "note" for n in plan.walk())
    # "Offer the customer a choice:- Replacement: … - Refund: …"
    offer = plan.steps[4]
    assert isinstance(offer, OfferNode)
    assert [(o.label, o.description) for o in offer.options] == [
        ("Replacement", "Reship your order."),
        ("Refund", "Issue a refund."),
    ]
    assert [
        o.steps[0].policy_id for o in offer.options if isinstance(o.steps[0], UsePolicyNode)
    ] == ["reshipment", "refund"]
    # "If the user declines, use macro: “…”" and "Route the case to an agent."
    declines = plan.steps[5]
    assert isinstance(declines, BranchNode) and isinstance(declines.then[0], SayNode)
    assert declines.then[0].macro and declines.then[0].text.startswith("Thanks for letting us")
    assert plan.steps[6].kind == "escalate"


def test_word_export_with_tabs_three_inline_options() -> None:
    plan = compiled("word_tabs_damaged").plan
    assert plan is not None
    offer = next(n for n in plan.steps if isinstance(n, OfferNode))
    assert [o.label for o in offer.options] == ["Replacement", "Refund", "Store credit"]
    assert [o.steps[0].kind for o in offer.options] == ["use_policy", "use_policy", "call"]


def test_notion_export_bold_headings_group_their_bullets() -> None:
    plan = compiled("notion_skip_box").plan
    assert plan is not None
    assert [(n.kind, n.step) for n in plan.steps] == [
        ("ask", "1.a"),
        ("call", "1.b"),
        ("call", "2.a"),
        ("call", "2.b"),
        ("say", "2.c"),
        ("end", ""),
    ]
    assert "**" not in plan.steps[4].source


def test_word_export_windows_line_endings_restarted_numbering_and_parenthesised_letters() -> None:
    assert b"\r\n" in (FIXTURES / "messy" / "word_refund_crlf.md").read_bytes()
    refund = compiled("word_refund_crlf").plan
    assert refund is not None
    # "(a) If …" / "(b) If …" under "2)": branches, not notes and not an unconditional escalation
    assert [(n.kind, n.step) for n in refund.steps] == [
        ("ask", "1"),
        ("call", "2"),
        ("branch", "2.a"),
        ("branch", "2.b"),
        ("call", "3"),
        ("say", "4"),
        ("end", ""),
    ]
    cancel = compiled("word_cancel_subscription").plan
    assert cancel is not None
    offer = cancel.steps[3]
    assert isinstance(offer, OfferNode) and [o.label for o in offer.options] == [
        "Skip instead",
        "Keep it",
    ]
    assert cancel.steps[-1].kind == "end" and cancel.steps[-1].outcome == "cancelled"


def test_mixed_numbering_and_sentence_case_section_lines() -> None:
    plan = compiled("mixed_numbering_retention").plan
    assert plan is not None
    ask = plan.steps[0]
    assert isinstance(ask, AskNode) and ask.facts == [
        ("order_number", "order_id"),
        ("email", "email"),
    ]
    assert [(n.kind, n.step) for n in plan.steps[1:4]] == [
        ("call", "2.a"),
        ("branch", "2.b"),
        ("offer", "3.a"),
    ]
    offer = plan.steps[3]
    assert isinstance(offer, OfferNode) and len(offer.options) == 2


def test_non_breaking_spaces_do_not_hide_a_macro() -> None:
    plan = compiled("gdocs_address_update").plan
    assert plan is not None
    assert plan.when_to_use.startswith("When to use: a subscriber moved")
    say = plan.steps[4]
    assert isinstance(say, SayNode) and say.macro
    assert say.text == "All set! Your next box will go to the new address."


def test_offer_prompt_is_phrased_for_the_policys_situation() -> None:
    body = "1. Offer the customer a choice:\n   - Refund: Issue a refund using #Refund.\n"
    lost = compile_body(body, extra="ticket_types: [Shipment not received]\n").plan
    cancel = compile_body(body, extra="ticket_types: [Cancel order]\n").plan
    assert lost is not None and cancel is not None
    assert lost.steps[0].prompt == "Here are the options we can offer you:"  # type: ignore[union-attr]
    assert cancel.steps[0].prompt.startswith("Before we go ahead")  # type: ignore[union-attr]


def test_step_n_prefixes_roman_sub_steps_checklists_and_single_curly_quotes() -> None:
    plan = compiled("word_outline_step_numbers").plan
    assert plan is not None
    assert [(n.kind, n.step) for n in plan.steps] == [
        ("ask", "1"),
        ("call", "2"),
        ("ask", "3"),
        ("branch", "3.a"),
        ("branch", "3.b"),
        ("say", "4"),
        ("branch", "5"),
        ("end", ""),
    ]
    say = plan.steps[5]
    assert (
        isinstance(say, SayNode) and say.text == "Thanks for waiting — we’re sorry it took so long."
    )


def test_arrows_after_a_condition_and_options_after_a_dash() -> None:
    plan = compiled("chat_paste_arrows").plan
    assert plan is not None
    ask = plan.steps[0]
    assert isinstance(ask, AskNode) and len(ask.facts) == 2  # "email address, and the order number"
    yes = plan.steps[3]
    # "If yes → offer a choice - Right size: … - Money back: …"
    assert isinstance(yes, BranchNode) and isinstance(yes.then[0], OfferNode)
    assert [o.label for o in yes.then[0].options] == ["Right size", "Money back"]
    thanks = plan.steps[5]
    assert isinstance(thanks, BranchNode) and thanks.then[0].text == "Thank you for your patience."


def test_a_policy_pasted_as_a_table() -> None:
    plan = compiled("notion_table").plan
    assert plan is not None
    # the header row and the |---| rule are dropped; the notes column is not a step
    assert [(n.kind, n.step) for n in plan.steps] == [
        ("ask", "1"),
        ("call", "2"),
        ("branch", "2.a"),
        ("call", "3"),
        ("say", "4"),
        ("end", ""),
    ]
    assert plan.steps[1].line == 12 and "tier 2" not in str(plan.model_dump())


def test_unnumbered_section_lines_group_the_lettered_steps_under_them() -> None:
    plan = compiled("gdocs_sections_unnumbered").plan
    assert plan is not None
    assert [(n.kind, n.step) for n in plan.steps] == [
        ("ask", "1"),
        ("call", "2"),
        ("ask", "3.a"),  # "Confirm the damage" → a., b.
        ("ask", "3.b"),
        ("offer", "4.a"),  # "Put it right" → the offer
        ("end", ""),
    ]
    assert len(plan.steps[4].options) == 2  # type: ignore[union-attr]
