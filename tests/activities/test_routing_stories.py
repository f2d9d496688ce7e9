"""Routing messages that describe a situation instead of naming a request, the way outside
authors wrote them in the eighth round (`benchmarks/data/openings_round8.jsonl`): what a
damaged or incomplete parcel looks like, what the next delivery should be, a letter's
greeting and sign-off, "order no. 123". Every message here is new wording, in none of the
corpora or the library's examples."""

from __future__ import annotations

import pytest

from activities.customer_wording import (
    ends_subscriptions,
    ends_the_subscription,
    in_library_words,
    without_letter_frame,
    without_told_cancellation,
)
from activities.policy_store import PolicyActivities, RouteRequest, RouteResult
from policies.library import load_library


@pytest.fixture(scope="module")
def policies() -> PolicyActivities:
    return PolicyActivities(load_library())


def route(policies: PolicyActivities, text: str) -> RouteResult:
    return policies.route(RouteRequest(text=text, helpdesk="web"))


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        # A fault described, not named.
        ("Unboxed the kettle tonight and the lid had snapped, can I have another", "reshipment"),
        ("the lamp I got won't switch on, tried three bulbs", "reshipment"),
        ("half the biscuits in the tin are in pieces, can you send a fresh tin", "reshipment"),
        # Part of the parcel is not there.
        ("only two of the three candles were in the box, order 5531", "reshipment"),
        # The next delivery: later, or another product from now on.
        ("could you bump my next coffee bag back by a couple of weeks", "skip_next_shipment"),
        ("please move my plan onto the decaf blend from now on", "swap_subscription_product"),
        ("can I go down to the smaller size on my monthly refills", "swap_subscription_product"),
        ("for the coming boxes could you pack the mint one instead", "swap_subscription_product"),
        ("can my plan be changed to the unscented version", "swap_subscription_product"),
        # Coming back to a subscription.
        ("left the snack club in spring, how do I get back on it?", "restart_subscription"),
        # A renewal that went through is a charge, not a wish to restart.
        (
            "the plan renewed overnight and took 30 from my card, I'd like that money back",
            "refund",
        ),
        # Coming back, said with "again".
        (
            "we paused the veg box over summer and would like to have it again",
            "restart_subscription",
        ),
        # Not here yet, in a product's words; what came, not what was ordered.
        (
            "still waiting on the garden chairs, order 6620, it's been three weeks",
            "shipment_not_received",
        ),
        ("ordered the blue mug set got a green one in the box, order 3391", "reshipment"),
        ("opened it today and instead of the oak frame there was a walnut one", "reshipment"),
        # A battery charged is not money charged: the fault still asks for a replacement.
        (
            "the speaker won't switch on, charged it all night, can you send one that works",
            "reshipment",
        ),
        # Money asked back, in any words.
        ("you took 19.99 twice for the same parcel, I need one of them back", "refund"),
        ("the discount never came off the price so could I get the 5 pounds back", "refund"),
        # A duplicate order.
        (
            "I clicked buy twice by mistake, please get rid of one",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
    ],
)
def test_a_described_situation_routes_to_its_request(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.how) == (policy_id, "meaning")


def test_a_letters_greeting_and_sign_off_are_not_the_request() -> None:
    letter = "Dear Customer Services,\nthe kettle came with a dented lid.\nKind regards,\nJo Bloggs"
    assert without_letter_frame(letter).strip() == "the kettle came with a dented lid."
    # A message that is only a greeting, or a word that merely starts like one, is kept.
    assert without_letter_frame("hello there") == "hello there"
    assert without_letter_frame("Best way to store the beans?") == "Best way to store the beans?"


def test_a_letter_routes_like_its_body(policies: PolicyActivities) -> None:
    letter = (
        "Dear Sir or Madam, my order no. 7781 came today and the glass vase inside was "
        "shattered. I would appreciate a replacement. Yours sincerely, Alan Price"
    )
    result = route(policies, letter)
    assert (result.policy_id, result.later) == ("reshipment", None)


def test_a_fault_given_as_the_reason_for_money_back_stays_a_refund() -> None:
    """The fault words point at a replacement only when no money is asked for."""
    assert "damaged" in in_library_words("the blender jug is cracked")
    assert "damaged" not in in_library_words("the blender jug is cracked, refund me please")


def test_a_subscription_box_that_arrived_broken_goes_to_the_subscription_reshipment(
    policies: PolicyActivities,
) -> None:
    """Two sibling policies, one for subscriptions, compete as one: the message's own
    wording ("this month's", "subscriber") picks the sibling."""
    result = route(
        policies,
        "subscriber for a year now: this month's delivery had the lid of the tub cracked "
        "and powder everywhere, can you send another",
    )
    assert (result.policy_id, result.how) == ("reshipment_skio_kustomer", "meaning")


@pytest.mark.parametrize(
    "text",
    [
        # What came, told with "instead of": a wrong or missing item, never a swap.
        "my monthly tin had four bars instead of six this time",
        "opened my box and instead of the lavender soap there was a lemon one",
    ],
)
def test_what_came_instead_is_not_a_new_product_choice(
    policies: PolicyActivities, text: str
) -> None:
    assert route(policies, text).policy_id != "swap_subscription_product"


def test_praise_for_a_product_asks_for_nothing(policies: PolicyActivities) -> None:
    result = route(policies, "the new hazelnut roast is fantastic, keep it coming!")
    assert result.policy_id is None and result.menu


def test_a_products_name_does_not_drown_the_request(policies: PolicyActivities) -> None:
    """Capitalised product names are words no policy uses; they tell which product, not
    which request, so they do not count against the words that do."""
    result = route(
        policies, "please swap the Golden Sunrise Granola on my plan for the Forest Walk Muesli"
    )
    assert (result.policy_id, result.how) == ("swap_subscription_product", "meaning")


def test_money_put_back_on_a_card_is_not_a_subscription_put_back_on() -> None:
    assert "restart" not in in_library_words("please put the 12 pounds back on my card")
    assert "restart" in in_library_words("please put my coffee plan back on")


def test_trying_another_brand_is_leaving_not_a_product_swap() -> None:
    assert "swap" not in in_library_words("I paused my plan to try another brand of tea")
    assert "swap" in in_library_words("I'd like to try the peppermint tea in my monthly box")


def test_a_first_sentence_that_tells_what_happened_is_not_a_request_of_its_own(
    policies: PolicyActivities,
) -> None:
    """ "The parcel came a fortnight late" sets the scene; the money asked for is the request."""
    result = route(
        policies,
        "The parcel came a fortnight late, after the wedding it was meant for. "
        "I'd like my money returned please.",
    )
    assert (result.policy_id, result.later) == ("refund", None)


def test_a_first_clause_that_asks_is_the_request(policies: PolicyActivities) -> None:
    result = route(
        policies, "refund please. I posted the lamp back, the tracking shows you signed for it"
    )
    assert result.policy_id == "refund"


def test_asking_for_an_invoice_gets_the_menu(policies: PolicyActivities) -> None:
    result = route(policies, "Could I have a proper invoice for order 5512 for my accountant?")
    assert result.policy_id is None and result.menu


def test_still_waiting_for_money_is_not_a_parcel_that_never_came() -> None:
    assert "never arrived" in in_library_words("still waiting on the rug I ordered")
    assert "never arrived" not in in_library_words("still waiting for my refund on the rug")


@pytest.mark.parametrize(
    ("text", "first", "later"),
    [
        (
            "the mirror came cracked. On a separate note, where has my other parcel got to?",
            "reshipment",
            "shipment_not_received",
        ),
        (
            "cancel order 7710 and please refund the delivery fee I paid on 7702",
            "cancel_order_retention_bigcommerce_kustomer",
            "refund",
        ),
    ],
)
def test_a_second_request_is_remembered_for_after_the_first(
    policies: PolicyActivities, text: str, first: str, later: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.later) == (first, later)


def test_a_box_with_a_next_delivery_to_skip_is_a_subscription(policies: PolicyActivities) -> None:
    """Only a subscription has a next delivery to skip, so a fault in "the last box" goes
    to the subscription's reshipment when the same message asks to skip the next one."""
    result = route(
        policies,
        "the last box had a smashed bottle of the olive oil, could you send another? "
        "Also please skip the next delivery, we're travelling.",
    )
    assert (result.policy_id, result.later) == ("reshipment_skio_kustomer", "skip_next_shipment")


def test_a_story_then_the_one_clause_that_asks(policies: PolicyActivities) -> None:
    """A long story scores below the floor as a whole; the one clause that asks, in its
    request's own words, is the request."""
    result = route(
        policies,
        "Long story short, my partner surprised me with the very same blender the day after "
        "I placed mine, so we now have two sitting in the kitchen plans. Any chance you can "
        "call mine off? 40221",
    )
    plan = policies.library.plans.get(result.policy_id or "")
    assert result.how == "meaning" and plan is not None
    assert plan.ticket_types == ["Cancel order"]  # any of the cancellation variants


@pytest.mark.parametrize(
    ("text", "policy_id"),
    [
        # An order to be stopped before it goes, in other words than "cancel".
        (
            "placed an order for the walnut desk tidy an hour ago, please stop it before "
            "it ships, my partner already got one",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        (
            "bought the yoga mat by accident, please don't send it",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        # Money after a return, a price that dropped, a code that was not taken off.
        (
            "I posted the linen shirt back to you a fortnight ago and I still haven't seen "
            "the money, order 7781",
            "refund",
        ),
        ("the discount code didn't get applied and I paid full price for order 2290", "refund"),
        (
            "the bedside lamp went down by 15 a day after I bought it, can I get the difference?",
            "refund",
        ),
        # The next delivery later, or not this one.
        (
            "could my next tea delivery come a few weeks later, still have loads",
            "skip_next_shipment",
        ),
        (
            "we're away in August so I'd prefer not to receive that month's box, carry on "
            "after that",
            "skip_next_shipment",
        ),
        # Another product in the subscription, said with "swap … from … to", "replace … with",
        # or what should come "for future deliveries".
        ("swap my coffee sub from medium roast to dark roast please", "swap_subscription_product"),
        (
            "in my monthly box, replace the lavender soap with the rose one from next month",
            "swap_subscription_product",
        ),
        (
            "my dog is older now, can I have the senior recipe for future deliveries?",
            "swap_subscription_product",
        ),
        # Not here: nothing received, should have been here by now.
        (
            "the bookshelf should have been here on Tuesday and I've received nothing, order 6612",
            "shipment_not_received",
        ),
        # A fault, a hole, a gap in the box.
        ("my new hair dryer doesn't turn on at all, order 3370", "reshipment"),
        ("the duvet cover had a hole in it straight out of the packet", "reshipment"),
        (
            "this month's subscription box was missing the face mask the card says it has",
            "reshipment_skio_kustomer",
        ),
        # What came against what the plan is for.
        (
            "my monthly box had the peppermint tea in it but I'm signed up for chamomile, "
            "could you send the chamomile",
            "reshipment_skio_kustomer",
        ),
        # Another product for the deliveries to come, without "swap … from".
        (
            "I'd like to switch my shampoo refill to the volumising one on my subscription",
            "swap_subscription_product",
        ),
        ("for my subscription we now need the large breed formula", "swap_subscription_product"),
        # Money put back on a card of any name is a refund, not a plan put back on.
        (
            "the rug shed everywhere within a week, I don't want another, just put the money "
            "back on my Mastercard",
            "refund",
        ),
        # What came instead of what was ordered, however long the description between.
        (
            "we received two boxes of the green tea sachets in Monday's parcel instead of the "
            "black tea we ordered, order 4410",
            "reshipment",
        ),
        # A request's own verb where it asks, whatever else the message says.
        ("Refund the gift wrap on 5520 please - it's under my husband's name", "refund"),
        # Wanting it again after the gap is the gap, not a restart.
        (
            "we're overstocked, could you hold off the next box? we'll want it again after that",
            "skip_next_shipment",
        ),
        # A charge after a cancellation the customer tells is about the money.
        (
            "you took 25 from my card on Monday for a plan I thought I had cancelled, please "
            "return it",
            "refund",
        ),
        (
            "charged again after i cancelled my subscription, need my money back",
            "refund",
        ),
        # Fewer than ordered, something left out, another variety than the plan's.
        ("the crate had 4 bottles instead of 6, order 3318", "reshipment"),
        ("the lamp arrived without the shade, can you send it", "reshipment"),
        ("the shoes I got are a 42 but I order a 40, please send the 40", "reshipment"),
        # Another product in the plan: "change my sub to …", "from … to …" far apart.
        ("change my plan to the 500g pouch", "swap_subscription_product"),
        (
            "please change the tablets in my monthly subscription from 30 count to 90 count",
            "swap_subscription_product",
        ),
        # A pause of one delivery is a skip; deliveries to recommence are a restart.
        ("can I pause my subscription box for only a month", "skip_next_shipment"),
        (
            "we stopped the deliveries while we were abroad and would now like them to recommence",
            "restart_subscription",
        ),
        # Not sent yet, asked as a question.
        (
            "paid on Monday and it still says processing, is it ever going to be shipped?",
            "shipment_not_received",
        ),
        # The customer's own wrong choice is an order to cancel, not a wrong item sent.
        (
            "I picked the wrong colour on order 6620 this morning, please cancel it before it "
            "ships and I'll order again",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        # Shipped at all?
        ("has my order even been sent? no tracking email, nothing. #3310", "shipment_not_received"),
        # Not in there; a repeat or standing order is a subscription; sent back, send again.
        (
            "my monthly supplement box came but the fish oil wasn't in there",
            "reshipment_skio_kustomer",
        ),
        (
            "please alter my standing order from the green tea to the jasmine for future "
            "deliveries",
            "swap_subscription_product",
        ),
        (
            "the courier returned my parcel to you by mistake, could you post it again please",
            "reshipment",
        ),
        # "I cancelled … but you took …": the money.
        (
            "I cancelled my plan in May but you charged me 30 again today, refund it please",
            "refund",
        ),
        ("did my parcel actually ship? nothing on the tracking page", "shipment_not_received"),
        (
            "I bought the wrong size of dog bed on order 5561 and sent it back, still no refund",
            "refund",
        ),
        (
            "the subscription box this month had oat milk, not the almond milk we always get",
            "reshipment_skio_kustomer",
        ),
        # A subscription box with another variety than the plan's, in more words.
        (
            "the subscription box had the spicy salsa instead of the mild one, send the mild",
            "reshipment_skio_kustomer",
        ),
        (
            "my monthly tea came as green tea instead of the usual black, can you sort it",
            "reshipment_skio_kustomer",
        ),
        (
            "my shampoo refill came but it's the oily hair one not the dry one",
            "reshipment_skio_kustomer",
        ),
        # A cancellation told before a request for money.
        ("I cancelled that order on Friday and you still took the payment, refund it", "refund"),
        # Crushed flat; defer; wait; unpause; hasn't got it.
        ("the hat box came squished flat, order 4471", "reshipment"),
        ("I would like to defer my next supplement delivery by one cycle", "skip_next_shipment"),
        ("we have loads of litter left, can the next box wait?", "skip_next_shipment"),
        ("unpause my plan please", "restart_subscription"),
        (
            "sent a gift to my brother two weeks ago and he still hasn't got it, order 3390",
            "shipment_not_received",
        ),
        ("I want the next boxes to be the dark roast, not the medium", "swap_subscription_product"),
        ("change next box to the unscented candle not the pine", "swap_subscription_product"),
        # A first clause that tells of a charge sets the scene for the money asked after it.
        (
            "my snack box plan renewed on Sunday and I had stopped it in October, please give "
            "me the 19 back",
            "refund",
        ),
        (
            "my tea plan renewed on the 3rd and I cancelled it in August!! refund the £15 please",
            "refund",
        ),
        ("your app renewed my plan and I cancelled it before, refund me please", "refund"),
        # Tenth set of classes (blind13's misses, in new words).
        ("please change my coffee box to the decaf selection", "swap_subscription_product"),
        ("can you put me on the small size bag from now", "swap_subscription_product"),
        (
            "we're away for the holidays, please do not send the box due on the 28th, the one "
            "after that can go ahead as usual",
            "skip_next_shipment",
        ),
        (
            "I paused the deliveries in autumn and would like them to begin once more",
            "restart_subscription",
        ),
        (
            "I paid 40 for the kettle and it's 30 this week, can you refund the difference",
            "refund",
        ),
        (
            "the parcel went back to your depot because nobody was in, can you send it out again?",
            "reshipment",
        ),
        ("any news on order 4410? the tracking has been quiet for a week", "shipment_not_received"),
        ("will my order get here in time for Friday? it's a gift", "shipment_not_received"),
        # Eleventh set of classes (blind14's misses, in new words).
        (
            "I stopped my tea plan in spring when money was short, but I'd like it back now, "
            "same blend",
            "restart_subscription",
        ),
        ("the lipstick came but it's the matte version, I ordered the gloss", "reshipment"),
        (
            "placed an order on 3 May for a rug and have yet to receive anything",
            "shipment_not_received",
        ),
        (
            "please omit my next vitamin delivery, I'm away, carry on after",
            "skip_next_shipment",
        ),
        ("my renewal is on the 5th, push it to the 19th", "skip_next_shipment"),
        (
            "realised I cancelled my coffee subscription in June. Big mistake, I miss it",
            "restart_subscription",
        ),
        (
            "for my subscription please change the beef flavour to the turkey flavour",
            "swap_subscription_product",
        ),
        (
            "could my monthly bag be the decaf from the next delivery on?",
            "swap_subscription_product",
        ),
        (
            "I accidentally hit buy on the big tub instead of saving it for later, it hasn't "
            "shipped",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        (
            "two identical orders went through, 7712 and 7713, kill one please",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        ("charged £12.99 for a club I never signed up for", "refund"),
        # Twelfth set of classes (blind15's misses, in new words).
        (
            "the candle club box came with the jar cracked down the side, can you send another",
            "reshipment_skio_kustomer",
        ),
        (
            "the bag split open in the box again, second month in a row, please resend",
            "reshipment_skio_kustomer",
        ),
        ("I'd prefer the return of my payment for order 4471, the cheese was mouldy", "refund"),
        ("got two left gloves in order 5530, can you send a proper pair", "reshipment"),
        ("order 3312 should have had the tea and the mug, only the mug came", "reshipment"),
        ("my candles not arrive yet, already 10 days", "shipment_not_received"),
        (
            "please refrain from sending the December box, deliveries may continue as normal "
            "in January",
            "skip_next_shipment",
        ),
        (
            "I wish to exchange the oat biscuits in my monthly box for the rye crackers",
            "swap_subscription_product",
        ),
        ("switch me to the 60-day supply on my subscription please", "swap_subscription_product"),
        (
            "I ordered the rain jacket an hour ago and I've changed my mind, it hasn't gone out",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        (
            "clicked pay twice by accident and now have two confirmation emails, I only want one",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        # Thirteenth set of classes (blind16's misses, in new words).
        (
            "I miss my veg box so much, is it too late to get it back?",
            "restart_subscription",
        ),
        (
            "you paused my plan while I was away, I'd like it started up again",
            "restart_subscription",
        ),
        (
            "the plan renewed today, I'd meant to cancel it in May, I want the £18 back",
            "refund",
        ),
        (
            "I'd rather cancel order 5521 and start again with the right size",
            "cancel_order_retention_bigcommerce_kustomer",
        ),
        ("my August box arrived with the honey jar smashed", "reshipment_skio_kustomer"),
        ("please do not send the next parcel, nobody will be home", "skip_next_shipment"),
        (
            "still have loads of rice from the last box, don't think I need another one just yet",
            "skip_next_shipment",
        ),
        (
            "I would like to amend my subscription from the large hamper to the small one",
            "swap_subscription_product",
        ),
        ("order 6621 had only 2 candles in it, the slip says 4", "reshipment"),
        (
            "the sub box came with no cookies this time, the leaflet lists them",
            "reshipment_skio_kustomer",
        ),
        (
            "I stop my tea subscription last year, can I have again the same one?",
            "restart_subscription",
        ),
        ("there's a charge from you for £19.99 and I haven't ordered anything since May", "refund"),
        # Fourteenth set of classes (blind17's misses, in new words).
        (
            "it dropped to £20 the day after I paid £35, any chance of the £15 difference back?",
            "refund",
        ),
        (
            "oops I cancelled my plan by mistake, I meant to skip a month, can you undo it",
            "restart_subscription",
        ),
        (
            "could future boxes come with the unflavoured ones instead of the mint",
            "swap_subscription_product",
        ),
        (
            "in this month's subscription pack the tub is 500g but I pay for the 1kg",
            "reshipment_skio_kustomer",
        ),
        (
            "please move my monthly pack from the basic to the premium from the next cycle",
            "swap_subscription_product",
        ),
        (
            "tried a cheaper brand, yours is better, I'd like to come back to my old plan",
            "restart_subscription",
        ),
        # The next delivery later.
        (
            "is it possible to have my next subscription box sent at a later date? still "
            "have plenty",
            "skip_next_shipment",
        ),
        (
            "the next refill is due Monday but we're stocked up, could you delay it a bit",
            "skip_next_shipment",
        ),
    ],
)
def test_ninth_round_situations_route_to_their_request(
    policies: PolicyActivities, text: str, policy_id: str
) -> None:
    result = route(policies, text)
    assert (result.policy_id, result.how) == (policy_id, "meaning")


@pytest.mark.parametrize(
    "text",
    [
        "I typed my old address on the order I placed an hour ago, can you change it to 3 Mill Rd",
        "the card on my subscription expired, how do I update it",
        "my card on file expires next week, how do I put the new one on my plan?",
        "please update the email on my account to the new one",
    ],
)
def test_changing_an_account_detail_is_not_a_policys_request(
    policies: PolicyActivities, text: str
) -> None:
    assert route(policies, text).policy_id is None


@pytest.mark.parametrize(
    "text",
    [
        "please cancel my subscription, we are moving abroad and won't need it",
        "I want to end my membership altogether, thanks for everything",
        "I'd like to cancel my subscription entirely, we're cutting back",
        "Cancel my subscription altogether please. I don't want any more boxes.",
    ],
)
def test_ending_the_whole_subscription_is_not_cancelling_one_order(
    policies: PolicyActivities, text: str
) -> None:
    """The library cancels orders, not subscriptions: the menu, not the order policy."""
    assert route(policies, text).policy_id is None


def test_a_library_with_a_policy_for_ending_subscriptions_keeps_that_route() -> None:
    """Only a library whose policies cancel orders sends the menu: a "Cancel subscription"
    policy is the place for such a message."""
    assert ends_subscriptions(["Cancel subscription"])
    assert ends_subscriptions(["End membership plan"])
    assert not ends_subscriptions(["Cancel order"])
    assert not ends_subscriptions(["Cancel subscription order"])
    assert ends_the_subscription("cancel my subscription please, we're moving")
    assert not ends_the_subscription("cancel my subscription order for next week")
    assert not ends_the_subscription("can you un-cancel my plan")


@pytest.mark.parametrize(
    "text",
    [
        "my box went out on the 3rd although I had asked you last week to cancel the plan, "
        "please refund the £30",
        "you charged me 20 again even though I'd cancelled in June, I want it back",
    ],
)
def test_a_cancellation_told_in_a_message_about_money_is_not_asked_again(text: str) -> None:
    assert "cancel" not in without_told_cancellation(text).lower()
