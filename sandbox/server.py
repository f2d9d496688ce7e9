"""Serve the sandbox over HTTP with uvicorn, as its ``SandboxConfig`` says."""

from __future__ import annotations

from sandbox.config import SandboxConfig


def serve(config: SandboxConfig, *, log_level: str = "info") -> None:
    """Serve every configured emulator on ``config.host:config.port`` until interrupted."""
    import uvicorn

    from sandbox.app import create_app

    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level=log_level)
