"""API keys: `Authorization: Bearer <key>` on every ticket and policy endpoint.

A key is ``tf_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored: the key
has 256 bits of entropy, so a fast hash is enough and a lookup is one indexed query.
Webhooks do not use keys; they authenticate by the platform's signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.db import ApiKey, database_url, open_database
from ticketflow.settings import Settings, get_settings

KEY_PREFIX = "tf_"
DEV_KEY_FILE = "dev-api-key"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, name: str) -> str:
    """Store a new key (hashed) and return the key itself: the only time it is seen."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(ApiKey(name=name, prefix=key[:10], key_hash=hash_key(key)))
        session.commit()
    return key


def key_is_valid(engine: Engine, key: str) -> bool:
    if not key.startswith(KEY_PREFIX):
        return False
    digest = hash_key(key)
    with Session(engine) as session:
        row = session.exec(
            select(ApiKey).where(ApiKey.key_hash == digest, col(ApiKey.revoked_at).is_(None))
        ).first()
    return row is not None and hmac.compare_digest(row.key_hash, digest)


def ensure_dev_key(settings: Settings, engine: Engine | None = None) -> str:
    """The dev stack's key: the one kept in the state directory if still valid, else a new
    one (so a restart of `ticketflow dev` keeps the key a developer already copied)."""
    engine = engine or open_database(database_url(settings))
    path: Path = settings.state_dir / DEV_KEY_FILE
    if path.exists():
        kept = path.read_text().strip()
        if key_is_valid(engine, kept):
            return kept
    key = create_key(engine, "dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


apikey_app = typer.Typer(help="API keys for the ticket and policy API.", no_args_is_help=True)


@apikey_app.command("create")
def create_command(
    name: str = typer.Option("default", help="what the key is for (shown in the database)"),
) -> None:
    """Create an API key and print it (it is stored hashed and cannot be shown again)."""
    engine = open_database(database_url(get_settings()))
    typer.echo(create_key(engine, name))
