"""`ticketflow policy check|show|list` and `ticketflow tools` as an author uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from policies.library import DEFAULT_LIBRARY_DIR
from ticketflow.cli import app

from .conftest import FIXTURES

runner = CliRunner()


def test_check_library_passes() -> None:
    result = runner.invoke(app, ["policy", "check", str(DEFAULT_LIBRARY_DIR)])
    assert result.exit_code == 0, result.output
    assert "11 policies, 0 errors, 0 warnings" in result.output


def test_check_reports_errors_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text(
        "---\nid: bad\ntitle: Bad\nplatforms: [skio]\n---\n"
        "1. Ask for the order number.\n2. Use @skio_order_detail(order_id: str).\n"
    )
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert "UNKNOWN TOOL" in result.output and "@skio_order_details" in result.output

    as_json = runner.invoke(app, ["policy", "check", str(bad), "--json"])
    assert as_json.exit_code == 1
    payload = json.loads(as_json.output)
    diag = payload["policies"][0]["diagnostics"][0]
    assert (diag["code"], diag["line"], diag["severity"]) == ("TF001", 7, "error")


def test_show_prints_the_plan_tree_with_lines() -> None:
    result = runner.invoke(app, ["policy", "show", "reshipment"])
    assert result.exit_code == 0, result.output
    source = (DEFAULT_LIBRARY_DIR / "reshipment.md").read_text().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "@create_stayai_order" in text)
    assert "@create_stayai_order" in result.output and f"L{line} " in result.output
    assert "order_not_eligible" in result.output


def test_show_json_and_unknown_id() -> None:
    result = runner.invoke(app, ["policy", "show", "refund", "--json"])
    assert json.loads(result.output)["id"] == "refund"
    assert runner.invoke(app, ["policy", "show", "nope"]).exit_code == 1


def test_list_and_tools() -> None:
    listing = runner.invoke(app, ["policy", "list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "skip_next_shipment" in listing.output
    tools = runner.invoke(app, ["tools"], env={"COLUMNS": "200"})
    assert tools.exit_code == 0 and "@file_carrier_claim(order_id: str)" in tools.output


def test_show_lists_every_fact_a_compound_question_stores(tmp_path: Path) -> None:
    (tmp_path / "two_facts.md").write_text(
        "---\nid: two_facts\ntitle: Two facts\nplatforms: [shopify]\n---\n"
        "1. Ask for the customer's email address and the order number.\n"
    )
    result = runner.invoke(
        app, ["policy", "show", "two_facts", "--dir", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "email → $email + order_number → $order_id" in result.output


def test_check_runs_generic_tools_on_the_deployment_default(monkeypatch) -> None:
    """`TICKETFLOW_DEFAULT_PLATFORMS` fills a role the policy names no platform for."""
    from ticketflow.settings import get_settings

    wrong_size = str(FIXTURES / "newuser" / "wrong_size_exchange.md")
    before = runner.invoke(app, ["policy", "check", wrong_size, "--json"])
    assert before.exit_code == 1
    assert "TF013" in {d["code"] for d in json.loads(before.output)["policies"][0]["diagnostics"]}

    monkeypatch.setenv("TICKETFLOW_DEFAULT_PLATFORMS", "shopify,kustomer")
    get_settings.cache_clear()
    try:
        after = runner.invoke(app, ["policy", "check", wrong_size, "--json"])
    finally:
        monkeypatch.delenv("TICKETFLOW_DEFAULT_PLATFORMS")
        get_settings.cache_clear()
    assert after.exit_code == 0, after.output
    diagnostics = json.loads(after.output)["policies"][0]["diagnostics"]
    assert "TF013" not in {d["code"] for d in diagnostics}
    assert "TF023" in {d["code"] for d in diagnostics}
