"""CustomerKey: a keyed hash of the customer's email, so tickets can be found per customer
(data-subject export and erasure) without the email ever reaching a search attribute.

``HMAC-SHA256(secret, lower(strip(email)))`` as 64 hex characters. The secret is
``TICKETFLOW_CUSTOMER_KEY_SECRET``; unset, ``{state_dir}/customer-key-secret`` (created on
first use, mode 0600) — right for the one-machine default, where the worker and the API
share the state directory; any deployment past one machine must set the same secret on
every worker and API process, or each would hash with its own.

The workflow gets the key from the local activity below, so the secret stays in the
worker's activity code and never in workflow code, its history or its sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from temporalio import activity

from ticketflow.settings import Settings

SECRET_FILE = "customer-key-secret"
ACTIVITY_NAME = "customer_key"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def customer_key(secret: bytes, email: str) -> str:
    return hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()


def customer_key_secret(settings: Settings) -> bytes:
    """The configured secret, else the state directory's (made once, kept)."""
    if settings.customer_key_secret:
        return settings.customer_key_secret.encode()
    path: Path = settings.state_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(draft, path)  # atomic, and never over a secret another process made
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty; delete it or set TICKETFLOW_CUSTOMER_KEY_SECRET")
    return secret.encode()


class CustomerKeys:
    """Hashes emails with one secret; `customer_key` is the workflow's local activity."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the customer-key secret is empty")
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings) -> CustomerKeys:
        return cls(customer_key_secret(settings))

    def key(self, email: str) -> str:
        return customer_key(self._secret, email)

    @activity.defn(name=ACTIVITY_NAME)
    async def customer_key(self, email: str) -> str:
        return self.key(email)
