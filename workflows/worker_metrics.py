"""A worker's metrics endpoint: the ticketflow_* metrics (prometheus-client) and the
Temporal SDK's runtime metrics (``temporal_*``: task latencies, slots, polls, activity and
workflow counts), together on one port for Prometheus.

TICKETFLOW_WORKER_METRICS_PORT serves both on ``/metrics``: the SDK's own Prometheus server
(in the Rust core, which cannot serve Python's metrics) listens on loopback and each scrape
appends its text to ours. TICKETFLOW_TEMPORAL_METRICS_PORT puts that SDK server on a port of
its own choosing instead (still appended when both are set). Neither set: nothing listens.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from ticketflow.settings import Settings

log = logging.getLogger("ticketflow.worker")

SDK_SCRAPE_TIMEOUT = 2.0


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _handler(sdk_url: str | None) -> type[BaseHTTPRequestHandler]:
    class Scrape(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = generate_latest(REGISTRY)
            if sdk_url is not None:
                try:
                    with urllib.request.urlopen(sdk_url, timeout=SDK_SCRAPE_TIMEOUT) as sdk:
                        body += sdk.read()
                except OSError as err:  # the scrape still has ours
                    log.warning("could not read the Temporal SDK's metrics: %s", err)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # one line per scrape is noise

    return Scrape


class WorkerMetrics:
    """Start what the settings ask for; `runtime` is what the worker's client connects with
    (None: the SDK's default runtime, no SDK metrics)."""

    def __init__(self, settings: Settings) -> None:
        self.runtime: Runtime | None = None
        self._server: ThreadingHTTPServer | None = None
        sdk_bind: str | None = None
        if settings.temporal_metrics_port is not None:
            sdk_bind = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
        elif settings.worker_metrics_port is not None:
            sdk_bind = f"127.0.0.1:{_free_loopback_port()}"
        if sdk_bind is not None:
            self.runtime = Runtime(
                telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=sdk_bind))
            )
            log.info("Temporal SDK metrics on %s", sdk_bind)
        if settings.worker_metrics_port is not None:
            host, _, port = (sdk_bind or "").rpartition(":")
            local = "127.0.0.1" if host in ("0.0.0.0", "") else host
            sdk_url = f"http://{local}:{port}/metrics" if sdk_bind else None
            self._server = ThreadingHTTPServer(
                (settings.metrics_host, settings.worker_metrics_port), _handler(sdk_url)
            )
            threading.Thread(
                target=self._server.serve_forever, name="worker-metrics", daemon=True
            ).start()
            log.info("worker metrics on port %d", settings.worker_metrics_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
