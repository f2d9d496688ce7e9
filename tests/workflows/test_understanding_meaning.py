"""Replies read by meaning: phrasings written for these tests, in none of the benchmark's
corpus, so they check the general case rather than the examples tuned on."""

from __future__ import annotations

import pytest

from activities.understanding import (
    EARLIER_CHOICE,
    ChoiceOption,
    UnderstandRequest,
    understand,
)

RETENTION = [
    ChoiceOption(
        id="discount",
        label="Discount",
        description="Use @set_discount_to_order(order_id: str, percent: $percent) to take "
        "15% off this order.",
    ),
    ChoiceOption(
        id="faster_shipping",
        label="Faster shipping",
        description="Use @upgrade_shipping(order_id: str) to ship it expedited at no charge.",
    ),
    ChoiceOption(
        id="product_swap",
        label="Product swap",
        description="Use @swap_product(order_id: str, to_product_id: str) to switch to "
        "another product of the same or higher value.",
    ),
    ChoiceOption(
        id="coupon_for_next_time",
        label="Coupon for next time",
        description="Use @create_future_discount(email: str, percent: $future_percent) to give "
        "20% off their next order.",
    ),
]
ISSUES = [
    ChoiceOption(id=o, label=o) for o in ("Lost in transit", "Damaged on arrival", "Wrong item")
]
DELIVERY = [
    ChoiceOption(id="economy", label="Economy", description="free, 6-8 business days"),
    ChoiceOption(id="priority", label="Priority", description="$9.50, 3 business days"),
    ChoiceOption(id="same_day", label="Same day courier", description="$24, delivered today"),
]


def _choice(text: str, options: list[ChoiceOption]) -> str | None:
    return understand(UnderstandRequest(text=text, expecting="choice", options=options)).choice


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("I'd keep the order if it's a bit cheaper", "discount"),
        ("could it just get here quicker", "faster_shipping"),
        ("the voucher for another time", "coupon_for_next_time"),
        ("swap the flavour maybe", "product_swap"),
        ("not a coupon, knock the price down now", "discount"),
        ("I'll stay if you expedite it", "faster_shipping"),
        ("the 20% for later", "coupon_for_next_time"),
        ("ok option two", "faster_shipping"),
    ],
)
def test_a_retention_offer_is_chosen_by_what_the_customer_describes(text: str, choice: str) -> None:
    assert _choice(text, RETENTION) == choice


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("it showed up all smashed", "Damaged on arrival"),
        ("the courier says delivered, I have nothing", "Lost in transit"),
        ("they sent a totally different thing, wrong item", "Wrong item"),
    ],
)
def test_what_went_wrong_is_read_from_a_description(text: str, choice: str) -> None:
    assert _choice(text, ISSUES) == choice


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("whichever costs least", None),  # no comparison word it knows: asks again
        ("the cheapest please", "economy"),
        ("I need it fastest", "same_day"),
        ("the $9.50 one", "priority"),
    ],
)
def test_options_are_compared_on_the_prices_and_days_they_state(
    text: str, choice: str | None
) -> None:
    assert _choice(text, DELIVERY) == choice


def test_two_options_fitting_equally_is_no_choice() -> None:
    # Both fit: the bot asks again (one clarifying question) rather than guess.
    assert _choice("it got lost, then came back damaged", ISSUES) is None


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("yeah I reckon so", True),
        ("fine, go on then", True),
        ("no worries, do it", True),
        ("eh, maybe not", False),
        ("nah, all good thanks", False),
        ("I'd rather you didn't", False),
        ("hmm not sure yet", None),
    ],
)
def test_hedged_yes_and_no(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("Order N° 4410", "4410"),
        ("refund 4415 please", "4415"),
        ("I ordered in 2023 and paid 4000", None),
        ("order # 4411", "4411"),
        ("ORD_4412 is the one", "4412"),
        ("the order was no. 4413.", "4413"),
        ("for order4414", "4414"),
    ],
)
def test_order_numbers_in_the_usual_forms_even_unasked(text: str, order: str | None) -> None:
    assert understand(UnderstandRequest(text=text)).slots.get("order_number") == order


def test_a_correction_replaces_the_earlier_value_and_says_so() -> None:
    reply = understand(
        UnderstandRequest(text="4420, ugh no, make that 4421", expecting="order_number")
    )
    assert reply.slots == {"order_number": "4421"}
    assert reply.corrects == ["order_number"]
    reply = understand(UnderstandRequest(text="scratch that, it's kit@example.com"))
    assert reply.slots == {"email": "kit@example.com"}
    assert reply.corrects == ["email"]


def test_a_plain_answer_corrects_nothing() -> None:
    reply = understand(UnderstandRequest(text="4422", expecting="order_number"))
    assert reply.corrects == []


def test_several_facts_in_one_message() -> None:
    reply = understand(
        UnderstandRequest(
            text="it's for ord 4430, email nia@example.com, ship to 5 Hill Road, Boise, ID 83702",
            expecting="order_number",
        )
    )
    assert reply.slots["order_number"] == "4430"
    assert reply.slots["email"] == "nia@example.com"
    assert reply.slots["address"]["postal_code"] == "83702"


def test_earlier_messages_answer_a_choice_by_meaning_only() -> None:
    def earlier(text: str) -> str | None:
        request = UnderstandRequest(text=text, expecting=EARLIER_CHOICE, options=ISSUES)
        return understand(request).choice

    assert earlier("hi, my parcel came with the lid cracked open") == "Damaged on arrival"
    # "2" answered a menu before this question was asked: it is not option 2.
    assert earlier("2") is None
    # A wrong address is not a wrong item.
    assert earlier("I typed the wrong address, can you resend?") is None


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("my box is 3 days late, zip 30301", None),
        ("you can call me on 5550123", None),
        ("the tracking hasn't moved since 2024", None),
        ("4460 never turned up", "4460"),
    ],
)
def test_numbers_that_are_not_order_numbers_in_an_opening(text: str, order: str | None) -> None:
    assert understand(UnderstandRequest(text=text)).slots.get("order_number") == order


def test_two_orders_named_together_are_no_correction() -> None:
    reply = understand(UnderstandRequest(text="4470 and 4471", expecting="order_number"))
    assert (reply.slots["order_number"], reply.corrects) == ("4470", [])


def test_a_correction_after_a_full_stop() -> None:
    reply = understand(UnderstandRequest(text="Oops, wrong address. It's rue@example.com"))
    assert reply.slots == {"email": "rue@example.com"}


@pytest.mark.parametrize(
    "text",
    [
        "21 Cedar Lane\nBoulder, CO 80302",
        "21 Cedar Lane, Boulder, Colorado 80302",
        "21 cedar lane boulder co 80302",
        "send it to 21 Cedar Lane, Boulder, CO 80302, and thanks!",
    ],
)
def test_addresses_on_several_lines_spelt_out_or_without_commas(text: str) -> None:
    address = understand(UnderstandRequest(text=text, expecting="address")).slots["address"]
    assert (address["line1"].lower(), address["city"], address["region"]) == (
        "21 cedar lane",
        "Boulder",
        "CO",
    )
    assert address["postal_code"] == "80302"


@pytest.mark.parametrize(
    ("text", "expecting", "order"),
    [
        ("my tracking number is 9400100000000000009001", None, None),
        ("it came in the 100 pack", "order_number", None),
        ("the one from 2025", "order_number", None),
        ("I bought 3 at 20 dollars each, order 4480", None, "4480"),
    ],
)
def test_tracking_numbers_pack_sizes_and_years_are_not_order_numbers(
    text: str, expecting: str | None, order: str | None
) -> None:
    reply = understand(UnderstandRequest(text=text, expecting=expecting))
    assert reply.slots.get("order_number") == order


def test_an_email_spelt_out_to_dodge_harvesters() -> None:
    reply = understand(UnderstandRequest(text="lin at example dot org", expecting="email"))
    assert reply.slots == {"email": "lin@example.org"}


RESOLUTIONS = [
    ChoiceOption(id="replacement", label="Replacement", description="A new one, free."),
    ChoiceOption(id="refund", label="Refund", description="Back to the original payment."),
    ChoiceOption(id="credit", label="Store credit", description="110% to spend later."),
]
SUBSCRIPTION = [
    ChoiceOption(id="skip", label="Skip the next box"),
    ChoiceOption(id="pause", label="Pause for a month"),
    ChoiceOption(id="cancel", label="Cancel the subscription"),
]
SUBSCRIPTION_SWAP = [
    ChoiceOption(id="skip", label="Skip the next delivery"),
    ChoiceOption(id="swap", label="Swap to another product"),
    ChoiceOption(id="cancel", label="Cancel the order"),
]
PLANS = [
    ChoiceOption(id="solo", label="Solo", description="$15 a month, one bag"),
    ChoiceOption(id="family", label="Family", description="$35 a month, three bags"),
]


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (RETENTION, "I prefer a discount code for next month", "coupon_for_next_time"),
        (RETENTION, "ok fine, the 15 percent", "discount"),
        (RETENTION, "something different instead of this item", "product_swap"),
        (RETENTION, "can you do both the discount and faster shipping?", None),
        (ISSUES, "someone stole it off the step", "Lost in transit"),
        (ISSUES, "they sent me shampoo, I ordered conditioner", "Wrong item"),
        (DELIVERY, "the cheap one", "economy"),
        (DELIVERY, "three day is fine", "priority"),
        (RESOLUTIONS, "I want the money", "refund"),
        (RESOLUTIONS, "send the same thing again", "replacement"),
        (RESOLUTIONS, "credit on my account", "credit"),
        (SUBSCRIPTION, "take a month off", "pause"),
        (SUBSCRIPTION, "I have too many, delay the next delivery", "skip"),
        (SUBSCRIPTION, "stop it for good, cancel", "cancel"),
        (PLANS, "the smaller plan", "solo"),
        (PLANS, "the bigger one", "family"),
        (PLANS, "3 bags", "family"),
    ],
)
def test_choices_across_kinds_of_options(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


def test_naming_two_options_at_once_asks_which() -> None:
    reply = understand(
        UnderstandRequest(
            text="can I have the discount and the coupon?", expecting="choice", options=RETENTION
        )
    )
    assert reply.choice is None
    assert reply.unsure_between == ["discount", "coupon_for_next_time"]


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("mhm", True),
        ("you bet", True),
        ("I believe so", True),
        ("aye", True),
        ("I'd prefer not", False),
        ("not that I know of", False),
        ("it is not here", False),
        ("no idea", None),
        ("no, I don't know", False),
    ],
)
def test_more_ways_of_saying_yes_and_no(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


def test_an_account_number_is_not_the_order_number() -> None:
    reply = understand(UnderstandRequest(text="account no 66612, and it's order 4490"))
    assert reply.slots == {"order_number": "4490"}


def test_a_unit_written_after_the_street_is_line2() -> None:
    text = "31 Harbor Street Suite 7, Salem OR 97301"
    address = understand(UnderstandRequest(text=text, expecting="address")).slots["address"]
    assert (address["line1"], address["line2"]) == ("31 Harbor Street", "Suite 7")


@pytest.mark.parametrize(
    ("text", "order"),
    [("4501, hang on, 4510", "4510"), ("4502... wait, it's 4520", "4520")],
)
def test_a_pause_then_another_number_is_a_correction(text: str, order: str) -> None:
    reply = understand(UnderstandRequest(text=text, expecting="order_number"))
    assert (reply.slots["order_number"], reply.corrects) == (order, ["order_number"])


@pytest.mark.parametrize(
    "text", ["still hasn't been delivered", "it has not arrived", "not yet received"]
)
def test_not_arrived_is_lost_whatever_the_tense(text: str) -> None:
    assert _choice(text, ISSUES) == "Lost in transit"


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("yse", True),
        ("yeahh", True),
        ("nahh", False),
        ("nopw", False),
        ("not right now", False),
        ("not for the time being, cheers", False),
        ("maybe another time", False),
        ("not today thank you", False),
    ],
)
def test_a_typo_of_yes_or_no_and_a_no_for_now(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (SUBSCRIPTION, "skip the upcoming one please", "skip"),
        (SUBSCRIPTION, "skip this month's", "skip"),
        (RESOLUTIONS, "skip the refund, a new one is fine", "replacement"),
        (RESOLUTIONS, "leave it as a balance on my account", "credit"),
        (RESOLUTIONS, "add the amount to my account and I'll shop later", "credit"),
        (RESOLUTIONS, "put it back on my card", "refund"),
    ],
)
def test_skipping_as_the_choice_and_money_kept_on_the_account(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


RETENTION_PERCENT = [
    ChoiceOption(id="discount", label="20% off this order", description="Keep it for less."),
    ChoiceOption(id="express", label="Free express shipping", description="Keep it, sooner."),
    ChoiceOption(id="cancel", label="Cancel anyway", description="We cancel the order."),
]


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        # What is ruled out is never the choice, even when nothing else is named.
        (RESOLUTIONS, "anything but the refund", None),
        (RESOLUTIONS, "not store credit, the other", None),
        # A figure without its percent sign.
        (RETENTION_PERCENT, "fine, I'll keep it for the 20 off", "discount"),
        # Changing what comes, leaving one out.
        (SUBSCRIPTION_SWAP, "I'd rather change what's in it", "swap"),
        (SUBSCRIPTION_SWAP, "sit this one out", "skip"),
    ],
)
def test_ruled_out_figures_and_what_comes(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("I guess", True),
        ("go on", True),
        ("ye", True),
        ("yh", True),
        ("okie dokie", True),
        ("nay", False),
    ],
)
def test_short_forms_of_yes_and_no(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("5530 or maybe 5503, 5503 I think", "5503"),
        ("it's 4 4 1 7 8", "44178"),
        ("#7 0 1 2 2 thanks", "70122"),
    ],
)
def test_a_hedged_second_number_and_digits_read_out_one_by_one(text: str, order: str) -> None:
    reply = understand(UnderstandRequest(text=text, expecting="order_number"))
    assert reply.slots.get("order_number") == order


TWO_WAYS = [
    ChoiceOption(id="resend", label="Send it again"),
    ChoiceOption(id="money_back", label="Refund it"),
]


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (RETENTION_PERCENT, "option b", "express"),
        (RETENTION_PERCENT, "c)", "cancel"),
        (RETENTION_PERCENT, "express sounds good but actually I'd rather have the 20", "discount"),
        (SUBSCRIPTION_SWAP, "swp", "swap"),
        (TWO_WAYS, "no money back, the other", "resend"),
        (TWO_WAYS, "I'd still like to have the product", "resend"),
    ],
)
def test_lettered_options_a_change_of_mind_and_the_other_of_two(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [("no need for that", False), ("let's not bother", False), ("that won't be required", False)],
)
def test_polite_refusals(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("it is 552 018", "552018"),
        ("order no is 771 304 9", "7713049"),
        ("I think it's 61120? maybe 61210. yes 61210", "61210"),
    ],
)
def test_an_order_number_typed_in_groups_and_a_second_guess(text: str, order: str) -> None:
    reply = understand(UnderstandRequest(text=text, expecting="order_number"))
    assert reply.slots.get("order_number") == order


def test_an_email_with_dots_spelt_out_in_the_name() -> None:
    reply = understand(
        UnderstandRequest(text="anna dot berg at outlook dot com", expecting="email")
    )
    assert reply.slots.get("email") == "anna.berg@outlook.com"


SPEEDS = [
    ChoiceOption(id="standard", label="Standard", description="Free, 5-7 days"),
    ChoiceOption(id="express", label="Express", description="$9, 2-3 days"),
    ChoiceOption(id="overnight", label="Overnight", description="$19, next day"),
]
FOUR = [
    ChoiceOption(id="skip", label="Skip next delivery"),
    ChoiceOption(id="pause", label="Pause subscription"),
    ChoiceOption(id="swap", label="Swap products"),
    ChoiceOption(id="cancel", label="Cancel subscription"),
]


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (SPEEDS, "the 19 dollar one", "overnight"),
        (SPEEDS, "do you offer same-day?", None),
        (FOUR, "no more deliveries at all, end it for good", "cancel"),
        (TWO_WAYS, "don't send it again, I'll get it somewhere else", "money_back"),
        (TWO_WAYS, "I'd still like the things I ordered", "resend"),
    ],
)
def test_prices_in_words_availability_questions_and_ruling_out_one_of_two(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


@pytest.mark.parametrize(("text", "yes_no"), [("no, I'd rather keep it", False), ("na", False)])
def test_a_no_first_wins(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (FOUR, "stop sending them for good", "cancel"),
        (TWO_WAYS, "don't resend it, I'll shop elsewhere", "money_back"),
        (SPEEDS, "do you have a same day option?", None),
        (SPEEDS, "do you have express?", "express"),
    ],
)
def test_stopping_for_good_a_ruled_out_meaning_and_asking_what_is_offered(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


REDELIVERY = [
    ChoiceOption(id="locker", label="Collection point", description="Pick it up at a shop."),
    ChoiceOption(id="doorstep", label="Home delivery", description="We bring it to your door."),
    ChoiceOption(id="depot", label="Hold at depot", description="Collect it from the depot."),
]


@pytest.mark.parametrize(
    ("options", "text", "choice"),
    [
        (REDELIVERY, "the corner shop near me is fine", "locker"),
        (REDELIVERY, "bring it to my house on Monday", "doorstep"),
        (REDELIVERY, "whichever is quickest", None),
        (RETENTION_PERCENT, "what's the difference between the last two?", None),
        (TWO_WAYS, "send it again... no wait, refund please", "money_back"),
        (FOUR, "I nearly cancelled but let's just pause it", "pause"),
        (FOUR, "just don't send the next one, keep everything else", "skip"),
        (RESOLUTIONS, "no refund thanks, I want the product", "replacement"),
    ],
)
def test_places_questions_back_and_second_thoughts(
    options: list[ChoiceOption], text: str, choice: str | None
) -> None:
    assert _choice(text, options) == choice


@pytest.mark.parametrize(
    ("text", "order"),
    [("Order #B-44120", "44120"), ("it's 55-201-77", "5520177"), ("Ref: 410-223-118", "410223118")],
)
def test_order_numbers_with_a_letter_or_hyphens(text: str, order: str) -> None:
    reply = understand(UnderstandRequest(text=text, expecting="order_number"))
    assert reply.slots.get("order_number") == order


@pytest.mark.parametrize(("text", "yes_no"), [("deffo", True), ("sí", True), ("oui merci", True)])
def test_yes_in_slang_and_other_languages(text: str, yes_no: bool | None) -> None:
    intent = understand(UnderstandRequest(text=text, expecting="yes_no")).intent
    said = True if intent in {"yes", "accept"} else False if intent in {"no", "decline"} else None
    assert said is yes_no
