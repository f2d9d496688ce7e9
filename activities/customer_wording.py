"""Everyday ways of asking for a support request, put in the words the policy library uses.

The router's model is a static embedding (a bag of tokens): it does not know that "void my
order" is a cancellation, that "reimburse" is a refund, or that "switch my plan back on" is
a restart and not a swap, because the particles and the word order carry that meaning. A
short, curated table of customer wording, written for the requests every support desk
handles (not for any one message), rewrites those expressions into the head words the
library's examples use before the message is scored. Only unambiguous wording is here: a
word that can mean two requests ("return", "exchange", "stop") is left to the model.
"""

from __future__ import annotations

import re
from functools import lru_cache

from activities.shop_questions import asks_what_the_shop_does

#: (pattern, replacement), applied in order: restarts first, so that "switch … back on"
#: is read before any swap wording. A replacement may keep a group (the object: "switch my
#: membership back on" → "restart my membership").
_WORDING: tuple[tuple[str, str], ...] = (
    # Restart: a particle or a prefix says "again".
    # (Not money put back on a card or an account: that is a refund.)
    (
        r"\b(?:turn|switch|put|set|get)\s+(?!(?:the\s+|my\s+|that\s+)?(?:money|cash|funds|amount|"
        r"payment|charge|refund|[£$€\d]))((?:[\w']+\s+){0,3}?)back\s+on\b"
        r"(?!\s*(?:to\s+)?(?:my|the|our|your)\s+(?:\w+\s+)?(?:card|account|statement|bank|paypal|"
        r"visa|mastercard|amex|payment|original))",
        r"restart \1back on",
    ),
    # (Not "cancel and start again": a new order, after cancelling this one.)
    (
        r"(?<!cancel\sand\s)\bstart(?:ed|ing)?\s+((?:[\w']+\s+){0,4}?)(?:up\s+)?again\b",
        r"restart \1",
    ),
    (r"\b(?:have|get|receive)\s+again\b", r"\g<0> restart"),
    (r"\b(?:turn|switch|put|set)\s+((?:[\w']+\s+){0,3}?)on\s+again\b", r"restart \1back on"),
    (r"\b(?:running|going|active)\s+again\b", r"\g<0> restart"),
    (r"\bun-?cancel\w*|\bun-?pause\w*", "restart"),
    (
        r"\bcome\s+back\s+to\s+(?:the|my|your)\s+(?:[\w'-]+\s+){0,3}?(?:plan|subscription|box|club)\b|"
        r"\bcancell?ed\b[^.!?]{0,30}?\bby\s+(?:mistake|accident)\b|"
        r"\b(?:accidentally|mistakenly)\s+cancell?ed\b",
        r"\g<0> restart",
    ),
    (
        r"\bcancell?ed\b[^.!?]{0,60}[.!?]?\s*(?:(?:a|big|huge|such\s+a)\s+)?(?:mistake|regret)",
        r"\g<0> restart",
    ),
    (
        r"\b(?:have|get|receive|receiving|want)\s+(?:it|them|that|this|the\s+\w+|my\s+\w+)\s+again\b"
        # "… we'll want it again after that" is the gap before it, not a restart.
        r"(?!\s+(?:after|afterwards|later|from|next|once|when|in\s+\w+))",
        r"\g<0> restart",
    ),
    (r"\bundo\s+(?:the\s+|my\s+)?cancell?ation\b", "restart"),
    # "renew my plan" asks for it; "it renewed" tells of a charge (not a restart).
    (r"\bre-?(?:activat|subscrib|join|instat|enrol)\w*|\brenew\b", r"\g<0> restart"),
    (
        r"\bresum(?:e|ed|es|ing)\b|\brecommenc\w*|\b(?:begin|start)\s+once\s+more\b",
        r"\g<0> restart",
    ),
    # Cancel: the other words for calling an order off.
    (r"\bcall\s+((?:[\w']+\s+){0,3}?)off\b", r"cancel \1"),
    (r"\b(?:void|annul\w*|scrap|withdraw|rescind|cancell?ations?)\b", r"\g<0> cancel"),
    (r"\bback\s+out\s+of\b", "cancel"),
    (
        r"\b(?:nix|axe|ditch|kill)\b(?=\s+(?:my|the|this|that|order|it|one)\b|\s+#?\d)",
        r"\g<0> cancel",
    ),
    # An order placed by mistake: "I accidentally hit buy", "ordered it by accident".
    (
        r"\b(?:i|we)\s+(?:accidentally|mistakenly)\s+(?:hit|clicked|pressed|ordered|bought|placed|"
        r"purchased|paid)\b|\b(?:ordered|bought|placed|purchased|clicked|hit\s+buy)\b[^.!?]{0,30}?"
        r"\bby\s+(?:mistake|accident)\b",
        r"\g<0> cancel order",
    ),
    # Restart: back on a subscription, or wanting it back.
    (
        r"\b(?:get|go|come|sign|hop|jump)\s+back\s+on(?:to)?\b"
        r"(?!\s*(?:my|the|our|your)\s+(?:\w+\s+)?(?:card|account|statement|bank|paypal))",
        r"\g<0> restart",
    ),
    (
        r"\b(?:want|like|have|get)\s+(?:it|them|my\s+(?:subscription|plan|box(?:es)?|membership|"
        r"deliveries)|the\s+(?:subscription|plan|membership))\s+back\b",
        r"\g<0> restart",
    ),
    # Cancel: an order placed twice or not wanted any more.
    (
        r"\b(?:ordered|clicked|paid|checked\s+out)\s+(?:[\w']+\s+){0,3}?twice\b|"
        r"\b(?:two|2)\s+(?:identical|duplicate|of\s+the\s+same)\s+orders\b|"
        r"\bduplicate\s+order\b|\bget\s+rid\s+of\s+(?:the|my|this|that|one)\b|"
        r"\b(?:two|2)\s+(?:order\s+)?confirmations?(?:\s+e-?mails?)?\b|"
        r"\b(?:i'?ve|i\s+have)\s+changed\s+my\s+mind\b|"
        r"\b(?:don'?t|do\s+not|no\s+longer)\s+need\s+(?:it|this|that|them|the\s+order|"
        r"my\s+order)\s+(?:any\s*more|now)\b",
        r"\g<0> cancel order",
    ),
    # An order not to be sent at all: "please don't send it" (not "… to my old address",
    # "… yet", "… until Friday": those are about where or when).
    (
        r"\b(?:don'?t|do\s+not|please\s+don'?t)\s+(?:send|ship|dispatch|post)\s+"
        r"(?:it|them|(?:the|my|this|that)\s+order)\b(?!\s+(?:to|yet|until|till|before|on|this|"
        r"next|out\s+(?:yet|until|before)))(?!.*\b(?:month|week|box|delivery|subscription|"
        r"next\s+one|one\s+after)\b)",
        r"\g<0> cancel order",
    ),
    # The customer's own wrong choice ("I ordered the wrong size") is not a wrong item sent.
    (
        r"\b((?:i|we)\s+(?:accidentally\s+|mistakenly\s+)?(?:ordered|bought|chose|picked|"
        r"selected|purchased))\s+(?:the\s+|a\s+)?wrong\b",
        r"\1",
    ),
    # Charged for what was never agreed to: the money back.
    (
        r"\b(?:never|didn'?t|did\s+not)\s+(?:sign(?:ed)?\s+up|authori[sz]e\w*|agree\w*|subscribe\w*)\b"
        r"(?=.*\b(?:charg\w*|billed|paid|took|\$|£|€))|"
        r"\b(?:haven'?t|have\s+not|didn'?t|did\s+not|never)\s+ordered\s+anything\b|"
        r"\b(?:charg\w*|billed)\b(?=.*\b(?:never|didn'?t|did\s+not)\s+(?:sign(?:ed)?\s+up|authori[sz]e\w*|"
        r"agree\w*|subscribe\w*)\b)",
        r"\g<0> refund",
    ),
    # "It renewed" tells of a charge, not of a wish to restart ("renew my plan" is that).
    (r"\b(?:auto-?)?renewed\b", "charged"),
    # Refund: money coming back.
    (
        r"\b(?:back|returned|refunded|credited)\s+(?:on|onto|to|into)\s+(?:my|the)\s+"
        r"(?:card|account|paypal|bank|statement)\b",
        r"\g<0> refund",
    ),
    (r"\b(?:reimburs|compensat)\w*", r"\g<0> refund"),
    (r"\bmoney\s+back\b", r"\g<0> refund"),
    (
        r"\b(?:payment|money|funds|cash)\s+(?:returned|refunded|paid\s+back|put\s+back)\b|"
        r"\b(?:return|give\s+back|pay\s+back)\s+(?:of\s+)?(?:my|the|our)\s+(?:payment|money|funds|cash)\b",
        r"\g<0> refund",
    ),
    (r"\b(?:reverse|reversed|reversal|charge\s?back)\b", r"\g<0> refund"),
    # Skip: leave one delivery out.
    (
        r"\b(?:sit\s+out|miss\s+out(?:\s+on)?|leave\s+out|pass\s+on|skip\s+over|jump\s+over)\b",
        "skip",
    ),
    (r"\bhold\s+off(?:\s+on)?\b", "skip"),
    (r"\b(?:push|bump|move|hold|knock)\s+((?:[\w']+\s+){0,4}?)back\b(?!\s+on)", r"skip \1"),
    # The next delivery not needed or not to come, the subscription kept.
    (
        r"\b(?:don'?t|do\s+not|won'?t|will\s+not)\s+need\s+(?:another|the\s+next|next|"
        r"this\s+month'?s|an?\s+other)\b|\bnext\s+(?:one|box|delivery|bag|refill|shipment|order)"
        r"\s+(?:[\w']+\s+){0,2}?not\s+(?:come|arrive|ship|be\s+sent)\b",
        r"\g<0> skip next",
    ),
    (r"\bpostpone\w*|\bdefer(?:s|red|ring)?\b|\bomit\b|\brefrain\s+from\s+sending\b", "skip"),
    (r"\b(?:continue|carry\s+on|proceed)\s+as\s+(?:normal|usual)\b", r"\g<0> skip next"),
    (
        r"\bnot\s+(?:to\s+)?send\s+(?:the|my)\s+next\b|"
        r"\b(?:don'?t|do\s+not)\s+think\s+(?:i|we)\s+need\s+another\b",
        r"\g<0> skip next",
    ),
    (
        r"\b(?:push|move|shift|bump)\s+(?:it|this|that|my\s+\w+|the\s+\w+)\s+(?:back\s+)?to\s+"
        r"(?:the\s+)?\d",
        r"\g<0> skip",
    ),
    (
        r"\b(?:the\s+)?(?:one|delivery|box|order|shipment|parcel)\s+after\s+(?:that|it|this)\s+"
        r"(?:can|may|should|could|will)\s+(?:go\s+ahead|proceed|come|continue|arrive|ship)\b",
        r"\g<0> skip next",
    ),
    (
        r"\bnext\s+(?:one|box|delivery|order|shipment|bag|refill)\s+(?:to\s+)?(?:wait|hold|be\s+held)\b"
        r"|\bheld\s+(?:back|over)\b",
        r"\g<0> skip",
    ),
    # A pause of one delivery or one month is a skip.
    (
        r"\bpaus(?:e|ing)\b(?=(?:\s+[\w']+){0,5}?\s+(?:for\s+)?(?:just\s+|only\s+)?"
        r"(?:one|1|a|this|the\s+next|a\s+single)\s+(?:month|week|delivery|box|shipment|order|cycle)\b)",
        "skip",
    ),
    (r"\bdelay\b(?=\s+(?:the\s+|my\s+)?(?:next|upcoming|coming))", "skip"),
    # "miss the next box", "miss one delivery"; not "I miss the old recipe" (a feeling)
    # nor "we miss the weekly deliveries" (deliveries that stopped).
    (
        r"\bmiss\b(?=\s+(?:(?:the|my|this|a|one|our)\s+)?(?:next|upcoming|coming|"
        r"(?:[\w']+\s+)?(?:box|delivery|shipment|order|parcel|month|week))\b)"
        r"(?![^.!?]*\b(?:so\s+much|a\s+lot|terribly|loads|dearly)\b)",
        "skip",
    ),
    # A refund that has not come through is about the refund, not a parcel.
    (
        r"\b(refund|reimbursement|money|credit)\b((?:\s+[\w']+){0,6}?)\s+(?:still\s+)?"
        r"(?:hasn'?t|has\s+not|have\s+not|haven'?t|not|never|didn'?t|did\s+not)\s+(?:yet\s+)?"
        r"(?:landed|arrived|come|came|shown\s+up|appeared|gone\s+through|come\s+through|"
        r"reached\s+me|been\s+paid)\b",
        r"\1\2 refund still due",
    ),
    # Money not seen yet: "haven't seen the money", "no credit has appeared", "still don't
    # have my $118".
    (
        r"\b(?:(?:haven'?t|have\s+not|didn'?t|did\s+not|never|not)\s+(?:yet\s+)?"
        r"(?:seen|had|got|gotten|received)|still\s+(?:don'?t|do\s+not)\s+have|no)\s+"
        r"(?:the\s+|my\s+|any\s+|a\s+)?(?:money|credit|refund|repayment|[£$€]\s?\d[\d.,]*)",
        r"\g<0> refund still due",
    ),
    # A price that changed or a discount that was not taken off: the difference back.
    (
        r"\b(?:code|coupon|voucher|discount|promo)\b(?:\s+[\w'-]+){0,6}?\s+(?:wasn'?t|was\s+not|"
        r"didn'?t|did\s+not|never|not)\s+(?:get\s+|got\s+|been\s+)?(?:applied|taken\s+off|"
        r"deducted|work(?:ed)?|apply)\b|\b(?:paid|charged(?:\s+me)?)\s+(?:the\s+)?full\s+price\b|"
        r"\b(?:the\s+)?(?:price\s+)?difference\b(?=.*\b(?:price|paid|bought|cheaper|dropped|"
        r"went\s+down|reduced|sale)\b)|"
        r"\b(?:price\s+)?(?:dropped|went\s+down|was\s+reduced|reduced)\s+(?:by|to)\b|"
        r"\b(?:refund|pay|give|credit|return)\s+(?:me\s+)?(?:back\s+)?the\s+(?:price\s+)?difference\b|"
        r"\bdifference\s+back\b",
        r"\g<0> refund the difference",
    ),
    # Not received: the ways of saying a parcel never came.
    (
        r"\b(?:never|not\s+yet|still\s+not|still\s+hasn'?t|hasn'?t|has\s+not|haven'?t|"
        r"have\s+not|didn'?t|did\s+not)\s+(?:been\s+)?(?:show(?:ed|n)?\s+up|turn(?:ed)?\s+up|"
        r"c[ao]me|got\s+here|reach(?:ed)?\s+me|arrived?|been\s+delivered|delivered)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:never|didn'?t|did\s+not|haven'?t|have\s+not)\s+(?:got|get|gotten|received?)\s+"
        r"(?:my|the|our|this|that)\s+(?!(?:right|correct|wrong|whole|full|rest)\b)"
        r"(?:[\w']+\s+){0,2}?(?:orders?|parcels?|packages?|deliver(?:y|ies)|box|shipments?|stuff)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:still\s+)?(?:hasn'?t|has\s+not|haven'?t|have\s+not)\s+(?:got|gotten|received|had)\s+"
        r"(?:it|them|the\s+parcel|the\s+package)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\bwaiting\s+(?:for|on)\s+(?:my|the|our|this)\s+(?:[\w']+\s+){0,2}?"
        r"(?:orders?|parcels?|packages?|deliver(?:y|ies)|shipments?|stuff)\b",
        r"\g<0> never arrived",
    ),
    (
        r"\bstill\s+waiting\b(?!\s+(?:for|on)\s+(?:my\s+|the\s+|a\s+|your\s+)?"
        r"(?:refund|money|reply|response|answer|credit|call|email))|"
        r"\b(?:gone|went|go)\s+missing\b|\blost\s+in\s+(?:the\s+)?(?:post|mail|transit)\b|"
        r"\bno\s+sign\s+of\b",
        r"\g<0> never arrived",
    ),
    (
        r"\b(?:stuck|sitting|held\s+up)\s+(?:at|in)\s+(?:the\s+)?(?:depot|customs|warehouse|sorting\s+\w+|transit|"
        r"hub|post\s+office)\b",
        r"\g<0> never arrived",
    ),
    # Damaged or faulty: what a customer sees when they unpack it ("the lid is in six
    # pieces", "the seam split open", "won't turn on"), in the library's word.
    (
        r"\b(?:broke|broken|crack(?:ed|s)?|smash(?:ed)?|shatter(?:ed)?|snap(?:ped)?|squish(?:ed)?|"
        r"flattened|crumpled|"
        r"split|ripp?(?:ed)?|torn|tore|dent(?:ed)?|crush(?:ed)?|squash(?:ed)?|leak(?:ed|ing|s)?|"
        r"spill(?:ed|t)?|burst|chipp?(?:ed)?|scratch(?:ed)?|stain(?:ed)?|bent|faulty|"
        r"defective|mou?ldy|rotten|out\s+of\s+date|past\s+(?:its|the)\s+"
        r"(?:best\s+before|use\s+by|expiry)|in\s+(?:\w+\s+)?pieces|fell\s+(?:off|apart)|"
        r"came\s+(?:off|apart|undone)|coming\s+(?:off|apart|away|unstuck|undone)|falling\s+apart|"
        r"dead\s+on\s+arrival|"
        r"(?:had|has|with|have|got)\s+(?:a\s+|big\s+|huge\s+)?holes?)\b",
        r"\g<0> damaged",
    ),
    # Faulty: a thing that does not work; not a link, a code or a website that does not.
    (
        r"^(?!.*\b(?:track\w*|link|code|coupon|voucher|discount|promo|website|site|app|"
        r"password|login|account|card|payment|email|number)\b)"
        r".*?\b(?:doesn'?t\s+work|does\s+not\s+work|don'?t\s+work|not\s+working|"
        r"(?:won'?t|doesn'?t|does\s+not|didn'?t|did\s+not|will\s+not)\s+"
        r"(?:turn|switch|power|charge|start|work|boot|light)|(?:stopped|never)\s+work(?:ed|ing))\b",
        r"\g<0> damaged",
    ),
    # Missing from the parcel: part of the order is not there.
    (
        r"\b(?:came|arrived)\s+with\s+no\b|\b(?:is|was|are|were)\s+gone\b|\bmissing\s+from\b|"
        r"\bonly\s+(?:\d+|one|two|three|four)\s+(?:[\w'-]+\s+){0,5}?in\s+(?:it|the\s+box|there)\b|"
        r"\b(?:(?:is|are|was|were)\s*n'?t|(?:is|are|was|were)\s+not)\s+"
        r"(?:there|in\s+(?:it|there|the\s+(?:box|parcel|package|bag)))\b|\bis\s+nowhere\b|"
        r"\bonly\s+(?:\d+|one|two|three|half)\s+(?:of|out\s+of)\b|\bout\s+of\s+\d+\b"
        r"|\b(?:left|forgot)\s+out\b|\bonly\s+(?:had|has|contained|there\s+was)\b"
        r"|\b(?:had|has|contained|included)\s+only\b"
        r"|\bonly\s+(?:the|one|a)\s+[\w'-]+\s+(?:came|arrived|was\s+in\s+(?:it|the\s+box))\b"
        # "4 bottles instead of 6"
        r"|\b(?:\d+|one|two|three|four|five|six)\s+(?:[\w'-]+\s+){0,2}?instead\s+of\s+(?:the\s+)?"
        r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\b"
        # "arrived without the shade"
        r"|\b(?:came|arrived|turned\s+up|was\s+sent|were\s+sent|delivered)\s+without\b",
        r"\g<0> missing",
    ),
    # A new one of what came, sent out: a replacement.
    (
        r"\b(?:send|sending|ship|post|get|have|receive)\s+(?:me\s+|us\s+)?(?:a\s+|an\s+)?"
        r"(?:new|fresh|another|replacement|working|second)\b|"
        r"\b(?:send|get)\s+(?:me\s+|us\s+)?(?:the\s+rest|one\s+that\s+works)\b|"
        r"\banother\s+one\s+(?:sent|posted|shipped|out)\b|\bchance\s+of\s+another\b|"
        r"\b(?:send|ship|post|dispatch)\s+(?:it|them|the\s+(?:order|parcel|package|box))\s+"
        r"(?:out\s+)?(?:again|once\s+more)\b|"
        r"\b(?:need|want|like)\s+(?:it|that|this|them|the\s+\w+|my\s+\w+)\s+(?:\w+\s+)?replaced\b",
        r"\g<0> send a replacement",
    ),
    # Not sent yet, asked: "is it ever going to be shipped?"
    (
        r"\b(?:is|are)\s+(?:it|they|my\s+order)\s+(?:ever\s+|even\s+)?going\s+to\s+(?:be\s+)?"
        r"(?:sent|shipped|dispatched|delivered|arrive|come)\b|"
        r"\b(?:did|has)\s+(?:it|my\s+(?:order|parcel|package)|the\s+(?:order|parcel))\s+"
        r"(?:(?:even|actually|ever)\s+){0,2}(?:ship(?:ped)?|been\s+(?:sent|shipped|dispatched)|"
        r"go(?:ne)?\s+out|leave|left)\b|"
        r"\bany\s+(?:news|update)s?\s+(?:on|about)\s+(?:my|the|our)\s+(?:order|parcel|package|delivery)\b|"
        r"\btracking\s+(?:has\s+)?(?:been\s+)?(?:quiet|silent|stuck|frozen|dead)\b|"
        r"\b(?:get|be|arrive|make\s+it)\s+(?:here\s+)?(?:in\s+time|on\s+time)\s+for\b",
        r"\g<0> where is my order",
    ),
    # Not received: due by a day that has passed, or unknown to the courier.
    (
        r"\b(?:supposed|meant|due|expected|promised)\s+to\s+(?:arrive|come|be\s+(?:here|delivered))\b|"
        r"\bno\s+record\s+of\s+(?:the|my|our)\s+(?:parcel|package|order|delivery)\b|"
        r"\bnothing\s+(?:has\s+|have\s+|yet\s+)?(?:come|came|arrived|turned\s+up|shown\s+up|"
        r"showed\s+up|been\s+delivered)\b|\bstill\s+nothing\b|"
        r"\bshould(?:'ve|\s+have)\s+(?:been\s+(?:here|delivered)|arrived|come|got\s+here)\b|"
        r"\b(?:received|got|had)\s+nothing\b|\b(?:have\s+)?yet\s+to\s+(?:receive|get|see)\b|"
        r"\bnot\s+arrive(?:d)?\s+yet\b|\bstill\s+(?:not|isn'?t|aren'?t)\s+here\b",
        r"\g<0> never arrived",
    ),
    # Wrong item: what came is not what was ordered.
    (
        r"\b(?:is\s*n'?t|is\s+not|was\s*n'?t|was\s+not|not)\s+(?:\w+\s+){0,1}?what\s+(?:i|we)\s+"
        r"(?:ordered|bought|paid\s+for|picked|chose|selected)\b",
        r"\g<0> wrong",
    ),
    (r"\bsome(?:one|body)\s+else'?s\b", r"\g<0> wrong item"),
    (
        r"\btwo\s+(?:left|right)\s+(?:shoes?|boots?|gloves?|trainers?|slippers?|socks?)\b",
        r"\g<0> wrong item",
    ),
    (
        r"\b(?:came|arrived|got|received|sent\s+me|had|has|contained|turned\s+up|is|are|was|were)\b"
        r"(?:\s+[\w']+){0,6}?\s*,?\s+but\s+(?:i'?m|i\s+am|i|we|we'?re)\s+(?:subscribed\s+to|"
        r"signed\s+up\s+(?:for|to)|ordered|order|paid\s+for|pay\s+for|on|chose|picked|asked\s+for)\b|"
        # "came but it's the matte version, I ordered the gloss"
        r"\b(?:it'?s|it\s+is|they'?re|they\s+are)\s+the\s+(?:[\w'-]+\s+){1,3}?(?:version|one|ones|size|"
        r"colou?r|flavou?r|shade|model)\s*,\s*(?:but\s+)?(?:i|we)\s+(?:ordered|asked\s+for|chose|picked)\b|"
        # "came with the decaf beans, we're on the espresso"
        r"\b(?:came|arrived|turned\s+up)\s+with\b(?:\s+[\w'-]+){1,8}?\s*[,;.]\s*(?:but\s+)?"
        r"(?:we'?re|i'?m|we\s+are|i\s+am)\s+(?:on|subscribed\s+to|signed\s+up\s+for)\b|"
        # "came but it's the oily hair one not the dry one"
        r"\b(?:came|arrived|turned\s+up)\b[^.?!]{0,30}?\b(?:it'?s|its|it\s+is|they'?re|they\s+are)\s+"
        r"(?:[\w'-]+\s+){1,5}?not\s+(?:the\s+)?[\w'-]+|"
        # "were the vanilla ones, not the plain I subscribed to"
        r",\s+not\s+the\s+(?:[\w'-]+\s+){1,4}?(?:i|we)\s+(?:always\s+|usually\s+|normally\s+)?"
        r"(?:subscribed|ordered|chose|picked|paid\s+for|asked\s+for|get|have|receive)\b",
        r"\g<0> wrong item",
    ),
    (r"\bsent\s+(?:me\s+)?(?:[\w']+\s+){0,4}?in\s+(?:a\s+)?size\b", r"\g<0> wrong size"),
    (
        r"\b(?:ordered|paid\s+for|pay\s+for|subscribed\s+to|chose|picked|asked\s+for)\b"
        r"(?:\s+[\w']+){0,6}?\s*,?\s+(?:(?:but|and)\s+)?(?:i\s+|you\s+|they\s+)?"
        r"(?:got|received|sent(?:\s+me)?|was\s+sent)\b",
        r"\g<0> wrong item",
    ),
    # "instead of the night cream there was a hand cream"
    (
        r"\binstead\s+of\b(?:\s+[\w'-]+){1,6}?\s*,?\s+(?:there\s+(?:was|were|is)|"
        r"(?:i|we)\s+(?:got|received|found)|you\s+(?:sent|packed)|it\s+(?:was|had))\b",
        r"\g<0> wrong item",
    ),
    (
        r"\b(?:got|received|sent(?:\s+me)?|came\s+with|came\s+as|arrived\s+as|delivered|had|has|"
        r"contained)\s+(?:[\w']+\s+){0,12}?instead\s+of\b",
        "wrong item instead of",
    ),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), r) for p, r in _WORDING)

#: What comes in a subscription: the box, the plan, the deliveries from now on.
_WHAT_COMES = re.compile(
    r"\b(?:subs?cr\w*|sub|plan|box(?:es)?|deliver(?:y|ies)|refills?|shipments?|recurring|"
    r"monthly|weekly|(?:every|each)\s+(?:month|week)|from\s+now\s+on|going\s+forward|"
    r"(?:repeat|standing|regular)\s+orders?|auto-?ship\w*|clubs?|(?:next|each|every)\s+cycle|"
    r"in\s+(?:the\s+)?future|future)\b",
    re.IGNORECASE,
)
#: A preference between products, with no swap verb: one rather than or in place of
#: another, a move from one to another, a new one to try.
_PREFERS_A_PRODUCT = re.compile(
    r"\b(?:i'?d|i\s+would|we'?d|we\s+would)\s+(?:much\s+)?rather\s+"
    r"(?:have|get|receive|take|go\s+with|try|be\s+sent)\b|"
    r"\brather\s+than\b|\binstead\b|\bin\s+place\s+of\b|\bin\s+(?:its|their)\s+place\b|"
    r"\b(?:changed?|switched?|swapped?|moved?)\s+(?:over\s+)?(?:to|onto|for)\b|"
    r"\bprefer\b(?!\s+(?:not|to\s+(?:cancel|skip|pause|stop)))|"
    r"\b(?:try|trying)\b|\bgiv(?:e|ing)\s+(?:[\w']+\s+){1,4}?a\s+(?:go|try|whirl|shot)\b|"
    r"\b(?:go|move|change|alter|amend|switch|swap|bump|upgrade|downgrade)\s+(?:[\w']+\s+){0,6}?"
    r"(?:over\s+)?from\b(?:\s+[\w'-]+){1,6}?\s+(?:to|for)\b|"
    # A move to another size, flavour, version … of the product.
    r"\b(?:go|move|switch|change|step|swap)\s+(?:up\s+|down\s+|over\s+)?(?:to|onto)\s+"
    r"(?:the\s+|a\s+)?(?:[\w'-]+\s+){0,3}?(?:size|version|flavou?r|scent|recipe|variant|"
    r"formula|blend|roast|strength|colou?r|pack)\b|"
    # "change my sub to the 2kg bag"
    r"\b(?:change|switch|swap|move)\s+(?:my|the|our|next)\s+(?:[\w'-]+\s+)?(?:sub\w*|plan|box|"
    r"deliver\w*|refills?)\s+"
    r"(?:over\s+)?to\s+(?:the|a|an)\b|"
    # "exchange the oat biscuits in my box for the rye crackers"
    r"\bexchange\s+(?:the|my)\s+[^.]{1,40}?\s+for\s+(?:the|a|an)\b|"
    # "switch me to the 60-day supply"
    r"\b(?:switch|move|change)\s+(?:me|us)\s+(?:over\s+)?(?:on)?to\s+(?:the|a)\b|"
    # "put me on the single size box"
    r"\bput\s+(?:me|us)\s+(?:back\s+)?on(?:to)?\s+(?:the|a)\s+(?!same\b)|"
    # "replace the lavender soap with the rose one" (not "with a new one": a replacement).
    r"\breplace\s+(?:[\w'-]+\s+){1,4}?with\s+(?!(?:a\s+|an\s+)?(?:new|another|fresh|working|"
    r"replacement|same|one\s+that)\b)|"
    # "… in my boxes from now on", "future deliveries be the turkey".
    r"\b(?:from\s+now\s+on|going\s+forward)\b|"
    r"\bfrom\s+(?:the\s+)?next\s+(?:delivery|box|month|one|order|shipment)\s+on(?:wards)?\b|"
    # "change the fish flavour to the chicken flavour"
    r"\bchange\s+(?:the|my)\s+(?:[\w'-]+\s+){1,3}?to\s+(?:the|a)\b|"
    r"\b(?:future|next|upcoming)\s+(?:[\w']+\s+){0,2}?(?:boxes|bags|deliveries|refills|"
    r"orders|shipments|ones|packs)\s+(?:to\s+)?(?:be|come\s+with|contain|have)\b",
    re.IGNORECASE,
)
#: Another request, a fault, an account detail, a day or a place beside the preference: the
#: preference is about that ("I'd rather have a refund", "… on Fridays instead"), not about
#: the product.
_ABOUT_SOMETHING_ELSE = re.compile(
    r"\b(?:exchange(?!\s+(?:the|my)\s+[^.]{1,40}?\s+for\s+(?:the|a|an)\b)|"
    r"cancel\w*|refund\w*|money|replacements?|replac(?:e|ed|ing)\b(?!\s+(?:[\w'-]+\s+){1,4}?"
    r"with\b)|reship\w*|resend\w*|skip\w*|pause\w*|"
    r"credit|return\w*|restart\w*|wrong|damaged|broken|never\s+arrived|"
    r"tried|trying\s+to|address|email|card|payment|password|account|name|"
    # Another brand or shop is leaving, not another product of ours.
    r"brand|elsewhere|competitor|another\s+(?:shop|store|company)|"
    # What came in a parcel (a wrong or missing item told), not what should come next.
    r"missing|there\s+(?:was|were)|in\s+the\s+(?:box|parcel|package|bag)|"
    r"instead\s+of\s+(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b|"
    # When or where it comes is not what comes.
    r"office|home|work|door|porch|neighbou?r|locker|reception|date|day|weekends?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|mornings?|afternoons?|evenings?|"
    r"\d+(?:st|nd|rd|th)|(?:come|comes|arrive|arrives|delivered|shipped|sent)\s+"
    r"(?:on|at|to|by|before|after|earlier|later|sooner))\b",
    re.IGNORECASE,
)


def _asks_for_another_product(text: str) -> bool:
    """A preference about what comes in the subscription, and nothing else asked for."""
    return bool(
        _PREFERS_A_PRODUCT.search(text)
        and _WHAT_COMES.search(text)
        and not _ABOUT_SOMETHING_ELSE.search(text)
    )


#: Money asked back: a fault is then the reason for a refund, not a call for a replacement.
_ASKS_FOR_MONEY = re.compile(
    r"\b(?:refund\w*|reimburs\w*|money|paid|credit|compensat\w*|overcharg\w*)\b|"
    # Charged for something, not a battery charged overnight.
    r"\b(?:charged|charging)\s+(?:me|us|twice|again|for|the\s+full|[£$€\d])|"
    # Money taken: "took 25 from my card", "billed me", "debited".
    r"\b(?:took|taken|deducted|debited|billed)\s+(?:me\s+|us\s+)?(?:[£$€]\s?\d|\d|money|payment)|"
    r"\bfrom\s+my\s+(?:card|account|bank)\b|"
    r"\b(?:a|the|double|extra|another)\s+charges?\b",
    re.IGNORECASE,
)
#: The replacements that a message asking for money does not get: what came (a fault, a
#: gap, a new one to send) is then the reason for a refund, and "want it back", "go back
#: onto my card" are about the money, not a subscription to restart.
_NOT_WITH_MONEY = frozenset({"damaged", "missing", "send a replacement", "restart"})


#: How a letter opens: a greeting, then at most a few words that name whom it greets ("Dear
#: Sir or Madam,", "Hello team,", "Hi Anna -"), then a mark; never the start of a request
#: ("hello i dont want the order anymore, …" keeps every word).
_SALUTATION = re.compile(
    r"^\s*(?:dear|hello|hi|hiya|hey|good\s+(?:morning|afternoon|evening|day)|greetings|"
    r"to\s+whom\s+it\s+may\s+concern)"
    r"(?:\s+(?:there|team|all|everyone|folks|guys|sir|madam|or|and|/|customer|client|services?|"
    r"support|care|help|desk|(?-i:[A-Z][\w'./-]*))){0,4}\s*[,!:;\n—–-]+\s*",
    re.IGNORECASE,
)
#: How a letter closes: a sign-off after a sentence or a line, and whatever short name or
#: title follows it; not "… with regards to my order".
_SIGN_OFF = re.compile(
    r"(?:(?<=[.!?,\n])|^)\s*(?:kind(?:est)?\s+regards|best\s+regards|warm\s+regards|regards|"
    r"best\s+wishes|many\s+thanks|thanks\s+in\s+advance|thank\s+you\s+in\s+advance|"
    r"yours\s+(?:sincerely|faithfully|truly)|sincerely|cheers|best)\s*[,!.]?"
    r"(?:\s+[\w.'-]+){0,4}\s*[.!]?\s*$",
    re.IGNORECASE,
)


def without_letter_frame(text: str) -> str:
    """The message without its salutation and sign-off: "Dear team," and "Kind regards,
    Maria" say nothing about the request, and in a short message they are a large share
    of its words."""
    body = _SALUTATION.sub("", text, count=1)
    body = _SIGN_OFF.sub("", body)
    return body if len(body.split()) >= 2 else text


#: Something asked back ("want it back", "I'd like the shipping fee back", "get one of those
#: payments back") ...
_ASKS_BACK = re.compile(
    r"\b(?:want|like|need|get|have|give\s+(?:me|us)|send)\s+(?:[\w'£$€%.,-]+\s+){0,5}?back\b",
    re.IGNORECASE,
)
#: ... in a message about money: what is asked back is the money.
_ABOUT_MONEY = re.compile(
    r"\b(?:charg\w*|paid|pay|payments?|fees?|price|cost|money|difference|amount|billed|"
    r"debited|deducted|overcharg\w*|pounds?|dollars?|euros?|quid|bucks)\b|[£$€]\s?\d|"
    r"\b\d+[.,]\d\d\b",
    re.IGNORECASE,
)


#: A cancellation told as what happened before ("even though I'd cancelled it", "after i
#: cancelled it", "a renewal I thought I had cancelled"): in a message about money it is why
#: the charge is wrong, not a request to cancel.
_TOLD_CANCELLATION = re.compile(
    r"\b(?:(?:even\s+)?though|although|despite|after|since|when|thought)\s+(?:i|we)(?:'d|'ve|"
    r"\s+had|\s+have|\s+did)?\s+(?:already\s+)?cancell?(?:ed|ing)\b|"
    r"\b(?:i|we)(?:'d|\s+had|'ve|\s+have)?\s+(?:already\s+)?cancell?ed\b|"
    r"\b(?:i|we)(?:'d|\s+had)?\s+(?:already\s+)?(?:asked|requested|told\s+you)\b(?:\s+[\w']+){0,5}?"
    r"\s+to\s+cancel\b|"
    r"\b(?:meant|intended|tried|forgot|wanted)\s+to\s+cancel\b|\bshould\s+have\s+cancell?ed\b|"
    # "I cancel the order before it was send" (a past told in the present)
    r"\b(?:i|we)\s+cancel\s+(?:the|my|this|that)\s+\w+\s+before\b",
    re.IGNORECASE,
)


#: Money as a circumstance ("when money was tight"), not money asked for.
_MONEY_AS_A_STATE = re.compile(
    r"\bmoney\s+(?:was|is|'s|got|has\s+been|had\s+been)\s+(?:\w+\s+)?(?:tight|short|low|"
    r"an\s+issue|a\s+problem|scarce)\b",
    re.IGNORECASE,
)


def without_money_as_a_state(text: str) -> str:
    return _MONEY_AS_A_STATE.sub("budget was tight", text)


def without_told_cancellation(text: str) -> str:
    """A message about money without the cancellation it tells as the past (read on the
    whole message: a clause of it may not say the money part)."""
    text_of_money = without_money_as_a_state(text)
    if _ASKS_FOR_MONEY.search(text_of_money) or (
        _ASKS_BACK.search(text_of_money) and _ABOUT_MONEY.search(text_of_money)
    ):
        return _TOLD_CANCELLATION.sub("after ending it", text)
    return text


@lru_cache(maxsize=4096)
def in_library_words(text: str) -> str:
    """`text` with the everyday wording above replaced by the library's own words. Cached:
    one decision reads a message's wording several times (its score, the words the rules
    read, the account-detail check), and the table is long."""
    text = without_told_cancellation(
        without_money_as_a_state(without_letter_frame(text.replace("’", "'")))
    )
    money = bool(_ASKS_FOR_MONEY.search(text))
    for pattern, replacement in _COMPILED:
        if money and replacement.removeprefix("\\g<0> ") in _NOT_WITH_MONEY:
            continue
        text = pattern.sub(replacement, text)
    if re.search(r"\brestart\b", text, re.IGNORECASE):
        text = f"{text} restart subscription"
    if _ASKS_BACK.search(text) and _ABOUT_MONEY.search(text):
        text = f"{text} refund"
    # A preference inside a question about what the shop does ("do you offer a plan I
    # could try?") is not a request to change a product.
    if _asks_for_another_product(text) and not asks_what_the_shop_does(text):
        text = f"{text} swap subscription product"
    return re.sub(r" {2,}", " ", text)


#: A request's own verb where a request is made: first in the message or after "please",
#: "can you", "I'd like to", "I want to" ("Skip November for me please", "could you
#: refund the fee").
_ASKED_VERB = re.compile(
    r"(?:^\W*|\bplease\s+|\bpls\s+|\b(?:can|could|would|will)\s+(?:you|i|we)\s+(?:please\s+)?|"
    r"\b(?:i'?d|i\s+would|we'?d|we\s+would)\s+like\s+(?:you\s+)?to\s+|"
    r"\b(?:i|we)\s+(?:want|need)\s+(?:you\s+)?to\s+)"
    r"(cancel|refund|skip|restart|resume|reship|resend|replace|swap|postpone)\b",
    re.IGNORECASE,
)


def recognised_wording(text: str) -> set[str]:
    """The library's words that the wording above found in `text` and it does not spell out
    itself ("the lid snapped" → {"damaged"}), and a request's verb where it asks: what the
    customer asked, read by a rule."""
    said = set(re.findall(r"[a-z]+", text.lower()))
    added = set(re.findall(r"[a-z]+", in_library_words(text).lower())) - said
    return added | {m.lower() for m in _ASKED_VERB.findall(without_letter_frame(text))}


#: Ending the subscription itself ("cancel my subscription", "stop the dog food plan
#: altogether"), as against one order, box or delivery of it.
_ENDS_THE_SUBSCRIPTION = re.compile(
    r"(?<![\w-])(?:cancel(?:ling)?|stop|end|terminate|close|quit)\s+(?:my|the|our|this)\s+"
    r"(?:[\w'-]+\s+){0,3}?"
    r"(?:subscriptions?|memberships?|plans?)\b(?!\s+(?:order|box|delivery|shipment|renewal))",
    re.IGNORECASE,
)
_ONE_ORDER_OF_IT = re.compile(
    r"\b(?:order|box|delivery|shipment|renewal|parcel|next|upcoming|"
    r"this\s+month|month'?s|restart\w*|resum\w*|again|(?:get|want|have|bring)\s+(?:it|them)\s+back)\b",
    re.IGNORECASE,
)


def ends_the_subscription(text: str) -> bool:
    """Whether the message ends a subscription itself and names no one order of it."""
    return bool(_ENDS_THE_SUBSCRIPTION.search(text)) and not _ONE_ORDER_OF_IT.search(text)


def ends_subscriptions(ticket_types: list[str]) -> bool:
    """Whether a policy's ticket types say it ends subscriptions ("Cancel subscription"),
    not one order of them ("Cancel order")."""
    return any(
        re.search(r"cancel|end|stop", t, re.I)
        and re.search(r"subscription|plan|membership", t, re.I)
        and not re.search(r"order|box|shipment|delivery", t, re.I)
        for t in ticket_types
    )
