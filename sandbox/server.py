"""``ticketflow sandbox``: serve every platform emulator on one port, over the file database."""

from __future__ import annotations

import typer


def sandbox_command(
    reset: bool = typer.Option(False, help="Reseed the demo data before serving."),
) -> None:
    """Serve the platform sandbox (BigCommerce, Stay AI, Skio, EasyPost, helpdesks...)."""
    import uvicorn

    from sandbox.app import create_app
    from ticketflow.settings import get_settings

    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    database = settings.state_dir / "sandbox.db"
    app = create_app(f"sqlite:///{database}", reset_on_start=reset)
    uvicorn.run(app, host=settings.sandbox_host, port=settings.sandbox_port, log_level="info")
