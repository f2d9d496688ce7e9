"""The `ticketflow` command: the dev stack, the worker, the API and the policy tools."""

from __future__ import annotations

import asyncio
import os
import sys

import typer

from ticketflow.logs import configure_logging
from ticketflow.settings import get_settings

app = typer.Typer(
    help="ticketflow: durable, policy-driven support conversations on Temporal.",
    # A crash report shows no local variables: they may hold customer data or secrets.
    pretty_exceptions_show_locals=False,
)


@app.command()
def dev() -> None:
    """Run the whole stack: Temporal dev server + UI, worker and API (Ctrl-C stops it)."""
    from ticketflow.devstack import run_dev_stack

    settings = get_settings()
    configure_logging(settings, service="dev")
    raise typer.Exit(run_dev_stack(settings))


def _require_codec_keys() -> None:
    """Refuse to start, saying which setting is missing, when encryption has no keys."""
    from workflows.payload_codec import CodecConfigError, keyring_from_settings

    try:
        keyring_from_settings(get_settings())
    except CodecConfigError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


@app.command()
def worker() -> None:
    """Run a Temporal worker for ticket workflows and their activities."""
    from ticketflow.settings import MissingCredentials
    from workflows.worker import run_worker

    settings = get_settings()
    configure_logging(settings, service="worker")
    _require_codec_keys()
    try:
        asyncio.run(run_worker(settings))
    except MissingCredentials as refused:
        typer.echo(f"ticketflow worker: {refused}", err=True)
        raise typer.Exit(2) from None


@app.command()
def api() -> None:
    """Serve the HTTP API (uvicorn)."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings, service="api")
    _require_codec_keys()
    uvicorn.run(
        "ticketflow.policy_gate:create_gated_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        # Not uvicorn's own handlers: its lines go through the structured pipeline too.
        log_config=None,
    )


@app.command()
def setup(
    wait: float = typer.Option(120.0, help="Seconds to wait for the Temporal frontend."),
) -> None:
    """One-shot cluster setup: migrate and seed the app database, register search attributes."""
    from ticketflow.cluster import set_up_cluster

    settings = get_settings()
    configure_logging(settings, service="setup")
    asyncio.run(set_up_cluster(settings, wait_seconds=wait))


@app.command()
def probe(
    role: str = typer.Argument(..., help="`api` or `worker`"),
    max_age: float = typer.Option(120.0, help="worker: seconds since this host last polled"),
) -> None:
    """Health probe for containers: exit 0 when this host's API or worker is doing its job."""
    from ticketflow.cluster import api_is_healthy, worker_is_polling

    settings = get_settings()
    if role == "api":
        healthy = api_is_healthy(settings)
    elif role == "worker":
        healthy = asyncio.run(worker_is_polling(settings, max_age_seconds=max_age))
    else:
        raise typer.BadParameter("role must be `api` or `worker`")
    typer.echo(f"{role}: {'healthy' if healthy else 'unhealthy'}")
    sys.stdout.flush()
    # Straight out: a probe runs every few seconds, and letting the interpreter finalize
    # while the Temporal core's threads still hold callbacks crashes it now and then
    # (SIGABRT, "PyGILState_Release"), which would read as "unhealthy".
    os._exit(0 if healthy else 1)


@app.command("sandbox")
def sandbox_command(
    reset: bool = typer.Option(False, help="Reseed the demo data before serving."),
) -> None:
    """Serve the platform sandbox (BigCommerce, Stay AI, Skio, EasyPost, helpdesks...)."""
    from sandbox.config import SandboxConfig, helpdesk_webhook_targets
    from sandbox.server import serve

    settings = get_settings()
    configure_logging(settings, service="sandbox")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    serve(
        SandboxConfig(
            host=settings.sandbox_host,
            port=settings.sandbox_port,
            database_url=f"sqlite:///{settings.state_dir / 'sandbox.db'}",
            reset_on_start=reset,
            webhook_targets=helpdesk_webhook_targets(settings.api_url),
        )
    )


# Sub-commands owned by other rooms register below (one line each).
from ticketflow.policy_cli import policy_app, tools  # noqa: E402

app.add_typer(policy_app, name="policy")
app.command("tools")(tools)
app.add_typer(__import__("api.auth", fromlist=["apikey_app"]).apikey_app, name="apikey")
app.add_typer(__import__("api.console.user_cli", fromlist=["x"]).user_app, name="user")
app.add_typer(__import__("ticketflow.customer_cli", fromlist=["x"]).customer_app, name="customer")
app.add_typer(
    __import__("ticketflow.experiments_cli", fromlist=["x"]).experiments_app, name="experiments"
)
app.command("claims")(__import__("workflows.claims_cli", fromlist=["x"]).claims_command)
