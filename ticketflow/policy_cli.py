"""`ticketflow policy check|show|list` and `ticketflow tools`: the author's view of a policy."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from policies.catalog import CATALOG
from policies.compiler import CompileResult, compile_policy
from policies.conditions import describe
from policies.library import DEFAULT_LIBRARY_DIR, build_index, load_library, policy_files
from policies.plan import (
    AskNode,
    BranchNode,
    CallNode,
    EndNode,
    EscalateNode,
    FollowUpClaimNode,
    Node,
    NoteNode,
    OfferNode,
    Plan,
    SayNode,
    UsePolicyNode,
)
from policies.platforms import PLATFORM_TITLES
from ticketflow.settings import get_settings

policy_app = typer.Typer(help="Check, list and show the policies in the library.")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _default_platforms() -> list[str]:
    """The deployment's platforms for a role a policy names none for
    (TICKETFLOW_DEFAULT_PLATFORMS), as the API and the worker's store compile with."""
    return get_settings().default_platforms


def _compile_paths(paths: list[Path]) -> list[CompileResult]:
    """Directories compile as a library; single files compile against the bundled index
    plus their own directory's policies."""
    defaults = _default_platforms()
    results: list[CompileResult] = []
    for path in paths:
        if path.is_dir():
            results.extend(load_library(path, default_platforms=defaults).results)
        else:
            index = build_index(policy_files(DEFAULT_LIBRARY_DIR) + policy_files(path.parent))
            results.append(
                compile_policy(
                    path.read_text(encoding="utf-8"),
                    path=str(path),
                    library=index,
                    default_platforms=defaults,
                )
            )
    return results


@policy_app.command("check")
def check(
    paths: list[Path] = typer.Argument(None, help="Policy files or directories."),
    as_json: bool = typer.Option(False, "--json", help="Print diagnostics as JSON."),
) -> None:
    """Compile policies and report every problem; exit 1 if any has an error."""
    targets = paths or [DEFAULT_LIBRARY_DIR]
    missing = [p for p in targets if not p.exists()]
    if missing:
        typer.echo(f"No such file or directory: {', '.join(map(str, missing))}", err=True)
        raise typer.Exit(2)
    results = _compile_paths(targets)
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    if as_json:
        payload = {
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "policies": [
                {
                    "path": r.path,
                    "id": r.plan.id if r.plan else None,
                    "version": r.plan.version if r.plan else None,
                    "diagnostics": [d.model_dump() for d in r.diagnostics],
                }
                for r in results
            ],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        console = _console()
        for r in results:
            mark = (
                "[green]✓[/]"
                if not r.diagnostics
                else ("[red]✗[/]" if r.errors else "[yellow]![/]")
            )
            label = r.plan.id if r.plan else "(not compiled)"
            console.print(f"{mark} {escape(r.path or '<policy>')}  [dim]{escape(label)}[/]")
            for d in r.diagnostics:
                colour = "red" if d.is_error else "yellow"
                console.print(f"[{colour}]{escape(d.render())}[/]")
        summary = f"{len(results)} policies, {errors} errors, {warnings} warnings"
        console.print(f"[bold {'red' if errors else 'green'}]{summary}[/]")
    raise typer.Exit(1 if errors else 0)


@policy_app.command("list")
def list_policies(
    directory: Path = typer.Option(DEFAULT_LIBRARY_DIR, "--dir", help="Library directory."),
) -> None:
    """Every policy: id, title, ticket types, platforms, version."""
    library = load_library(directory, default_platforms=_default_platforms())
    table = Table(title=f"Policies in {directory}")
    for col in ("id", "title", "ticket types", "platforms", "version"):
        table.add_column(col)
    for r in library.results:
        if r.plan is None:
            table.add_row(f"[red]{escape(r.path or '')}[/]", "[red]has errors[/]", "", "", "")
            continue
        p = r.plan
        table.add_row(
            p.id,
            p.title,
            ", ".join(p.ticket_types),
            ", ".join(PLATFORM_TITLES.get(x, x) for x in p.platforms),
            p.version,
        )
    _console().print(table)


@policy_app.command("show")
def show(
    policy_id: str = typer.Argument(..., help="Policy id (or #Name)."),
    directory: Path = typer.Option(DEFAULT_LIBRARY_DIR, "--dir", help="Library directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """The compiled plan as a tree, each node with its source line."""
    library = load_library(directory, default_platforms=_default_platforms())
    try:
        plan = library.get(policy_id)
    except KeyError:
        known = ", ".join(sorted(library.plans)) or "none"
        typer.echo(f"No compiled policy “{policy_id}”. Known: {known}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(plan.to_json())
        return
    _console().print(plan_tree(plan))


def plan_tree(plan: Plan) -> Tree:
    """A rich tree of the plan: what runs, in order, with `L<line>` for each node."""
    roles = ", ".join(f"{role}={PLATFORM_TITLES.get(p, p)}" for role, p in plan.roles.items())
    root = Tree(f"[bold]{escape(plan.title)}[/] [dim]({plan.id} @ {plan.version}; {roles})[/]")
    _add_nodes(root, plan.steps)
    return root


def _line(node: Node) -> str:
    return f"[dim]L{node.line:<3} {escape(node.step):<7}[/]"


def _add_nodes(tree: Tree, nodes: list[Node]) -> None:
    for node in nodes:
        prefix = _line(node)
        if isinstance(node, SayNode):
            how = "macro" if node.macro else "say"
            tree.add(f"{prefix} [cyan]{how}[/] “{escape(node.text)}”")
        elif isinstance(node, AskNode):
            opts = f" options: {', '.join(node.options)}" if node.options else ""
            also = "".join(f" + {a.slot} → ${a.var}" for a in node.also)
            tree.add(
                f"{prefix} [magenta]ask[/] {node.slot} → ${node.var}{also}: "
                f"“{escape(node.question)}”{escape(opts)}"
            )
        elif isinstance(node, CallNode):
            args = ", ".join(f"{k}={escape(str(v))}" for k, v in node.args.items())
            fx = " [red]side effect[/]" if node.side_effect else ""
            tree.add(
                f"{prefix} [green]call[/] @{node.tool}({args}) on {node.platform} → "
                f"${node.result}{fx}{' [dim](inferred)[/]' if node.inferred else ''}"
            )
        elif isinstance(node, BranchNode):
            sub = tree.add(f"{prefix} [yellow]if[/] {escape(describe(node.condition))}")
            _add_nodes(sub, node.then)
            if node.otherwise:
                _add_nodes(sub.add("[yellow]otherwise[/]"), node.otherwise)
        elif isinstance(node, OfferNode):
            sub = tree.add(f"{prefix} [blue]offer[/] → ${node.var}: “{escape(node.prompt)}”")
            for option in node.options:
                _add_nodes(
                    sub.add(f"[blue]option[/] {escape(option.label)} [dim]({option.id})[/]"),
                    option.steps,
                )
        elif isinstance(node, UsePolicyNode):
            tree.add(f"{prefix} [bold]hand over[/] to #{node.policy_id}")
        elif isinstance(node, FollowUpClaimNode):
            sub = tree.add(
                f"{prefix} [blue]follow up claim[/] ${node.claim}: “{escape(node.notice)}”"
            )
            _add_nodes(sub.add("when approved"), node.on_approved)
            _add_nodes(sub.add("when rejected"), node.on_rejected)
        elif isinstance(node, EscalateNode):
            tree.add(f"{prefix} [red]escalate[/] {escape(node.reason)}")
        elif isinstance(node, NoteNode):
            flag = "" if node.recognised else " [yellow](will not run)[/]"
            tree.add(f"{prefix} [dim]note {escape(node.text)}[/]{flag}")
        elif isinstance(node, EndNode):
            tree.add(
                f"{prefix} [bold]end[/] {node.outcome}"
                f"{' [dim](implicit)[/]' if node.implicit else ''}"
            )


def tools() -> None:
    """The tool catalog: every @tool a policy may call."""
    table = Table(title="Tool catalog")
    for col in ("tool", "runs on", "side effect", "description"):
        table.add_column(col)
    for spec in sorted(CATALOG.values(), key=lambda t: t.name):
        table.add_row(
            escape(spec.signature()),
            PLATFORM_TITLES.get(spec.binds_to, spec.binds_to),
            "yes" if spec.side_effect else "",
            spec.description,
        )
    _console().print(table)


@policy_app.command("test")
def test_scripts(
    scripts: list[Path] = typer.Argument(
        None, help="Conversation scripts (YAML) or directories; default: policies/tests."
    ),
    server: str = typer.Option(
        "time-skipping",
        "--server",
        help="time-skipping (Java test server), dev (Temporal dev server) or host:port.",
    ),
    sandbox: str | None = typer.Option(
        None, "--sandbox", help="URL of a running sandbox; default: start one in memory."
    ),
    reset: bool = typer.Option(
        True, "--reset/--no-reset", help="Reseed the sandbox before each script."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only failures and the summary."),
) -> None:
    """Play conversation scripts against real Temporal and the sandbox; exit 1 on failure."""
    import asyncio
    import logging

    from ticketflow.conversation_tests import (
        TESTS_DIR,
        ScriptResult,
        print_result,
        print_summary,
        run_script_files,
        script_paths,
    )

    targets = scripts or [TESTS_DIR]
    missing = [p for p in targets if not p.exists()]
    if missing:
        typer.echo(f"No such file or directory: {', '.join(map(str, missing))}", err=True)
        raise typer.Exit(2)
    if not script_paths(targets):
        typer.echo("No scripts found (*.yaml).", err=True)
        raise typer.Exit(2)
    # A failed platform call is part of a script's story, not a worker traceback.
    logging.getLogger("temporalio").setLevel(logging.CRITICAL)
    console = _console()

    def show(result: ScriptResult) -> None:
        print_result(result, console, verbose=not quiet)

    results = asyncio.run(
        run_script_files(
            targets, server=server, sandbox_url=sandbox, reset_sandbox=reset, on_result=show
        )
    )
    print_summary(results, console)
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@policy_app.command("import")
def import_policies(
    directory: Path = typer.Argument(..., help="A directory of policy files (*.md)."),
) -> None:
    """Publish every policy file of DIR to the policy store (the app database) whose
    version it does not already publish; running it again changes nothing."""
    from api.db import database_url, open_database
    from api.services.policy_store import import_directory

    engine = open_database(database_url(get_settings()))
    try:
        done, failed = import_directory(
            engine,
            directory,
            author="ticketflow policy import",
            default_platforms=_default_platforms(),
        )
    finally:
        engine.dispose()
    for item in done:
        typer.echo(f"{item.action:10} {item.policy_id} {item.version}")
    for result in failed:
        errors = "; ".join(f"{d.line}:{d.column} {d.code} {d.message}" for d in result.errors)
        typer.echo(f"skipped    {result.path}: {errors}", err=True)
    raise typer.Exit(1 if failed else 0)


@policy_app.command("export")
def export_policies(
    directory: Path = typer.Argument(..., help="Where to write {id}.md per policy."),
) -> None:
    """Write the published source of every policy in the store to DIR."""
    from api.db import database_url, open_database
    from api.services.policy_store import export_directory

    engine = open_database(database_url(get_settings()))
    try:
        written = export_directory(engine, directory)
    finally:
        engine.dispose()
    for path in written:
        typer.echo(str(path))
