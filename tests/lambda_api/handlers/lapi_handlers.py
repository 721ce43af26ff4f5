"""Handlers for the Lambda API tests: echo the event and context, fail, log a lot, record Event calls."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def echo(event: Any, context: Any) -> dict[str, Any]:
    """The event with what the context says about the invocation."""
    client = context.client_context
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "version": context.function_version,
        "custom": None if client is None else client.custom,
        "env": os.environ.get("LAPI_VERSION"),
    }


def fail(event: Any, context: Any) -> Any:
    print("about to fail")
    raise ValueError("requested failure")


def chatty(event: Any, context: Any) -> Any:
    for i in range(200):
        print(f"line {i:04d} " + "x" * 40)
    return "done"


def record(event: Any, context: Any) -> Any:
    """Append the event to the file it names (Event invocations are checked through it)."""
    time.sleep(float(event.get("sleep", 0)))
    with Path(event["file"]).open("a") as out:
        out.write(json.dumps({"event": event, "request_id": context.aws_request_id}) + "\n")
    return "recorded"
