"""The structured log pipeline of every ticketflow process (`ticketflow/logs.py`)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from ticketflow.logs import (
    TEMPORAL_WORKER_LOGGER,
    URL_LOGGERS,
    configure_logging,
    unconfigure_logging,
    wants_json,
)
from ticketflow.settings import Settings


@pytest.fixture
def configured() -> Iterator[Callable[..., io.StringIO]]:
    """Configure per test; restore the root level and the libraries' levels afterwards."""
    names = ("", *URL_LOGGERS, TEMPORAL_WORKER_LOGGER)
    levels = {name: logging.getLogger(name).level for name in names}
    handlers: list[logging.Handler] = []

    def configure(fmt: str, level: str = "INFO") -> io.StringIO:
        stream = io.StringIO()
        settings = Settings(log_format=fmt, log_level=level)  # type: ignore[arg-type]
        handlers.append(configure_logging(settings, service="worker", stream=stream))
        return stream

    yield configure
    for handler in handlers:
        unconfigure_logging(handler)
    structlog.contextvars.clear_contextvars()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_json_lines_carry_the_bound_ids_and_mask_personal_data(
    configured: Callable[..., io.StringIO],
) -> None:
    stream = configured("json", "DEBUG")
    structlog.contextvars.bind_contextvars(ticket_id="ticket-web-1", run_id="r-1")
    logging.getLogger("activities.x").info("lookup for jo@example.com", extra={"policy_id": "p"})
    structlog.get_logger("workflows.y").warning("call +1 415 555 0100", tool="t")
    try:
        raise ValueError("no customer jo@example.com")
    except ValueError:
        logging.getLogger("activities.x").exception("failed")
    logging.getLogger("httpx").info("HTTP Request: GET https://x/users?email=jo@example.com")
    logging.getLogger(f"{TEMPORAL_WORKER_LOGGER}._activity").debug("completion: data ...")

    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["lookup for <email>", "call <phone>", "failed"]
    assert all(e["ticket_id"] == "ticket-web-1" and e["run_id"] == "r-1" for e in events)
    assert all(e["service"] == "worker" and e["timestamp"] for e in events)
    assert events[0]["policy_id"] == "p" and events[0]["level"] == "info"
    assert "ValueError: no customer <email>" in events[2]["exception"]
    assert "jo@example.com" not in stream.getvalue()


def test_console_lines_are_readable_and_tracebacks_show_no_locals(
    configured: Callable[..., io.StringIO],
) -> None:
    stream = configured("console")
    secret_local = "Zephyrine Quillfeather"  # noqa: F841 (a frame local a traceback could show)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("ticketflow.worker").exception("worker ready on task queue q")
    text = stream.getvalue()
    assert "worker ready on task queue q" in text and "service=worker" in text
    assert "RuntimeError: boom" in text and "Quillfeather" not in text
    assert "\x1b[" not in text  # no colour codes when the stream is not a terminal


def test_auto_is_json_unless_a_person_watches() -> None:
    assert wants_json(Settings(log_format="auto"), io.StringIO())
    assert not wants_json(Settings(log_format="console"), io.StringIO())
    assert Settings().log_format == "auto" and Settings().log_level == "INFO"
