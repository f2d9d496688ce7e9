""" "Save as test": a test chat turned into a conversation script of its policy (the
policies/tests format): each customer message a turn that expects the start of each bot
reply and exactly the tools called, then the outcome, status and the sandbox writes the
chat made. Replayed by the publish gate on a freshly reset sandbox."""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.services.tickets import TicketView

MAX_FRAGMENT = 60


def reply_fragment(text: str) -> str:
    """The start of a reply, cut at a word: enough to recognise it, little to go stale."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(first) <= MAX_FRAGMENT:
        return first
    cut = first[:MAX_FRAGMENT].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:")


def chat_script(
    view: TicketView,
    *,
    name: str,
    customer: dict[str, str],
    context: dict[str, Any],
    side_effects: list[dict[str, Any]],
    ended: bool,
) -> dict[str, Any]:
    """The script of this chat (a mapping; the caller stores it as YAML)."""
    said = [e for e in view.transcript if e.role == "customer"]
    turns: list[dict[str, Any]] = []
    for number, message in enumerate(said):
        until = said[number + 1].at if number + 1 < len(said) else None
        position = view.transcript.index(message)
        replies: list[str] = []
        for entry in view.transcript[position + 1 :]:
            if entry.role == "customer":
                break
            if entry.role == "bot":
                replies.append(entry.text)
        tools = [
            row.detail[1:]
            for row in view.trace
            if row.kind == "call"
            and row.status == "waiting"
            and row.detail.startswith("@")
            and row.at >= message.at
            and (until is None or row.at < until)
        ]
        expect: dict[str, Any] = {"tool_calls": tools}
        fragments = [f for f in (reply_fragment(r) for r in replies) if f]
        if fragments:
            expect["replies_contain"] = fragments
        turns.append({"say": message.text, "expect": expect})
    script: dict[str, Any] = {
        "name": name,
        "description": f"Saved from the console's test chat {view.ticket_id}.",
        "helpdesk": view.state.helpdesk,
        "customer": {k: v for k, v in customer.items() if v},
    }
    if context:
        script["context"] = context
    script["turns"] = turns
    if ended or view.outcome:
        script["outcome"] = view.outcome or "none"
        script["status"] = str(view.state.status)
    counted = Counter((str(e["platform"]), str(e["operation"])) for e in side_effects)
    script["side_effects"] = [
        {"platform": platform, "operation": operation, "count": count}
        for (platform, operation), count in counted.items()
    ]
    return script
