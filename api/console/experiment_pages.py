"""The console's experiment pages: the list, starting one from two versions of a policy
(or its draft) with a split, the live report as a table and inline SVG charts, and
"conclude". Everything goes through api/services/experiments.py, so its refusals (a
running experiment, a winner the data does not support yet) reach the person as the
service's own sentence."""

from __future__ import annotations

from typing import Any, get_args
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.console.charts import BarChart, Value, bar_chart, money, percent
from api.console.rendering import redirect, render
from api.console.session import ConsoleRefusal, Editor, Viewer
from api.deps import EngineDep, PublishedDep, get_default_platforms
from api.services import experiments, policy_store
from api.services.experiments import ExperimentCreate, ExperimentReport, Metric
from api.services.policy_store import StoreError

router = APIRouter(prefix="/console/experiments", include_in_schema=False)

METRICS: dict[str, str] = {
    "retention": "retention (kept the order or subscription)",
    "containment": "containment (ended by the bot alone)",
    "resolution": "resolution (neither escalated nor abandoned)",
    "csat": "CSAT (mean 1–5 rating)",
}
assert set(METRICS) == set(get_args(Metric))
DRAFT = "draft"


def report_charts(report: ExperimentReport) -> list[tuple[str, BarChart]]:
    """The report's charts, each with its element id: the metric's rate per variant with
    its interval (rate metrics), CSAT with its interval, revenue kept per ticket."""
    charts = []
    if report.metric != "csat":
        charts.append(
            (
                "chart-rate",
                bar_chart(
                    f"{report.metric.capitalize()} rate per variant, 95% interval",
                    [
                        Value(
                            v.name,
                            *((v.rate.estimate, v.rate.low, v.rate.high) if v.rate else (None,)),
                        )
                        for v in report.variants
                    ],
                    scale=(0.0, 1.0),
                    show=percent,
                ),
            )
        )
    charts.append(
        (
            "chart-csat",
            bar_chart(
                "CSAT per variant (1–5), 95% interval",
                [
                    Value(
                        v.name, *((v.csat.estimate, v.csat.low, v.csat.high) if v.csat else (None,))
                    )
                    for v in report.variants
                ],
                scale=(1.0, 5.0),
            ),
        )
    )
    charts.append(
        (
            "chart-revenue",
            bar_chart(
                "Revenue kept per ticket",
                [
                    Value(v.name, v.revenue_kept_per_ticket if v.tickets else None)
                    for v in report.variants
                ],
                show=money,
            ),
        )
    )
    return charts


@router.get("")
async def experiment_list(
    request: Request, user: Viewer, engine: EngineDep, policy: str | None = None
) -> HTMLResponse:
    chosen = (policy or "").strip() or None
    found = await run_in_threadpool(experiments.list_experiments, engine, chosen)
    policies = await run_in_threadpool(
        policy_store.overview, engine, default_platforms=get_default_platforms(request)
    )
    return render(
        request,
        "experiments.html",
        experiments=found,
        policies=[p for p in policies if p.version],
        chosen=chosen,
    )


async def _new_page(
    request: Request,
    engine: EngineDep,
    policy_id: str,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    refusal: str | None = None,
    refusal_lines: list[str] | None = None,
) -> HTMLResponse:
    try:
        published, versions = await run_in_threadpool(policy_store.list_versions, engine, policy_id)
        shown = await run_in_threadpool(
            policy_store.editable,
            engine,
            policy_id,
            default_platforms=get_default_platforms(request),
        )
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    newest_other = next((v.version_hash for v in versions if v.version_hash != published), None)
    values = {
        "control_name": "control",
        "control_version": published or "",
        "variant_name": "variant",
        "variant_version": DRAFT if shown.draft else (newest_other or published or ""),
        "split": "50",
        "metric": "retention",
        "minimum_detectable_effect": "0.05",
        **(form or {}),
    }
    return render(
        request,
        "experiment_new.html",
        status_code,
        policy_id=policy_id,
        published_version=published,
        versions=versions,
        has_draft=shown.draft is not None,
        metrics=METRICS,
        form=values,
        refusal=refusal,
        refusal_lines=refusal_lines or [],
    )


@router.get("/new")
async def new_experiment(
    request: Request, write: Editor, engine: EngineDep, policy: str = ""
) -> Response:
    if not policy:
        return redirect("/console/experiments")
    return await _new_page(request, engine, policy)


class FormProblem(Exception):
    """A form field the experiment cannot be built from, said for the person."""


def _number(form: dict[str, str], name: str, what: str) -> float:
    try:
        return float(form[name])
    except ValueError:
        raise FormProblem(f"{what} is a number") from None


def _spec(form: dict[str, str], draft_source: str | None) -> ExperimentCreate:
    split = _number(form, "split", "the split")
    if not 1 <= split <= 99:
        raise FormProblem("the split gives the variant 1–99% of new tickets")

    def variant(name: str, version: str, weight: float) -> dict[str, Any]:
        if version == DRAFT:
            if draft_source is None:
                raise FormProblem("the policy has no draft to try")
            return {"name": name, "source": draft_source, "weight": weight}
        return {"name": name, "version": version, "weight": weight}

    return ExperimentCreate.model_validate(
        {
            "policy": form["policy"],
            "variants": [
                variant(form["control_name"], form["control_version"], 100 - split),
                variant(form["variant_name"], form["variant_version"], split),
            ],
            "metric": form["metric"],
            "minimum_detectable_effect": _number(
                form, "minimum_detectable_effect", "the smallest difference"
            ),
        }
    )


def _sentences(err: ValidationError) -> list[str]:
    return [str(e["msg"]).removeprefix("Value error, ") for e in err.errors()]


@router.post("")
async def create_experiment(request: Request, write: Editor, engine: EngineDep) -> Response:
    names = (
        "policy",
        "control_name",
        "control_version",
        "variant_name",
        "variant_version",
        "split",
        "metric",
        "minimum_detectable_effect",
    )
    form = {name: write.field(name).strip()[:200] for name in names}
    policy_id = form["policy"]
    if not policy_id:
        raise ConsoleRefusal(422, "choose a policy")
    try:
        shown = await run_in_threadpool(
            policy_store.editable,
            engine,
            policy_id,
            default_platforms=get_default_platforms(request),
        )
        spec = _spec(form, shown.draft.source if shown.draft else None)
        created = await run_in_threadpool(
            experiments.create,
            engine,
            spec,
            write.user.email,
            default_platforms=get_default_platforms(request),
        )
    except ValidationError as err:
        return await _new_page(
            request,
            engine,
            policy_id,
            status_code=422,
            form=form,
            refusal="; ".join(_sentences(err)),
        )
    except FormProblem as err:
        return await _new_page(
            request, engine, policy_id, status_code=422, form=form, refusal=str(err)
        )
    except StoreError as err:
        return await _new_page(
            request,
            engine,
            policy_id,
            status_code=err.status,
            form=form,
            refusal=err.detail,
            refusal_lines=[f"line {d.line}: {d.message}" for d in err.diagnostics],
        )
    return redirect(f"/console/experiments/{quote(created.id)}?notice=Experiment+started.")


async def _report_page(
    request: Request,
    engine: EngineDep,
    experiment_id: str,
    *,
    status_code: int = 200,
    refusal: str | None = None,
) -> HTMLResponse:
    try:
        report = await run_in_threadpool(experiments.report, engine, experiment_id)
    except StoreError as err:
        raise ConsoleRefusal(err.status, err.detail) from None
    return render(
        request,
        "experiment.html",
        status_code,
        report=report,
        charts=report_charts(report),
        metrics=METRICS,
        refusal=refusal,
        notice=request.query_params.get("notice"),
    )


@router.get("/{experiment_id}")
async def experiment_report(
    request: Request, experiment_id: str, user: Viewer, engine: EngineDep
) -> HTMLResponse:
    return await _report_page(request, engine, experiment_id)


@router.post("/{experiment_id}/conclude")
async def conclude(
    request: Request,
    experiment_id: str,
    write: Editor,
    engine: EngineDep,
    published: PublishedDep,
) -> Response:
    """Publish the winner (or stop with none); a refusal shows the service's reason."""
    winner = write.field("winner").strip() or None
    try:
        done = await run_in_threadpool(
            experiments.conclude, engine, experiment_id, winner, write.user.email
        )
    except StoreError as err:
        return await _report_page(
            request, engine, experiment_id, status_code=err.status, refusal=err.detail
        )
    published.invalidate()
    notice = (
        f"Concluded: {done.winner} is published."
        if done.winner
        else "Stopped with no winner; the published version stays."
    )
    return redirect(f"/console/experiments/{quote(experiment_id)}?notice={quote(notice)}")
