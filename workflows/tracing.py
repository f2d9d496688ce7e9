"""Traces: OpenTelemetry from the HTTP request (a webhook or a ticket route) through the
ticket workflow and its activities to each platform's HTTP call, one trace per turn.

Off unless the standard variables configure an exporter: ``OTEL_EXPORTER_OTLP_ENDPOINT``
(or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), OTLP over HTTP/protobuf, with the rest of the
``OTEL_*`` family (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``...) read by the SDK itself;
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keep it off.

The pieces: Temporal's ``TracingInterceptor`` on the client (the API's and the worker's,
``workflows/temporal_client.py``; a worker takes its client's), httpx instrumented for the
connectors' calls, and FastAPI instrumented by the API (``api/main.py``). Spans carry ids
and names (workflow id, activity type, URL path), never a message's text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.contrib.opentelemetry import TracingInterceptor

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: TracerProvider | None = None


def tracing_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """An OTLP endpoint is set and the SDK is not switched off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in _ENDPOINTS)


def start_tracing(service: str) -> TracerProvider | None:
    """Once per process: when the environment configures it, a provider that batches spans
    to the OTLP endpoint, named `service` unless OTEL_SERVICE_NAME names it."""
    if _provider is not None or not tracing_configured():
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use_tracer_provider(provider)
    return provider


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Trace this process with `provider` from now on (tests pass one that keeps spans in
    memory); None stops tracing. Clients connected before keep what they had."""
    global _provider
    httpx_instrumentor = HTTPXClientInstrumentor()
    if httpx_instrumentor.is_instrumented_by_opentelemetry:
        httpx_instrumentor.uninstrument()
    if provider is not None:
        httpx_instrumentor.instrument(tracer_provider=provider)
    _provider = provider


def tracer_provider() -> TracerProvider | None:
    return _provider


def tracing_interceptor() -> TracingInterceptor | None:
    """For a Temporal client (and so its workers), when tracing is on."""
    if _provider is None:
        return None
    return TracingInterceptor(_provider.get_tracer("ticketflow"))
