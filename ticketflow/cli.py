"""The `ticketflow` command: the dev stack, the worker, the API and the policy tools."""

from __future__ import annotations

import asyncio

import typer

from ticketflow.settings import get_settings

app = typer.Typer(help="ticketflow: durable, policy-driven support conversations on Temporal.")


@app.command()
def dev() -> None:
    """Run the whole stack: Temporal dev server + UI, worker and API (Ctrl-C stops it)."""
    from ticketflow.devstack import run_dev_stack

    raise typer.Exit(run_dev_stack(get_settings()))


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
    from workflows.worker import run_worker

    _require_codec_keys()
    asyncio.run(run_worker(get_settings()))


@app.command()
def api() -> None:
    """Serve the HTTP API (uvicorn)."""
    import uvicorn

    settings = get_settings()
    _require_codec_keys()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
    )


@app.command("sandbox")
def sandbox_command(
    reset: bool = typer.Option(False, help="Reseed the demo data before serving."),
) -> None:
    """Serve the platform sandbox (BigCommerce, Stay AI, Skio, EasyPost, helpdesks...)."""
    from sandbox.config import SandboxConfig, helpdesk_webhook_targets
    from sandbox.server import serve

    settings = get_settings()
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
app.command("claims")(__import__("workflows.claims_cli", fromlist=["x"]).claims_command)
