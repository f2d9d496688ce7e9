"""`ticketflow customer export|erase EMAIL`: data-subject requests from the command line,
the same service as `POST /customers/export` and `POST /customers/erase`.

The email may be given as ``-`` to read it from stdin, which keeps it out of the shell
history and the process list.
"""

from __future__ import annotations

import asyncio
import sys

import typer

from activities.customer_key import CustomerKeys
from api.db import database_url, open_database
from api.services.customers import CustomerService
from ticketflow.settings import Settings, get_settings
from workflows.temporal_client import connect_temporal

customer_app = typer.Typer(
    help="Data-subject requests: export or erase every ticket of one customer.",
    no_args_is_help=True,
)

EMAIL_HELP = "the customer's email, or - to read it from stdin"


def _email(value: str) -> str:
    email = sys.stdin.readline().strip() if value == "-" else value.strip()
    if "@" not in email:
        raise typer.BadParameter("not an email address", param_hint="EMAIL")
    return email


async def _service(settings: Settings) -> CustomerService:
    client = await connect_temporal(settings)
    engine = open_database(database_url(settings))
    return CustomerService(client, engine, CustomerKeys.from_settings(settings))


@customer_app.command("export")
def export_command(email: str = typer.Argument(help=EMAIL_HELP)) -> None:
    """Print every ticket of the customer as JSON (needs a running worker for transcripts)."""
    address = _email(email)

    async def run() -> str:
        service = await _service(get_settings())
        return (await service.export(address)).model_dump_json(indent=2)

    typer.echo(asyncio.run(run()))


@customer_app.command("erase")
def erase_command(
    email: str = typer.Argument(help=EMAIL_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Terminate the customer's open tickets, delete their executions (and claim follow-ups)
    and their app-database rows; print what was removed as JSON. Safe to repeat."""
    address = _email(email)
    if not yes:
        typer.confirm("Erase every ticket of this customer? This cannot be undone", abort=True)

    async def run() -> str:
        service = await _service(get_settings())
        return (await service.erase(address)).model_dump_json(indent=2)

    typer.echo(asyncio.run(run()))
