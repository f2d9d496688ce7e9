"""API keys: `Authorization: Bearer <key>` on every ticket, policy and customer endpoint.

A key is ``tf_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored: the key
has 256 bits of entropy, so a fast hash is enough and a lookup is one indexed query.
Webhooks do not use keys; they authenticate by the platform's signature.

Each key has scopes and may have an expiry:

- ``tickets``: the ticket API (web channel, tooling, operators);
- ``policies:write``: the policy-authoring endpoints (today `POST /policies/check`);
- ``admin``: everything, including data-subject requests (`/customers/...`).

Reading policies takes any valid key. Every request looks the key up again, so a revoked
or expired key is refused (401) from the next request on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.db import ApiKey, database_url, open_database
from ticketflow.settings import Settings, get_settings

KEY_PREFIX = "tf_"
DEV_KEY_FILE = "dev-api-key"


class Scope(StrEnum):
    TICKETS = "tickets"
    POLICIES_WRITE = "policies:write"
    ADMIN = "admin"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class KeyInfo:
    """A valid key as a request sees it (never the key or its hash)."""

    id: int
    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope | None) -> bool:
        """`admin` implies every scope; None means any valid key."""
        return scope is None or scope in self.scopes or Scope.ADMIN in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def parse_scopes(stored: str) -> frozenset[Scope]:
    return frozenset(Scope(word) for word in stored.split() if word in Scope._value2member_map_)


def create_key(
    engine: Engine,
    name: str,
    *,
    scopes: frozenset[Scope] | set[Scope] | tuple[Scope, ...] = (Scope.TICKETS,),
    expires_at: datetime | None = None,
) -> str:
    """Store a new key (hashed) and return the key itself: the only time it is seen."""
    if not scopes:
        raise ValueError("a key needs at least one scope")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(
            ApiKey(
                name=name,
                prefix=key[:10],
                key_hash=hash_key(key),
                scopes=" ".join(sorted(Scope(s).value for s in scopes)),
                expires_at=expires_at,
            )
        )
        session.commit()
    return key


def authenticate(engine: Engine, key: str, *, now: datetime | None = None) -> KeyInfo | None:
    """The key's id, name and scopes; None if it is unknown, revoked or expired."""
    if not key.startswith(KEY_PREFIX):
        return None
    digest = hash_key(key)
    with Session(engine) as session:
        row = session.exec(
            select(ApiKey).where(ApiKey.key_hash == digest, col(ApiKey.revoked_at).is_(None))
        ).first()
    if row is None or row.id is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    expires_at = _aware(row.expires_at)
    if expires_at is not None and expires_at <= (now or _now()):
        return None
    return KeyInfo(id=row.id, name=row.name, scopes=parse_scopes(row.scopes))


def key_is_valid(engine: Engine, key: str) -> bool:
    return authenticate(engine, key) is not None


def list_keys(engine: Engine) -> list[ApiKey]:
    with Session(engine) as session:
        return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


def key_state(row: ApiKey, now: datetime | None = None) -> str:
    """active, revoked or expired."""
    if row.revoked_at is not None:
        return "revoked"
    expires_at = _aware(row.expires_at)
    if expires_at is not None and expires_at <= (now or _now()):
        return "expired"
    return "active"


def revoke_key(engine: Engine, which: str) -> ApiKey | None:
    """Revoke the key with this id or prefix (``tf_…``, as `apikey list` shows it); the row
    as it now is, or None if no key matches. Revoking a revoked key changes nothing."""
    with Session(engine) as session:
        query = select(ApiKey)
        if which.isdigit():
            query = query.where(ApiKey.id == int(which))
        else:
            query = query.where(ApiKey.prefix == which[:10])
        rows = list(session.exec(query).all())
        if len(rows) != 1:
            return None
        row = rows[0]
        if row.revoked_at is None:
            row.revoked_at = _now()
            session.add(row)
            session.commit()
            session.refresh(row)
        return row


def ensure_dev_key(settings: Settings, engine: Engine | None = None) -> str:
    """The dev stack's key (every scope, no expiry): the one kept in the state directory if
    still valid, else a new one (so a restart of `ticketflow dev` keeps the key a developer
    already copied)."""
    engine = engine or open_database(database_url(settings))
    path: Path = settings.state_dir / DEV_KEY_FILE
    if path.exists():
        kept = path.read_text().strip()
        if key_is_valid(engine, kept):
            return kept
    key = create_key(engine, "dev", scopes=ALL_SCOPES)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_expiry(text: str, now: datetime | None = None) -> datetime | None:
    """``90d`` / ``12h`` / ``30m`` from now, an ISO date or time (UTC unless it says), or
    ``never``."""
    text = text.strip().lower()
    if text == "never":
        return None
    match = DURATION.match(text)
    if match:
        return (now or _now()) + timedelta(**{UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not 90d, 12h, 30m, an ISO date or 'never'") from None
    return _aware(moment)


apikey_app = typer.Typer(
    help="API keys for the ticket, policy and customer API.", no_args_is_help=True
)


def _engine() -> Engine:
    return open_database(database_url(get_settings()))


@apikey_app.command("create")
def create_command(
    name: str = typer.Option("default", help="what the key is for (shown in the database)"),
    scope: list[Scope] = typer.Option(
        [Scope.TICKETS.value],
        "--scope",
        help="tickets, policies:write or admin (admin implies the others); repeat for more",
    ),
    expires_in: str = typer.Option(
        "90d", "--expires-in", help="90d, 12h, 30m, an ISO date, or 'never'"
    ),
) -> None:
    """Create an API key and print it (it is stored hashed and cannot be shown again)."""
    try:
        expires_at = parse_expiry(expires_in)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--expires-in") from None
    typer.echo(create_key(_engine(), name, scopes=set(scope), expires_at=expires_at))
    until = expires_at.isoformat(timespec="seconds") if expires_at else "never"
    typer.echo(f"scopes: {' '.join(sorted(scope))}; expires: {until}", err=True)


def _iso(moment: datetime | None) -> str | None:
    aware = _aware(moment)
    return aware.isoformat(timespec="seconds") if aware else None


@apikey_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="one JSON object per key"),
) -> None:
    """Every key: id, prefix, name, scopes, created, expires and state (never the key)."""
    now = _now()
    rows = [
        {
            "id": row.id,
            "prefix": row.prefix,
            "name": row.name,
            "scopes": row.scopes,
            "created_at": _iso(row.created_at),
            "expires_at": _iso(row.expires_at),
            "state": key_state(row, now),
        }
        for row in list_keys(_engine())
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no API keys (create one with `ticketflow apikey create`)")
        return
    for r in rows:
        typer.echo(
            f"{r['id']:>4}  {r['prefix']:<10}  {r['state']:<7}  {r['scopes']:<28}  "
            f"expires {r['expires_at'] or 'never':<25}  {r['name']}"
        )


@apikey_app.command("revoke")
def revoke_command(
    key: str = typer.Argument(help="the key's id or prefix, as `ticketflow apikey list` shows"),
) -> None:
    """Revoke a key: every request with it gets 401 from now on."""
    row = revoke_key(_engine(), key)
    if row is None:
        typer.echo(f"no single key matches {key!r} (see `ticketflow apikey list`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {row.id} ({row.prefix}, {row.name})")
