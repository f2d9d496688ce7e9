"""What the customer already said fills the plan's asks; a correction replaces it (only on
tickets that started with the replies-by-meaning patch)."""

from __future__ import annotations

from policies.library import load_library
from policies.replies import Reply
from workflows.interpreter import start_state
from workflows.ticket_models import TicketMemory, TicketStart
from workflows.ticket_routing import PolicyEntry


def _entry(*, by_meaning: bool) -> PolicyEntry:
    plan = load_library().get("refund")
    mem = TicketMemory()
    mem.plans[plan.id] = plan
    mem.policy_id = plan.id
    mem.interpreter = start_state(plan, {})
    entry = PolicyEntry(TicketStart(helpdesk="web", external_id="t1"), mem)
    entry.by_meaning = by_meaning
    return entry


def test_a_fact_from_an_earlier_message_fills_the_ask_and_a_correction_replaces_it() -> None:
    entry = _entry(by_meaning=True)
    entry.prefill(Reply(text="order 9001 please", slots={"order_number": "9001"}))
    assert entry.mem.interpreter is not None
    assert entry.mem.interpreter.context["order_id"] == "9001"
    # A later message that only mentions another number does not overwrite it …
    entry.prefill(Reply(text="also 9003", slots={"order_number": "9003"}))
    assert entry.mem.interpreter.context["order_id"] == "9001"
    # … a correction does.
    entry.prefill(
        Reply(
            text="sorry, I meant 9002",
            slots={"order_number": "9002"},
            corrects=["order_number"],
        )
    )
    assert entry.mem.interpreter.context["order_id"] == "9002"
    assert entry.mem.known_slots["order_number"] == "9002"


def test_without_the_patch_a_correction_keeps_the_first_value() -> None:
    entry = _entry(by_meaning=False)
    entry.prefill(Reply(text="order 9001", slots={"order_number": "9001"}))
    entry.prefill(
        Reply(text="I meant 9002", slots={"order_number": "9002"}, corrects=["order_number"])
    )
    assert entry.mem.interpreter is not None
    assert entry.mem.interpreter.context["order_id"] == "9001"
