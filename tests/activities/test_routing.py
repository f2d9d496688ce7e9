"""Routing by meaning (activities/routing.py through PolicyActivities.route): phrasings that
appear nowhere in the library's examples or the benchmark corpus, the menu for what no
policy handles, a question between two close policies, a second request remembered, the
helpdesk's variant, and the model loading from the wheel's own files with no network."""

from __future__ import annotations

import socket

import pytest

from activities.customer_wording import in_library_words
from activities.policy_store import PolicyActivities, RouteRequest, RouteResult
from activities.routing import WordLlamaEmbedder, content_words, without_negated_requests
from policies.library import load_library


@pytest.fixture(scope="module")
def policies() -> PolicyActivities:
    return PolicyActivities(load_library())


def route(policies: PolicyActivities, text: str, **request: object) -> RouteResult:
    fields: dict[str, object] = {"helpdesk": "web", **request}
    return policies.route(RouteRequest(text=text, **fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("my parcel hasn't turned up and the tracking page is blank", "shipment_not_received"),
        ("the jar was smashed to bits when the postman brought it", "reshipment"),
        ("could I get the money I paid returned to me?", "refund"),
        ("I'm going abroad, please miss out next month's delivery", "skip_next_shipment"),
        ("please put the oat flavour in my plan instead", "swap_subscription_product"),
        ("I had stopped my deliveries but now I want them to come again", "restart_subscription"),
        ("kindly cancel the order I put in today", "cancel_order_retention_bigcommerce_kustomer"),
        ("the fan I bought is dead, won't switch on at all", "reshipment"),
        ("the rug arrived soaked through from the rain", "reshipment"),
    ],
)
def test_unseen_phrasings_route_by_meaning(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.how) == (policy_id, "meaning")


@pytest.mark.parametrize(
    "text",
    [
        "Can I change the name on my account?",
        "qwerty zxcv",
        "do you deliver on Sundays?",
    ],
)
def test_what_no_policy_handles_gets_the_menu(policies: PolicyActivities, text: str) -> None:
    result = route(policies, text)
    assert result.policy_id is None and result.how == "none"
    assert result.menu


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("switch my coffee subscription back on please", "restart_subscription"),
        ("can you un-cancel my plan", "restart_subscription"),
        ("I need to back out of the purchase I made this morning", "single_order_cancellation"),
        ("it's been sitting at the depot since Tuesday", "shipment_not_received"),
        ("my monthly box hasn't shown up yet", "shipment_not_received"),
        ("I still haven't got my box from last week", "shipment_not_received"),
        ("I never got the parcel you sent", "shipment_not_received"),
        ("we'd like to sit out the next two deliveries", "skip_next_shipment"),
        ("I want a cancellation for the order I put in", "single_order_cancellation"),
        ("there's somebody else's jumper in my parcel", "reshipment"),
        ("I received a size 10 instead of an 8", "reshipment"),
        ("they sent me the pine scent instead of the cedar one I picked", "reshipment"),
        ("this isn't what I ordered, I'd like my money returned please", "refund"),
        ("nix the order I placed on Sunday", "single_order_cancellation"),
        ("my refund for the coat I sent back still hasn't come through", "refund"),
        ("the credit you said you'd issue never appeared on my card", "refund"),
        ("want my coffee box going again after the holiday", "restart_subscription"),
        ("switch the box on again for me", "restart_subscription"),
        ("been waiting on my shipment since the start of the month", "shipment_not_received"),
        ("I ordered the oak finish and you sent walnut", "reshipment"),
        (
            "I pay for the family box every month but you sent me the single",
            "reshipment_skio_kustomer",
        ),
        ("the pods came in hazelnut but I chose caramel", "reshipment"),
        ("the tea came as loose leaf but I'm subscribed to the bags", "reshipment_skio_kustomer"),
        ("you sent me the boots in a size 9, I asked for 8", "reshipment"),
        ("the parcel never turned up, so I'd like the payment returned", "refund"),
        ("I expect compensation for the late parcel", "refund"),
    ],
)
def test_everyday_wording_the_model_does_not_bridge_routes(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    """Particles and word order ("back on", "un-", "hasn't shown up" beside "box") and
    phrasal synonyms ("back out of", "sit out", "at the depot"), a request's noun ("a
    cancellation") and what came in place of what was ordered ("got X instead of Y",
    "somebody else's"; a refund, not a parcel, that "hasn't come through") carry the
    request."""
    result = route(policies, text)
    assert result.how == "meaning" and result.policy_id is not None
    assert policies.library.plans[result.policy_id].ticket_types == (
        policies.library.plans[policy_id].ticket_types
    )


def test_a_damaged_subscription_parcel_is_not_a_restart(policies: PolicyActivities) -> None:
    text = "my monthly subscription parcel turned up with a cracked bottle"
    assert route(policies, text).policy_id == "reshipment_skio_kustomer"


@pytest.mark.parametrize(
    "text",
    [
        "my membership auto-renewed last night and I never wanted it to",
        "the plan has renewed again without asking me, I'd like that money back",
    ],
)
def test_a_plan_that_renewed_on_its_own_is_not_a_restart(
    policies: PolicyActivities, text: str
) -> None:
    """ "Renewed" tells what happened to the customer (a charge), not a wish to restart."""
    assert route(policies, text).policy_id != "restart_subscription"
    assert in_library_words(text).count("restart") == 0


@pytest.mark.parametrize(
    ("text", "skip"),
    [
        ("I miss the old recipe, the new one is too sweet", False),
        ("we really miss the weekly deliveries since you paused us", False),
        ("could I miss the next box? away all month", True),
        ("please let me miss one delivery", True),
    ],
)
def test_missing_a_delivery_is_a_skip_but_missing_a_thing_is_not(text: str, skip: bool) -> None:
    assert ("skip" in in_library_words(text)) is skip


def test_two_close_policies_are_named_never_guessed(policies: PolicyActivities) -> None:
    result = route(policies, "about my package")
    assert result.policy_id is None and result.how == "ambiguous"
    named = {c.policy_id for c in result.candidates}
    assert named == {"shipment_not_received", "reshipment"}
    assert all(c.about for c in result.candidates)


def test_a_second_request_is_remembered_for_later(policies: PolicyActivities) -> None:
    result = route(policies, "please cancel order 5512 and then refund order 5501")
    assert result.policy_id == "cancel_order_retention_bigcommerce_kustomer"
    assert result.later == "refund"


def test_a_request_added_with_also_does_not_take_over_the_first(
    policies: PolicyActivities,
) -> None:
    # The second clause's words are the strongest in the message; "also" says it comes
    # second.
    text = "my parcel from last week still hasn't come, and please also cancel order 6133"
    result = route(policies, text)
    assert result.policy_id == "shipment_not_received"
    assert result.later is not None
    assert policies.library.plans[result.later].ticket_types == ["Cancel order"]


def test_a_first_request_in_its_own_words_goes_first_without_also(
    policies: PolicyActivities,
) -> None:
    # The skip clause is the strongest, but the first clause asks for a swap in a swap's
    # words: two requests, in the customer's order.
    text = "the caramel one instead of vanilla please, and skip the next delivery"
    result = route(policies, text)
    assert (result.policy_id, result.later) == ("swap_subscription_product", "skip_next_shipment")


@pytest.mark.parametrize(
    "text",
    [
        "the clock came broken. also could I have a refund for the late delivery in March",
        "my mirror arrived broken. also refund the slow shipping from last time please",
    ],
)
def test_a_weaker_request_added_with_also_is_kept_for_later(
    policies: PolicyActivities, text: str
) -> None:
    # The refund clause is not sure enough to be a request alone, but "also" says it is one.
    result = route(policies, text)
    assert (result.policy_id, result.later) == ("reshipment", "refund")


def test_where_the_customer_has_been_is_the_scene_not_a_request(
    policies: PolicyActivities,
) -> None:
    # "travelling" is a skip word, but the first clause says how the customer is.
    text = "Hey! I'm back from travelling and want my subscription going again"
    result = route(policies, text)
    assert (result.policy_id, result.later) == ("restart_subscription", None)


@pytest.mark.parametrize(
    ("text", "first", "later"),
    [
        (
            "skip my next delivery. Plus can you change my flavour to mango",
            "skip_next_shipment",
            "swap_subscription_product",
        ),
        (
            "my lamp arrived broken, and I want a refund for the late shipping on my other order",
            "reshipment",
            "refund",
        ),
    ],
)
def test_plus_or_another_order_marks_a_second_request(
    policies: PolicyActivities, text: str, first: str, later: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.later) == (first, later)


def test_the_subscription_sibling_is_not_guessed_without_a_subscription(
    policies: PolicyActivities,
) -> None:
    # The words lean to the subscription box's examples, but the message names no
    # subscription: the customer is asked which kind of order it was.
    result = route(policies, "wrong flavour turned up in my order")
    assert result.policy_id is None and result.how == "ambiguous"
    named = {c.policy_id for c in result.candidates}
    assert named == {"reshipment", "reshipment_skio_kustomer"}


@pytest.mark.parametrize(
    "text",
    [
        "what is the refund policy on opened items?",
        "will the hazelnut flavour be restocked soon?",
        "how long does it take to refund usually?",
    ],
)
def test_a_question_about_the_shop_is_not_a_request(policies: PolicyActivities, text: str) -> None:
    # The words are a policy's, but no one's order is named: an information question.
    result = route(policies, text)
    assert result.policy_id is None and result.how != "ambiguous"


@pytest.mark.parametrize(
    "text",
    [
        "Do you offer a subscription for pet food I could try?",
        "do you have a returns address I can send it to?",
        "How long do refunds take to appear on my credit card?",
        "how many days does a cancellation take to go through on my account",
    ],
)
def test_a_question_about_what_the_shop_does_is_not_a_request(
    policies: PolicyActivities, text: str
) -> None:
    """Questions like "do you …?" and "how long does …?" ask how the shop works; naming "I"
    or "my card" does not make them a request."""
    result = route(policies, text)
    assert result.policy_id is None and result.how == "none"


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("How long will my parcel take to arrive?", "shipment_not_received"),
        ("how long does it take to get my refund", "refund"),
    ],
)
def test_a_question_about_ones_own_order_still_routes(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    assert route(policies, text).policy_id == policy_id


@pytest.mark.parametrize(
    "text",
    [
        "could we order in bulk for the office?",
        "could I order a few as a gift for a friend?",
        # A preposition one policy's example happens to use ("about") says nothing either.
        "could we order about forty for an event?",
    ],
)
def test_a_question_in_the_first_person_about_ordering_is_not_a_request(
    policies: PolicyActivities, text: str
) -> None:
    # "I" is named, but not their order, and "order" alone says nothing a policy does.
    result = route(policies, text)
    assert result.policy_id is None and result.how != "ambiguous"


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("can I undo the purchase I made a minute ago?", "cancel_order_retention_stayai_zendesk"),
        ("could we leave out next month's delivery?", "skip_next_shipment"),
    ],
)
def test_a_first_person_question_that_says_what_it_wants_routes(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    result = route(policies, text)
    assert result.how != "ambiguous"
    assert result.policy_id is not None
    assert policies.library.plans[result.policy_id].ticket_types == (
        policies.library.plans[policy_id].ticket_types
    )


def test_a_request_asked_as_a_question_still_routes(policies: PolicyActivities) -> None:
    assert route(policies, "is it possible to skip the next box?").policy_id == (
        "skip_next_shipment"
    )


@pytest.mark.parametrize(
    ("helpdesk", "policy_id"),
    [
        ("zendesk", "cancel_order_retention_stayai_zendesk"),
        ("kustomer", "cancel_order_retention_bigcommerce_kustomer"),
        ("salesforce", "cancel_order_retention_bigcommerce_salesforce"),
    ],
)
def test_the_helpdesks_variant_of_the_ticket_type(
    policies: PolicyActivities, helpdesk: str, policy_id: str
) -> None:
    assert route(policies, "I'd like to call off my purchase", helpdesk=helpdesk).policy_id == (
        policy_id
    )


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ("1", "shipment_not_received"),
        ("the second one", "reshipment"),
        ("yes", "shipment_not_received"),
        ("it came with a big crack in it", "reshipment"),
        ("the damaged one", "reshipment"),
        ("one", "shipment_not_received"),
        ("it's nowhere to be seen, tracking stopped", "shipment_not_received"),
        ("actually I just want to skip my upcoming delivery", "skip_next_shipment"),
        ("no", None),
        ("hmm", None),
    ],
)
def test_the_answer_to_the_question_routes(
    policies: PolicyActivities, answer: str, chosen: str | None
) -> None:
    result = route(policies, answer, choices=["shipment_not_received", "reshipment"])
    assert result.policy_id == chosen
    if chosen is None:
        assert result.menu


def test_the_rule_based_router_is_still_there(policies: PolicyActivities) -> None:
    old = PolicyActivities(policies.library, semantic=False)
    assert route(old, "Skip next shipment").policy_id == "skip_next_shipment"
    assert route(old, "about my package").how != "ambiguous"


def test_the_model_loads_from_the_wheel_without_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the model tried to use the network")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors = WordLlamaEmbedder().embed(["where is my parcel", "refund please"])
    assert vectors.shape == (2, 256)


def test_what_the_customer_does_not_want_is_left_out() -> None:
    assert without_negated_requests("skip one box without cancelling my plan") == (
        "skip one box without my plan"
    )
    assert without_negated_requests("not a refund, I want a replacement") == (
        "not a , I want a replacement"
    )
    assert without_negated_requests("I never received my parcel") == ("I never received my parcel")


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("the lid was cracked when my monthly refill arrived", "reshipment_skio_kustomer"),
        ("the lid was cracked when my order arrived", "reshipment"),
    ],
)
def test_of_two_sibling_policies_the_kind_of_order_decides(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    assert route(policies, text).policy_id == policy_id


def test_a_negated_word_is_its_own_keyword() -> None:
    assert content_words("I didn't receive the items") == ["not_receiv", "item"]
    assert content_words("I received the wrong items") == ["receiv", "wrong", "item"]


@pytest.mark.parametrize(
    "text",
    [
        "could my box have the rose soap in place of the lemon one",
        "change me over from the small tub to the big tub on my plan",
        "fancy giving the cherry one a go in my next box",
        "the coconut bars instead of the peanut ones in my box from now on please",
        "I'd love to try the ginger shampoo in my upcoming deliveries",
        "go from the travel size to the full size for my refills",
    ],
)
def test_a_preference_about_what_the_subscription_brings_is_a_swap(
    policies: PolicyActivities, text: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.how) == ("swap_subscription_product", "meaning")


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("you sent the decaf pods instead of the espresso I ordered", "reshipment"),
        ("I'd rather have my money back than another box", "refund"),
        ("instead of a new box please just refund me", "refund"),
    ],
)
def test_a_preference_for_another_request_is_that_request(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    assert route(policies, text).policy_id == policy_id


@pytest.mark.parametrize(
    "text",
    [
        "I'd prefer my box delivered on Fridays",
        "I'd prefer the box to come on the 1st of the month instead of the 15th",
        "could my deliveries come to my office instead of my home",
        "I'd prefer to cancel my plan",
    ],
)
def test_a_preference_about_when_or_where_it_comes_is_no_swap(
    policies: PolicyActivities, text: str
) -> None:
    assert route(policies, text).policy_id != "swap_subscription_product"


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        ("honestly I'd sooner skip a month than cancel the whole thing", "skip_next_shipment"),
        ("I'd much rather have a replacement sent out than get a refund", "reshipment"),
        ("I'd prefer my money back over a replacement, the item was faulty", "refund"),
    ],
)
def test_the_alternative_a_customer_turns_down_is_not_their_request(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    """After "than" (and "instead of"), a request word names what the customer does not want."""
    result = route(policies, text)
    assert result.policy_id is not None
    assert policies.library.plans[result.policy_id].ticket_types == (
        policies.library.plans[policy_id].ticket_types
    )


def test_a_request_the_message_is_about_is_kept(policies: PolicyActivities) -> None:
    """A request after "over" is kept: "over" also means "about" (only "than" marks the
    side of a preference turned down)."""
    result = route(policies, "I'm writing to you over a refund I was promised last week")
    assert result.policy_id == "refund"
