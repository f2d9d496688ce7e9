"""`ticketflow user …`: console users, and the dev stack's own editor login."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import typer
from sqlalchemy import Engine

from api.console.users import (
    MIN_PASSWORD_LENGTH,
    Role,
    UserError,
    create_user,
    find_user,
    list_users,
    password_matches,
    set_password,
)
from api.db import database_url, open_database
from ticketflow.settings import Settings, get_settings

DEV_LOGIN_FILE = "dev-console-login"
DEV_EMAIL = "dev@ticketflow.localhost"

user_app = typer.Typer(help="Console users (sign-in for /console).", no_args_is_help=True)


def _engine() -> Engine:
    return open_database(database_url(get_settings()))


def new_password() -> str:
    return secrets.token_urlsafe(15)


@user_app.command("create")
def create_command(
    email: str = typer.Argument(help="the user's email address (their login)"),
    role: Role = typer.Option(
        Role.VIEWER, help="viewer reads; operator also acts on tickets; editor also publishes"
    ),
    generate: bool = typer.Option(
        False, "--generate-password", help="make a password and print it once, instead of asking"
    ),
) -> None:
    """Create a console user; asks for the password (twice) unless told to make one."""
    if generate or not sys.stdin.isatty():
        password = new_password()
        shown = True
    else:
        password = typer.prompt(
            f"password (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
        shown = False
    try:
        user = create_user(_engine(), email, role, password)
    except UserError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {user.role} {user.email}")
    if shown:
        typer.echo(f"password: {password}  (shown once; stored only as an argon2id hash)")


@user_app.command("list")
def list_command() -> None:
    """Every console user: email, role, and whether it is locked."""
    users = list_users(_engine())
    if not users:
        typer.echo("no console users (create one with `ticketflow user create EMAIL`)")
    for user in users:
        locked = " (locked)" if user.locked_until is not None else ""
        typer.echo(f"{user.role:<9} {user.email}{locked}")


def ensure_dev_user(settings: Settings, engine: Engine | None = None) -> tuple[str, str]:
    """The dev stack's editor login (email, password), created once and kept in the state
    directory; if the kept password no longer opens the account, it gets a new one."""
    engine = engine or open_database(database_url(settings))
    path: Path = settings.state_dir / DEV_LOGIN_FILE
    if path.exists():
        email, _, password = path.read_text().strip().partition("\n")
        if password and password_matches(engine, email, password):
            return email, password
    password = new_password()
    if find_user(engine, DEV_EMAIL) is None:
        create_user(engine, DEV_EMAIL, Role.EDITOR, password)
    else:
        set_password(engine, DEV_EMAIL, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{DEV_EMAIL}\n{password}\n")
    path.chmod(0o600)
    return DEV_EMAIL, password
