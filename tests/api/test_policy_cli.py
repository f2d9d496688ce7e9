"""`ticketflow policy import DIR` and `ticketflow policy export DIR` against a scratch app
database: import publishes, again changes nothing, export writes the sources back."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from policies.library import DEFAULT_LIBRARY_DIR, policy_files
from ticketflow.cli import app as cli
from ticketflow.settings import get_settings


def test_policy_import_is_idempotent_and_export_writes_the_sources_back(tmp_path: Path) -> None:
    get_settings.cache_clear()  # the CLI reads TICKETFLOW_DATABASE_URL from `env` below
    runner = CliRunner()
    env = {"TICKETFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    first = runner.invoke(cli, ["policy", "import", str(DEFAULT_LIBRARY_DIR)], env=env)
    assert first.exit_code == 0, first.output
    files = policy_files(DEFAULT_LIBRARY_DIR)
    assert first.stdout.count("published") == len(files)
    again = runner.invoke(cli, ["policy", "import", str(DEFAULT_LIBRARY_DIR)], env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.count("unchanged") == len(files) and "published" not in again.stdout

    out = tmp_path / "export"
    exported = runner.invoke(cli, ["policy", "export", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    for path in files:
        assert (out / path.name).read_text() == path.read_text()
    get_settings.cache_clear()
