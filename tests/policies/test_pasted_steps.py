"""Step forms CX teams paste: quoted replies after a colon, confirmations, "Otherwise"
on its own line, hand-overs to a team, tagging and closing."""

from __future__ import annotations

import pytest

from policies.plan import AskNode, BranchNode, EndNode, EscalateNode, NoteNode, SayNode

from .conftest import codes, compile_body


def _steps(body: str, **kw: str) -> list:
    result = compile_body(body, **kw)
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    return result.plan.steps


@pytest.mark.parametrize(
    "step",
    [
        'Confirm: "Your plan is on hold until March."',
        'Close with: "Your plan is on hold until March."',
        'Reply: "Your plan is on hold until March."',
        'Respond with "Your plan is on hold until March."',
        'Send: "Your plan is on hold until March."',
        'Tell them: "Your plan is on hold until March."',
        'Acknowledge right away: "Your plan is on hold until March."',
        "Let the customer know: “Your plan is on hold until March.”",
    ],
)
def test_a_quoted_reply_after_a_verb_is_said_word_for_word(step: str) -> None:
    result = compile_body(f"1. {step}\n")
    assert result.plan is not None and not result.diagnostics, codes(result)
    say = result.plan.steps[0]
    assert isinstance(say, SayNode) and say.macro
    assert say.text == "Your plan is on hold until March."


def test_an_action_and_then_a_quoted_reply_are_two_nodes() -> None:
    result = compile_body('1. Route the case to an agent and reply: "A colleague will write."\n')
    assert result.plan is not None
    kinds = [n.kind for n in result.plan.steps]
    assert kinds[:2] == ["escalate", "say"] or kinds[:2] == ["say", "escalate"]


def test_accepting_an_offer_then_applying_it_and_confirming_runs_the_confirmation() -> None:
    result = compile_body(
        "1. Offer a 10% discount or free shipping.\n"
        '2. If the customer accepts the offer, apply it and confirm: "All done!"\n'
    )
    assert result.plan is not None and not result.diagnostics, [
        d.render() for d in result.diagnostics
    ]
    branch = result.plan.steps[1]
    assert isinstance(branch, BranchNode)
    assert [n.kind for n in branch.then] == ["say"] and branch.then[0].text == "All done!"


@pytest.mark.parametrize(
    "step",
    [
        "Confirm the address with the customer (read it back in full).",
        "Verify the new size with the user.",
        "Double-check the delivery date with them.",
    ],
)
def test_confirming_something_with_the_customer_is_a_yes_no_question(step: str) -> None:
    (ask, _end) = _steps(f"1. {step}\n")
    assert isinstance(ask, AskNode) and ask.slot == "yes_no"
    assert ask.question.startswith("Could you please confirm ")
    assert "(" not in ask.question and "customer" not in ask.question


@pytest.mark.parametrize("word", ["Otherwise:", "Else:", "If not:"])
def test_otherwise_on_its_own_line_is_the_else_of_the_if_before_it(word: str) -> None:
    body = (
        "1. Ask whether the parcel arrived.\n"
        "2. If they say yes:\n   - Say “Great.”\n"
        f"3. {word}\n   - Say “Sorry.”\n   - Route the case to an agent.\n"
    )
    branch = _steps(body)[1]
    assert isinstance(branch, BranchNode)
    assert [n.kind for n in branch.otherwise] == ["say", "escalate"]


def test_if_not_with_an_action_is_the_else_branch() -> None:
    body = "1. Ask whether the parcel arrived.\n2. If yes, say “Great.”\n3. If not, say “Sorry.”\n"
    branch = _steps(body)[1]
    assert isinstance(branch, BranchNode) and branch.otherwise[0].text == "Sorry."


def test_otherwise_after_no_if_says_so() -> None:
    result = compile_body("1. Say “Hi.”\n2. Otherwise:\n   - Say “Bye.”\n")
    (diag,) = [d for d in result.diagnostics if d.code == "TF008"]
    assert "Otherwise" in diag.message and "If" in diag.message


@pytest.mark.parametrize(
    "step",
    [
        "Hand over to a human agent.",
        "Transfer to the billing team.",
        "Escalate to Tier 2.",
        "Hand it over to the VIP team.",
        "Pass the ticket to a supervisor.",
    ],
)
def test_handing_over_to_a_person_or_team_escalates(step: str) -> None:
    (escalate,) = _steps(f"1. {step}\n")
    assert isinstance(escalate, EscalateNode)


def test_tagging_is_a_note_that_says_it_will_not_run_and_close_ends() -> None:
    result = compile_body('1. Say “Bye.”\n2. Tag the ticket "return-window" and close.\n')
    assert result.plan is not None
    note, end = result.plan.steps[1:]
    assert isinstance(note, NoteNode) and isinstance(end, EndNode) and not end.implicit
    (diag,) = [d for d in result.diagnostics if d.code == "TF008"]
    assert "tag" in diag.message.lower()


@pytest.mark.parametrize("step", ["Close the ticket.", "Close.", "Close it out."])
def test_closing_the_ticket_ends_it(step: str) -> None:
    (end,) = _steps(f"1. Say “Bye.”\n2. {step}\n")[1:]
    assert isinstance(end, EndNode) and not end.implicit


def test_a_branch_whose_tool_has_its_own_errors_is_not_also_called_empty() -> None:
    result = compile_body(
        "1. Ask whether they'd like a replacement or a refund.\n"
        "    • If they choose a replacement → use @create_replacement_order(items: list)\n",
        platforms="[shopify, kustomer]",
    )
    assert "TF007" not in codes(result) and "TF003" in codes(result)


@pytest.mark.parametrize("lead", ["Check the code:", "Verify the order:", "Look at the tracking:"])
def test_a_check_line_over_if_steps_is_a_section_not_a_step(lead: str) -> None:
    body = (
        "1. Ask for the order number.\n"
        f"2. {lead}\n"
        "   - If the order status is Delivered, say “It arrived.”\n"
        "   - If the order has not shipped yet, say “It is still with us.”\n"
    )
    result = compile_body(body)
    assert result.plan is not None and not result.diagnostics, [
        d.render() for d in result.diagnostics
    ]
    assert [n.kind for n in result.plan.steps] == ["ask", "branch", "branch", "end"]


def test_based_on_the_answer_each_labelled_line_is_a_branch_on_that_option() -> None:
    body = (
        "1. Ask why they'd like to cancel (too pricey / too much coffee / other).\n"
        "2. Depending on the reason, make one offer:\n"
        "   - Too pricey: say “We can take 20% off.”\n"
        "   - Too much coffee: say “We can skip a month.”\n"
    )
    steps = _steps(body)
    branches = [n for n in steps if isinstance(n, BranchNode)]
    from policies.conditions import describe

    assert [describe(b.condition).split("[")[1] for b in branches] == [
        "$reason == 'Too pricey']",
        "$reason == 'Too much coffee']",
    ]
    assert branches[0].then[0].text == "We can take 20% off."


def test_based_on_a_label_no_option_names_is_reported() -> None:
    body = (
        "1. Ask why they'd like to cancel (too pricey / other).\n"
        "2. Based on the reason:\n"
        "   - Moving abroad: say “Safe travels.”\n"
    )
    result = compile_body(body)
    assert "TF012" in codes(result)


def test_each_answer_line_reads_the_question_even_after_an_offer_in_a_line_before() -> None:
    body = (
        "1. Ask why they'd like to cancel (too pricey / too much coffee / other).\n"
        "2. Based on the reason, make one offer:\n"
        "   - Too pricey: offer 20% off the order.\n"
        "   - Too much coffee: offer to skip the next shipment.\n"
    )
    result = compile_body(body, platforms="[bigcommerce, skio, kustomer]")
    assert result.plan is not None
    from policies.conditions import describe

    branches = [n for n in result.plan.steps if isinstance(n, BranchNode)]
    assert [describe(b.condition).split("[")[1] for b in branches] == [
        "$reason == 'Too pricey']",
        "$reason == 'Too much coffee']",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "NOTE: If it's a second claim, escalate to Tier 2 instead.",
        "Note - refunds over $200 go to Tier 2; escalate to Tier 2 instead of refunding.",
        "FYI: transfer to the billing team when in doubt.",
    ],
)
def test_a_note_line_never_runs_even_if_it_names_an_action(line: str) -> None:
    result = compile_body(f"1. Say “Hi.”\n\n{line}\n")
    assert result.plan is not None
    assert not any(isinstance(n, EscalateNode) for n in result.plan.steps)
    (diag,) = [d for d in result.diagnostics if d.code == "TF008"]
    assert "note" in diag.message


def test_the_lines_of_a_notes_section_never_run() -> None:
    result = compile_body(
        "1. Ask for the order number.\n\nNotes:\n- Don't offer discounts.\n"
        "- Free shipping upgrade is OK: @upgrade_shipping(order_id: str, shipping_method: str).\n"
    )
    assert result.plan is not None
    assert [n.kind for n in result.plan.steps] == ["ask", "note", "note", "note", "end"]


@pytest.mark.parametrize(
    ("step", "kinds"),
    [
        ("Apologize and ask the customer for their order number.", ["say", "ask"]),
        ("Thank them, then ask for the email address on the account.", ["say", "ask"]),
        (
            "Let them know exchanges close after 45 days, and offer a 10% discount.",
            ["say", "offer"],
        ),
        ("Tell the customer we're sorry and route the case to an agent.", ["say", "escalate"]),
    ],
)
def test_a_message_joined_to_another_action_is_two_steps(step: str, kinds: list[str]) -> None:
    nodes = [n for n in _steps(f"1. {step}\n") if not (isinstance(n, EndNode) and n.implicit)]
    assert [n.kind for n in nodes] == kinds
    assert "ask" not in nodes[0].text.lower() and "offer" not in nodes[0].text.lower()


def test_apologising_for_nothing_in_particular_reads_as_a_whole_sentence() -> None:
    (say, _ask, _end) = _steps("1. Apologize and ask for the order number.\n")
    assert say.text == "We're sorry about that."


def test_an_if_sentence_after_an_action_in_one_step_is_a_branch_after_it() -> None:
    nodes = _steps(
        "1. Ask whether the parcel has arrived. If they say no, route the case to an agent.\n"
    )
    assert [n.kind for n in nodes[:2]] == ["ask", "branch"]
    assert isinstance(nodes[1].then[0], EscalateNode)


def _calls(nodes: list) -> list:
    found = []
    for n in nodes:
        if n.kind == "call":
            found.append(n)
        for inner in (getattr(n, "then", []), getattr(n, "otherwise", [])):
            found += _calls(inner)
        for option in getattr(n, "options", []):
            found += _calls(getattr(option, "steps", []))
    return found


@pytest.mark.parametrize("agrees", ["the customer agrees", "they accept", "they say yes"])
def test_an_offer_applied_in_the_accept_branch_is_not_applied_twice(agrees: str) -> None:
    result = compile_body(
        "1. Offer to skip the next shipment instead of pausing.\n"
        f"2. If {agrees}, use @skip_next_shipment(subscription_id: str)\n",
        platforms="[skio]",
        extra="inputs: [subscription_id]\n",
    )
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    calls = _calls(result.plan.steps)
    assert [(c.tool, c.inferred) for c in calls] == [("skip_next_shipment", False)]


@pytest.mark.parametrize("amount", ["10%", "10 percent", "10 per cent"])
def test_a_percentage_in_words_is_the_percent_argument(amount: str) -> None:
    result = compile_body(
        "1. Ask for the customer's email address.\n"
        f"2. Use @create_future_discount(email: str, percent: int) with {amount}.\n"
    )
    assert result.plan is not None, [d.render() for d in result.diagnostics]
    (call,) = _calls(result.plan.steps)
    assert call.args["percent"].value == 10


def test_an_offer_after_a_condition_offers_what_follows_the_comma_only() -> None:
    (branch, _end) = _steps(
        "1. Ask for the order number.\n2. Use @get_order_details(order_id: str).\n"
        "3. If the order is older than 45 days, offer a 10% discount or free shipping.\n"
    )[2:]
    (offer,) = branch.then
    assert [o.label for o in offer.options] == ["10% discount", "Free shipping"]


def test_each_sentence_of_a_step_is_kept_as_its_own_note() -> None:
    nodes = _steps("1. Say “Hi.”\n2. Weigh the parcel first. If the moon is full, stop.\n")
    notes = [n.text for n in nodes if isinstance(n, NoteNode)]
    assert notes == ["Weigh the parcel first.", "If the moon is full, stop."]


@pytest.mark.parametrize(
    "step",
    [
        "Refunds over $200 need Tier 2 approval — escalate to Tier 2 instead of refunding.",
        "Escalate to Tier 2 instead (possible fraud).",
        "Only escalate to the billing team for amounts above $500.",
    ],
)
def test_an_escalation_only_in_some_cases_is_not_run_for_every_ticket(step: str) -> None:
    result = compile_body(f"1. Say “Hi.”\n2. {step}\n")
    assert result.plan is not None
    assert not any(isinstance(n, EscalateNode) for n in result.plan.steps)
    (diag,) = [d for d in result.diagnostics if d.code == "TF008"]
    assert "If" in (diag.fix or "")


def test_what_an_otherwise_line_asks_for_is_known_to_the_steps_under_it() -> None:
    result = compile_body(
        "1. Ask for the order number.\n2. Use @get_order_details(order_id: str).\n"
        "3. If the order has shipped, say “Too late.”\n"
        "4. Otherwise, ask the customer for the new shipping address.\n"
        "   a. Confirm the address with the customer.\n"
        "   b. If they say yes, use @update_stayai_address(address_id: str, new_address: json).\n",
        platforms="[shopify, stayai]",
    )
    assert "TF003" not in codes(result), [d.render() for d in result.diagnostics]


@pytest.mark.parametrize(
    "step",
    [
        "Confirm the address with the customer (read it back in full, including apartment/unit #).",
        "Ask for the shipping address (street, city/state, zip code).",
        "Ask for the size they need (see the size chart at example.com/sizes).",
    ],
)
def test_a_slash_inside_an_aside_is_not_a_list_of_options(step: str) -> None:
    (ask, _end) = _steps(f"1. {step}\n")
    assert isinstance(ask, AskNode) and ask.slot != "choice" and ask.options == []


def test_an_offer_to_do_something_is_labelled_with_what_is_done() -> None:
    result = compile_body(
        "1. Offer to skip the next shipment instead of pausing.\n", platforms="[skio]"
    )
    assert result.plan is not None
    (offer, _end) = result.plan.steps
    assert [o.label for o in offer.options] == ["Skip the next shipment instead of pausing"]


def test_a_quoted_question_after_confirm_is_asked_not_said() -> None:
    (ask, _end) = _steps('1. Confirm the address with the customer: "Is 12 Main St still right?"\n')
    assert isinstance(ask, AskNode) and ask.slot == "yes_no"
    assert ask.question == "Is 12 Main St still right?"


def test_the_lines_under_an_ask_that_names_its_options_inline_still_run() -> None:
    nodes = _steps(
        "1. Ask whether they'd like a replacement or a refund.\n"
        "   - If they choose a replacement, say “A replacement it is.”\n"
        "   - If they prefer a refund, say “A refund it is.”\n"
    )
    ask, *branches, _end = nodes
    assert isinstance(ask, AskNode) and ask.options == ["A replacement", "A refund"]
    assert [b.then[0].text for b in branches] == ["A replacement it is.", "A refund it is."]


@pytest.mark.parametrize(
    "step",
    [
        "Hand over to a human agent if anything goes wrong.",
        "Escalate to Tier 2 if the customer seems upset",
        "Use @cancel_order(order_id: str) if it makes sense",
        "Proceed with #Refund if that's what they'd prefer",
    ],
)
def test_an_action_with_a_condition_i_cannot_check_does_not_run_for_everyone(step: str) -> None:
    """ "Do X if <something no tool tells>" must not do X on every ticket: the step is kept
    as a note and the author is told which condition could not be read."""
    result = compile_body(f"1. Ask for the order number.\n2. {step}\n")
    assert result.plan is not None
    kinds = [n.kind for n in result.plan.steps]
    assert "escalate" not in kinds and "call" not in kinds and "use_policy" not in kinds
    assert isinstance(result.plan.steps[1], NoteNode)
    assert "TF012" in codes(result)


def test_a_condition_inside_the_words_to_say_is_not_the_steps_condition() -> None:
    result = compile_body('1. Say "Let us know if anything else comes up."\n')
    assert result.plan is not None and isinstance(result.plan.steps[0], SayNode)


@pytest.mark.parametrize("placeholder", ["{order_id}", "{{order_id}}", "{{ order_id }}"])
def test_a_macro_placeholder_in_braces_is_filled_like_a_var(placeholder: str) -> None:
    """Helpdesk macros write placeholders in braces; the customer must never read them as
    typed: they are filled like `$vars`, and the author is told."""
    result = compile_body(
        f'1. Ask for the order number.\n2. Say "Order {placeholder} is on its way."\n'
    )
    assert result.plan is not None
    say = result.plan.steps[1]
    assert isinstance(say, SayNode) and say.text == "Order $order_id is on its way."
    assert "TF021" in codes(result)


def test_a_placeholder_nothing_sets_is_an_error_that_names_the_close_one() -> None:
    result = compile_body(
        '1. Ask for the new shipping address.\n2. Say "We will ship to {address} from now on."\n'
    )
    assert result.plan is None
    unbound = [d for d in result.diagnostics if d.code == "TF006"]
    assert unbound and "$new_address" in (unbound[0].fix or "")


@pytest.mark.parametrize("written", ["$address", "{address}"])
def test_a_question_in_the_authors_words_may_only_use_what_is_set(written: str) -> None:
    result = compile_body(
        "1. Ask for the new shipping address.\n"
        f'2. Confirm the address with the customer ("We will ship to {written}, right?")\n'
    )
    unbound = [d for d in result.diagnostics if d.code == "TF006"]
    assert result.plan is None and unbound
    assert "$new_address" in (unbound[0].fix or "")


def test_an_argument_the_author_wrote_is_never_dropped_silently() -> None:
    """`amount: float` asks for an amount from context; with none set, leaving it out would
    refund the whole order, so the step is an error that says so."""
    result = compile_body(
        "1. Ask for the order number.\n"
        "2. Refund the difference with @refund_order(order_id: str, amount: float)\n",
        platforms="[shopify]",
    )
    missing = [d for d in result.diagnostics if d.code == "TF003"]
    assert result.plan is None and missing
    assert "amount" in missing[0].message and "refunded in full" in missing[0].message


@pytest.mark.parametrize(
    "step",
    ["If they say no, go back to step 1.", "If not, return to step 2", "Otherwise start over"],
)
def test_going_back_to_a_step_is_explained(step: str) -> None:
    """A policy runs its steps once, top to bottom: "go back to step 1" is kept as a note,
    and the author is told how to ask again instead."""
    result = compile_body(
        "1. Ask for the new shipping address.\n"
        "2. Confirm the address with the customer.\n"
        '3. If they say yes, say "Thanks, all set."\n'
        f"4. {step}\n"
    )
    back = [d for d in result.diagnostics if d.code == "TF008"]
    assert back and "once, top to bottom" in back[0].message
    assert "Ask for" in (back[0].fix or "")
