"""One ticket turn is one connected trace: the webhook's HTTP span, Temporal's client and
workflow spans, the activity, and the connector's HTTP call to the platform (the sandbox),
which receives the trace's context; spans kept by the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.service import RPCError

from tests.observability.stack import eventually, worker_and_api
from tests.sandbox_fixtures import SandboxControl
from tests.webhooks.test_helpdesk_webhooks import zendesk_delivery
from ticketflow.settings import Settings
from workflows.tracing import tracing_configured, use_tracer_provider

TICKET = "ticket-zendesk-1004"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    yield exporter
    use_tracer_provider(None)


def ancestry(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names from `span` up to its trace's root, following parent links."""
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def _url(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured() -> None:
    assert not tracing_configured({})
    assert tracing_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing_configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert not tracing_configured({**endpoint, "OTEL_SDK_DISABLED": "true"})
    assert not tracing_configured({**endpoint, "OTEL_TRACES_EXPORTER": "none"})


async def test_a_webhook_turn_is_one_trace_down_to_the_platform_call(
    spans: InMemorySpanExporter,
    dev_settings: Settings,
    sandbox: SandboxControl,
    sandbox_settings: Settings,
    sandbox_url: str,
    app_database: str,
    api_key: str,
    dev_client: Client,
) -> None:
    body, headers = zendesk_delivery(
        "1004",
        "99001",
        "One item in order 7002 was damaged. Can I get a replacement?",
        requester="casey@example.com",
        tags="reshipment stayai",
    )
    try:
        async with worker_and_api(dev_settings, sandbox_settings, app_database, api_key) as http:
            answer = await http.post("/webhooks/zendesk", content=body, headers=headers)
            assert answer.status_code == 200, answer.text

            async def bot_answered() -> list[dict]:
                return sandbox.requests("zendesk", "PUT")  # a comment or hand-off on 1004

            await eventually(bot_answered, "the bot's reply on the Zendesk ticket")
    finally:
        try:
            await dev_client.get_workflow_handle(TICKET).terminate("test done")
        except RPCError:
            pass

    finished = list(spans.get_finished_spans())
    webhook = [
        s
        for s in finished
        if s.name.startswith("POST /webhooks/zendesk") and s.kind.name == "SERVER"
    ]
    assert len(webhook) == 1, [s.name for s in finished]
    trace_id = webhook[0].context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in in_trace}
    # The connector's calls to the platform, in this trace: each leads back to the webhook
    # through the activity that made it and the signal-with-start that began the ticket.
    platform_calls = [
        s for s in in_trace if s.kind.name == "CLIENT" and str(_url(s)).startswith(sandbox_url)
    ]
    assert {_url(s).split("/")[3] for s in platform_calls} >= {"stayai", "zendesk"}
    for call in platform_calls:
        chain = ancestry(call, by_id)
        activity = chain[1].split(":")[1]
        assert chain[1:5] == [
            f"RunActivity:{activity}",
            f"StartActivity:{activity}",
            "SignalWithStartWorkflow:TicketWorkflow",
            "POST /webhooks/zendesk",
        ], chain
    (run,) = [s for s in in_trace if s.name == "RunWorkflow:TicketWorkflow"]
    assert run.parent is not None
    assert by_id[run.parent.span_id].name == "SignalWithStartWorkflow:TicketWorkflow"
    # The platform received the trace's context (W3C traceparent) with the same trace id.
    traceparents = [
        r["headers"].get("traceparent", "")
        for platform in ("zendesk", "stayai")
        for r in sandbox.requests(platform)
    ]
    assert any(f"{trace_id:032x}" in header for header in traceparents), traceparents
    # Spans name ids, never the customer's words or address.
    for span in in_trace:
        assert "casey@example.com" not in repr(dict(span.attributes or {}))
        assert "damaged" not in repr(dict(span.attributes or {}))
