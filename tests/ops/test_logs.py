"""Logging: one record per event with a timestamp; JSON lines parse whole, tracebacks
included; the request id rides along; uvicorn's per-server repeats are dropped."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from ops.logs import REQUEST_ID, configure_logging

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    yield buffer
    root.handlers, root.level = saved[0], saved[1]
    logging.captureWarnings(False)


def _fail(log: logging.Logger) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("could not do the thing for %s", "someone")


def test_json_lines_are_whole_records(stream: io.StringIO) -> None:
    configure_logging("json", "info", stream)
    log = logging.getLogger("tests.ops.sample")
    log.info("plain %d", 1)
    log.debug("hidden at info")
    log.info("with fields", extra={"status": 201, "route": "/qr/{qr_id}"})
    _fail(log)
    token = REQUEST_ID.set("req-42")
    try:
        log.warning("inside a request")
    finally:
        REQUEST_ID.reset(token)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [record["message"] for record in records] == [
        "plain 1",
        "with fields",
        "could not do the thing for someone",
        "inside a request",
    ]
    assert all(re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z$", record["ts"]) for record in records)
    assert records[1]["status"] == 201
    assert records[1]["route"] == "/qr/{qr_id}"
    assert records[2]["level"] == "error"
    assert "Traceback" in records[2]["exc"]
    assert "KeyError: 'missing'" in records[2]["exc"]
    assert records[3]["request_id"] == "req-42"
    assert "request_id" not in records[0]


def test_text_lines_start_with_a_timestamp(stream: io.StringIO) -> None:
    configure_logging("text", "debug", stream)
    log = logging.getLogger("tests.ops.sample")
    log.debug("a detail")
    _fail(log)
    lines = stream.getvalue().splitlines()
    assert TIMESTAMP.match(lines[0])
    assert lines[0].endswith("DEBUG   tests.ops.sample: a detail")
    assert TIMESTAMP.match(lines[1])
    # The traceback belongs to its record: indented, so collectors join it to that line.
    assert len(lines) > 3
    assert all(line.startswith("    ") for line in lines[2:])


def test_uvicorn_goes_through_the_same_handler_once(stream: io.StringIO) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.StreamHandler(io.StringIO()))  # as its default config does
    uvicorn_error.propagate = False
    configure_logging("json", "info", stream)
    uvicorn_error.info("Started server process [%d]", 1234)
    uvicorn_error.info("Started server process [%d]", 1234)
    uvicorn_error.error("Exception in ASGI application")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [record["message"] for record in records] == ["Exception in ASGI application"]
    assert records[0]["logger"] == "uvicorn.error"


def test_chatty_libraries_keep_to_warnings(stream: io.StringIO) -> None:
    configure_logging("text", "info", stream)
    logging.getLogger("httpx").info("HTTP Request: POST https://hooks.example/ 200")
    assert stream.getvalue() == ""


def test_webhook_delivery_failures_show_at_the_default_level(stream: io.StringIO) -> None:
    # A failed attempt is logged at INFO by the delivery worker: the default level shows it.
    configure_logging("text", "info", stream)
    assert logging.getLogger("core.webhooks.delivery").isEnabledFor(logging.INFO)
