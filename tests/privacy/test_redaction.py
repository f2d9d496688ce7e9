"""The safety net for text that leaves the encrypted payloads: emails and phone numbers are
masked, ids (orders, tracking numbers, tickets, dates) stay readable."""

from __future__ import annotations

import pytest

from activities.platforms.base import NotFound, PlatformRejected
from activities.redaction import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No customer with email Ada.L+x@ex-ample.co.uk", "No customer with email <email>"),
        ("GET /tickets/t-1?x=jo@example.com HTTP/1.1", "GET /tickets/t-1?x=<email> HTTP/1.1"),
        ("/customers/jo.o+x@ex.com/export", "/customers/<email>/export"),
        ("call +33 6 12 34 56 78 today", "call <phone> today"),
        ("(415) 555-0100 or 415-555-0100.", "<phone> or <phone>."),
        (
            "order 5001, tracking 9400111899223817522921",
            "order 5001, tracking 9400111899223817522921",
        ),
        (
            "ticket-web-1234-5678 at 2026-12-05T10:00:00+00:00",
            "ticket-web-1234-5678 at 2026-12-05T10:00:00+00:00",
        ),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_platform_errors_never_quote_an_email() -> None:
    """A platform's error body that echoes what it was sent does not reach the history."""
    err = PlatformRejected("customer jo@example.com already exists", platform="shopify")
    assert err.message == "shopify: customer <email> already exists"
    assert "@" not in NotFound("no user jo@example.com", platform="zendesk").message
