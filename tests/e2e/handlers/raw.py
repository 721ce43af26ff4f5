"""Handlers that return raw results: the event itself, garbage, exceptions, sleeps, huge bodies, logs.

Cases are chosen by the last segment of the request path (``rawPath`` or ``path``), so one
module serves every front and kind.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

log = logging.getLogger("e2e.raw")

MB = 1024 * 1024


def _case(event: dict[str, Any]) -> str:
    path = event.get("rawPath") or event.get("path") or ""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _alb_multi(event: dict[str, Any]) -> bool:
    return "elb" in (event.get("requestContext") or {}) and "multiValueHeaders" in event


def ok(event: dict[str, Any], body: str, *, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A well-formed result for any kind: ALB multi mode answers with multiValueHeaders (ALB-R2)."""
    hdrs = {"content-type": "application/json", **(headers or {})}
    result: dict[str, Any] = {"statusCode": status, "body": body, "isBase64Encoded": False}
    if _alb_multi(event):
        result["multiValueHeaders"] = {k: [v] for k, v in hdrs.items()}
    else:
        result["headers"] = hdrs
    return result


def echo_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer with the event as the JSON body, and the Lambda request id in a header."""
    return ok(event, json.dumps(event), headers={"x-lambda-request-id": context.aws_request_id})


def _bad_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    result: dict[str, Any] = {"statusCode": 200, "body": "x", "isBase64Encoded": False}
    if _alb_multi(event):
        result["multiValueHeaders"] = {name: [value]}
    else:
        result["headers"] = {name: value}
    return result


def garbage(event: dict[str, Any], context: Any) -> Any:
    case = _case(event)
    if case == "status-abc":
        return {"statusCode": "abc", "body": "x", "isBase64Encoded": False}
    if case == "list":
        return [1, 2, 3]
    if case == "string":
        return "hello"
    if case == "crlf-value":
        return _bad_header(event, "x-bad", "a\r\nInjected: yes")
    if case == "crlf-name":
        return _bad_header(event, "x-bad\r\nInjected", "yes")
    if case == "nul-value":
        return _bad_header(event, "x-bad", "a\x00b")
    if case == "unknown-key":
        return {"statusCode": 200, "body": "x", "wrongValue": "value"}
    if case == "status-digits":
        return {"statusCode": "201", "body": "created"}
    if case == "headers-only":
        return {"headers": {"x-a": "1"}}
    if case == "mvh-not-list":
        return {"statusCode": 200, "multiValueHeaders": {"x-a": "1"}, "body": "x"}
    if case == "both-maps":
        return {
            "statusCode": 200,
            "headers": {"test-multi": "value-solo"},
            "multiValueHeaders": {"tesT-Multi": ["value-multi"]},
            "body": "x",
        }
    if case == "framing-headers":
        # Headers that would contradict the gateway's own framing of the body.
        return ok(event, "x", headers={"content-length": "999", "transfer-encoding": "chunked", "connection": "close"})
    if case == "status-description":
        result = ok(event, "described")
        result["statusDescription"] = "299 Fine Indeed"
        result["statusCode"] = 299
        return result
    if case == "base64-text":
        return {"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": True}
    return ok(event, json.dumps({"case": case}))


def boom(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("boom from the handler")


def slow(event: dict[str, Any], context: Any) -> Any:
    time.sleep(2.5)
    return ok(event, "late")


def big(event: dict[str, Any], context: Any) -> Any:
    size = {"7mb": 7 * MB, "1mb": MB + 1024}.get(_case(event), 10)
    return ok(event, "x" * size)


def logs(event: dict[str, Any], context: Any) -> Any:
    print("e2e-printed-line")
    log.warning("e2e-logged-line")
    return ok(event, "logged", headers={"x-lambda-request-id": context.aws_request_id})
