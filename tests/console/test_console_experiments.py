"""Experiments and metrics in the console over real HTTP (a real worker on the dev server,
both database backends): an editor starts an experiment from the published version and
the draft with a split, real tickets run through both variants, the report's table and
charts show them, "conclude" refuses the loser with the service's sentence and publishes
the winner; the policy page shows per-version metrics and the list the last 7 days."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from api.console.charts import LABEL_WIDTH, RIGHT_MARGIN, WIDTH, Value, bar_chart, percent
from api.console.users import Role
from api.services import policy_store
from tests.console.conftest import Login, csrf_token, sign_in
from tests.experiments.test_experiment_simulation import keep_plan

Browser = Callable[[], httpx.AsyncClient]
PLOT = WIDTH - LABEL_WIDTH - RIGHT_MARGIN


def test_a_bar_ends_at_its_value_and_its_error_bar_spans_the_interval() -> None:
    chart = bar_chart(
        "Retention",
        [Value("a", 0.5, 0.3, 0.7), Value("b", None), Value("c", 1.2)],
        scale=(0.0, 1.0),
        show=percent,
    )
    a, b, c = chart.bars
    assert (a.width, a.low, a.high) == (PLOT / 2, round(PLOT * 0.3, 1), round(PLOT * 0.7, 1))
    assert a.text == "50% (30%–70%)"
    assert b.text == "no data yet" and b.width == 0 and b.low is None
    assert c.width == PLOT  # clipped to the axis
    assert [t.text for t in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert "a 50% (30%–70%); b no data yet" in chart.description


def bar_widths(html: str, chart_id: str) -> dict[str, float]:
    """Each bar's drawn width in one chart of a report page."""
    figure = html.split(f'id="{chart_id}"', 1)[1].split("</figure>", 1)[0]
    bars = re.findall(
        r'data-label="([^"]+)".*?<rect x="0" y="[\d.]+" width="([\d.]+)"', figure, re.S
    )
    return {label: float(width) for label, width in bars}


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells (header cell first) of one table on a page."""
    body = html.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def _one_customer(http: httpx.AsyncClient, pid: str) -> tuple[str, str]:
    """A customer asks to cancel; they keep the plan when offered 25%, not 10%, and rate
    the conversation 5 or 2 accordingly. Returns (ticket id, variant)."""
    opened = await http.post(
        "/tickets",
        json={
            "message": "I'd like to cancel my plan",
            "ticket_type": f"{pid} request",
            "customer": {"email": f"c-{uuid.uuid4().hex[:10]}@example.com"},
        },
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    generous = "25%" in " ".join(ticket["replies"])
    answer = "yes, the discount please" if generous else "no, cancel it"
    await http.post(f"/tickets/{ticket['ticket_id']}/messages", json={"text": answer})
    rated = await http.post(
        f"/tickets/{ticket['ticket_id']}/messages", json={"text": "5" if generous else "2"}
    )
    assert rated.json()["replies"] == ["Thank you for the rating!"], rated.text
    return ticket["ticket_id"], "twenty_five" if generous else "ten"


async def _report(http: httpx.AsyncClient, experiment_id: str) -> Any:
    return (await http.get(f"/experiments/{experiment_id}")).json()


async def test_an_editor_runs_an_experiment_from_the_console_to_a_published_winner(
    http: httpx.AsyncClient,
    browser_like: Browser,
    make_user: Callable[[Role], Login],
    app_engine: Engine,
) -> None:
    pid = f"keep_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(app_engine, pid, keep_plan(pid, 10), "tests")
    v1 = policy_store.publish(app_engine, pid, message="ten percent", author="tests")
    policy_store.save_draft(app_engine, pid, keep_plan(pid, 25), "tests")

    viewer = browser_like()
    await sign_in(viewer, make_user(Role.VIEWER))
    assert (await viewer.get(f"/console/experiments/new?policy={pid}")).status_code == 403
    listed = await viewer.get("/console/experiments")
    assert listed.status_code == 200 and "Start an experiment" not in listed.text

    editor = browser_like()
    await sign_in(editor, make_user(Role.EDITOR))
    form_page = await editor.get(f"/console/experiments/new?policy={pid}")
    assert form_page.status_code == 200
    assert f'<option value="{v1}" selected>' in form_page.text  # the control: published
    assert '<option value="draft" selected>' in form_page.text  # the variant: the draft
    fields = {
        "csrf_token": csrf_token(form_page.text),
        "policy": pid,
        "control_name": "ten",
        "control_version": v1,
        "variant_name": "twenty_five",
        "variant_version": "draft",
        "split": "50",
        "metric": "retention",
        "minimum_detectable_effect": "0.6",
    }
    refused = await viewer.post(
        "/console/experiments", data={**fields, "csrf_token": csrf_token(listed.text)}
    )
    assert refused.status_code == 403
    bad_split = await editor.post("/console/experiments", data={**fields, "split": "100"})
    assert bad_split.status_code == 422 and "1–99%" in bad_split.text
    same = await editor.post("/console/experiments", data={**fields, "variant_name": "ten"})
    assert same.status_code == 422 and "variant names must differ" in same.text
    assert (await http.get("/experiments", params={"policy": pid})).json() == []

    created = await editor.post("/console/experiments", data=fields)
    assert created.status_code == 303, created.text
    report_path = created.headers["location"].split("?")[0]
    experiment_id = report_path.rsplit("/", 1)[1]
    again = await editor.post("/console/experiments", data=fields)
    assert again.status_code == 409 and f"experiment {experiment_id} already runs" in again.text

    page = await editor.get(created.headers["location"])
    assert page.status_code == 200
    assert "Experiment started." in page.text and "Still needed" in page.text
    assert bar_widths(page.text, "chart-rate") == {"ten": 0.0, "twenty_five": 0.0}
    policies = await viewer.get("/console/policies")
    assert f'href="/console/experiments/{experiment_id}"' in policies.text

    # Real tickets, a few at a time, until the sample is complete.
    seen: dict[str, int] = {"ten": 0, "twenty_five": 0}
    for _ in range(12):
        for _ticket, variant in await asyncio.gather(*(_one_customer(http, pid) for _ in range(4))):
            seen[variant] += 1
        report = await _report(http, experiment_id)
        if report["still_needed"] == 0 and report["leader"] == "twenty_five":
            break
    assert report["leader"] == "twenty_five", report
    for _ in range(100):  # each outcome row is written just after the ticket's last reply
        counted = {v["name"]: v["tickets"] for v in report["variants"]}
        if counted == seen:
            break
        await asyncio.sleep(0.1)
        report = await _report(http, experiment_id)
    assert counted == seen

    page = await editor.get(report_path)
    assert "twenty_five beats ten on retention" in page.text
    assert "Sample complete" in page.text
    rows = {row[0].split()[0]: row for row in table_rows(page.text, "variants")}
    assert rows["ten"][3] == str(counted["ten"]) and rows["ten"][4].startswith("0.0%")
    assert rows["twenty_five"][3] == str(counted["twenty_five"])
    assert rows["twenty_five"][4].startswith("100.0%") and "leads" in rows["twenty_five"][0]
    assert bar_widths(page.text, "chart-rate") == {"ten": 0.0, "twenty_five": float(PLOT)}
    csat = bar_widths(page.text, "chart-csat")  # ratings 2 and 5 on a 1–5 axis
    assert csat == {"ten": PLOT / 4, "twenty_five": float(PLOT)}

    token = csrf_token(page.text)
    loser = await editor.post(
        f"{report_path}/conclude", data={"winner": "ten", "csrf_token": token}
    )
    assert loser.status_code == 409
    assert (
        "Not concluded:" in loser.text and "the results do not support &#39;ten&#39;" in loser.text
    )
    assert policy_store.get_policy(app_engine, pid).version == v1
    won = await editor.post(
        f"{report_path}/conclude", data={"winner": "twenty_five", "csrf_token": token}
    )
    assert won.status_code == 303
    done = await editor.get(won.headers["location"])
    assert "Concluded: twenty_five is published." in done.text
    assert "Conclude</button>" not in done.text
    winner_version = next(v["version"] for v in report["variants"] if v["name"] == "twenty_five")
    assert policy_store.get_policy(app_engine, pid).version == winner_version

    # The policy page: metrics per version; the list: the last 7 days.
    policy_page = await viewer.get(f"/console/policies/{pid}")
    by_version = {
        row[0].split()[0]: row[1:] for row in table_rows(policy_page.text, "version-metrics")
    }
    tickets, containment, _, escalation, _, retention, _, csat_cell, _ = by_version[v1]
    assert tickets == str(counted["ten"])
    assert containment.startswith("100%") and escalation.startswith("0%")
    assert retention.startswith("0%")  # nobody kept the plan for 10%
    assert csat_cell.startswith("2.00")  # and each rated 2
    assert by_version[winner_version][0] == str(counted["twenty_five"])
    policies = await viewer.get("/console/policies")
    row = policies.text.split(f'href="/console/policies/{pid}"', 1)[1].split("</tr>", 1)[0]
    total = counted["ten"] + counted["twenty_five"]
    assert f"{total} tickets" in row and "100%" in row  # the bot alone ended every one
    mean = (2 * counted["ten"] + 5 * counted["twenty_five"]) / total
    assert f"{mean:.1f}" in row
