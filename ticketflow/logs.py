"""Structured logs for every ticketflow process, configured once here, in the composition root.

``configure_logging(settings, service=...)`` is called by ``ticketflow worker``, ``ticketflow
api`` and ``ticketflow dev`` (and the dev stack's children are those same commands). It
routes the standard library's logging (ours, Temporal's, uvicorn's) through structlog, so
each line is one event with fields:

- ``TICKETFLOW_LOG_FORMAT=json``: one JSON object a line (``timestamp``, ``level``,
  ``logger``, ``service``, ``event`` and the bound ids) for a production log pipeline;
  ``console``: a readable line for people; ``auto`` (the default): console on a terminal,
  JSON otherwise. ``ticketflow dev`` runs its children with ``console``.
- Ids, never customer data: activity lines carry ``ticket_id``, ``run_id``, ``activity`` and
  ``policy_id`` (``activities.log_context``); workflow lines (``workflow.logger``) carry
  ``ticket_id``, ``run_id`` and the ``policy_id`` the workflow passes; API lines carry the
  ticket, policy and run they handle (``api.log_context``).
- A last processor masks emails and phone numbers in every field (``activities.redaction``),
  a safety net behind messages that are written with ids in the first place. Tracebacks
  are plain text (no frame locals, which would show an activity's input) and masked too.
- httpx and httpcore log each request's full URL at INFO, query string included (where a
  platform's lookup puts the email: Zendesk, BigCommerce, Stay AI); they log at WARNING
  and above only. The connectors log method, path and status at DEBUG instead.
- Temporal's worker (``temporalio.worker``) logs whole activations and completions at DEBUG,
  payloads in plain text; it logs at INFO and above whatever the root level.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio import activity, workflow

from activities.redaction import redact
from ticketflow.settings import Settings

# Fields a log call may pass with ``extra=`` that become fields of the event.
EXTRA_FIELDS = (
    "policy_id",
    "policy_version",
    "entry",
    "status",
    "outcome",
    "tool",
    "error_type",
    "run_id",
    "ticket_id",
    "message_id",
    "deployment",
    "build_id",
)
# Libraries that log a whole URL (query string included) on every request at INFO.
URL_LOGGERS = ("httpx", "httpcore")
# Temporal's worker internals: at DEBUG they print activations and completions whole.
TEMPORAL_WORKER_LOGGER = "temporalio.worker"


def _temporal_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """``ticket_id`` / ``run_id`` from the details Temporal's workflow and activity loggers
    attach to a record (``temporal_workflow`` / ``temporal_activity``)."""
    record = event.get("_record")
    if record is None:
        return event
    details = getattr(record, "temporal_workflow", None) or {}
    if isinstance(details, dict) and details:
        event.setdefault("ticket_id", details.get("workflow_id"))
        event.setdefault("run_id", details.get("run_id"))
        if details.get("update_name"):
            event.setdefault("update", details.get("update_name"))
    details = getattr(record, "temporal_activity", None) or {}
    if isinstance(details, dict) and details:
        event.setdefault("ticket_id", details.get("workflow_id"))
        event.setdefault("run_id", details.get("workflow_run_id"))
        event.setdefault("activity", details.get("activity_type"))
    return event


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def _redact_fields(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Emails and phone numbers masked in every field (after exceptions are formatted)."""
    for key, value in list(event.items()):
        if not key.startswith("_"):
            event[key] = _redacted(value)
    return event


def _service(name: str) -> Processor:
    def add(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event.setdefault("service", name)
        return event

    return add


def wants_json(settings: Settings, stream: TextIO) -> bool:
    if settings.log_format == "auto":
        return not (hasattr(stream, "isatty") and stream.isatty())
    return settings.log_format == "json"


def configure_logging(
    settings: Settings, *, service: str, stream: TextIO | None = None
) -> logging.Handler:
    """Route all logging of this process through structlog; return the handler installed
    on the root logger (tests remove it again)."""
    stream = stream or sys.stderr
    as_json = wants_json(settings, stream)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=EXTRA_FIELDS),
        _temporal_ids,
        _service(service),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks as plain text, then masked like every field: never a pretty traceback
    # with its frames' local variables, which hold the activity's input.
    final: list[Processor] = [structlog.processors.format_exc_info, _redact_fields]
    if as_json:
        final.append(structlog.processors.JSONRenderer())
    else:
        tty = hasattr(stream, "isatty") and stream.isatty()
        final.append(structlog.dev.ConsoleRenderer(colors=tty))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_ticketflow", False):
            root.removeHandler(old)
    handler._ticketflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # At DEBUG, Temporal's worker logs every activation and completion whole, payloads
    # (the customer's messages, activity inputs and results) included, before any codec.
    level = logging.getLogger().getEffectiveLevel()
    logging.getLogger(TEMPORAL_WORKER_LOGGER).setLevel(max(level, logging.INFO))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers would print a second, unstructured copy.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # The workflow/activity details are fields now, not a dict appended to the message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    return handler


def unconfigure_logging(handler: logging.Handler) -> None:
    """Undo ``configure_logging`` (for tests that configure it inside one process)."""
    logging.getLogger().removeHandler(handler)
    structlog.reset_defaults()
    workflow.logger.workflow_info_on_message = True
    activity.logger.activity_info_on_message = True
