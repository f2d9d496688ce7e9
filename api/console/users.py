"""Console users and their sign-in sessions.

A user has an email, a role and an argon2id password hash (argon2-cffi; the hash carries
its own parameters, so they can be raised later and old hashes still verify). Five wrong
passwords in a row lock the account for 15 minutes; a right one resets the count.

A session is a random cookie value; only its SHA-256 is stored (like API keys), next to a
CSRF token that every console write must echo. Signing out deletes the row, so a copied
cookie is worthless afterwards; sessions also expire after 12 hours.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import DateTime, Engine, delete
from sqlmodel import Field, Session, SQLModel, col, select

MAX_FAILED_LOGINS = 5
LOCK_OUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so an unknown address costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    """viewer reads everything; operator also acts on tickets; editor also writes and
    publishes policies (and may act on tickets)."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    EDITOR = "editor"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class ConsoleUser(SQLModel, table=True):
    __tablename__ = "console_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    disabled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ConsoleSession(SQLModel, table=True):
    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="console_user.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))


@dataclass(frozen=True)
class SignedIn:
    """Who a request comes from (never the password hash or the session token)."""

    user_id: int
    email: str
    role: Role
    csrf_token: str

    def allows(self, needed: Role | str) -> bool:
        return self.role.allows(Role(needed))


class UserError(ValueError):
    """A refused `create_user` (taken email, short password), said for the person."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(engine: Engine, email: str, role: Role, password: str) -> ConsoleUser:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise UserError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    with Session(engine) as session:
        if session.exec(select(ConsoleUser).where(ConsoleUser.email == email)).first():
            raise UserError(f"there is already a console user {email}")
        user = ConsoleUser(email=email, role=Role(role).value, password_hash=_hasher.hash(password))
        session.add(user)
        session.commit()
        session.refresh(user)
        return user


def find_user(engine: Engine, email: str) -> ConsoleUser | None:
    with Session(engine) as session:
        return session.exec(
            select(ConsoleUser).where(ConsoleUser.email == normalise_email(email))
        ).first()


def list_users(engine: Engine) -> list[ConsoleUser]:
    with Session(engine) as session:
        return list(session.exec(select(ConsoleUser).order_by(col(ConsoleUser.email))).all())


@dataclass(frozen=True)
class LoginResult:
    """`token` (the cookie value) on success; else why not, in words safe to show (the
    same words for an unknown email and a wrong password)."""

    token: str | None = None
    refusal: str | None = None
    locked: bool = False


WRONG = "that email and password do not match"


def sign_in(
    engine: Engine, email: str, password: str, *, now: datetime | None = None
) -> LoginResult:
    """Check the password (and the lock), count a failure, or open a session."""
    now = now or _now()
    with Session(engine) as session:
        user = session.exec(
            select(ConsoleUser).where(ConsoleUser.email == normalise_email(email)).with_for_update()
        ).first()
        if user is None or user.disabled_at is not None:
            _verify(_DUMMY_HASH, password)
            return LoginResult(refusal=WRONG)
        locked_until = _aware(user.locked_until)
        if locked_until is not None and locked_until > now:
            minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
            return LoginResult(
                refusal=f"too many wrong passwords: this account is locked for {minutes} "
                "more minute(s)",
                locked=True,
            )
        if not _verify(user.password_hash, password):
            user.failed_logins += 1
            locked = user.failed_logins >= MAX_FAILED_LOGINS
            if locked:
                user.locked_until = now + LOCK_OUT
                user.failed_logins = 0
            session.add(user)
            session.commit()
            if locked:
                minutes = int(LOCK_OUT.total_seconds() // 60)
                return LoginResult(
                    refusal=f"too many wrong passwords: this account is locked for {minutes} "
                    "minutes",
                    locked=True,
                )
            return LoginResult(refusal=WRONG)
        user.failed_logins = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        session.add(user)
        assert user.id is not None
        token = secrets.token_urlsafe(32)
        session.add(
            ConsoleSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        session.commit()
        return LoginResult(token=token)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_user(engine: Engine, token: str, *, now: datetime | None = None) -> SignedIn | None:
    """The signed-in user of a session cookie; None if unknown, expired or disabled."""
    now = now or _now()
    with Session(engine) as session:
        found = session.exec(
            select(ConsoleSession, ConsoleUser)
            .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)  # type: ignore[arg-type]
            .where(ConsoleSession.token_hash == _token_hash(token))
        ).first()
    if found is None:
        return None
    row, user = found
    expires_at = _aware(row.expires_at)
    if expires_at is None or expires_at <= now or user.disabled_at is not None:
        return None
    assert user.id is not None
    return SignedIn(user.id, user.email, Role(user.role), row.csrf_token)


def sign_out(engine: Engine, token: str) -> None:
    with Session(engine) as session:
        session.execute(
            delete(ConsoleSession).where(col(ConsoleSession.token_hash) == _token_hash(token))
        )
        session.commit()


def set_password(engine: Engine, email: str, password: str) -> None:
    """A new password (and no lock); every session of the user ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    with Session(engine) as session:
        user = session.exec(
            select(ConsoleUser).where(ConsoleUser.email == normalise_email(email))
        ).first()
        if user is None:
            raise UserError(f"there is no console user {email}")
        user.password_hash = _hasher.hash(password)
        user.failed_logins, user.locked_until = 0, None
        session.add(user)
        session.execute(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user.id))
        session.commit()


def password_matches(engine: Engine, email: str, password: str) -> bool:
    """Does this password open this account (no lock-out counting: for the dev stack)."""
    user = find_user(engine, email)
    return user is not None and _verify(user.password_hash, password)
