"""Personal data out of text that leaves the encrypted payloads: error messages, log lines,
trace rows, agent notes.

The connectors never put a customer's email, name, address or phone number in a message of
their own (they name orders, customers and tickets by id); ``redact`` is the safety net
for text they do not write, such as a platform's error body that quotes what it was sent.
It masks what has a recognisable shape (emails, phone numbers); names and street addresses
have none, which is why the messages themselves must carry ids.
"""

from __future__ import annotations

import re

# The local part as people write it (letters, digits, ``.``, ``_``, ``%``, ``+``, ``-``):
# the rarer characters RFC 5322 allows there (``/``, ``?``, ``=``...) would swallow the URL
# or query string around an email.
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers (+33 6 12 34 56 78, +1-415-555-0100) and the North American shapes
# (415-555-0100, (415) 555-0100, 415.555.0100); bare digit runs are order and tracking
# numbers and stay.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d[\d\s().-]{6,}\d|\(\d{3}\)\s?\d{3}[-.\s]\d{4}|\d{3}[-.]\d{3}[-.]\d{4})(?!\w)"
)


def redact(text: str) -> str:
    """``text`` with every email replaced by ``<email>`` and every phone number by
    ``<phone>``."""
    if "@" in text:
        text = EMAIL.sub("<email>", text)
    return PHONE.sub("<phone>", text)
