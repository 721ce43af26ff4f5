"""Handlers for the async-queue tests: each appends what it saw to a JSON Lines file, so the tests
can tell which events ran, how often, when and in what order."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def _append(path: str, entry: dict[str, Any]) -> None:
    with Path(path).open("a") as out:
        out.write(json.dumps(entry) + "\n")


def record(event: Any, context: Any) -> Any:
    """Sleep ``event["sleep"]`` seconds, then append the event and request id to ``event["file"]``."""
    started = time.time()
    time.sleep(float(event.get("sleep", 0)))
    _append(event["file"], {"event": event, "request_id": context.aws_request_id, "start": started,
                            "end": time.time(), "version": context.function_version})
    return {"ok": True, "n": event.get("n")}


def timed(event: Any, context: Any) -> Any:
    """Sleep ``event["sleep"]`` seconds; answer when it started and ended (for an on_success file:
    a process environment has a /tmp of its own, so it cannot write the test's files)."""
    started = time.time()
    time.sleep(float(event.get("sleep", 0)))
    return {"n": event.get("n"), "start": started, "end": time.time()}


def fail(event: Any, context: Any) -> Any:
    """Append the attempt to ``event["file"]`` (when given), then fail."""
    if "file" in event:
        _append(event["file"], {"request_id": context.aws_request_id})
    raise ValueError("requested failure")


def sink(event: Any, context: Any) -> Any:
    """A destination: append the event it got to the file in $SINK_FILE."""
    _append(os.environ["SINK_FILE"], {"event": event, "request_id": context.aws_request_id})
    return None
