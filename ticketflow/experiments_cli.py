"""`ticketflow experiments list|report ID`: the experiments' live reports from the app
database, the same as `GET /experiments` and `GET /experiments/{id}`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from api.db import database_url, open_database
from api.services import experiments
from api.services.experiments import ExperimentReport
from api.services.policy_store import StoreError
from ticketflow.settings import get_settings

experiments_app = typer.Typer(
    help="Experiments on policies: their live reports.", no_args_is_help=True
)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def render(report: ExperimentReport, console: Console) -> None:
    rate_metric = report.metric != "csat"
    console.print(
        f"[bold]{report.id}[/] on {report.policy_id} · {report.metric} · "
        f"minimum detectable effect {report.minimum_detectable_effect:g} · {report.status}"
        + (f" · winner {report.winner}" if report.winner else "")
    )
    table = Table(show_edge=False)
    for column in ("variant", "version", "tickets", report.metric, "95% interval"):
        table.add_column(column)
    for column in ("vs control", "interval", "p", "CSAT", "kept/ticket"):
        table.add_column(column)
    for v in report.variants:
        if rate_metric:
            value = _percent(v.rate.estimate) if v.rate else "–"
            interval = f"{_percent(v.rate.low)}–{_percent(v.rate.high)}" if v.rate else "–"
        else:
            value = f"{v.csat.estimate:.2f}" if v.csat else "–"
            interval = f"{v.csat.low:.2f}–{v.csat.high:.2f}" if v.csat else "–"
        diff, diff_interval, p = "control" if v.control else "–", "", ""
        if v.difference is not None:
            show = _percent if rate_metric else (lambda x: f"{x:+.2f}")
            diff = show(v.difference.estimate)
            diff_interval = f"{show(v.difference.low)}…{show(v.difference.high)}"
            p = f"{v.difference.p_value:.4f}"
        table.add_row(
            v.name,
            v.version,
            str(v.tickets),
            value,
            interval,
            diff,
            diff_interval,
            p,
            f"{v.csat.estimate:.2f}" if v.csat else "–",
            f"{v.revenue_kept_per_ticket:.2f}",
        )
    console.print(table)
    console.print(
        f"{report.verdict}: {report.explanation} (needs {report.needed_per_variant} per "
        f"variant at α={report.alpha:g}, power {report.power:g})"
    )


@experiments_app.command("report")
def report_command(
    experiment_id: str = typer.Argument(help="the experiment's id (exp_…)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """The live report of one experiment."""
    engine = open_database(database_url(get_settings()))
    try:
        found = experiments.report(engine, experiment_id)
    except StoreError as err:
        typer.echo(err.detail, err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        render(found, Console(highlight=False))


@experiments_app.command("list")
def list_command(policy: str | None = typer.Option(None, help="only this policy's")) -> None:
    """Every experiment, newest first, with its verdict."""
    engine = open_database(database_url(get_settings()))
    for found in experiments.list_experiments(engine, policy):
        typer.echo(
            f"{found.id}  {found.policy_id}  {found.status}  {found.metric}  "
            f"{found.verdict}: {found.explanation}"
        )
