"""Reply understanding: what a customer's words mean to the slot the bot asked for."""

from __future__ import annotations

import pytest

from activities.understanding import ChoiceOption, UnderstandRequest, understand

OFFERS = [
    ChoiceOption(id="discount", label="Discount"),
    ChoiceOption(id="faster_shipping", label="Faster shipping"),
    ChoiceOption(id="product_swap", label="Product swap"),
    ChoiceOption(id="coupon_for_next_time", label="Coupon for next time"),
]


def test_volunteered_order_number_and_email_are_both_found() -> None:
    reply = understand(UnderstandRequest(text="cancel order #5001, I'm alex@example.com"))
    assert reply.slots == {"email": "alex@example.com", "order_number": "5001"}


def test_a_bare_number_is_an_order_number_only_when_one_was_asked_for() -> None:
    assert understand(UnderstandRequest(text="5001", expecting="order_number")).slots == {
        "order_number": "5001"
    }
    assert "order_number" not in understand(UnderstandRequest(text="I have 2 kids")).slots


def test_invalid_email_is_not_taken() -> None:
    assert "email" not in understand(UnderstandRequest(text="me@nowhere")).slots


def test_street_address_is_split_into_the_fields_platforms_store() -> None:
    reply = understand(
        UnderstandRequest(text="Please send it to 12 Elm Street, Apt 4, Springfield, IL 62704")
    )
    assert reply.slots["address"] == {
        "line1": "12 Elm Street",
        "line2": "Apt 4",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62704",
        "country": "US",
    }


def test_half_an_address_is_not_taken() -> None:
    assert (
        "address" not in understand(UnderstandRequest(text="5 Main St", expecting="address")).slots
    )


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("2", "faster_shipping"),
        ("option 3", "product_swap"),
        ("the first one", "discount"),
        ("I'll take the discount", "discount"),
        ("faster shiping please", "faster_shipping"),
        ("a coupon for my next order sounds good", "coupon_for_next_time"),
    ],
)
def test_choice_by_number_ordinal_label_keyword_or_fuzzy(text: str, choice: str) -> None:
    reply = understand(UnderstandRequest(text=text, expecting="choice", options=OFFERS))
    assert reply.choice == choice


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes", "yes"),
        ("Sure, go ahead", "yes"),
        ("no", "no"),
        ("no thanks", "decline"),
        ("None of these, just cancel it", "insist_cancel"),
        ("I still want to cancel", "insist_cancel"),
        ("can I talk to a human?", "human"),
        ("I'd like a real person please", "human"),
        ("but what about my other order?", "concern"),
    ],
)
def test_intent(text: str, intent: str) -> None:
    assert understand(UnderstandRequest(text=text)).intent == intent


def test_naming_an_option_after_no_is_taking_it() -> None:
    reply = understand(
        UnderstandRequest(text="no, the discount please", expecting="choice", options=OFFERS)
    )
    assert (reply.choice, reply.intent) == ("discount", "accept")
