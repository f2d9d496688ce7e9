"""What the ticket says about a carrier claim: pure text, used inside the ticket workflow.

Kept apart from the follow-up (workflows/claim.py): the customer's and the agent's words
change for reasons of their own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from workflows.claim_models import STATUS_WORDS, ClaimCheck, ClaimProgress, count_checks

_CANCEL_CLAIM = re.compile(
    r"\b(cancel|withdraw|drop|close)\w*\b.*\bclaim\b|\bclaim\b.*\b(cancel|withdraw)\w*\b"
    r"|\bfound (it|the (package|parcel))\b"
    r"|\b(package|parcel) (has )?(arrived|turned up|showed up)\b",
    re.I,
)
_KEEP_CLAIM = re.compile(r"\b(don't|dont|do not|not|never)\s+(cancel|withdraw)", re.I)


def wants_claim_cancelled(text: str) -> bool:
    """Whether the customer withdraws the claim ("cancel the claim", "the parcel turned up")."""
    text = text.replace("’", "'")
    return bool(_CANCEL_CLAIM.search(text)) and not _KEEP_CLAIM.search(text)


def _every(interval: timedelta) -> str:
    if interval == timedelta(days=1):
        return "every day"
    if interval % timedelta(days=1) == timedelta(0):
        return f"every {interval.days} days"
    if interval % timedelta(hours=1) == timedelta(0):
        return f"every {interval // timedelta(hours=1)} hours"
    return f"every {interval.total_seconds():g} seconds"


def claim_filed_message(claim_id: str, carrier: str, check_every: timedelta) -> str:
    with_whom = f"with {carrier} " if carrier else ""
    return (
        f"Your claim {with_whom}is filed (reference {claim_id}). I'll check on it "
        f"{_every(check_every)} and write here as soon as anything changes."
    )


def progress_message(progress: ClaimProgress) -> str | None:
    """What the customer hears about a check that did not end the follow-up (or None)."""
    check = progress.check
    words = STATUS_WORDS.get(check.status, f"the claim is {check.status}")
    if check.source == "cancel" and check.status != "cancelled":
        return f"I couldn't withdraw claim {progress.claim_id}: {words}."
    if check.changed:
        return f"An update on claim {progress.claim_id}: {words}."
    if progress.still_working:
        return (
            f"Still working on it: claim {progress.claim_id} is open and the carrier hasn't "
            "decided yet. I'm checking on it regularly and will write as soon as it moves."
        )
    return None


def final_message(progress: ClaimProgress) -> str:
    claim_id = progress.claim_id
    if progress.resolution in ("approved", "approved_partial"):
        words = STATUS_WORDS[progress.resolution]
        return f"Good news: {words} (claim {claim_id})."
    if progress.resolution == "deadline":
        return (
            f"The carrier still hasn't decided claim {claim_id}, so I'm passing your case to a "
            "member of our team, who will follow up with you here."
        )
    if progress.resolution == "cancelled":
        return f"Claim {claim_id} is withdrawn."
    return f"I'm sorry: the carrier turned down claim {claim_id}."


def status_so_far(claim_id: str, status: str, last_check: datetime | None) -> str:
    words = STATUS_WORDS.get(status, f"the claim is {status}")
    when = f" (last checked {last_check:%b %d, %H:%M} UTC)" if last_check else ""
    return (
        f"Your claim {claim_id} is still open: {words}{when}. I'll write here as soon as the "
        'carrier decides. If the parcel turns up, just say "cancel the claim".'
    )


def history_note(claim_id: str, history: list[ClaimCheck]) -> str:
    """The claim's story for the agent: one line per change, and how many looks."""
    lines = [f"Carrier claim {claim_id} history:"]
    for check in history:
        if check.changed or check.source in ("filed", "deadline", "cancel") or check.detail:
            amount = f" ({check.approved_amount:.2f})" if check.approved_amount else ""
            detail = f": {check.detail}" if check.detail else ""
            lines.append(
                f"- {check.at:%Y-%m-%d %H:%M} {check.source} {check.status}{amount}{detail}"
            )
    looks = count_checks(history)
    lines.append(f"({looks} scheduled checks in all.)")
    return "\n".join(lines)
