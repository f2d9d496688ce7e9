"""The words and shapes that decide what kind of step a line is, and fixed wording.

Kept together so a new phrasing is added in one place; the stages only use them.
"""

from __future__ import annotations

import re

#: Context every ticket starts with (set by the runtime from the helpdesk).
INITIAL_CONTEXT: tuple[str, ...] = ("ticket", "customer", "message")

#: Front-matter keys with a meaning; anything else is kept in `Plan.settings` with a warning.
KNOWN_KEYS = {
    "id",
    "title",
    "ticket_types",
    "triggers",
    "platforms",
    "variants",
    "inputs",
    "defaults",
    "examples",
    "customer_name",
}
KNOWN_SETTINGS = {
    "reminder_after",
    "auto_close_after",
    # carrier-claim follow-ups (workflows/claim.py)
    "claim_check_every",
    "claim_deadline",
    "claim_weekly_update",
    "outcome",
    "escalation_group",
    "tags",
    "priority",
    "language",
    "owner",
    "description",
    # a 1–5 satisfaction question at the end (workflows/ticket_measures.py)
    "csat",
    "csat_wait",
}

#: "7 days", "24 hours", "two weeks", "a month": a condition about time
TIME_SPAN = re.compile(
    r"\b(?:\d+|an?|one|two|three|few|several)\s*(?:business\s+)?"
    r"(?:days?|hours?|weeks?|months?|years?)\b",
    re.I,
)
REFS = re.compile(r"[@#$]")
TOOL_RE = re.compile(r"@([A-Za-z_]\w*)(\(([^()]*)\))?")
VAR_RE = re.compile(r"\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
POLICY_RE = re.compile(r"#([A-Za-z][\w-]*(?:[ ][A-Za-z][\w-]*){0,5})")
QUOTED = re.compile(r"[“\"]([^”\"]{2,})[”\"]")
# double quotes, or single curly ones up to the last ’ ("‘Sorry, we can’t …’")
MACRO = re.compile(r"\bmacro\b[:\s]*(?:[“\"]([^”\"]+)[”\"]|‘(.+)’)", re.I)
PERCENT = re.compile(r"(\d{1,3})\s*(?:%|percent\b|per cent\b)", re.I)
RESULT_AS = re.compile(r"\s*(?:\bas\b|→|->)\s*\$([A-Za-z_]\w*)\s*\.?$")
EG = re.compile(r"\s*\((?:e\.g\.|i\.e\.|for example|such as)[^)]*\)", re.I)

ASK = re.compile(
    r"^(?:ask|request|collect|find out|confirm (?:with )?(?:the )?(?:customer|user)(?:['’]s)?)\b"
    r"|" + r"^(?:confirm|verify|double-check|check)\s+(?!with\b)[^\"“:]+?\s+with\s+"
    r"(?:the\s+)?(?:customer|user|them)\b",
    re.I,
)
#: "Confirm the address with the customer": a yes/no question about something named
CONFIRM_WITH = re.compile(
    r"^(?:confirm|verify|double-check|check)\s+(?!with\b)(?P<what>[^\"“:]+?)\s+with\s+"
    r"(?:the\s+)?(?:customer|user|them)\b",
    re.I,
)
#: "Close with: “…”", "Reply: “…”", "… and confirm: “…”": exact words after a verb of
#: saying; what comes before ("apply it and") and after ("Don't apply it.") is its own step
QUOTE_SAY = re.compile(
    r"^(?:(?P<lead>.+?)\s*(?:,|\band\b|\bthen\b)\s+)?"
    r"(?P<verb>confirm|close|reply|respond|say|send|tell(?: (?:them|the customer|the user))?|"
    r"explain|acknowledge|let (?:them|the customer|the user) know|write(?: back)?|end)"
    r"\b[^\"“”:@#]{0,30}?(?::|\bwith\b:?)\s*[“\"](?P<words>[^”\"]+)[”\"]\s*[.!]?"
    r"(?P<after>(?:\s+\S.*)?)$",
    re.I,
)
#: "Check the code:" over If steps: a section title, not a step
CHECK_SECTION = re.compile(
    r"^(?:check|verify|review|look (?:at|up|into)|see|determine|confirm)\b[^.“\"]*:\s*$", re.I
)
#: "Based on the reason, make one offer:" over "- Too pricey: …" lines: one branch per answer
BY_ANSWER = re.compile(r"^(?:based on|depending on|according to)\b[^“\"]*:\s*$", re.I)
#: "… instead", "only …", "over $200": an action for some tickets, not every one
SOME_CASES = re.compile(
    r"\binstead\b|^only\b|\b(?:over|above|under|below|more than|less than) \$\d[\d,.]*", re.I
)
#: "NOTE: …", "Note - …", "FYI: …", "Notes:": for the reader, never run
NOTE_LINE = re.compile(
    r"^(?:notes?|nb|n\.b\.|fyi|ps|p\.s\.|reminder|important)\s*(?::|\s[-–—])\s*", re.I
)
#: "Otherwise", "Else", "If not": the else branch of the If before it
OTHERWISE = re.compile(r"^(?:(?:otherwise|else)\b|if not(?=\s*(?:[,:→]|$)))[\s,:→-]*", re.I)
#: "Tag the ticket …": nothing in a plan sets helpdesk tags
TAG = re.compile(r"^(?:tag|label)\s+(?:the\s+)?(?:ticket|case|conversation|chat)\b", re.I)
#: "… and close", "Close.", "Close it out": the conversation is over
CLOSE_ONLY = re.compile(r"^(?:close|end)(?:\s+(?:it|out|it out|this))?\s*[.!]?$", re.I)
SAY = re.compile(
    r"^(?:inform|notify|tell|let (?:the )?(?:customer|user|them) know|thank|send|reply|explain|"
    r"apologi[sz]e|remind|reiterate|ensure (?:that )?(?:the )?(?:customer|user) receives|"
    r"say|respond|acknowledge|reassure)\b",
    re.I,
)
ESCALATE = re.compile(
    r"\b(?:route|escalate|hand(?: it| the (?:case|ticket))?(?: over)? to|transfer|assign|"
    r"pass (?:it|the (?:case|ticket|conversation)) (?:on )?to)\b"
    r".*\b(?:agent|human|team|specialist|supervisor)s?\b|\bescalate\b",
    re.I,
)
FOLLOW_UP = re.compile(r"follow(?:[- ]up)?\b.*\bclaim\b|\bclaim is resolved\b", re.I)
OFFER = re.compile(r"^(?:offer|present|provide the option|propose)\b", re.I)
OFFER_LIST = re.compile(r"\boffer\b.*\b(?:options?|alternatives?|resolutions?|choices?)\b", re.I)
END = re.compile(r"^(?:end|close)\b.*\b(?:conversation|ticket|chat|case)\b", re.I)
HANDOVER_VERB = re.compile(
    r"^(?:proceed|continue|follow|use|run|reship|issue|refund|hand|go|apply|switch|"
    r"process|start|cancel|send|then)\b",
    re.I,
)
SUBJECT = re.compile(
    r"^(?:the )?(?:customer|user|client|shopper|this policy)\b(?! (?:is|has) (?:asked|told))", re.I
)
PLAIN_POLICY = re.compile(
    r"\b(?:as (?:outlined|described) in|as per|per|via|using|follow|with) the "
    r"((?:[\w-]+ ){0,3}?[\w-]+) policy\b",
    re.I,
)
LEADING_IF = re.compile(
    r"^(?:if|when|in (?:the )?cases? (?:where|when)|once|after)\s+(?P<cond>.+)$", re.I
)

LIST_PROMPT = "Before we go ahead, here are some options we can offer you:"
#: An offer's prompt outside cancellations ("before we go ahead" is retention talk).
OPTIONS_PROMPT = "Here are the options we can offer you:"
#: A policy whose id, title or ticket types say this is a cancellation is "cancelling".
CANCELLING = re.compile(r"cancel", re.I)
SINGLE_PROMPT = "We can also offer you this:"
MERGED_PROMPT = "Before you decide, here are some options we can offer you:"

#: Words that let the compiler pick a tool for an offer option that names none.
OFFER_TOOL_WORDS: tuple[tuple[str, str], ...] = (
    (r"shipping", "upgrade_shipping"),
    (r"swap|exchange", "swap_product"),
    (r"future|next order|coupon", "create_future_discount"),
    (r"discount|% off", "set_discount_to_order"),
    (r"skip", "skip_next_shipment"),
)

#: When an inferred tool lacks a value the customer can give, ask for it first.
ASKABLE: dict[str, tuple[str, str, str]] = {
    "to_product_id": ("free_text", "Which product would you like instead?", "new_product_id"),
    "new_product_id": ("free_text", "Which product would you like instead?", "new_product_id"),
    "order_id": ("order_number", "What is the number of the order in question?", "order_id"),
    "email": ("email", "Could you share the email address on your account?", "email"),
}

#: A helpdesk macro's placeholder: `{{ order_id }}` or `{order_id}` (a name, dots allowed).
BRACED = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}|\{\s*([A-Za-z_][\w.]*)\s*\}")

#: What a step does that the customer does not merely read: an escalation, a tool call,
#: a hand-over to another policy.
ACTS = re.compile(ESCALATE.pattern + r"|@\w|#\w", re.IGNORECASE)

#: "go back to step 1", "return to step 2", "start over", "repeat from step 3".
GOES_BACK = re.compile(
    r"\b(?:go(?:ing)?\s+back|return|jump|loop\s+back|repeat(?:\s+from)?)\s+to\s+step\b|"
    r"\brepeat\s+(?:from\s+)?step\s+\d|\bstart\s+(?:over|again\s+from)\b",
    re.I,
)

#: "… to check if …", "see if": the "if" belongs to what the step finds out, not to when
#: the step runs.
FINDS_OUT = re.compile(
    r"\b(?:check|see|verify|find out|determine|confirm|know|ask|tell|test|look)\s*$", re.I
)
