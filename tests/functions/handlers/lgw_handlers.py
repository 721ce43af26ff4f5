"""Handlers for the functions tests (code_uri = this directory). Plain Lambda handlers."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any

COUNTER = 0
INIT_TIME = time.time()


def echo(event: dict[str, Any], context: Any) -> Any:
    return event


def count(event: dict[str, Any], context: Any) -> Any:
    global COUNTER
    COUNTER += 1
    return {"count": COUNTER, "init_time": INIT_TIME}


def boom(event: dict[str, Any], context: Any) -> Any:
    raise ValueError("requested failure")


def nested_boom(event: dict[str, Any], context: Any) -> Any:
    return _inner(event)


def _inner(event: dict[str, Any]) -> Any:
    raise KeyError(event.get("key", "missing"))


def context_fields(event: dict[str, Any], context: Any) -> Any:
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if context.client_context is None else {
            "custom": context.client_context.custom,
            "env": context.client_context.env,
            "installation_id": getattr(context.client_context.client, "installation_id", None),
        },
        "tenant_id": context.tenant_id,
        "remaining": context.get_remaining_time_in_millis(),
    }


def environ(event: dict[str, Any], context: Any) -> Any:
    return {name: os.environ.get(name) for name in event["names"]}


def set_environ(event: dict[str, Any], context: Any) -> Any:
    if "value" in event:
        os.environ[event["name"]] = event["value"]
    return os.environ.get(event["name"])


def chatty(event: dict[str, Any], context: Any) -> Any:
    print("hello from print")
    print("two", "parts")
    sys.stderr.write("to stderr\n")
    print("no newline", end="")
    logging.getLogger().warning("a %s warning", "formatted")
    logging.getLogger("app.module").error("an error")
    logging.getLogger().info("not shown: the root logger is at WARNING, as on Lambda")
    return "ok"


async def _double(n: int) -> int:
    await asyncio.sleep(0)
    return n * 2


def uses_asyncio(event: dict[str, Any], context: Any) -> Any:
    loop = asyncio.get_event_loop()
    return loop.run_until_complete(_double(event["n"]))


def unserialisable(event: dict[str, Any], context: Any) -> Any:
    return {"a": {1, 2}}


def huge(event: dict[str, Any], context: Any) -> Any:
    return "x" * event["length"]


def raw_bytes(event: dict[str, Any], context: Any) -> Any:
    return b"\x00\xffraw"


def sleepy(event: dict[str, Any], context: Any) -> Any:
    time.sleep(event.get("seconds", 5))
    return "woke up"


def timed(event: dict[str, Any], context: Any) -> Any:
    start = time.monotonic()
    time.sleep(event.get("seconds", 0.2))
    return [start, time.monotonic()]


def exits(event: dict[str, Any], context: Any) -> Any:
    sys.exit(event.get("code"))


def loud(event: dict[str, Any], context: Any) -> Any:
    for index in range(event["lines"]):
        print(f"line {index:05d} " + "y" * 60)
    return "done"


def count_or_sleep(event: dict[str, Any], context: Any) -> Any:
    global COUNTER
    if "sleep" in event:
        time.sleep(event["sleep"])
        print("after the sleep")
        return "woke up"
    COUNTER += 1
    return COUNTER
